"""LogView: the timeline as a scrolling list of coloured lines with a cursor."""

from __future__ import annotations

import time
from collections.abc import Sequence

from rich.segment import Segment
from rich.style import Style
from textual.binding import Binding
from textual.geometry import Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from virtui.model.timeline import LogEntry, Severity
from virtui.widgets.row_scroll import scroll_row_into_view

# (header, width); the detail takes what is left.
COLUMNS = (("TIME", 12), ("SEV", 7), ("HOST", 14), ("DOMAIN", 20), ("KIND", 14))
# Below this width the fixed columns shrink so DETAIL keeps at least half the line.
NARROW_BELOW = 140
NARROW_COLUMNS = (("TIME", 8), ("SEV", 4), ("HOST", 8), ("DOMAIN", 12), ("KIND", 10))
_SEVERITY_CLASSES = {
    Severity.DEBUG: "log-view--debug",
    Severity.INFO: "log-view--info",
    Severity.WARNING: "log-view--warning",
    Severity.ERROR: "log-view--error",
}


_SHORT_SEVERITY = {"debug": "dbg", "info": "info", "warning": "warn", "error": "err"}


def entry_texts(entry: LogEntry, narrow: bool = False) -> tuple[str, ...]:
    """The cells of one line: time, severity, host, domain, kind, detail (narrow: the
    time without milliseconds and the severity in four letters)."""
    clock = time.strftime("%H:%M:%S", time.localtime(entry.wall_time))
    millis = int(entry.wall_time * 1000) % 1000
    label = entry.severity.label
    return (
        clock if narrow else f"{clock}.{millis:03d}",
        _SHORT_SEVERITY.get(label, label[:4]) if narrow else label,
        entry.host or "-",
        entry.domain or "-",
        entry.kind,
        entry.detail,
    )


class LogView(ScrollView, can_focus=True):
    """Shows a list of entries; ``append`` adds one in place. While following, the
    cursor sits on the newest line and the view stays at the bottom, like ``tail -f``;
    moving the cursor up stops following, End starts it again."""

    BINDINGS = [
        Binding("up,k", "cursor(-1)", "Up", show=False),
        Binding("down,j", "cursor(1)", "Down", show=False),
        Binding("pageup", "page(-1)", "Page up", show=False),
        Binding("pagedown", "page(1)", "Page down", show=False),
        Binding("home,g", "edge(0)", "Oldest", show=False),
        Binding("end,G", "edge(1)", "Newest and follow", show=False),
        Binding("enter", "open", "Whole line", show=False),
    ]

    COMPONENT_CLASSES = {
        "log-view--header",
        "log-view--cursor",
        "log-view--debug",
        "log-view--info",
        "log-view--warning",
        "log-view--error",
    }

    DEFAULT_CSS = """
    LogView {
        height: 1fr;
        overflow-x: hidden;
        background: $surface;
        color: $foreground;
        & > .log-view--header { text-style: bold; color: $text-primary; background: $panel; }
        & > .log-view--cursor { background: $block-cursor-blurred-background; }
        &:focus > .log-view--cursor { background: $block-cursor-background; }
        & > .log-view--debug { color: $text-secondary; }
        & > .log-view--info { color: $foreground; }
        & > .log-view--warning { color: $text-warning; }
        & > .log-view--error { color: $text-error; text-style: bold; }
    }
    """

    class Opened(Message):
        """Enter on a line: show the whole entry."""

        def __init__(self, entry: LogEntry) -> None:
            super().__init__()
            self.entry = entry

    def action_open(self) -> None:
        if self.selected is not None:
            self.post_message(self.Opened(self.selected))

    class FollowChanged(Message):
        """Following switched on or off."""

        def __init__(self, following: bool) -> None:
            super().__init__()
            self.following = following

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.entries: list[LogEntry] = []
        self.cursor = 0
        self.following = True
        self._styles: dict[str, Style] = {}

    # -- content ------------------------------------------------------------------------

    def show(self, entries: Sequence[LogEntry]) -> None:
        """Replace the lines (a new filter); the cursor goes to the newest one."""
        self.entries = list(entries)
        self.cursor = max(0, len(self.entries) - 1)
        self._resize()
        self._follow_cursor()
        self.refresh()

    def append(self, entry: LogEntry) -> None:
        """Add one line at the bottom; when following, move down with it."""
        self.entries.append(entry)
        if self.following:
            self.cursor = len(self.entries) - 1
        self._resize()
        if self.following:
            self._follow_cursor()
        self.refresh()

    def trim(self, keep: int) -> None:
        """Drop the oldest lines beyond ``keep`` (the timeline dropped them too)."""
        extra = len(self.entries) - keep
        if extra > 0:
            del self.entries[:extra]
            self.cursor = max(0, self.cursor - extra)
            self._resize()
            self.refresh()

    @property
    def selected(self) -> LogEntry | None:
        """The entry under the cursor."""
        return self.entries[self.cursor] if self.entries else None

    def _resize(self) -> None:
        size = Size(self.size.width, len(self.entries) + 1)
        if size != self.virtual_size:
            self.virtual_size = size

    # -- moving -------------------------------------------------------------------------

    def _set_following(self, following: bool) -> None:
        if following != self.following:
            self.following = following
            self.post_message(self.FollowChanged(following))

    def action_cursor(self, step: int) -> None:
        self._move(self.cursor + step)

    def action_page(self, step: int) -> None:
        self._move(self.cursor + step * max(1, self.size.height - 2))

    def action_edge(self, end: int) -> None:
        self._move(len(self.entries) - 1 if end else 0)

    def _move(self, row: int) -> None:
        last = max(0, len(self.entries) - 1)
        self.cursor = min(max(0, row), last)
        self._set_following(self.cursor == last)
        self._follow_cursor()
        self.refresh()

    def _follow_cursor(self) -> None:
        scroll_row_into_view(self, self.cursor)

    def on_resize(self) -> None:
        self._resize()
        self._follow_cursor()

    # -- drawing ------------------------------------------------------------------------

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._styles = {}

    def _style(self, name: str) -> Style:
        style = self._styles.get(name)
        if style is None:
            style = self._styles[name] = (
                self.rich_style if not name else self.get_component_rich_style(name, partial=True)
            )
        return style

    def columns(self) -> tuple[tuple[str, int], ...]:
        """The fixed columns at this width (narrow ones below NARROW_BELOW cells)."""
        return NARROW_COLUMNS if self.size.width < NARROW_BELOW else COLUMNS

    def _segments(self, texts: Sequence[str], style: Style) -> list[Segment]:
        segments = [Segment(" ", style)]
        for (_header, width), text in zip(self.columns(), texts, strict=False):
            cell = text if len(text) <= width else text[: width - 1] + "…"
            segments.append(Segment(cell.ljust(width) + " ", style))
        segments.append(Segment(texts[-1], style))
        return segments

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        base = self._style("")
        if y == 0:
            header = base + self._style("log-view--header")
            labels = [label for label, _width in self.columns()] + ["DETAIL"]
            return (
                Strip(self._segments(labels, header))
                .extend_cell_length(width, header)
                .crop(0, width)
            )
        index = round(self.scroll_offset.y) + y - 1
        if index >= len(self.entries):
            return Strip.blank(width, base)
        entry = self.entries[index]
        style = base + self._style(_SEVERITY_CLASSES[entry.severity])
        if index == self.cursor:
            style += self._style("log-view--cursor")
        narrow = self.size.width < NARROW_BELOW
        strip = Strip(self._segments(entry_texts(entry, narrow), style))
        return strip.extend_cell_length(width, style).crop(0, width)
