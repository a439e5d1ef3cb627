"""Migration progress from two job readings: phase, rate and time left."""

from __future__ import annotations

from virtui.model.migration import MigrationJob, MigrationProgress


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


def progress(
    domain: str,
    source: str,
    target: str,
    job: MigrationJob,
    previous: MigrationJob | None,
) -> MigrationProgress:
    """The progress shown for ``job``; the rate is over the last interval (libvirt's
    own figure covers only memory), the time left is what remains at that rate."""
    rate = None
    if previous is not None and job.elapsed_ms > previous.elapsed_ms:
        sent = job.data_processed - previous.data_processed
        rate = max(0.0, sent * 1000.0 / (job.elapsed_ms - previous.elapsed_ms))
    eta = job.data_remaining / rate if rate else None
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
