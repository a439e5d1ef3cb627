"""What virtui writes to the terminal for a partial repaint (widgets/textual_hacks.py
SpanUpdate): the screen a terminal shows from it is the one Textual's own writing shows,
cell by cell, text and colours, in fewer bytes. Read back through a small model of a
terminal: cursor moves, SGR colours and attributes, text."""

from __future__ import annotations

import re

from rich.console import Console
from rich.segment import Segment
from rich.style import Style
from textual._compositor import ChopsUpdate
from textual.strip import Strip

from virtui.widgets.textual_hacks import SpanUpdate

PLAIN = Style(color="color(188)", bgcolor="color(16)")
RUNNING = Style(color="color(114)", bgcolor="color(16)")
CURSOR = Style(bold=True, color="color(231)", bgcolor="color(68)")
BLACK_ON_WHITE = Style(color="black", bgcolor="white")  # codes with 0 as an argument

Cell = tuple[str, tuple[object, ...]]
# CSI sequences; OSC 8 hyperlinks (ESC ] 8 ; ... ESC \) skipped; CR, LF; one character.
SEQUENCE = re.compile(r"\x1b\[([0-9;?]*)([A-Za-z])|\x1b\]8;[^\x1b]*\x1b\\|(\r)|(\n)|(.)", re.S)


def _attributes(state: dict[str, object], params: str) -> None:
    """Apply one SGR sequence to ``state`` (fg, bg, and the other attributes)."""
    codes = [int(p) if p else 0 for p in params.split(";")]
    i = 0
    while i < len(codes):
        code = codes[i]
        if code == 0:
            state.clear()
        elif code in (38, 48):
            kind = codes[i + 1]
            width = 3 if kind == 5 else 5
            state["fg" if code == 38 else "bg"] = tuple(codes[i + 1 : i + width])
            i += width - 1
        elif 30 <= code <= 37 or 90 <= code <= 97:
            state["fg"] = (code,)
        elif 40 <= code <= 47 or 100 <= code <= 107:
            state["bg"] = (code,)
        else:
            state[f"a{code}"] = True
        i += 1


def _screen(written: str, width: int = 40, height: int = 12) -> dict[tuple[int, int], Cell]:
    """The cells a terminal shows after ``written`` (only those written)."""
    cells: dict[tuple[int, int], Cell] = {}
    state: dict[str, object] = {}
    x = y = 0
    for match in SEQUENCE.finditer(written):
        params, command, cr, lf, char = match.groups()
        if command == "H":
            row, _, col = params.partition(";")
            y, x = int(row or 1) - 1, int(col or 1) - 1
        elif command == "m":
            _attributes(state, params)
        elif cr:
            x = 0
        elif lf:
            y += 1
        elif char:
            assert 0 <= x < width and 0 <= y < height, (x, y)
            cells[(x, y)] = (char, tuple(sorted(state.items())))
            x += 1
    return cells


def _update() -> ChopsUpdate:
    """A table's refresh: one figure changed in each of eight rows (all in the rows'
    plain style), a state word in another colour, the cursor row, and a cell whose
    colour codes hold a 0 argument."""
    chops: list[dict[int, Strip | None]] = []
    spans: list[tuple[int, int, int]] = []
    ends: list[list[int]] = []
    for y in range(10):
        if y == 0:
            segments = [
                Segment(" web01 ", CURSOR),
                Segment("running ", CURSOR),
                Segment("12.5", CURSOR),
            ]
        elif y == 9:
            segments = [
                Segment(" db01  ", PLAIN),
                Segment("paused  ", BLACK_ON_WHITE),
                Segment(" 0.0", PLAIN),
            ]
        else:
            segments = [
                Segment(f" vm{y:02d}  ", PLAIN),
                Segment("running ", RUNNING),
                Segment(f"{y}.{y}0 ", PLAIN),
            ]
        strip = Strip(segments)
        chops.append({2: strip})
        ends.append([2 + strip.cell_length])
        # Rows 1-8: only the figure's second digit changed; rows 0 and 9 whole.
        spans.append((y, 2, 2 + strip.cell_length) if y in (0, 9) else (y, 2 + 17, 2 + 18))
    return ChopsUpdate(chops, spans, ends)


def test_a_partial_repaint_shows_what_textual_would_in_fewer_bytes() -> None:
    console = Console(color_system="256", force_terminal=True, width=40)
    update = _update()
    textuals = update.render_segments(console)
    ours = SpanUpdate.of(update).render_segments(console)

    theirs_seen, ours_seen = _screen(textuals), _screen(ours)
    # Textual re-sends a row from its left edge; virtui from the first changed cell:
    # every cell virtui writes reads exactly as Textual's does.
    assert ours_seen and all(theirs_seen[cell] == shown for cell, shown in ours_seen.items())
    assert {cell for cell in ours_seen if cell[1] in (0, 9)} == {
        cell for cell in theirs_seen if cell[1] in (0, 9)
    }
    changed_digits = [ours_seen[(19, y)] for y in range(1, 9)]
    assert [char for char, _ in changed_digits] == [str(y) for y in range(1, 9)]
    assert len({state for _, state in changed_digits}) == 1  # all in the rows' plain style
    # One setting of the plain style serves the eight digits: 8 moves and 8 characters,
    # not a colour and a reset around each.
    assert len(ours) < len(textuals) / 2, (len(ours), len(textuals))
    assert ours.count("\x1b[0;38;5;188;48;5;16m") + ours.count("\x1b[38;5;188;48;5;16m") <= 3
    assert ours.endswith("\x1b[0m")  # what Textual writes next starts from the defaults
