"""What virtui changes inside Textual, in one place (Textual is pinned: 8.2.8).

Each change here reaches into Textual's private modules; a new Textual release must be
checked against this file first.
"""

from __future__ import annotations

from rich.console import RenderableType
from rich.text import Text
from textual.widgets import _data_table

_formatter = _data_table.default_cell_formatter


def _plain_cell(obj: object, wrap: bool = True, height: int = 0) -> RenderableType:
    """A DataTable cell: a string is shown as it is, never read as Rich markup (Textual's
    own formatter parses it, and a path in brackets raises MarkupError)."""
    if isinstance(obj, str):
        return Text(obj, no_wrap=not wrap, end="")
    return _formatter(obj, wrap, height)


def install() -> None:
    """Apply the changes (idempotent)."""
    _data_table.default_cell_formatter = _plain_cell
