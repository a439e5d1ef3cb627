"""DomainTable: the top-like table of domains, a Line-API widget updated in place.

Why not DataTable: it re-renders every visible cell through Rich whenever any cell
changes, and measures every added row. A top-like table changes every row every tick, so
here each row is a tuple of pre-formatted strings keyed by domain, drawn into a cached
Strip that is rebuilt only when that row (or the cursor on it) changes.
"""

from __future__ import annotations

import ipaddress
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding
from textual.geometry import Region, Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from virtui.formatting import (
    distinct_cuts,
    format_age,
    format_cpu_time,
    format_kib,
    format_pct,
    format_rate,
)
from virtui.model import CpuMode, DomainKey, DomainState, DomainStats
from virtui.model.columns import DEFAULT_HIDDEN, DOMAIN_COLUMN_KEYS, DOMAIN_COLUMNS, Column
from virtui.text import visible
from virtui.widgets.line_diff import changed_runs
from virtui.widgets.row_scroll import scroll_row_into_view


@dataclass(frozen=True, slots=True)
class LineLook:
    """What one screen line of the table shows: its cells' texts (the mark first) and
    everything else that colours it (header, cursor, state)."""

    cells: tuple[str, ...]
    decoration: object


BLANK = LineLook((), "blank")  # a line below the last row: one object, compared by identity
COLUMNS = DOMAIN_COLUMNS  # the table shows every one it has room for, in this order
_HOST_WIDTH = next(c.width for c in COLUMNS if c.key == "host") or 10
NAME_WIDTH_MIN, NAME_WIDTH_MAX = 16, 40
NAME_WIDTH_FLOOR = 8
# Changed characters closer than this on a line are sent as one run: a new run costs a
# cursor move (about 8 bytes) and, when its colours differ from the run before it, a
# colour code (about 20; SpanUpdate carries colours across runs), an unchanged character
# one.
REPAINT_GAP = 24
ALERT_MARK = "!"  # in the mark cell of a row an alert fires for (a mark of yours wins)

_STATE_CLASSES = {
    DomainState.RUNNING: "domain-table--running",
    DomainState.PAUSED: "domain-table--paused",
    DomainState.PMSUSPENDED: "domain-table--paused",
    DomainState.CRASHED: "domain-table--crashed",
    DomainState.UNKNOWN: "domain-table--unknown",
    DomainState.SHUTOFF: "domain-table--off",
}


def row_texts(
    item: DomainStats, mode: CpuMode, host: str | None = None, backup: str = "-"
) -> tuple[str, ...]:
    """What one domain shows, column by column (``host``: its HOST cell, when cut;
    ``backup``: the age of its last backup)."""
    sample = item.sample
    active = sample.state.is_active
    return (
        visible(sample.key.host if host is None else host),
        visible(sample.name),  # libvirt allows any character in a name
        "off (saved)" if sample.saved else sample.state.value,
        str(sample.vcpus),
        format_pct(item.cpu_pct(mode)),
        format_kib(sample.mem_kib),
        format_pct(item.mem_pct),
        format_cpu_time(sample.cpu_time_ns) if active else "-",
        format_rate(item.disk_rd_bps),
        format_rate(item.disk_wr_bps),
        format_rate(item.disk_rd_iops),
        format_rate(item.disk_wr_iops),
        format_rate(item.net_rx_bps),
        format_rate(item.net_tx_bps),
        _AUTOSTART[sample.autostart],
        visible(sample.address) or "-",
        backup,
    )


_AUTOSTART = {True: "yes", False: "no", None: "-"}


def _fit(text: str, width: int, right: bool) -> str:
    """A cell's text cut (with an ellipsis) or padded to its column's width."""
    if len(text) > width:
        text = text[: width - 1] + "…"
    return text.rjust(width) if right else text.ljust(width)


def _rate(figure: Callable[[DomainStats], float | None]) -> Callable[[DomainStats], float]:
    def value(item: DomainStats) -> float:
        rate = figure(item)
        return -1.0 if rate is None else rate

    return value


