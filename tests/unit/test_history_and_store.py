"""History ring buffers and the merged domain store."""

from __future__ import annotations

import tracemalloc

import pytest

from virtui.model import DomainKey, DomainSample, DomainState, DomainStats, HostStatus
from virtui.monitor.cpu_history import DEFAULT_DEPTH, CpuHistory, Ring
from virtui.monitor.session import HostUpdate
from virtui.monitor.store import DomainStore


def _stats(host: str, uuid: str, name: str, pct: float | None) -> DomainStats:
    sample = DomainSample(DomainKey(host, uuid), name, DomainState.RUNNING, 1, 1, 1, 0)
    return DomainStats(sample, host_cpus=2, cpu_pct_irix=pct)


def test_history_is_bounded_and_skips_gaps() -> None:
    history = CpuHistory(depth=3)
    for pct in (1.0, None, 2.0, 3.0, 4.0):
        history.record([_stats("h", "u", "a", pct)])
    assert history.series(DomainKey("h", "u")) == (2.0, 3.0, 4.0)


def test_history_forgets_removed_domains() -> None:
    history = CpuHistory()
    history.record([_stats("h", "u", "a", 5.0)])
    history.forget([DomainKey("h", "u")])
    assert history.series(DomainKey("h", "u")) == ()
    assert len(history) == 0


def _update(host: str, status: HostStatus, *stats: DomainStats, message: str = "") -> HostUpdate:
    return HostUpdate(host, f"test:///{host}", status, None, stats, message)


def test_store_merges_hosts_and_reports_removed_domains() -> None:
    store = DomainStore()
    store.apply(_update("h1", HostStatus.CONNECTED, _stats("h1", "a", "web", 1.0)))
    store.apply(_update("h2", HostStatus.CONNECTED, _stats("h2", "b", "db", 2.0)))
    assert sorted(s.sample.name for s in store.all()) == ["db", "web"]
    gone = store.apply(_update("h1", HostStatus.CONNECTED))
    assert gone == {DomainKey("h1", "a")}


def test_lost_host_keeps_its_domains_as_unknown() -> None:
    store = DomainStore()
    store.apply(_update("h1", HostStatus.CONNECTED, _stats("h1", "a", "web", 1.0)))
    store.apply(_update("h1", HostStatus.LOST, message="connection reset"))
    (item,) = store.all()
    assert item.sample.state is DomainState.UNKNOWN
    assert item.cpu_pct_irix is None


def test_filter_matches_name_or_host_case_insensitively() -> None:
    store = DomainStore()
    store.apply(
        _update(
            "h1",
            HostStatus.CONNECTED,
            _stats("h1", "a", "Web01", 1.0),
            _stats("h1", "b", "db01", 1.0),
        )
    )
    assert [s.sample.name for s in store.matching("WEB")] == ["Web01"]
    assert len(store.matching("h1/")) == 2
    assert store.counts() == (2, 2)


def test_counts_tell_running_domains_of_every_host_apart_from_the_rest() -> None:
    store = DomainStore()
    paused = DomainSample(DomainKey("h1", "c"), "idle", DomainState.PAUSED, 1, 1, 1, 0)
    store.apply(
        _update(
            "h1",
            HostStatus.CONNECTED,
            _stats("h1", "a", "web", 1.0),
            DomainStats(paused, host_cpus=2, cpu_pct_irix=0.0),
        )
    )
    store.apply(_update("h2", HostStatus.CONNECTED, _stats("h2", "b", "db", 2.0)))
    assert store.counts() == (2, 3)
    store.apply(_update("h2", HostStatus.LOST, message="connection reset"))
    assert store.counts() == (1, 3)  # db is still listed, in state unknown


def test_a_ring_keeps_the_newest_points_oldest_first() -> None:
    ring = Ring(3)
    for value in (1.0, 2.0, 3.0, 4.0, 5.0):
        ring.append(value)
    assert ring.values() == (3.0, 4.0, 5.0)
    assert Ring(3, [1.0, 2.0, 3.0, 4.0]).values() == (2.0, 3.0, 4.0)


def test_history_of_a_thousand_domains_stays_small() -> None:
    # A full graph's history for 1,000 domains: a deque of Python floats held 7 MiB.
    history = CpuHistory()
    stats = [
        DomainStats(
            DomainSample(DomainKey("h", f"u{n}"), f"d{n}", DomainState.RUNNING, 1, 1, 1, 0),
            4,
            12.5 + n / 7,
        )
        for n in range(1000)
    ]
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    for _ in range(DEFAULT_DEPTH):
        history.record(stats)
    used = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    assert used < 1.5 * 2**20, f"{used / 2**20:.1f} MiB"
    assert history.series(DomainKey("h", "u7"))[-1] == pytest.approx(13.5)
