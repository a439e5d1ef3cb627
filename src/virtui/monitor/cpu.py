"""CPU percentage from two readings of a cumulative CPU-time counter."""

from __future__ import annotations


def irix_percent(prev_cpu_ns: int, cpu_ns: int, prev_mono_ns: int, mono_ns: int) -> float | None:
    """Irix-mode percentage: 100 x delta-cpu / delta-wall, so 100% is one CPU busy.

    Returns None when no honest figure exists: a zero or negative interval, or a counter
    that went backwards (the guest restarted and its counter began again).
    """
    wall = mono_ns - prev_mono_ns
    used = cpu_ns - prev_cpu_ns
    if wall <= 0 or used < 0:
        return None
    return 100.0 * used / wall


def solaris_percent(irix: float, host_cpus: int) -> float:
    """Solaris-mode percentage: the Irix figure spread over all logical CPUs of the host."""
    return irix / max(1, host_cpus)


def host_busy_percent(
    prev_busy_ns: int, busy_ns: int, prev_total_ns: int, total_ns: int
) -> float | None:
    """Share of the whole host's CPU time that was busy: 100% = every CPU busy.

    This is the Solaris figure for a host; the Irix one multiplies by its CPU count.
    None when the counters did not move forward (a driver with fixed counters, a reset).
    """
    total = total_ns - prev_total_ns
    busy = busy_ns - prev_busy_ns
    if total <= 0 or busy < 0:
        return None
    return min(100.0, 100.0 * busy / total)
