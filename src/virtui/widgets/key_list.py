"""KeyList: the help's table of keys, drawn as one block of text.

It looks as Textual's DataTable did there (a bold header on the panel colour, striped
rows, cells padded by one) at a fraction of its cost: the help opens on every ``?``,
and at 5,000 domains building a DataTable for it was half of the time the key took
to answer (and 14,000 objects left for the collector when it closed).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from rich.cells import cell_len
from rich.style import Style
from rich.text import Text

from virtui.text import visible
from virtui.widgets.plain import Static


class KeyList(Static):
    """``(key, action)`` rows under a Key / Action header; in ``pairs`` columns side by
    side, filled down the first before the second (as the help reads)."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {"key-list--header", "key-list--even-row"}

    DEFAULT_CSS = """
    KeyList {
        width: 100%;
        height: auto;
        background: $surface;
        color: $foreground;
        & > .key-list--header {
            text-style: bold;
            background: $panel;
            color: $foreground;
        }
        & > .key-list--even-row {
            background: $surface-darken-1 40%;
        }
    }
    """

    def __init__(self, keys: Sequence[tuple[str, str]], pairs: int = 1) -> None:
        super().__init__()
        # Keys may be the user's own (settings.toml binds actions to them): data.
        self.keys = [(visible(key), visible(action)) for key, action in keys]
        self.pairs = max(1, pairs)

    def rows(self) -> list[tuple[str, ...]]:
        """The table's rows, header first: ``pairs`` (key, action) pairs each."""
        per_column = max(1, -(-len(self.keys) // self.pairs))  # ceiling
        columns = [
            self.keys[start : start + per_column]
            for start in range(0, per_column * self.pairs, per_column)
        ]
        header = tuple(
            cell for n in range(self.pairs) for cell in (" Key" if n else "Key", "Action")
        )
        body = [
            tuple(
                cell
                for column in columns
                for cell in (column[line] if line < len(column) else ("", ""))
            )
            for line in range(per_column)
        ]
        return [header, *body]

    def render(self) -> Text:
        rows = self.rows()
        widths = [max(cell_len(row[n]) for row in rows) + 2 for n in range(len(rows[0]))]
        header = self.get_component_rich_style("key-list--header")
        even = self.get_component_rich_style("key-list--even-row")
        text = Text(no_wrap=True, overflow="crop", end="")
        for number, row in enumerate(rows):
            if number:
                text.append("\n")
            # The first row under the header is striped, as DataTable's zebra did.
            style = header if number == 0 else (even if number % 2 else Style())
            line = "".join(
                f" {cell}{' ' * (width - 1 - cell_len(cell))}"
                for cell, width in zip(row, widths, strict=True)
            )
            line += " " * (self.size.width - cell_len(line))  # the stripe spans the box
            text.append(line, style)
        return text