# Percentages sort by the figure shown (one decimal), so two rows that read the same
# keep their A-to-Z order instead of trading places on noise below what is displayed:
# a row that moves costs a repaint, and a list that shuffles cannot be read.
def _cpu(mode: CpuMode) -> Callable[[DomainStats], float]:
    def value(item: DomainStats) -> float:
        pct = item.cpu_pct(mode)
        return -1.0 if pct is None else round(pct, 1)

    return value


def _mem_pct(item: DomainStats) -> float:
    pct = item.mem_pct
    return -1.0 if pct is None else round(pct, 1)


def _time(item: DomainStats) -> int:
    return item.sample.cpu_time_ns if item.sample.state.is_active else -1


def _address(item: DomainStats) -> tuple[int, int, str]:
    """IPv4 before IPv6, each in numeric order; none last."""
    text = item.sample.address
    if not text:
        return (2, 0, "")
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return (2, 0, text)
    return (address.version // 6, int(address), "")


def sort_value(column: str, mode: CpuMode) -> Callable[[DomainStats], Any]:
    """The sort key of a column, computed from raw figures (no formatting)."""
    keys: dict[str, Callable[[DomainStats], Any]] = {
        "host": lambda item: item.sample.key.host,
        "name": lambda item: item.sample.name.casefold(),
        "state": lambda item: item.sample.state.value,
        "vcpus": lambda item: item.sample.vcpus,
        "cpu": _cpu(mode),
        "mem": lambda item: item.sample.mem_kib,
        "memp": _mem_pct,
        "time": _time,
        "rd": _rate(lambda item: item.disk_rd_bps),
        "wr": _rate(lambda item: item.disk_wr_bps),
        "rdrq": _rate(lambda item: item.disk_rd_iops),
        "wrrq": _rate(lambda item: item.disk_wr_iops),
        "rx": _rate(lambda item: item.net_rx_bps),
        "tx": _rate(lambda item: item.net_tx_bps),
        "auto": lambda item: {True: 1, False: 0, None: -1}[item.sample.autostart],
        "ip": _address,
    }
    return keys[column]


def backup_age(when: float | None, now: float) -> float:
    """Seconds since a domain's last backup (``when``, epoch seconds); never backed up
    is the oldest of all."""
    return float("inf") if when is None else now - when


def backup_cell(when: float | None, now: float, too_old_hours: float) -> str:
    """A BACKUP cell: ``5h``, ``30h!`` past ``too_old_hours``, or ``never``."""
    if when is None:
        return "never"
    age = now - when
    return format_age(age) + ("!" if age > too_old_hours * 3600 else "")


class DomainTable(ScrollView, can_focus=True):
    """Domains of all hosts, with a fixed header line and a row cursor.

    ``sync`` adds, updates and removes rows by key; nothing is cleared and rebuilt. Only
    visible rows are formatted, when drawn; a row's Strip is reused while its texts stay
    the same. Like
    htop, the cursor stays on the top row until the user moves it, then follows the chosen
    domain wherever sorting takes it.
    """

    BINDINGS = [
        Binding("up,k", "cursor(-1)", "Up", show=False),
        Binding("down,j", "cursor(1)", "Down", show=False),
        Binding("pageup", "page(-1)", "Page up", show=False),
        Binding("pagedown", "page(1)", "Page down", show=False),
        Binding("home,ctrl+home", "edge(0)", "First row", show=False),
        Binding("end,ctrl+end", "edge(1)", "Last row", show=False),
    ]

    COMPONENT_CLASSES = {
        "domain-table--header",
        "domain-table--cursor",
        "domain-table--mark",
        "domain-table--alert",
        "domain-table--busy",
        "domain-table--running",
        "domain-table--paused",
        "domain-table--crashed",
        "domain-table--unknown",
        "domain-table--off",
    }

    DEFAULT_CSS = """
    DomainTable {
        height: 1fr;
        overflow-x: hidden;
        background: $surface;
        color: $foreground;
        & > .domain-table--header { text-style: bold; color: $text-primary; background: $panel; }
        & > .domain-table--cursor { background: $block-cursor-blurred-background; }
        &:focus > .domain-table--cursor {
            background: $block-cursor-background;
            color: $block-cursor-foreground;
            text-style: $block-cursor-text-style;
        }
        & > .domain-table--mark { color: $text-accent; text-style: bold; }
        & > .domain-table--alert { color: $text-error; text-style: bold; }
        & > .domain-table--busy { color: $text-accent; text-style: italic; }
        & > .domain-table--running { color: $text-success; }
        & > .domain-table--paused { color: $text-warning; }
        & > .domain-table--crashed { color: $text-error; text-style: bold; }
        & > .domain-table--unknown { color: $text-error; }
        & > .domain-table--off { color: $text-secondary; }
    }
    """

    class Highlighted(Message):
        """The domain under the cursor changed (None: the table is empty)."""

        def __init__(self, key: DomainKey | None) -> None:
            super().__init__()
            self.key = key

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._rows: dict[DomainKey, DomainStats] = {}
        self._mode = CpuMode.IRIX
        self._order: list[DomainKey] = []
        # The rows by name, A to Z, and the names in the order the last poll gave them:
        # sorted again only when a domain comes, goes or is renamed, not at every poll.
        self._by_name: list[DomainKey] = []
        self._names: list[str] = []
        self._strips: dict[tuple[DomainKey, bool], tuple[tuple[str, ...], Strip]] = {}
        self._texts: dict[DomainKey, tuple[DomainStats, CpuMode, tuple[str, ...]]] = {}
        # What each screen line showed when last drawn: a line is repainted only where
        # its text changed, so an unchanged refresh sends nothing to the terminal.
        self._drawn: dict[int, LineLook] = {}
        self.marked: set[DomainKey] = set()
        self.busy: dict[DomainKey, str] = {}
        self.alerted: frozenset[DomainKey] = frozenset()  # rows with an alert firing
        # When each domain (by UUID) was last backed up, epoch seconds; None: no
        # [backup] dir, and no BACKUP column. Ages are taken at each sync.
        self.backups: dict[str, float] | None = None
        self.backup_too_old_hours = 0.0
        self._now = time.time()
        self._styles: dict[str, Style] = {}
        self.hidden: frozenset[str] = frozenset(DEFAULT_HIDDEN)
        self._shown: tuple[tuple[int, Column], ...] = tuple(
            (n, c) for n, c in enumerate(COLUMNS) if c.key not in (*self.hidden, "backup")
        )
        self._name_width = NAME_WIDTH_MIN
        # Host name -> its HOST cell: cut so that what tells the hosts apart shows.
        self._host_cuts: dict[str, str] = {}
        self._highlighted: DomainKey | None = None
        self.cursor_row = 0
        self.following = False  # the user moved the cursor: a new sort keeps its domain
        self._settled = False  # a poll with figures came: the order is no longer provisional
        self.sort_column = "cpu"
        self.sort_reverse = True

    # -- reading ----------------------------------------------------------------------

    @property
    def row_count(self) -> int:
        """Rows shown."""
        return len(self._order)

    @property
    def shown_columns(self) -> tuple[str, ...]:
        """The keys of the columns on screen, left to right."""
        return tuple(column.key for _n, column in self._shown)

    @property
    def selected_key(self) -> DomainKey | None:
        """The domain under the cursor."""
        return self._order[self.cursor_row] if self._order else None

    def column_texts(self, column: str) -> list[str]:
        """One column's texts, top to bottom, as displayed."""
        index = DOMAIN_COLUMN_KEYS.index(column)
        return [row_texts(self._rows[key], self._mode)[index] for key in self._order]

    # -- updating ---------------------------------------------------------------------

    def sync(self, stats: Sequence[DomainStats], mode: CpuMode) -> None:
        """Show exactly ``stats``, in the current sort order. The cursor stays on its
        domain, wherever a poll moves it: sorted by %CPU, rows trade places every
        second, and a key must act on the domain the user saw selected (k9s keeps the
        selection on the resource). Until the first figures arrive the order is
        provisional (no %CPU yet), and an untouched cursor stays on the top row."""
        keep = self.selected_key if self.following or self._settled else None
        self._settled = self._settled or any(item.cpu_pct_irix is not None for item in stats)
        rows = {item.sample.key: item for item in stats}
        names = [item.sample.name for item in stats]
        # The same domains under the same names as the last poll (nearly every poll):
        # the hosts, the NAME column's width and the A-to-Z order all still hold.
        same_domains = names == self._names and rows.keys() == self._rows.keys()
        self._rows = rows
        self._mode = mode
        self._now = time.time()  # the BACKUP cells' ages, for this poll's texts
        if len(self._strips) > self.strip_bound():
            self._strips.clear()  # rows scrolled or sorted out of sight, or long gone
        if len(self._texts) > 2 * len(rows) + 256:
            self._texts.clear()
        if not same_domains:
            self._names = names
            by_name = sorted(rows.values(), key=sort_value("name", mode))
            self._by_name = [item.sample.key for item in by_name]
            self.marked &= rows.keys()  # a mark on a vanished domain means nothing
            self._take_hosts_and_names(rows.keys(), names)
        self._reorder(keep)

    def _take_hosts_and_names(self, keys: Iterable[DomainKey], names: Sequence[str]) -> None:
        """Fit the HOST cells to the hosts shown and the NAME column to the longest name."""
        hosts = {key.host for key in keys}
        if hosts != self._host_cuts.keys():
            self._host_cuts = distinct_cuts(hosts, _HOST_WIDTH)
            self._texts.clear()  # formatted with the old cuts
            self._strips.clear()
            self._drawn.clear()
        longest = max(map(len, names), default=0)
        name_width = min(NAME_WIDTH_MAX, max(NAME_WIDTH_MIN, longest))
        if name_width != self._name_width:
            self._name_width = name_width
            self._strips.clear()
            self._drawn.clear()  # every line moved its columns: repaint them all

    def sort_by(self, column: str, reverse: bool | None = None) -> None:
        """Sort by a column; numeric columns start descending, text ascending."""
        spec = next((c for c in COLUMNS if c.key == column), None)
        if spec is None:
            raise ValueError(f"unknown column {column!r}")
        self.sort_column = column
        self.sort_reverse = spec.descending if reverse is None else reverse
        if not self.following:
            self.cursor_row = 0  # an untouched cursor starts at the top of the new order
        self._reorder(self.selected_key if self.following else None)

    def _reorder(self, keep: DomainKey | None) -> None:
        # Ties break on the name, always A to Z, so equal rows never shuffle.
        rows, by_name = self._rows, self._by_name
        if self.sort_column == "cpu" and self._mode is CpuMode.IRIX:
            # The default sort, every poll, every row: the figures are taken in one pass
            # (no call per row) and the rows sorted by them (the same order as _cpu's).
            shown = [
                -1.0 if (pct := rows[key].cpu_pct_irix) is None else round(pct, 1)
                for key in by_name
            ]
            places = sorted(range(len(shown)), key=shown.__getitem__, reverse=self.sort_reverse)
            self._order = [by_name[place] for place in places]
        else:
            ordered = [rows[key] for key in by_name]
            if self.sort_column == "backup":
                last, now = self.backups or {}, self._now
                ordered.sort(
                    key=lambda item: backup_age(last.get(item.sample.key.uuid), now),
                    reverse=self.sort_reverse,
                )
            else:
                order = sort_value(self.sort_column, self._mode)
                ordered.sort(key=order, reverse=self.sort_reverse)
            self._order = [item.sample.key for item in ordered]
        if keep is not None and keep in self._rows:
            self.cursor_row = self._order.index(keep)
        self.cursor_row = max(0, min(self.cursor_row, len(self._order) - 1))
        size = Size(self._total_width(), len(self._order) + 1)
        if size != self.virtual_size:
            self.virtual_size = size
        self._scroll_cursor_into_view()
        self._refresh_changed()
        self._announce()

    def _announce(self) -> None:
        key = self.selected_key
        if key != self._highlighted:
            self._highlighted = key
            self.post_message(self.Highlighted(key))

    # -- marks and operations in progress ------------------------------------------------

    def toggle_mark(self) -> None:
        """Mark or unmark the row under the cursor, then move down (like mc and htop)."""
        key = self.selected_key
        if key is None:
            return
        self.marked.symmetric_difference_update({key})
        self.move_cursor_to(self.cursor_row + 1)
        self._refresh_changed()

    def clear_marks(self) -> None:
        """Unmark every row."""
        self.marked.clear()
        self._refresh_changed()

    def targets(self) -> list[DomainKey]:
        """What an action applies to: the marked rows still shown, else the cursor row."""
        marked = [key for key in self._order if key in self.marked]
        if marked:
            return marked
        return [self.selected_key] if self.selected_key is not None else []

    def set_busy(self, key: DomainKey, progress: str | None) -> None:
        """Show (or clear) an operation in progress on a row."""
        if progress is None:
            self.busy.pop(key, None)
        else:
            self.busy[key] = progress
        self._refresh_changed()

    def set_backups(self, last: dict[str, float] | None, too_old_hours: float) -> None:
        """When each domain (by UUID) was last backed up (None: no BACKUP column), and
        when that is too long ago; redraws what changed."""
        if last == self.backups and too_old_hours == self.backup_too_old_hours:
            return
        column_changes = (last is None) != (self.backups is None)
        self.backups, self.backup_too_old_hours = last, too_old_hours
        self._texts.clear()
        if column_changes:
            self.set_hidden(self.hidden)
        else:
            self._refresh_changed()

    def backup_summary(self, keys: Iterable[DomainKey]) -> str:
        """For the header: how many of the domains ``keys`` (every one, not only the
        rows a filter shows) were last backed up too long ago, and how many never ("":
        none, or no BACKUP column)."""
        if self.backups is None:
            return ""
        now, too_old_s = time.time(), self.backup_too_old_hours * 3600
        ages = [backup_age(self.backups.get(key.uuid), now) for key in keys]
        never = sum(1 for age in ages if age == float("inf"))
        old = sum(1 for age in ages if too_old_s < age < float("inf"))
        if not (old or never):
            return ""
        return f"backups: {old} older than {self.backup_too_old_hours:g}h, {never} never"

    def set_alerted(self, keys: frozenset[DomainKey]) -> None:
        """Mark the rows of the domains an alert fires for (``!`` where ``●`` marks)."""
        if keys != self.alerted:
            self.alerted = keys
            self._refresh_changed()

    # -- cursor -----------------------------------------------------------------------

    def move_cursor_to(self, row: int) -> None:
        """Put the cursor on a row (clamped) as the user's choice."""
        if not self._order:
            return
        self.following = True
        self.cursor_row = max(0, min(row, len(self._order) - 1))
        self._scroll_cursor_into_view()
        self._refresh_changed()
        self._announce()

    def action_cursor(self, step: int) -> None:
        self.move_cursor_to(self.cursor_row + step)

    def action_page(self, direction: int) -> None:
        self.move_cursor_to(self.cursor_row + direction * max(1, self.size.height - 2))

    def action_edge(self, end: int) -> None:
        self.move_cursor_to(len(self._order) - 1 if end else 0)

    def _scroll_cursor_into_view(self) -> None:
        scroll_row_into_view(self, self.cursor_row)

    async def _on_click(self, event: events.Click) -> None:
        if event.y >= 1:
            self.move_cursor_to(round(self.scroll_offset.y) + event.y - 1)

    # -- drawing ----------------------------------------------------------------------

    def on_resize(self, event: events.Resize) -> None:
        self._drawn.clear()
        self._strips.clear()
        self._fit_columns()  # cached rows are padded to the old width and name column
        self.virtual_size = Size(self._total_width(), len(self._order) + 1)
        self._scroll_cursor_into_view()

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._styles = {}
        self._strips.clear()
        self._drawn.clear()

    def _style(self, name: str) -> Style:
        style = self._styles.get(name)
        if style is None:
            style = self._styles[name] = self.get_component_rich_style(name, partial=True)
        return style

    def set_hidden(self, keys: Iterable[str]) -> None:
        """Hide these columns (the name always shows); redraws in place."""
        self.hidden = frozenset(keys) - {"name"}
        self._fit_columns()
        self._strips.clear()
        self._drawn.clear()
        self.virtual_size = Size(self._total_width(), len(self._order) + 1)
        self.refresh()

    def _fit_columns(self) -> None:
        """Show the columns not hidden, leaving out the droppable ones (I/O, autostart:
        highest ``drop`` first) that would squeeze the name below its usual width."""
        shown = [
            (n, c)
            for n, c in enumerate(COLUMNS)
            if c.key not in self.hidden and (c.key != "backup" or self.backups is not None)
        ]
        room = self.size.width
        while room:
            used = sum((c.width or NAME_WIDTH_MIN) + 1 for _n, c in shown) + 1
            droppable = [item for item in shown if item[1].drop]
            if used <= room or not droppable:
                break
            shown.remove(max(droppable, key=lambda item: (item[1].drop, item[0])))
        self._shown = tuple(shown)

    def _widths(self) -> list[int]:
        # NAME gives way first when the terminal is narrow, down to NAME_WIDTH_FLOOR.
        shown = [c for _n, c in self._shown]
        fixed = sum(c.width for c in shown if c.width is not None) + len(shown) + 1
        room = self.size.width - fixed if self.size.width else self._name_width
        name = max(NAME_WIDTH_FLOOR, min(self._name_width, room))
        return [name if c.width is None else c.width for c in shown]

    def _total_width(self, widths: Sequence[int] | None = None) -> int:
        widths = self._widths() if widths is None else widths
        return sum(widths) + len(widths) + 1

    def _cells(self, texts: Sequence[str], widths: Sequence[int]) -> Iterator[tuple[Column, str]]:
        """Each shown column with its cell as laid out on a line: the text cut or padded
        to the column's width, then the space that divides it from the next."""
        for (index, column), width in zip(self._shown, widths, strict=True):
            yield column, _fit(texts[index], width, column.right) + " "

    def _line(
        self, texts: Sequence[str], base: Style, state: Style | None, mark: str = " "
    ) -> list[Segment]:
        look = "domain-table--alert" if mark == ALERT_MARK else "domain-table--mark"
        mark_style = base + self._style(look) if mark != " " else base
        pieces: list[tuple[str, Style]] = [(mark, mark_style)]
        for column, cell in self._cells(texts, self._widths()):
            style = base + state if state is not None and column.key == "state" else base
            if pieces[-1][1] == style:  # one run of one style: one colour code, not one per cell
                pieces[-1] = (pieces[-1][0] + cell, style)
            else:
                pieces.append((cell, style))
        return [Segment(text, style) for text, style in pieces]

    def _line_text(self, cells: Sequence[str], widths: Sequence[int]) -> str:
        """The characters a row line shows (``cells``: the mark, then every column's
        text), as ``_line`` lays them out in columns of ``widths``."""
        mark, *texts = cells
        return mark + "".join(cell for _column, cell in self._cells(texts, widths))

    def _look(self, y: int) -> LineLook:
        """What screen line ``y`` shows now (equal looks draw equal lines)."""
        if y == 0:
            arrow = "▼" if self.sort_reverse else "▲"
            labels = tuple(c.label + (arrow if c.key == self.sort_column else "") for c in COLUMNS)
            return LineLook((" ", *labels), "header")  # " ": the mark cell, blank
        index = round(self.scroll_offset.y) + y - 1
        if index >= len(self._order):
            return BLANK
        key = self._order[index]
        row = self._rows[key]
        # A line's look is asked for twice a poll (what changed, then what to draw);
        # a poll's DomainStats is never changed, so its texts are formatted once.
        formatted = self._texts.get(key)
        if formatted is not None and formatted[0] is row and formatted[1] is self._mode:
            texts = formatted[2]
        else:
            backup = "-"
            if self.backups is not None:
                when = self.backups.get(key.uuid)
                backup = backup_cell(when, self._now, self.backup_too_old_hours)
            texts = row_texts(row, self._mode, self._host_cuts.get(key.host), backup)
            self._texts[key] = (row, self._mode, texts)
        progress = self.busy.get(key)
        if progress is not None:
            texts = (*texts[:2], f"⟳ {progress}", *texts[3:])
        mark = "●" if key in self.marked else ALERT_MARK if key in self.alerted else " "
        return LineLook(
            (mark, *texts),
            (index == self.cursor_row, bool(progress), row.sample.state),
        )

    def _refresh_changed(self) -> None:
        """Mark dirty only the cells whose text or look changed since they were drawn."""
        if not self._drawn:
            self.refresh()
            return
        widths = self._widths()
        width = max(self.size.width, self._total_width(widths))
        dirty: list[Region] = []
        drawn = self._drawn
        # Lines past the last row that were blank stay blank: no look to build (with few
        # domains, or none, they are most of the screen).
        past_rows = len(self._order) - round(self.scroll_offset.y) + 1
        for y in range(self.size.height):
            old = drawn.get(y)
            if old is BLANK and y >= past_rows:
                continue
            new = self._look(y)
            if new == old:
                continue
            if old is None or old.decoration != new.decoration or len(old.cells) != len(new.cells):
                dirty.append(Region(0, y, width, 1))
                continue
            before, after = self._line_text(old.cells, widths), self._line_text(new.cells, widths)
            if cell_len(before) != len(before) or cell_len(after) != len(after):
                # Wide characters: a character is not a cell, so repaint the line.
                dirty.append(Region(0, y, width, 1))
                continue
            dirty.extend(
                Region(start, y, end - start, 1)
                for start, end in changed_runs(before, after, REPAINT_GAP)
            )
        if dirty:  # one call: each refresh() clears caches and schedules the widget again
            self.refresh(*dirty)

    def _base_style(self) -> Style:
        # rich_style walks every ancestor; it only changes on a style update.
        style = self._styles.get("")
        if style is None:
            style = self._styles[""] = self.rich_style
        return style

    def strip_bound(self) -> int:
        """How many drawn rows are kept: a few screens' worth. Only rows on screen are
        drawn, so that is every row a frame needs; a bound by domains instead kept one
        drawn line per domain ever shown (20 MiB at 1,000 domains, never given back)."""
        return 4 * max(self.size.height, 1) + 64

    def render_line(self, y: int) -> Strip:
        look = self._drawn[y] = self._look(y)
        width = self.size.width
        base = self._base_style()
        if look.decoration == "header":
            header = base + self._style("domain-table--header")
            return (
                Strip(self._line(look.cells[1:], header, None))
                .extend_cell_length(width, header)
                .crop(0, width)
            )
        if look.decoration == "blank":
            return Strip.blank(width, base)
        index = round(self.scroll_offset.y) + y - 1
        key = self._order[index]
        is_cursor = index == self.cursor_row
        mark, *texts = look.cells
        cached = self._strips.get((key, is_cursor))
        if cached is not None and cached[0] == look.cells:
            return cached[1].crop(0, width)
        progress = self.busy.get(key)
        style = base + self._style("domain-table--cursor") if is_cursor else base
        state_class = (
            "domain-table--busy" if progress else _STATE_CLASSES.get(self._rows[key].sample.state)
        )
        # On the cursor row the cursor's colours win (a state colour on the cursor's
        # background can be unreadable: grey on cyan in the 16-colour theme).
        shown = state_class is not None and (bool(progress) or not is_cursor)
        state = self._style(state_class) if state_class is not None and shown else None
        line = Strip(self._line(texts, style, state, mark))
        strip = line.extend_cell_length(max(width, line.cell_length), style)
        self._strips[(key, is_cursor)] = (look.cells, strip)
        return strip.crop(0, width)
