"""Migration progress from two job readings: phase, rate and time left."""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import TypeVar

from virtui.formatting import format_kib, plural
from virtui.model.migration import MigrationJob, MigrationProgress, Precheck

K = TypeVar("K", bound=Hashable)
TOGETHER = "memory, with the others"


def phase_of(job: MigrationJob) -> str:
    """What the job is doing now, in words."""
    if job.postcopy:
        return "post-copy"
    if job.disk_total and job.disk_processed < job.disk_total:
        return "copying disks"
    if job.data_total == 0:
        return "starting"
    if job.iteration > 1 and job.data_remaining < job.data_total // 50:
        return "finishing"
    return "copying memory"


RATE_POINTS = 5  # the rate is what was sent over the last this many changes of the figure


def progress(
    domain: str,
    source: str,
    target: str,
    job: MigrationJob,
    earlier: Sequence[MigrationJob],
    limit_bps: float = 0.0,
) -> MigrationProgress:
    """The progress shown for ``job``, after the ``earlier`` readings at which the
    figure sent changed (``window`` keeps them).

    libvirt's own rate covers only memory, and a disk copy's figure moves in steps
    (16 MiB at a time: at a 2 MiB/s cap, every 8 s), so half a second said 32 MiB/s or
    nothing and the time left 2 s for 24 s of work. So the rate is what was sent between
    the first and the last of the last RATE_POINTS changes, never above the bandwidth
    limit ``limit_bps`` when there is one, and the time left counts down between steps:
    what remains at that rate, less the time since the figure last moved."""
    rate = eta = None
    points = window(earlier, job)
    first, last = points[0], points[-1]
    if last.elapsed_ms > first.elapsed_ms:
        sent = last.data_processed - first.data_processed
        rate = max(0.0, sent * 1000.0 / (last.elapsed_ms - first.elapsed_ms))
        if limit_bps:
            rate = min(rate, limit_bps)
    if rate:
        since_s = (job.elapsed_ms - last.elapsed_ms) / 1000.0
        eta = max(0.0, job.data_remaining / rate - since_s)
    return MigrationProgress(
        domain=domain,
        source=source,
        target=target,
        phase=phase_of(job),
        processed=job.data_processed,
        remaining=job.data_remaining,
        total=job.data_total,
        rate=rate,
        dirty_rate=float(job.memory_dirty_rate * job.memory_page_size),
        iteration=job.iteration,
        expected_downtime_ms=job.expected_downtime_ms,
        eta_s=eta,
        elapsed_s=job.elapsed_ms / 1000.0,
    )


def window(earlier: Sequence[MigrationJob], job: MigrationJob) -> list[MigrationJob]:
    """The readings to keep for the next rate: the last RATE_POINTS at which the figure
    sent changed, ``job`` among them when it did."""
    points = list(earlier)
    if not points or job.data_processed != points[-1].data_processed:
        points.append(job)
    return points[-RATE_POINTS:]


def fit_together(
    needs: Sequence[tuple[K, int]], free_kib: int, reserved_kib: int
) -> dict[K, Precheck]:
    """A batch of live moves to one target, planned as a whole: each guest's memory
    (``needs``: key and KiB, in the order they would go) is added to what the guests
    before it and the moves already under way to that target (``reserved_kib``) take of
    its ``free_kib``; a guest that would not fit then fails. Checked one by one, two
    12 GiB guests both passed against 21 GiB free."""
    checks: dict[K, Precheck] = {}
    taken = reserved_kib
    before = 0
    under_way = f" and {format_kib(reserved_kib)} for moves under way" if reserved_kib else ""
    for key, need in needs:
        if taken + need <= free_kib:
            taken += need
            before += 1
            checks[key] = Precheck(
                TOGETHER, True, f"{format_kib(taken)} of {format_kib(free_kib)} free, with it"
            )
        else:
            checks[key] = Precheck(
                TOGETHER,
                False,
                f"{format_kib(need)} more does not fit: {format_kib(free_kib)} free, "
                f"{format_kib(taken - reserved_kib)} of it for {plural(before, 'guest')} "
                f"before it{under_way}",
            )
    return checks
