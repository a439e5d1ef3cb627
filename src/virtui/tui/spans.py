"""Send only the changed part of each line to the terminal.

Textual repaints a dirty region from the left edge of the widget it lies in ("TODO:
crop to x extents" in its ChopsUpdate), so one changed cell at the right of a table row
re-sends the whole row. Over SSH the bytes are what the user waits for; this update
starts each write at the first dirty cell instead.
"""

from __future__ import annotations

from rich.cells import get_character_cell_size
from rich.console import Console
from rich.control import Control
from textual._compositor import ChopsUpdate


def _one_cell_each(text: str) -> bool:
    # A crop inside a wide character would paint half of it: crop only where every
    # character takes exactly one cell (ASCII, box drawing, braille).
    return text.isascii() or all(get_character_cell_size(char) == 1 for char in text)


class SpanUpdate(ChopsUpdate):
    """A ChopsUpdate that writes each dirty span from where it starts."""

    @classmethod
    def of(cls, update: ChopsUpdate) -> SpanUpdate:
        """The same update, written span by span."""
        return cls(update.chops, update.spans, update.chop_ends)

    def render_segments(self, console: Console) -> str:
        sequences: list[str] = []
        append = sequences.append
        move_to = Control.move_to
        last_y = self.spans[-1][0]
        for y, x1, x2 in self.spans:
            for end, (x, strip) in zip(self.chop_ends[y], self.chops[y].items(), strict=False):
                if strip is None or x > x2 or end <= x1:
                    continue
                start, stop = max(x, x1), min(end, x2)
                if stop <= start:
                    continue
                if start > x and not _one_cell_each(strip.text):
                    start = x
                if (start, stop) != (x, end):
                    strip = strip.crop(start - x, stop - x)
                append(move_to(start, y).segment.text)
                append(strip.render(console))
            if y != last_y:
                append("\n")
        return "".join(sequences)
