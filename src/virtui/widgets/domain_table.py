"""DomainTable: the top-like table of domains, updated in place by stable row keys."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rich.style import Style
from rich.text import Text
from textual import events
from textual.widgets import DataTable
from textual.widgets.data_table import ColumnKey

from virtui.formatting import format_cpu_time, format_kib, format_pct
from virtui.model import CpuMode, DomainKey, DomainState, DomainStats
from virtui.widgets.cells import Cell


@dataclass(frozen=True, slots=True)
class Column:
    """One column: key, header label, fixed width (None = fit content), alignment."""

    key: str
    label: str
    width: int | None
    right: bool = False


COLUMNS = (
    Column("host", "HOST", 10),
    Column("name", "NAME", None),
    Column("state", "STATE", 11),
    Column("vcpus", "VCPU", 4, right=True),
    Column("cpu", "%CPU", 7, right=True),
    Column("mem", "MEM", 8, right=True),
    Column("memp", "%MEM", 5, right=True),
    Column("time", "TIME", 11, right=True),
)
COLUMN_KEYS = tuple(column.key for column in COLUMNS)

_STATE_CLASSES = {
    DomainState.RUNNING: "domain-table--running",
    DomainState.PAUSED: "domain-table--paused",
    DomainState.PMSUSPENDED: "domain-table--paused",
    DomainState.CRASHED: "domain-table--crashed",
    DomainState.UNKNOWN: "domain-table--unknown",
    DomainState.SHUTOFF: "domain-table--off",
}


class DomainTable(DataTable[Cell]):
    """Domains of all hosts. ``sync`` adds, updates and removes rows by key; rows are
    never cleared and rebuilt, and the cursor stays on the same domain across sorts."""

    COMPONENT_CLASSES = {
        "domain-table--running",
        "domain-table--paused",
        "domain-table--crashed",
        "domain-table--unknown",
        "domain-table--off",
    }

    DEFAULT_CSS = """
    DomainTable {
        height: 1fr;
        & > .domain-table--running { color: $text-success; }
        & > .domain-table--paused { color: $text-warning; }
        & > .domain-table--crashed { color: $text-error; text-style: bold; }
        & > .domain-table--unknown { color: $text-error; }
        & > .domain-table--off { color: $text-muted; }
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=False)
        self._cells: dict[str, tuple[Cell, ...]] = {}
        self._state_styles: dict[DomainState, Style] = {}
        self.sort_column = "cpu"
        self.sort_reverse = True
        # Like htop: the cursor stays on the top row until the user moves it; from then
        # on it follows the chosen domain wherever sorting takes it.
        self.following = False

    def on_mount(self) -> None:
        for column in COLUMNS:
            self.add_column(column.label, key=column.key, width=column.width)
        self._label_sort_column()

    def _styles_for_states(self) -> dict[DomainState, Style]:
        if not self._state_styles:
            self._state_styles = {
                state: self.get_component_rich_style(name, partial=True)
                for state, name in _STATE_CLASSES.items()
            }
        return self._state_styles

    def notify_style_update(self) -> None:
        super().notify_style_update()
        # Theme or focus changed: rebuild state colours on the next sync. Cells compare by
        # style too, so every restyled cell is then updated like any other change.
        self._state_styles = {}

    @property
    def selected_key(self) -> DomainKey | None:
        """The domain under the cursor."""
        if not self.row_count:
            return None
        row_key = self.coordinate_to_cell_key(self.cursor_coordinate).row_key
        return _parse_key(row_key.value)

    def _user_moved(self) -> None:
        self.following = True

    def action_cursor_up(self) -> None:
        self._user_moved()
        super().action_cursor_up()

    def action_cursor_down(self) -> None:
        self._user_moved()
        super().action_cursor_down()

    def action_page_up(self) -> None:
        self._user_moved()
        super().action_page_up()

    def action_page_down(self) -> None:
        self._user_moved()
        super().action_page_down()

    def action_scroll_top(self) -> None:
        self._user_moved()
        super().action_scroll_top()

    def action_scroll_bottom(self) -> None:
        self._user_moved()
        super().action_scroll_bottom()

    async def _on_click(self, event: events.Click) -> None:
        self._user_moved()
        await super()._on_click(event)

    def sync(self, stats: Sequence[DomainStats], mode: CpuMode) -> None:
        """Show exactly ``stats``, in the current sort order, updating only what changed."""
        keep = self.selected_key if self.following else None
        styles = self._styles_for_states()
        wanted: set[str] = set()
        for item in stats:
            row_key = str(item.sample.key)
            wanted.add(row_key)
            cells = _cells_for(item, mode, styles)
            previous = self._cells.get(row_key)
            if previous is None:
                self.add_row(*cells, key=row_key)
            elif previous != cells:
                for column, old, new in zip(COLUMN_KEYS, previous, cells, strict=True):
                    if old != new:
                        self.update_cell(row_key, column, new)
            self._cells[row_key] = cells
        for row_key in [key for key in self._cells if key not in wanted]:
            self.remove_row(row_key)
            del self._cells[row_key]
        self._apply_sort()
        if keep is not None and str(keep) in self._cells:
            self.move_cursor(row=self.get_row_index(str(keep)), animate=False)

    def sort_by(self, column: str, reverse: bool | None = None) -> None:
        """Sort by a column; numeric columns default to descending, text ascending."""
        if column not in COLUMN_KEYS:
            raise ValueError(f"unknown column {column!r}")
        self.sort_column = column
        self.sort_reverse = (
            column in ("vcpus", "cpu", "mem", "memp", "time") if reverse is None else reverse
        )
        self._label_sort_column()
        keep = self.selected_key if self.following else None
        self._apply_sort()
        if keep is not None:
            self.move_cursor(row=self.get_row_index(str(keep)), animate=False)

    def _apply_sort(self) -> None:
        if self.row_count:
            self.sort(self.sort_column, "name", key=_sort_values, reverse=self.sort_reverse)

    def _label_sort_column(self) -> None:
        arrow = "▼" if self.sort_reverse else "▲"
        for column in COLUMNS:
            label = f"{column.label}{arrow}" if column.key == self.sort_column else column.label
            self.columns[ColumnKey(column.key)].label = Text(
                label, justify="right" if column.right else "left"
            )
        self.refresh()


def _sort_values(cells: tuple[Cell, Cell]) -> tuple[object, object]:
    return cells[0].sort, cells[1].sort


def _parse_key(text: str | None) -> DomainKey | None:
    if not text or "/" not in text:
        return None
    host, uuid = text.rsplit("/", 1)
    return DomainKey(host, uuid)


def _cells_for(
    item: DomainStats, mode: CpuMode, styles: dict[DomainState, Style]
) -> tuple[Cell, ...]:
    sample = item.sample
    style = styles.get(sample.state, "")
    pct = item.cpu_pct(mode)
    mem_pct = item.mem_pct
    active = sample.state.is_active
    return (
        Cell(sample.key.host, sample.key.host),
        Cell(sample.name, sample.name.casefold()),
        Cell(sample.state.value, sample.state.value, style),
        Cell(str(sample.vcpus), sample.vcpus, right=True),
        Cell(format_pct(pct), -1.0 if pct is None else pct, right=True),
        Cell(format_kib(sample.mem_kib), sample.mem_kib, right=True),
        Cell(format_pct(mem_pct), -1.0 if mem_pct is None else mem_pct, right=True),
        Cell(
            format_cpu_time(sample.cpu_time_ns) if active else "-",
            sample.cpu_time_ns if active else -1,
            right=True,
        ),
    )
