"""CpuGraph: one domain's CPU history, with the CPU mode on its axis."""

from __future__ import annotations

from collections.abc import Sequence

from rich.segment import Segment
from rich.style import Style
from textual.content import Content
from textual.strip import Strip
from textual.widget import Widget

from virtui.model import CpuMode
from virtui.text import visible
from virtui.widgets.braille import block_area, braille_area, limited_glyphs

AXIS_WIDTH = 9


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
            self._values, self._ceiling, self._mode = values, ceiling, mode
            self._rows_for = (-1, -1)
            self.refresh()
        # Re-setting an unchanged title still costs a layout pass: skip it.
        if (title, subtitle) != self._titles:
            self._titles = (title, subtitle)
            # Domain names come from libvirt: no escape, no markup reaches the terminal.
            self.border_title = Content(visible(title))
            self.border_subtitle = Content(visible(subtitle))

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

    def render_line(self, y: int) -> Strip:
        width, height = self.content_size
        if y >= height:
            return Strip.blank(width)
        chart_width = max(0, width - AXIS_WIDTH)
        rows = self._chart_rows(chart_width, height)
        axis_style: Style = self.get_component_rich_style("cpu-graph--axis")
        line_style: Style = self.get_component_rich_style("cpu-graph--line")
        label = self._axis_label(y, height)[: AXIS_WIDTH - 1].rjust(AXIS_WIDTH - 1) + "┤"
        chart = rows[y] if y < len(rows) else " " * chart_width
        return Strip([Segment(label, axis_style), Segment(chart, line_style)], width)
