"""CpuGraph: one domain's CPU history, with the CPU mode on its axis."""

from __future__ import annotations

from collections.abc import Sequence

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from textual.content import Content
from textual.geometry import Region
from textual.strip import Strip
from textual.widget import Widget

from virtui.model import CpuMode
from virtui.text import visible
from virtui.widgets import textual_hacks
from virtui.widgets.braille import block_area, braille_area, limited_glyphs
from virtui.widgets.line_diff import changed_span

AXIS_WIDTH = 9
# Border cells beside a title's text, with its spaces: "╭─ title ", " subtitle ─╯".
BORDER_TEXT_EDGE = 4


class CpuGraph(Widget):
    """A braille area chart with a labelled y axis.

    The axis top reads the full scale and the mode ("400% Irix"), so a reading is never
    ambiguous. ``show`` replaces the data; rows are drawn once per change, not per line.
    """

    COMPONENT_CLASSES = {"cpu-graph--line", "cpu-graph--axis"}

    DEFAULT_CSS = """
    CpuGraph {
        height: 8;
        border: round $primary;
        border-title-color: $text;
        border-subtitle-color: $text-muted;
        padding: 0 1;
        & > .cpu-graph--line { color: $accent; }
        & > .cpu-graph--axis { color: $text-muted; }
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._values: tuple[float, ...] = ()
        self._ceiling = 100.0
        self._mode = CpuMode.IRIX
        self._rows: list[str] = []
        self._rows_for: tuple[int, int] = (-1, -1)
        self._titles: tuple[str, str] = ("", "")
        self._styles: tuple[Style, Style] | None = None

    def show(
        self,
        values: Sequence[float],
        ceiling: float,
        mode: CpuMode,
        title: str,
        subtitle: str = "",
    ) -> None:
        """Plot ``values`` (already in ``mode``) against full scale ``ceiling``."""
        values = tuple(values)
        ceiling = max(ceiling, max(values, default=0.0), 1e-9)
        if (values, ceiling, mode) != (self._values, self._ceiling, self._mode):
            axis_changed = (ceiling, mode) != (self._ceiling, self._mode)
            old_rows, old_for = self._rows, self._rows_for
            self._values, self._ceiling, self._mode = values, ceiling, mode
            self._rows_for = (-1, -1)
            if axis_changed or old_for == (-1, -1):
                self.refresh()
            else:
                self._refresh_changed(old_rows, old_for)
        # Re-setting an unchanged title still costs a layout pass: skip it.
        if (title, subtitle) != self._titles:
            (old_title, old_subtitle), self._titles = self._titles, (title, subtitle)
            if not self.size:  # not laid out yet: nothing drawn to spare
                # Domain names come from libvirt: no escape, no markup reaches the terminal.
                self.border_title = Content(visible(title))
                self.border_subtitle = Content(visible(subtitle))
            else:
                if title != old_title:
                    self._replace_border_text(top=True, old=old_title, new=title)
                if subtitle != old_subtitle:
                    self._replace_border_text(top=False, old=old_subtitle, new=subtitle)

    def _replace_border_text(self, *, top: bool, old: str, new: str) -> None:
        """Change the title (top, left-aligned) or subtitle (bottom, right-aligned) and
        repaint only the cells that text covers, before and after.

        The subtitle (each vCPU's figure) changes every poll, the title whenever the
        cursor's domain does. Setting ``border_title`` or ``border_subtitle`` repaints the
        whole panel; this stores the text as they do (the conversion of Textual's
        ``_BorderTitle``, pinned with Textual) and marks only those cells dirty.
        """
        text = visible(new)
        content = self.render_str(Content(text)).expand_tabs(4).split()[0]
        gutter = self.styles.gutter
        width, height = self.outer_size
        covered = min(width, max(cell_len(visible(old)), cell_len(text)) + BORDER_TEXT_EDGE)
        textual_hacks.store_border_text(self, top=top, content=content)
        if top:
            self.refresh(Region(-gutter.left, -gutter.top, covered, 1))
        else:
            self.refresh(Region(width - covered - gutter.left, height - 1 - gutter.top, covered, 1))

    def _refresh_changed(self, old_rows: list[str], old_for: tuple[int, int]) -> None:
        """Repaint only the chart cells whose glyph changed (a graph that moved by one
        sample changes a column or two, not the whole panel)."""
        rows = self._chart_rows(*old_for)
        dirty = [
            Region(AXIS_WIDTH + span[0], y, span[1] - span[0], 1)
            for y, (before, after) in enumerate(zip(old_rows, rows, strict=False))
            if (span := changed_span(before, after)) is not None
        ]
        if dirty:
            self.refresh(*dirty)

    def _chart_rows(self, width: int, height: int) -> list[str]:
        if self._rows_for != (width, height):
            chart = block_area if limited_glyphs() else braille_area
            self._rows = chart(self._values, self._ceiling, width, height)
            self._rows_for = (width, height)
        return self._rows

    def _axis_label(self, y: int, height: int) -> str:
        if y == 0:
            return f"{self._ceiling:.0f}%"
        if y == 1 and height > 2:
            return self._mode.label
        if y == height - 1:
            return "0%"
        if y == height // 2 and height > 4:
            return f"{self._ceiling / 2:.0f}%"
        return ""

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._styles = None

    def _line_styles(self) -> tuple[Style, Style]:
        # Looking a component style up walks the CSS each time: once per style change.
        if self._styles is None:
            self._styles = (
                self.get_component_rich_style("cpu-graph--axis"),
                self.get_component_rich_style("cpu-graph--line"),
            )
        return self._styles

    def render_line(self, y: int) -> Strip:
        width, height = self.content_size
        if y >= height:
            return Strip.blank(width)
        chart_width = max(0, width - AXIS_WIDTH)
        rows = self._chart_rows(chart_width, height)
        axis_style, line_style = self._line_styles()
        label = self._axis_label(y, height)[: AXIS_WIDTH - 1].rjust(AXIS_WIDTH - 1) + "┤"
        chart = rows[y] if y < len(rows) else " " * chart_width
        return Strip([Segment(label, axis_style), Segment(chart, line_style)], width)
