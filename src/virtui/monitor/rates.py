"""Turns successive polls of one host into per-domain rates."""

from __future__ import annotations

from virtui.model import (
    DiskCounters,
    DiskRates,
    DomainKey,
    DomainSample,
    DomainStats,
    HostPoll,
    NicCounters,
    NicRates,
)
from virtui.monitor.cpu import irix_percent
from virtui.monitor.io import counter_rates


class HostRates:
    """Keeps the previous sample of each domain of one host and computes rates.

    One instance per host; a host is polled by one worker at a time, so an instance is
    never used by two threads at once. The result is a tuple of frozen DomainStats.
    """

    def __init__(self) -> None:
        # Per domain: when its counters were read, and the stats computed from them.
        self._previous: dict[DomainKey, tuple[int, DomainStats]] = {}

    def update(self, poll: HostPoll) -> tuple[DomainStats, ...]:
        """Compute stats for every domain in ``poll`` and remember it for the next call."""
        # This runs for every domain of every poll (5,000 domains: 5,000 times a second):
        # the arithmetic of irix_percent is written out here rather than called.
        previous = self._previous
        current: dict[DomainKey, tuple[int, DomainStats]] = {}
        cpus = poll.host.cpus
        memory = poll.host.memory_kib
        polled_ns = poll.monotonic_ns
        out: list[DomainStats] = []
        for sample in poll.domains:
            key = sample.key
            now = sample.read_ns or polled_ns
            prior = previous.get(key)
            pct: float | None = None
            vcpu_pct: tuple[float, ...] = ()
            disk_rates: tuple[DiskRates, ...] | None = None
            nic_rates: tuple[NicRates, ...] | None = None
            if prior is not None:
                then, old_stats = prior
                if then == now and sample.read_ns:
                    # The same reading again (Prometheus between two scrapes): keep the
                    # baseline and the figure it gave, rather than dividing by zero time.
                    stats = DomainStats(
                        sample,
                        cpus,
                        old_stats.cpu_pct_irix,
                        old_stats.vcpu_pct_irix,
                        memory,
                        old_stats.disk_rates,
                        old_stats.nic_rates,
                    )
                    current[key] = (now, old_stats)
                    out.append(stats)
                    continue
                old = old_stats.sample
                wall = now - then
                if (
                    wall > 0
                    and old.run_id == sample.run_id
                    and sample.state.is_active
                    and old.state.is_active
                ):
                    used = sample.cpu_time_ns - old.cpu_time_ns
                    if used >= 0:  # else the counter began again: no honest figure
                        pct = 100.0 * used / wall
                        if sample.vcpu_times_ns:
                            vcpu_pct = _vcpu_rates(old, sample, then, now)
                    # A domain without disks or interfaces (empty counters) is told
                    # here, without a call: most of a large host's test domains.
                    seconds = wall / 1e9
                    disks, nics = sample.disks, sample.nics
                    if disks:
                        disk_rates = disk_rates_between(old.disks, disks, seconds)
                    elif disks is not None and old.disks is not None:
                        disk_rates = ()
                    if nics:
                        nic_rates = nic_rates_between(old.nics, nics, seconds)
                    elif nics is not None and old.nics is not None:
                        nic_rates = ()
            stats = DomainStats(sample, cpus, pct, vcpu_pct, memory, disk_rates, nic_rates)
            current[key] = (now, stats)
            out.append(stats)
        self._previous = current
        return tuple(out)


def disk_rates_between(
    before: tuple[DiskCounters, ...] | None,
    after: tuple[DiskCounters, ...] | None,
    seconds: float,
) -> tuple[DiskRates, ...] | None:
    """Each disk's traffic per second, matched by name; a disk whose counters went back
    (a new medium, a hot-plug under an old name) has no figure rather than a negative
    one. None when either read does not tell disks."""
    if before is None or after is None:
        return None
    if not after:
        return ()
    per_second = counter_rates(
        {d.name: (d.rd_bytes, d.wr_bytes, d.rd_reqs, d.wr_reqs) for d in before},
        {d.name: (d.rd_bytes, d.wr_bytes, d.rd_reqs, d.wr_reqs) for d in after},
        seconds,
    )
    return tuple(DiskRates(d, *per_second[d.name]) for d in after if d.name in per_second)


def nic_rates_between(
    before: tuple[NicCounters, ...] | None,
    after: tuple[NicCounters, ...] | None,
    seconds: float,
) -> tuple[NicRates, ...] | None:
    """Each interface's traffic per second, matched by name (same rules as disks)."""
    if before is None or after is None:
        return None
    if not after:
        return ()
    per_second = counter_rates(
        {n.name: (n.rx_bytes, n.tx_bytes, n.rx_packets, n.tx_packets) for n in before},
        {n.name: (n.rx_bytes, n.tx_bytes, n.rx_packets, n.tx_packets) for n in after},
        seconds,
    )
    return tuple(NicRates(n, *per_second[n.name]) for n in after if n.name in per_second)


def _vcpu_rates(old: DomainSample, new: DomainSample, then: int, now: int) -> tuple[float, ...]:
    if not new.vcpu_times_ns:
        return ()
    if len(old.vcpu_times_ns) != len(new.vcpu_times_ns):
        return ()
    rates: list[float] = []
    for before, after in zip(old.vcpu_times_ns, new.vcpu_times_ns, strict=True):
        rate = irix_percent(before, after, then, now)
        if rate is None:
            return ()
        rates.append(rate)
    return tuple(rates)
