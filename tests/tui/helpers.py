"""Reading what a user sees off a running app."""

from __future__ import annotations

from virtui.app import VirtuiApp
from virtui.widgets.cells import Cell
from virtui.widgets.status_bar import StatusBar


def column(app: VirtuiApp, key: str) -> list[str]:
    """The texts of one column, top to bottom, as displayed."""
    table = app.domains.table
    out: list[str] = []
    for row in table.ordered_rows:
        cell = table.get_cell(row.key, key)
        assert isinstance(cell, Cell)
        out.append(cell.text)
    return out


def status_text(app: VirtuiApp) -> str:
    """The status line's text."""
    return str(app.domains.query_one(StatusBar).render())
