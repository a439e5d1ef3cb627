"""StatusBar: the header line of a screen (hosts, counts, CPU mode, sort, delay, filter).

At 80 columns everything does not fit: each part has a priority and may have a short
form. What the user acts on (marks, the filter, READ-ONLY) is never cut; the CPU mode
is abbreviated (``Irix``) before it is dropped; sort and delay go first.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.cells import cell_len
from textual import events
from textual.content import Content

from virtui.text import visible
from virtui.widgets.plain import Static

SEPARATOR = " │ "


@dataclass(frozen=True, slots=True)
class Part:
    """One segment: its text, style, priority (0 is kept longest) and short form."""

    text: str
    style: str = ""
    priority: int = 0
    short: str = ""


def fit(parts: list[Part], width: int) -> list[tuple[str, str]]:
    """The (text, style) segments that fit in ``width`` cells: the lowest priority
    parts are shortened first, then dropped; the order on screen is kept."""
    texts = [visible(part.text) for part in parts]
    kept = list(range(len(parts)))

    def length() -> int:
        return sum(cell_len(texts[i]) for i in kept) + cell_len(SEPARATOR) * (len(kept) - 1)

    by_priority = sorted(kept, key=lambda i: (-parts[i].priority, -i))
    for index in by_priority:
        if length() <= width or parts[index].priority == 0:
            break
        if parts[index].short:
            texts[index] = visible(parts[index].short)
            if length() <= width:
                break
        kept.remove(index)
    return [(texts[i], parts[i].style) for i in kept]


class StatusBar(Static):
    """One line of facts about the view; the CPU mode is always on it when it fits."""

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
        self._parts: list[Part] = []
        self._shown: list[tuple[str, str]] | None = None
        self._for_you = 0  # requests of others waiting for this user's review

    def on_mount(self) -> None:
        # Attributes down: the app's count, on every screen's header (none in tests'
        # own apps).
        if hasattr(self.app, "review_for_you"):
            self.watch(self.app, "review_for_you", self._count_changed)

    def _count_changed(self, count: int) -> None:
        self._for_you = count
        self._draw()

    def set_parts(self, parts: list[tuple[str, str]] | list[Part]) -> None:
        """Show the parts separated by bars; only redraws on change."""
        wanted = [p if isinstance(p, Part) else Part(p[0], p[1]) for p in parts]
        if wanted == self._parts and self._shown is not None:
            return  # the same parts at the same width (a resize draws by itself)
        self._parts = wanted
        self._draw()

    def on_resize(self, _event: events.Resize) -> None:
        self._draw()

    def _draw(self) -> None:
        width = self.content_region.width or self.app.size.width
        parts = list(self._parts)
        if self._for_you:
            count = Part(f"review {self._for_you} for you", "bold $text-warning", 1, "review!")
            parts.insert(1, count)
        shown = fit(parts, max(1, width))
        if shown == self._shown:
            return
        self._shown = shown
        pieces: list[Content | tuple[str, str] | str] = []
        for index, (text, style) in enumerate(shown):
            if index:
                pieces.append((SEPARATOR, "$text-muted"))
            pieces.append((text, style) if style else text)
        self.update(Content.assemble(*pieces))
