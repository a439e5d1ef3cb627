"""The storage screen's tables: columns, row keys and the usage bar."""

from __future__ import annotations

from rich.cells import cell_len
from rich.text import Text

from virtui.formatting import format_bytes
from virtui.model.storage import PoolInfo, VolumeInfo
from virtui.text import visible

POOL_COLUMNS = ("Host", "Pool", "Type", "State", "Auto", "Size", "Used", "Free", "Usage", "Path")
VOLUME_COLUMNS = ("Volume", "Format", "Size", "Allocated", "Used by", "Path")
WARNING_PCT = 80.0
CRITICAL_PCT = 90.0
BAR_CELLS = 10


def pool_key(pool: PoolInfo) -> str:
    """The row key of a pool: host and name."""
    return f"{pool.host}\t{pool.name}"


def pool_row(pool: PoolInfo, colours: dict[str, str]) -> tuple[object, ...]:
    """A pool's cells (sizes only for a started pool)."""
    return (
        pool.host,
        pool.name,
        pool.type,
        pool.state,
        "yes" if pool.autostart else "no",
        format_bytes(pool.capacity) if pool.active else "-",
        format_bytes(pool.allocation) if pool.active else "-",
        format_bytes(pool.available) if pool.active else "-",
        usage_bar(pool.used_pct if pool.active else None, colours),
        pool.path,
    )


def volume_row(volume: VolumeInfo) -> tuple[object, ...]:
    """A volume's cells."""
    return (
        volume.name,
        "incomplete upload" if volume.incomplete else volume.format,
        format_bytes(volume.capacity),
        format_bytes(volume.allocation),
        ", ".join(volume.used_by) or "-",
        volume.path,
    )


def column_widths(titles: tuple[str, ...], rows: list[tuple[object, ...]]) -> list[int]:
    """Each column's width: its widest cell as shown (control characters made visible),
    or its title."""
    return [
        max([cell_len(title), *(cell_len(_shown(row[n])) for row in rows)])
        for n, title in enumerate(titles)
    ]


def _shown(cell: object) -> str:
    return cell.plain if isinstance(cell, Text) else visible(str(cell))


def usage_bar(pct: float | None, colours: dict[str, str]) -> Text:
    """``█████░░░░░ 52%`` in the theme's success, warning or error colour."""
    if pct is None:
        return Text("-")
    filled = round(BAR_CELLS * min(pct, 100.0) / 100.0)
    level = "error" if pct >= CRITICAL_PCT else "warning" if pct >= WARNING_PCT else "success"
    colour = colours.get(level, "")
    text = Text("█" * filled, style=colour)
    text.append("░" * (BAR_CELLS - filled), style=colours.get("foreground-darken-3", "dim"))
    text.append(f" {pct:3.0f}%")
    return text
