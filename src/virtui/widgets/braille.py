"""Braille area charts: 2 samples per character column, 4 dot rows per text row."""

from __future__ import annotations

import os
from collections.abc import Sequence

_BRAILLE = 0x2800
# Bits of the dots in one braille cell, by dot row from the top, for the left/right column.
_LEFT = (0x01, 0x02, 0x04, 0x40)
_RIGHT = (0x08, 0x10, 0x20, 0x80)


def braille_area(values: Sequence[float], ceiling: float, width: int, height: int) -> list[str]:
    """Rows (top first) of an area chart of the newest ``2 * width`` values, right-aligned.

    A value fills dots from the bottom in proportion to ``ceiling``; any value above zero
    shows at least one dot, so a nearly idle guest is distinguishable from no data.
    """
    if width <= 0 or height <= 0:
        return []
    dots = height * 4
    points = list(values)[-2 * width :]
    levels = [0] * (2 * width - len(points)) + [_level(v, ceiling, dots) for v in points]
    rows: list[str] = []
    for row in range(height):
        chars: list[str] = []
        # Dot row r of this text row, counted from the bottom of the whole chart.
        bottoms = [dots - 1 - (row * 4 + r) for r in range(4)]
        for column in range(width):
            left, right = levels[2 * column], levels[2 * column + 1]
            code = 0
            for r, from_bottom in enumerate(bottoms):
                if from_bottom < left:
                    code |= _LEFT[r]
                if from_bottom < right:
                    code |= _RIGHT[r]
            chars.append(chr(_BRAILLE + code) if code else " ")
        rows.append("".join(chars))
    return rows


def _level(value: float, ceiling: float, dots: int) -> int:
    if value <= 0 or ceiling <= 0:
        return 0
    return max(1, min(dots, round(value / ceiling * dots)))


def block_area(values: Sequence[float], ceiling: float, width: int, height: int) -> list[str]:
    """The same chart in block characters (one value a column, two levels a row: ``▄``
    and ``█``), for terminals without braille, such as the Linux console (TERM=linux)."""
    if width <= 0 or height <= 0:
        return []
    halves = height * 2
    points = list(values)[-width:]
    levels = [0] * (width - len(points)) + [_level(v, ceiling, halves) for v in points]
    rows: list[str] = []
    for row in range(height):
        bottom = (height - 1 - row) * 2  # half-rows below this text row
        rows.append(
            "".join(
                "█" if level >= bottom + 2 else "▄" if level == bottom + 1 else " "
                for level in levels
            )
        )
    return rows


def limited_glyphs() -> bool:
    """True on terminals that draw neither braille nor rounded corners (TERM=linux)."""
    return os.environ.get("TERM") == "linux"
