"""StatusBar: the header line of a screen (hosts, counts, CPU mode, sort, delay, filter)."""

from __future__ import annotations

from textual.content import Content
from textual.widgets import Static

from virtui.text import visible


class StatusBar(Static):
    """One line of facts about the view; the CPU mode is always on it."""

    DEFAULT_CSS = """
    StatusBar {
        height: 1;
        background: $panel;
        color: $foreground;
        padding: 0 1;
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__("", id=id, markup=False)
        self._last: str = ""

    def set_parts(self, parts: list[tuple[str, str]]) -> None:
        """Show ``(text, style)`` parts separated by bars; only redraws on change."""
        key = repr(parts)
        if key == self._last:
            return
        self._last = key
        pieces: list[Content | tuple[str, str] | str] = []
        for index, (text, style) in enumerate(parts):
            if index:
                pieces.append((" │ ", "$text-muted"))
            text = visible(text)  # host and domain names come from libvirt
            pieces.append((text, style) if style else text)
        self.update(Content.assemble(*pieces))
