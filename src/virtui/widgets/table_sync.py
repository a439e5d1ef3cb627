"""Keep a small DataTable equal to a mapping of rows, changing only what differs."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TypeVar

from textual.widgets import DataTable

from virtui.text import visible

Cell = TypeVar("Cell")


def sync_rows(table: DataTable[Cell], rows: Mapping[str, Sequence[Cell]]) -> None:
    """Add, update and remove rows by key so the table shows exactly ``rows``.

    New rows go to the end; the order of the others is kept (device lists come from the
    domain XML, whose order is stable).
    """
    existing = {key.value for key in table.rows if key.value is not None}
    for key in existing - rows.keys():
        table.remove_row(key)
    columns = list(table.columns)
    for key, raw in rows.items():
        # Names, paths and states come from libvirt: no control character reaches the screen.
        cells: list[Cell] = [_shown(cell) for cell in raw]
        if key not in existing:
            table.add_row(*cells, key=key)
            continue
        for column, old, new in zip(columns, table.get_row(key), cells, strict=True):
            if old != new:
                table.update_cell(key, column, new, update_width=True)


def _shown(cell: Cell) -> Cell:
    return visible(cell) if isinstance(cell, str) else cell  # type: ignore[return-value]


def update_rows(table: DataTable[Cell], rows: Mapping[str, Sequence[Cell]]) -> None:
    """Add these rows, or change the cells of those the table has that differ; rows not
    named are left alone (``sync_rows`` makes the table exactly ``rows``)."""
    columns = list(table.columns)
    for key, raw in rows.items():
        cells: list[Cell] = [_shown(cell) for cell in raw]
        if key not in table.rows:
            table.add_row(*cells, key=key)
            continue
        for column, old, new in zip(columns, table.get_row(key), cells, strict=True):
            if old != new:
                table.update_cell(key, column, new, update_width=True)
