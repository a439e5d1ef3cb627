"""Keeping a cursor row visible in a Line-API list drawn below a one-line header."""

from __future__ import annotations

from textual.scroll_view import ScrollView


def scroll_row_into_view(view: ScrollView, row: int) -> None:
    """Scroll ``view`` just enough that data row ``row`` is on screen (row 0 is the first
    line under the header, which takes the view's top line)."""
    visible = max(1, view.size.height - 1)
    top = round(view.scroll_offset.y)
    if row < top:
        view.scroll_to(y=row, animate=False, immediate=True)
    elif row >= top + visible:
        view.scroll_to(y=row - visible + 1, animate=False, immediate=True)
