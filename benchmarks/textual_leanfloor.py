"""The lean floor: the least Python, libvirt and Textual can spend on virtui's visible
work, written for speed rather than the plain way (``textual_workfloor`` is the plain
way).

Once a second, off the event loop, it reads every domain as virtui reads this driver
(``virConnectGetAllDomainStats`` when the records carry CPU time; else the domains'
IDs and names with handles kept from earlier polls and one ``virDomainGetInfo`` each,
which is how virtui and virt-top read the test driver), turns the counters into %CPU,
memory and TIME for every domain, sorts them all by %CPU (ties by name, as virtui
and virt-top sort), and formats only the rows the screen shows, with virtui's own
formatting functions (``virtui.formatting`` loads nothing else of virtui). The table and the
top domain's CPU graph under it are line-API widgets that keep a strip per line and
ask Textual to repaint only the lines that changed; above them a header line, under
them a status line. No settings, no events, no other screens, no cursor, no history
per domain.

Where this floor costs more than virt-top, "at or under virt-top" is out of reach on
this stack for that workload, and virtui is held to 1.5x this floor instead (issue
"cost, round three"). ``benchmarks.bench_console`` runs it beside the others (the
"lean floor" column). Run alone: ``python -m benchmarks.textual_leanfloor URI``.
"""

from __future__ import annotations

import sys
import time
from collections import deque

import libvirt
from rich.segment import Segment
from rich.style import Style
from textual.app import App, ComposeResult
from textual.geometry import Region
from textual.strip import Strip
from textual.widget import Widget
from textual.widgets import Static

from benchmarks.floor_parts import COLUMNS, STATES, STATS, host_facts
from virtui.formatting import format_cpu_time, format_kib, format_rate

NO_IO = (0, 0, 0, 0)
INACTIVE = {0, 5, 6}  # no state, shut off, crashed: no guest process, no figures
WIDTHS = (-10, -16, -12, 4, 7, 8, 5, 11, 6, 6, 6, 6, -4)  # virtui's; negative: left
HEADING = " ".join(
    f"{label:<{-width}}" if width < 0 else f"{label:>{width}}"
    for label, width in zip(COLUMNS, WIDTHS, strict=True)
)
BOLD = Style(bold=True)
# (name, state, vcpus, memory KiB, cpu ns, I/O counters, read ns, handle)
Reading = tuple[str, int, int, int, int, tuple[int, int, int, int], int, libvirt.virDomain]


def _rates(rates: tuple[float, ...] | None) -> str:
    """The RD/s, WR/s, RX/s and TX/s cells; ``-`` in each until there is a figure."""
    return " ".join(f"{format_rate(rate):>6}" for rate in rates or (None,) * 4)


def _share(memory: int, host_memory: int, state: int) -> str:
    """%MEM: ``-`` for a domain without a guest process, as virtui shows it."""
    return "-" if state in INACTIVE else f"{100 * memory / host_memory:.1f}"


def _io(stats: dict[str, int]) -> tuple[int, int, int, int]:
    """Bytes read, written, received and sent, summed over the record's devices."""
    read = written = received = sent = 0
    for index in range(stats.get("block.count", 0)):
        read += stats.get(f"block.{index}.rd.bytes", 0)
        written += stats.get(f"block.{index}.wr.bytes", 0)
    for index in range(stats.get("net.count", 0)):
        received += stats.get(f"net.{index}.rx.bytes", 0)
        sent += stats.get(f"net.{index}.tx.bytes", 0)
    return read, written, received, sent


class Lines(Widget):
    """Lines of plain text, one strip each. A change asks for a repaint of the span
    between a line's first and last changed character; Textual writes the whole line
    (measured on a pty), which is what a Textual app can do without virtui's own
    writing of spans."""

    def __init__(self, first: str | None = None, *, id: str) -> None:
        super().__init__(id=id)
        self.fixed = [] if first is None else [Strip([Segment(first, BOLD)])]
        self.lines: list[str] = []
        self.strips: list[Strip] = []

    def show(self, lines: list[str]) -> None:
        """Show ``lines``, repainting what changed since the last call."""
        top, old = len(self.fixed), self.lines
        for index, line in enumerate(lines):
            was = old[index] if index < len(old) else ""
            if was == line:
                continue
            start = 0
            while start < min(len(was), len(line)) and was[start] == line[start]:
                start += 1
            end = max(len(was), len(line))
            while end > start and was[end - 1 : end] == line[end - 1 : end]:
                end -= 1
            strip = Strip([Segment(line)])
            if index < len(self.strips):
                self.strips[index] = strip
            else:
                self.strips.append(strip)
            self.refresh(Region(start, top + index, end - start, 1))
        if len(lines) < len(old):
            del self.strips[len(lines) :]
            self.refresh()
        self.lines = lines

    def render_line(self, y: int) -> Strip:
        top = len(self.fixed)
        if y < top:
            return self.fixed[y]
        if y - top < len(self.strips):
            return self.strips[y - top]
        return Strip.blank(self.size.width)


def graph_lines(history: deque[float], width: int, height: int) -> list[str]:
    """The history as block columns, newest at the right, 0-100% over ``height`` rows
    (a sample over 100% fills the column)."""
    levels = " ▁▂▃▄▅▆▇█"
    samples = list(history)[-width:]
    pad = " " * (width - len(samples))
    lines = []
    for row in range(height):
        base = (height - 1 - row) * 8
        lines.append(
            pad
            + "".join(
                levels[min(8, max(0, round(min(value, 100.0) * height * 8 / 100) - base))]
                for value in samples
            )
        )
    return lines


