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
    memory_bytes: int = 0,
) -> MigrationProgress:
    """The progress shown for ``job``, after the ``earlier`` readings at which the
    figure sent changed (``window`` keeps them); ``memory_bytes`` is the guest's memory.

    libvirt's own rate covers only memory, and a disk copy's figure moves in steps:
    QEMU counts a chunk as copied when it reads it, so at a 2 MiB/s cap a real 24 MiB
    copy read 16 MiB after 0.5 s, nothing more for 8 s, then all of it 7 s before the
    move was done; half a second's rate said 2 s for 24 s of work. So:

    - the rate is what was sent between the first and the last of the last
      RATE_POINTS changes (each what it can really have sent), never above the
      bandwidth limit ``limit_bps``, and the limit itself until there are two;
    - between changes, what was sent grows at that rate (up to the figure's total),
      but under a limit never beyond the limit times the time elapsed, whatever the
      figure says;
    - while the disks copy, libvirt's total does not hold the memory yet, which
      crosses after them at the same rate: it is added (at most the guest's memory,
      as idle pages go faster)."""
    rate = eta = None
    points = window(earlier, job)
    first, last = points[0], points[-1]
    if last.elapsed_ms > first.elapsed_ms:
        sent = _sent(last, limit_bps) - _sent(first, limit_bps)
        rate = max(0.0, sent * 1000.0 / (last.elapsed_ms - first.elapsed_ms))
        if limit_bps:
            rate = min(rate, limit_bps)
    elif limit_bps:
        rate = limit_bps
    since_s = (job.elapsed_ms - last.elapsed_ms) / 1000.0
    processed = min(job.data_total, job.data_processed + int((rate or 0.0) * since_s))
    if limit_bps:
        processed = min(processed, _through(limit_bps, job))
    remaining = max(0, job.data_remaining + job.data_processed - processed)
    if job.disk_total and job.data_total <= job.disk_total and not job.postcopy:
        remaining += memory_bytes
    if rate and job.data_total:  # nothing reported yet: no time to tell
        eta = remaining / rate
    phase = phase_of(job)
    if processed < job.disk_total and not job.postcopy:
        phase = "copying disks"  # the figure ran ahead of what the limit lets through
    return MigrationProgress(
        domain=domain,
        source=source,
        target=target,
        phase=phase,
        processed=processed,
        remaining=remaining,
        total=processed + remaining,
        rate=rate,
        dirty_rate=float(job.memory_dirty_rate * job.memory_page_size),
        iteration=job.iteration,
        expected_downtime_ms=job.expected_downtime_ms,
        eta_s=eta,
        elapsed_s=job.elapsed_ms / 1000.0,
    )


def _through(limit_bps: float, job: MigrationJob) -> int:
    """What a bandwidth limit lets through in the time ``job`` has run."""
    return int(limit_bps * job.elapsed_ms / 1000.0)


def _sent(job: MigrationJob, limit_bps: float) -> int:
    """What ``job`` can really have sent: its figure, but under a limit no more than the
    limit lets through."""
    return min(job.data_processed, _through(limit_bps, job)) if limit_bps else job.data_processed


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
