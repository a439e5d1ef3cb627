"""Turns successive polls of one host into per-domain rates."""

from __future__ import annotations

from virtui.model import DomainKey, DomainSample, DomainStats, HostPoll
from virtui.monitor.cpu import irix_percent


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
        previous = self._previous
        current: dict[DomainKey, tuple[int, DomainStats]] = {}
        cpus = poll.host.cpus
        memory = poll.host.memory_kib
        out: list[DomainStats] = []
        for sample in poll.domains:
            now = sample.read_ns or poll.monotonic_ns
            prior = previous.get(sample.key)
            pct: float | None = None
            vcpu_pct: tuple[float, ...] = ()
            if prior is not None and prior[0] == now and sample.read_ns:
                # The same reading again (Prometheus between two scrapes): keep the
                # baseline and the figure it gave, rather than dividing by zero time.
                stats = DomainStats(
                    sample, cpus, prior[1].cpu_pct_irix, prior[1].vcpu_pct_irix, memory
                )
                current[sample.key] = (now, prior[1])
                out.append(stats)
                continue
            if prior is not None and sample.state.is_active:
                then, old = prior[0], prior[1].sample
                if old.run_id == sample.run_id and old.state.is_active:
                    pct = irix_percent(old.cpu_time_ns, sample.cpu_time_ns, then, now)
                    vcpu_pct = _vcpu_rates(old, sample, then, now) if pct is not None else ()
            stats = DomainStats(sample, cpus, pct, vcpu_pct, memory)
            current[sample.key] = (now, stats)
            out.append(stats)
        self._previous = current
        return tuple(out)


def _vcpu_rates(old: DomainSample, new: DomainSample, then: int, now: int) -> tuple[float, ...]:
    if len(old.vcpu_times_ns) != len(new.vcpu_times_ns):
        return ()
    rates: list[float] = []
    for before, after in zip(old.vcpu_times_ns, new.vcpu_times_ns, strict=True):
        rate = irix_percent(before, after, then, now)
        if rate is None:
            return ()
        rates.append(rate)
    return tuple(rates)
