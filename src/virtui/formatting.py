"""Human formatting of sizes, times and percentages, as top and virsh show them."""

from __future__ import annotations

from collections.abc import Iterable

_UNITS = ("KiB", "MiB", "GiB", "TiB", "PiB")


def format_kib(kib: int) -> str:
    """A size in KiB in the largest unit that keeps it at least 1: ``2.0GiB``, ``48MiB``."""
    value = float(kib)
    unit = 0
    while value >= 1024 and unit < len(_UNITS) - 1:
        value /= 1024
        unit += 1
    if value >= 100 or value == int(value):
        return f"{value:.0f}{_UNITS[unit]}"
    return f"{value:.1f}{_UNITS[unit]}"


def format_cpu_time(ns: int) -> str:
    """Cumulative CPU time like top's TIME+: ``m:ss.hh`` below an hour, then ``h:mm:ss``."""
    total_cs = max(0, ns) // 10_000_000
    seconds, hundredths = divmod(total_cs, 100)
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes}:{seconds:02d}.{hundredths:02d}"
    hours, minutes = divmod(minutes, 60)
    if hours < 24 * 100:
        return f"{hours}:{minutes:02d}:{seconds:02d}"
    return f"{hours // 24}d"


def format_pct(pct: float | None) -> str:
    """A CPU or memory percentage with one decimal; ``-`` when there is no figure."""
    return "-" if pct is None else f"{pct:.1f}"


def format_bytes(size: int) -> str:
    """A byte count in the largest binary unit that keeps it at least 1: ``1.5GiB``."""
    value = float(size)
    units = ("B", "KiB", "MiB", "GiB", "TiB", "PiB")
    unit = 0
    while value >= 1024 and unit < len(units) - 1:
        value /= 1024
        unit += 1
    if unit == 0 or value >= 100 or value == int(value):
        return f"{value:.0f}{units[unit]}"
    return f"{value:.1f}{units[unit]}"


def plural(count: int, word: str) -> str:
    """``1 pool``, ``2 pools``."""
    return f"{count} {word}{'' if count == 1 else 's'}"


def format_rate(per_second: float | None) -> str:
    """A per-second figure in at most five characters, top-style: ``0``, ``812``,
    ``12.3K``, ``4.1M`` (powers of 1024 for bytes and requests alike); ``-`` when there
    is no figure yet."""
    if per_second is None:
        return "-"
    value = max(0.0, per_second)
    for suffix in ("", "K", "M", "G", "T"):
        if value < 1000 or suffix == "T":
            if suffix == "" or value >= 100:
                return f"{value:.0f}{suffix}"
            return f"{value:.1f}{suffix}"
        value /= 1024
    raise AssertionError("unreachable")


def distinct_cuts(labels: Iterable[str], width: int) -> dict[str, str]:
    """Each label cut to ``width`` so that what tells it from the others stays: the end
    first (``127.0.0.1…`` for every Prometheus target of one machine said nothing), then
    as much of the start as leaves the cut unlike every other label's. Labels that fit
    are kept whole; a label no cut can tell apart is cut at its end."""
    every = sorted(set(labels))
    cuts = {label: label for label in every if len(label) <= width}
    for label in every:
        if label in cuts:
            continue
        cuts[label] = label[: width - 1] + "…"
        for head in range(width - 1, 0, -1):
            candidate = _cut(label, head, width)
            if all(_cut(other, head, width) != candidate for other in every if other != label):
                cuts[label] = candidate
                break
    return cuts


def _cut(label: str, head: int, width: int) -> str:
    """``label``'s first ``head`` characters, an ellipsis and its end, ``width`` in all."""
    if len(label) <= width:
        return label
    tail = width - 1 - head
    return label[:head] + "…" + (label[-tail:] if tail else "")


def format_age(seconds: float) -> str:
    """An age in its largest whole unit: ``45m``, ``5h``, ``3d`` (``0m`` under a minute)."""
    if seconds < 3600:
        return f"{max(0, int(seconds // 60))}m"
    if seconds < 2 * 86400:
        return f"{int(seconds // 3600)}h"
    return f"{int(seconds // 86400)}d"
