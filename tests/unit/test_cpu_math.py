"""CPU percentage math: Irix, Solaris, resets and degenerate intervals."""

from __future__ import annotations

from dataclasses import replace

import pytest

from virtui.model import CpuMode, DomainKey, DomainSample, DomainState, HostInfo, HostPoll
from virtui.monitor.cpu import host_busy_percent, irix_percent, solaris_percent
from virtui.monitor.rates import HostRates

SECOND = 1_000_000_000
HOST = HostInfo("h1", "test:///default", "h1", "TEST", cpus=8, memory_kib=16 * 1024 * 1024)


def test_one_busy_cpu_reads_100_in_irix() -> None:
    assert irix_percent(0, SECOND, 0, SECOND) == pytest.approx(100.0)


def test_four_busy_vcpus_read_400_in_irix_and_50_in_solaris_on_8_cpus() -> None:
    irix = irix_percent(10 * SECOND, 14 * SECOND, 5 * SECOND, 6 * SECOND)
    assert irix == pytest.approx(400.0)
    assert irix is not None
    assert solaris_percent(irix, 8) == pytest.approx(50.0)


def test_zero_or_negative_interval_gives_no_figure() -> None:
    assert irix_percent(0, SECOND, 5, 5) is None
    assert irix_percent(0, SECOND, 6, 5) is None


def test_counter_going_backwards_gives_no_figure() -> None:
    assert irix_percent(9 * SECOND, 1 * SECOND, 0, SECOND) is None


def test_solaris_never_divides_by_zero_cpus() -> None:
    assert solaris_percent(80.0, 0) == pytest.approx(80.0)


def _sample(
    cpu_ns: int,
    *,
    run_id: int = 7,
    state: DomainState = DomainState.RUNNING,
    vcpus: tuple[int, ...] = (),
) -> DomainSample:
    return DomainSample(
        key=DomainKey("h1", "u1"),
        name="web",
        state=state,
        vcpus=max(1, len(vcpus)),
        mem_kib=1024,
        max_mem_kib=2048,
        cpu_time_ns=cpu_ns,
        vcpu_times_ns=vcpus,
        run_id=run_id,
    )


def _poll(at_s: float, *samples: DomainSample) -> HostPoll:
    return HostPoll(HOST, int(at_s * SECOND), 0.0, samples)


def test_rates_need_two_samples() -> None:
    rates = HostRates()
    (first,) = rates.update(_poll(0, _sample(0)))
    assert first.cpu_pct_irix is None
    (second,) = rates.update(_poll(2, _sample(SECOND)))
    assert second.cpu_pct(CpuMode.IRIX) == pytest.approx(50.0)
    assert second.cpu_pct(CpuMode.SOLARIS) == pytest.approx(50.0 / 8)


def test_guest_restart_resets_the_counter_without_a_bogus_figure() -> None:
    rates = HostRates()
    rates.update(_poll(0, _sample(50 * SECOND, run_id=1)))
    (after_restart,) = rates.update(_poll(1, _sample(SECOND // 10, run_id=2)))
    assert after_restart.cpu_pct_irix is None
    (next_tick,) = rates.update(_poll(2, _sample(SECOND // 10 + SECOND // 2, run_id=2)))
    assert next_tick.cpu_pct_irix == pytest.approx(50.0)


def test_counter_reset_with_same_run_id_is_not_negative() -> None:
    rates = HostRates()
    rates.update(_poll(0, _sample(50 * SECOND)))
    (reset,) = rates.update(_poll(1, _sample(SECOND)))
    assert reset.cpu_pct_irix is None


def test_shut_off_domain_has_no_rate() -> None:
    rates = HostRates()
    rates.update(_poll(0, _sample(SECOND, state=DomainState.SHUTOFF)))
    (off,) = rates.update(_poll(1, _sample(SECOND, state=DomainState.SHUTOFF)))
    assert off.cpu_pct_irix is None


def test_per_vcpu_rates_in_both_modes() -> None:
    rates = HostRates()
    rates.update(_poll(0, _sample(0, vcpus=(0, 0))))
    (item,) = rates.update(_poll(1, _sample(SECOND + SECOND // 4, vcpus=(SECOND, SECOND // 4))))
    assert item.cpu_pct(CpuMode.IRIX) == pytest.approx(125.0)
    assert item.vcpu_pct(CpuMode.IRIX) == pytest.approx((100.0, 25.0))
    assert item.vcpu_pct(CpuMode.SOLARIS) == pytest.approx((12.5, 3.125))


def test_vcpu_hotplug_drops_per_vcpu_rates_but_keeps_the_total() -> None:
    rates = HostRates()
    rates.update(_poll(0, _sample(0, vcpus=(0,))))
    (item,) = rates.update(_poll(1, _sample(SECOND, vcpus=(SECOND, 0))))
    assert item.cpu_pct_irix == pytest.approx(100.0)
    assert item.vcpu_pct_irix == ()


def test_graph_ceiling_is_all_vcpus_in_the_mode() -> None:
    rates = HostRates()
    rates.update(_poll(0, _sample(0, vcpus=(0, 0, 0, 0))))
    (item,) = rates.update(_poll(1, _sample(0, vcpus=(0, 0, 0, 0))))
    assert item.cpu_ceiling(CpuMode.IRIX) == 400.0
    assert item.cpu_ceiling(CpuMode.SOLARIS) == 50.0


def test_per_domain_read_times_beat_the_poll_time() -> None:
    # Two polls 1 s apart, but this domain was read 0.2 s later in the second poll.
    rates = HostRates()
    sample = _sample(0)
    rates.update(_poll(0, replace(sample, read_ns=int(0.1 * SECOND))))
    later = replace(sample, cpu_time_ns=SECOND + SECOND // 5, read_ns=int(1.3 * SECOND))
    (item,) = rates.update(_poll(1, later))
    assert item.cpu_pct_irix == pytest.approx(100.0)


def test_host_busy_share_of_the_whole_host() -> None:
    assert host_busy_percent(0, 3 * SECOND, 0, 4 * SECOND) == pytest.approx(75.0)


def test_host_counters_that_do_not_move_give_no_figure() -> None:
    assert host_busy_percent(5, 5, 10, 10) is None  # e.g. the test driver's fixed counters
    assert host_busy_percent(9, 1, 0, 10) is None


def test_the_same_reading_again_repeats_the_figure_and_keeps_the_baseline() -> None:
    """Prometheus between two scrapes: polled again, the samples carry the same time."""
    import dataclasses

    def scraped(cpu_ns: int, at_s: float) -> DomainSample:
        return dataclasses.replace(_sample(cpu_ns), read_ns=int(at_s * SECOND))

    rates = HostRates()
    rates.update(_poll(0, scraped(0, 0)))
    (first,) = rates.update(_poll(1, scraped(SECOND, 1)))
    (again,) = rates.update(_poll(1.5, scraped(SECOND, 1)))
    assert first.cpu_pct_irix == again.cpu_pct_irix == pytest.approx(100.0)
    (next_scrape,) = rates.update(_poll(2, scraped(SECOND + SECOND // 2, 2)))
    assert next_scrape.cpu_pct_irix == pytest.approx(50.0)  # against the scrape at 1 s
