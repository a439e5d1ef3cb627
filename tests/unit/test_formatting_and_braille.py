"""Formatting of figures and the braille chart."""

from __future__ import annotations

from virtui.formatting import format_cpu_time, format_kib, format_pct
from virtui.widgets.braille import braille_area


def test_sizes() -> None:
    assert format_kib(512) == "512KiB"
    assert format_kib(49152) == "48MiB"
    assert format_kib(2 * 1024 * 1024) == "2GiB"
    assert format_kib(1536 * 1024) == "1.5GiB"


def test_cpu_time_like_top() -> None:
    assert format_cpu_time(0) == "0:00.00"
    assert format_cpu_time(61_500_000_000) == "1:01.50"
    assert format_cpu_time(3_600_000_000_000 * 3 + 62_000_000_000) == "3:01:02"


def test_percentages() -> None:
    assert format_pct(None) == "-"
    assert format_pct(99.95) == "100.0"


def test_braille_full_and_empty_columns() -> None:
    rows = braille_area([100.0, 0.0], ceiling=100.0, width=1, height=2)
    # Left dot column full height, right column empty.
    assert rows == [chr(0x2800 + 0x47), chr(0x2800 + 0x47)]


def test_braille_half_height_and_right_alignment() -> None:
    rows = braille_area([50.0], ceiling=100.0, width=2, height=1)
    # One value: it sits in the right dot column of the last character, 2 of 4 dots.
    assert rows == [" " + chr(0x2800 + 0xA0)]


def test_braille_small_value_still_shows_a_dot() -> None:
    (row,) = braille_area([0.1, 0.1], ceiling=400.0, width=1, height=1)
    assert row == chr(0x2800 + 0x40 + 0x80)


def test_block_chart_for_terminals_without_braille() -> None:
    from virtui.widgets.braille import block_area

    rows = block_area([0.0, 25.0, 50.0, 100.0], 100.0, 4, 2)
    assert rows == ["   █", " ▄██"]
    assert all(ord(c) < 0x2800 or ord(c) > 0x28FF for row in rows for c in row)
