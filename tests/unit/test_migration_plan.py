"""Planning a batch of migrations to one target as a whole, and the time left of one."""

from __future__ import annotations

from virtui.model.migration import MigrationJob
from virtui.monitor.migration import fit_together, progress, window


def test_a_batch_is_fitted_in_order_and_moves_under_way_count() -> None:

    gib = 1 << 20
    checks = fit_together([("a", 12 * gib), ("b", 12 * gib), ("c", 4 * gib)], 21 * gib, 0)
    assert [checks[k].ok for k in "abc"] == [True, False, True]  # c still fits after a
    assert checks["b"].detail == (
        "12GiB more does not fit: 21GiB free, 12GiB of it for 1 guest before it"
    )
    under_way = fit_together([("a", 12 * gib)], 21 * gib, 10 * gib)
    assert not under_way["a"].ok and "and 10GiB for moves under way" in under_way["a"].detail


MIB = 1 << 20


def _bursty(total_mib: int, burst_mib: int, cap_mib_s: float) -> list[MigrationJob]:
    """Readings every 0.5 s of a copy at ``cap_mib_s`` whose progress is reported in
    ``burst_mib`` steps, each when it is done (libvirt's NBD copy under a bandwidth
    cap: the data flows all along, the figure jumps)."""
    every_ms = int(burst_mib / cap_mib_s * 1000)
    readings = []
    for elapsed in range(500, total_mib // burst_mib * every_ms + 1, 500):
        sent = min(total_mib, elapsed // every_ms * burst_mib) * MIB
        readings.append(
            MigrationJob(elapsed, total_mib * MIB, sent, total_mib * MIB - sent, 0, 4096, 1, 0)
        )
    return readings


def test_the_time_left_of_a_bursty_capped_copy_is_within_2x_of_the_truth() -> None:
    """16 MiB bursts at a 2 MiB/s cap: the last half second's rate said 32 MiB/s or
    nothing, and the ETA 2 s for 24 s of work."""
    readings = _bursty(48, 16, 2.0)
    end_ms = 48 // 2 * 1000
    earlier: list[MigrationJob] = []
    ratios = []
    for job in readings:
        shown = progress("vm", "a", "b", job, earlier, limit_bps=2 * MIB)
        earlier = window(earlier, job)
        truth = (end_ms - job.elapsed_ms) / 1000
        if shown.eta_s is not None and truth >= 2 and job.elapsed_ms >= 2000:
            ratios.append(shown.eta_s / truth)
    assert ratios and all(0.5 <= r <= 2 for r in ratios), [round(r, 2) for r in ratios]


def test_a_figure_that_runs_ahead_of_the_cap_and_the_memory_after_the_disks_are_counted() -> None:
    """As a real 24 MiB copy at 2 MiB/s read (the integration test's guest, 8 MiB of
    memory): 16 MiB at 0.5 s, nothing more until 8.5 s, then all of it; the move ended
    at 15.6 s. Taken as said, the time left was 0 for the last 7 s."""
    total = 24 * MIB
    readings = [
        MigrationJob(ms, total, done, total - done, 0, 4096, 0, 0, total, done)
        for ms in range(500, 12_100, 500)
        for done in [16 * MIB if ms < 8500 else total]
    ]
    earlier: list[MigrationJob] = []
    for job in readings:
        shown = progress("vm", "a", "b", job, earlier, 2 * MIB, 8 * MIB)
        earlier = window(earlier, job)
        truth = 15.6 - job.elapsed_ms / 1000
        assert shown.eta_s is not None and truth / 2 <= shown.eta_s <= truth * 2
        assert shown.processed <= 2 * MIB * job.elapsed_ms / 1000  # no more than the cap
        assert shown.phase == ("copying disks" if job.elapsed_ms < 12_000 else "copying memory")


def test_the_rate_never_says_more_than_the_bandwidth_limit() -> None:
    first, second = _bursty(48, 16, 2.0)[14:16]  # the first step is reported between
    shown = progress("vm", "a", "b", second, [first], limit_bps=2 * MIB)
    assert shown.rate == 2 * MIB


def test_the_migration_network_tls_and_downtime_reach_libvirt_as_virsh_puts_them() -> None:
    import libvirt

    from virtui.backends.libvirt.migration import migration_flags, migration_params
    from virtui.model.migration import CopyStorage, MigrationOptions

    options = MigrationOptions(
        address="10.9.0.2", tls=True, max_downtime_ms=500, copy_storage=CopyStorage.ALL
    )
    assert migration_flags(options) & libvirt.VIR_MIGRATE_TLS
    assert migration_params(options) == {
        libvirt.VIR_MIGRATE_PARAM_URI: "tcp://10.9.0.2",
        libvirt.VIR_MIGRATE_PARAM_LISTEN_ADDRESS: "10.9.0.2",
        libvirt.VIR_MIGRATE_PARAM_DISKS_URI: "tcp://10.9.0.2",
    }
    six = migration_params(MigrationOptions(address="fd00::2"))
    assert six[libvirt.VIR_MIGRATE_PARAM_URI] == "tcp://[fd00::2]"
    assert "over 10.9.0.2" in options.describe() and "downtime ≤ 500 ms" in options.describe()


def test_the_form_takes_an_address_only_if_it_is_one() -> None:
    import pytest

    from virtui.screens.migrations import parse_options

    form = {
        "live": "yes",
        "persistent": "yes",
        "undefine_source": "yes",
        "copy_storage": "none",
        "transport": "direct",
        "bandwidth": "0",
        "auto_converge": "no",
        "postcopy": "no",
        "tls": "no",
        "max_downtime": "0",
    }
    for good in ("10.9.0.2", "fd00::2", "mig.h2.example"):
        assert parse_options({**form, "address": good}).address == good
    for bad in ("10.9.0.2/x?proxy=nc", "h2 -o x", "h2;id", "-oProxyCommand=x", "h2:49152"):
        with pytest.raises(ValueError, match="an IP address or a host name"):
            parse_options({**form, "address": bad})
    with pytest.raises(ValueError, match="maximum downtime"):
        parse_options({**form, "address": "", "max_downtime": "soon"})


def test_no_time_left_is_told_before_the_job_reports_anything() -> None:
    """The first reading of a job has no totals yet: "0 s left" then was a lie."""
    nothing = MigrationJob(200, 0, 0, 0, 0, 4096, 0, 0)
    assert progress("vm", "a", "b", nothing, [], 2 * MIB, 8 * MIB).eta_s is None
