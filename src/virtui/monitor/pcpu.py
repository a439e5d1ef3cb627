"""Per physical CPU usage from two readings: how busy each CPU was, and which domains
used it.

libvirt's per-CPU accounting of a domain (``virDomainGetCPUStats`` with a start CPU)
needs cgroup v1's cpuacct, which cgroup v2 hosts lack; what every driver gives is each
vCPU's run time and the physical CPU it is on (``virDomainGetVcpus``). A vCPU's time
between two readings is put on the CPU it was on at the second, as virt-top does: exact
for pinned vCPUs, an approximation for ones the scheduler moves.
"""

from __future__ import annotations

from dataclasses import dataclass

from virtui.model.pcpu import PhysicalCpuReading


@dataclass(frozen=True, slots=True)
class PhysicalCpuUsage:
    """One physical CPU over an interval: 100% is that CPU fully used."""

    cpu: int
    busy_pct: float | None  # the whole host's use of it; None where not known
    guests: tuple[tuple[str, float], ...]  # (domain, %) most first

    @property
    def guests_pct(self) -> float:
        """What all domains together used of this CPU."""
        return sum(pct for _name, pct in self.guests)


def pcpu_usage(before: PhysicalCpuReading, after: PhysicalCpuReading) -> list[PhysicalCpuUsage]:
    """Usage of each physical CPU between two readings of one host; empty when the
    readings are of different hosts or no time passed."""
    wall = after.monotonic_ns - before.monotonic_ns
    if wall <= 0 or before.host != after.host:
        return []
    count = max(
        len(after.busy_ns),
        1 + max((v.pcpu for d in after.domains for v in d.vcpus), default=-1),
    )
    used: list[dict[str, float]] = [{} for _ in range(count)]
    earlier = {(d.uuid, d.run_id): d for d in before.domains}
    for domain in after.domains:
        prior = earlier.get((domain.uuid, domain.run_id))
        if prior is None or len(prior.vcpus) != len(domain.vcpus):
            continue
        for old, new in zip(prior.vcpus, domain.vcpus, strict=True):
            delta = new.time_ns - old.time_ns
            if delta < 0 or not 0 <= new.pcpu < count:
                continue
            share = used[new.pcpu]
            share[domain.name] = share.get(domain.name, 0.0) + 100.0 * delta / wall
    rows = []
    for cpu in range(count):
        busy = None
        if cpu < len(after.busy_ns) and cpu < len(before.busy_ns):
            total = after.total_ns[cpu] - before.total_ns[cpu]
            done = after.busy_ns[cpu] - before.busy_ns[cpu]
            if total > 0 and done >= 0:
                busy = min(100.0, 100.0 * done / total)
        guests = tuple(sorted(used[cpu].items(), key=lambda item: (-item[1], item[0])))
        rows.append(PhysicalCpuUsage(cpu, busy, guests))
    return rows