class LeanFloorApp(App[None]):
    """Every domain read, rated and sorted each second; the shown rows written."""

    CSS = """
    #header { height: 1; }
    #table { height: 1fr; }
    #graph { height: 9; border: round $accent; }
    Lines { width: 1fr; }
    #status { height: 1; }
    """

    def __init__(self, uri: str) -> None:
        super().__init__()
        self.connection = libvirt.openReadOnly(uri)
        self.host, self.memory_kib, self.cpus = host_facts(self.connection)
        self.bulk = True
        self.handles: dict[int | str, libvirt.virDomain] = {}
        # name: (read ns, cpu ns, I/O counters)
        self.before: dict[str, tuple[int, int, tuple[int, int, int, int]]] = {}
        self.history: deque[float] = deque(maxlen=240)
        self.autostart: dict[str, str] = {}  # read once, for the rows shown
        self.texts: dict[str, str] = {}  # what each Static shows

    def compose(self) -> ComposeResult:
        yield Static("floor", id="header", markup=False)
        yield Lines(HEADING, id="table")
        yield Lines(id="graph")
        yield Static("", id="status", markup=False)

    def on_mount(self) -> None:
        self.set_interval(1.0, self.poll)
        self.poll()

    def poll(self) -> None:
        self.run_worker(self._read, thread=True, exclusive=True)

    def _readings(self) -> list[Reading]:
        """(name, state, vcpus, memory KiB, cpu ns, I/O counters, read ns, handle) of
        every domain."""
        if self.bulk:
            before = time.monotonic_ns()
            records = self.connection.getAllDomainStats(STATS, 0)
            now = (before + time.monotonic_ns()) // 2
            if not records or "cpu.time" in records[0][1]:
                return [
                    (
                        dom.name(),
                        stats.get("state.state", 0),
                        stats.get("vcpu.current", 0),
                        stats.get("balloon.current", 0),
                        stats.get("cpu.time", 0),
                        _io(stats),
                        now,
                        dom,
                    )
                    for dom, stats in records
                ]
            self.bulk = False
        conn, known = self.connection, self.handles
        current: dict[int | str, libvirt.virDomain] = {}
        for ident in conn.listDomainsID():
            current[ident] = known.get(ident) or conn.lookupByID(ident)
        for name in conn.listDefinedDomains():
            current[name] = known.get(name) or conn.lookupByName(name)
        self.handles = current
        readings: list[Reading] = []
        clock = time.monotonic_ns
        for dom in current.values():
            state, _most, memory, vcpus, cpu = dom.info()
            # Each its own time, as virtui stamps them: the reads span milliseconds, and
            # one stamp for all would skew the figures (and the order) of the last read.
            readings.append((dom.name(), state, vcpus, memory, cpu, NO_IO, clock(), dom))
        return readings

    def _read(self) -> None:
        before, after = self.before, {}
        rated = []
        for name, state, vcpus, memory, cpu, io, now, dom in self._readings():
            earlier, old, old_io = before.get(name, (now, cpu, io))
            after[name] = (now, cpu, io)
            elapsed = now - earlier
            active = elapsed and state not in INACTIVE
            percent = (cpu - old) * 100 / elapsed if active else -1.0
            rates: tuple[float, ...] | None = (
                None
                if not active
                else NO_IO
                if io is NO_IO
                else tuple((new - was) * 1e9 / elapsed for new, was in zip(io, old_io, strict=True))
            )
            key = -round(percent, 1)
            # Names are unique, so the sort never compares the handles at the end.
            rated.append((key, name, state, vcpus, memory, cpu, percent, rates, dom))
        self.before = after
        rated.sort()
        height = max(self.size.height - 12, 1)
        for row in rated[:height]:
            if row[1] not in self.autostart:
                self.autostart[row[1]] = "yes" if row[8].autostart() else "no"
        lines = [
            f"{self.host:<10} {name[:16]:<16} {STATES.get(state, 'other'):<12} {vcpus:>4}"
            f" {f'{percent:.1f}' if percent >= 0 else '-':>7} {format_kib(memory):>8}"
            f" {_share(memory, self.memory_kib, state):>5} {format_cpu_time(cpu):>11}"
            f" {_rates(rates)} {self.autostart[name]:<4}"
            for _key, name, state, vcpus, memory, cpu, percent, rates, _dom in rated[:height]
        ]
        running = sum(1 for row in rated if row[2] == 1)
        top = (rated[0][1], max(rated[0][6], 0.0)) if rated else None
        self.call_from_thread(self._show, lines, len(rated), running, top)

    def _show(
        self,
        lines: list[str],
        count: int,
        running: int,
        top: tuple[str, float] | None,
    ) -> None:
        self.query_one("#table", Lines).show(lines)
        # Each text is set only when it changed: setting one repaints its whole widget.
        header = (
            f"floor │ {self.host} │ domains {running} running / {count}"
            f" │ {self.cpus} CPUs │ sort %CPU"
        )
        status = f"floor · {count} domains · sorted by %CPU"
        for widget_id, text in (("#header", header), ("#status", status)):
            if self.texts.get(widget_id) != text:
                self.texts[widget_id] = text
                self.query_one(widget_id, Static).update(text)
        if top is not None:
            self.history.append(top[1])
            graph = self.query_one("#graph", Lines)
            size = graph.content_region.size
            graph.show(graph_lines(self.history, size.width, size.height))
            title = f"{top[0]} {top[1]:.1f}%"
            if graph.border_title != title:
                graph.border_title = title


if __name__ == "__main__":
    LeanFloorApp(sys.argv[1]).run()
