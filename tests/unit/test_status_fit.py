"""The header at 80 columns keeps what the user acts on: marks, filter, mode."""

from __future__ import annotations

from virtui.widgets.status_bar import Part, fit


def _header(marked: bool = True) -> list[Part]:
    return [
        Part("virtui", "", 1),
        Part("hosts 2/2", "", 2, "h 2/2"),
        Part("domains 3 running / 5", "", 3, "3/5 run"),
        Part("CPU Irix (100% = 1 CPU)", "", 1, "Irix"),
        Part("sort %CPU▼", "", 5, "%CPU▼"),
        Part("delay 2s", "", 4, "2s"),
        *([Part("1 marked", "", 0)] if marked else []),
        Part("filter 'web' (2 shown)", "", 0),
    ]


def test_everything_fits_when_wide() -> None:
    texts = [text for text, _style in fit(_header(), 200)]
    assert texts[3] == "CPU Irix (100% = 1 CPU)" and "delay 2s" in texts


def test_at_80_columns_marks_filter_and_mode_stay() -> None:
    texts = [text for text, _style in fit(_header(), 78)]
    assert "1 marked" in texts and "filter 'web' (2 shown)" in texts
    assert any(t.startswith("CPU Irix") or t == "Irix" for t in texts)
    assert "sort %CPU▼" not in texts  # the sort goes first
    assert len(" │ ".join(texts)) <= 78


def test_very_narrow_abbreviates_the_mode_before_dropping_it() -> None:
    texts = [text for text, _style in fit(_header(), 50)]
    assert "Irix" in texts and "1 marked" in texts and "filter 'web' (2 shown)" in texts


def test_control_characters_in_parts_are_visible() -> None:
    assert fit([Part("h\x1b]0;x\x07")], 80) == [("h\\x1b]0;x\\x07", "")]
