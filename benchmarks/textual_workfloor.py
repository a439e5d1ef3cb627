"""The floor that does virtui's visible work: what the stack costs to show the same table
and graph, written the plain way.

A Textual app on the same libvirt URI that, once a second, makes the same bulk call
virtui makes (``virConnectGetAllDomainStats``, off the loop), turns the counters into the
same figures (%CPU from the CPU time's delta, memory, TIME, disk and network rates) and
shows them in a ``DataTable`` of the same columns, sorted by %CPU as virtui and virt-top
sort, with each changed cell updated in place; above it a header of two lines (the
host's figures), beside it a graph panel of the top domain's CPU (Textual's
``Sparkline``), under it a status line and a footer. No settings, no review desk, no
events, no other screens: what any Textual app showing these figures must do.

``benchmarks.bench_console`` runs it on a pseudo-terminal beside virt-top and virtui
(the "work floor" column). Run alone: ``python -m benchmarks.textual_workfloor URI``.
"""

from __future__ import annotations

import sys
import time
from collections import deque
from typing import Any

import libvirt
from textual.app import App, ComposeResult
from textual.containers import Horizontal
from textual.widgets import DataTable, Footer, Sparkline, Static

from benchmarks.floor_parts import COLUMNS, STATES, STATS, host_facts


def _rate(value: float) -> str:
    for unit in ("", "K", "M", "G"):
        if value < 1000:
            return f"{value:.0f}{unit}"
        value /= 1024
    return f"{value:.0f}T"


def _time(nanoseconds: int) -> str:
    seconds = nanoseconds // 1_000_000_000
    return f"{seconds // 60}:{seconds % 60:02d}.{nanoseconds // 10_000_000 % 100:02d}"


class WorkFloorApp(App[None]):
    """The domains table, its header, a CPU graph and a status line, refreshed at 1 Hz."""

    CSS = """
    #header { height: 2; }
    #body { height: 1fr; }
    DataTable { width: 1fr; }
    #graph { width: 30; border: round $accent; }
    #status { height: 1; }
    """

    def __init__(self, uri: str) -> None:
        super().__init__()
        self.connection = libvirt.openReadOnly(uri)
        self.host, self.memory_kib, self.cpus = host_facts(self.connection)
        self.before: dict[str, tuple[float, dict[str, Any]]] = {}
        self.history: deque[float] = deque([0.0] * 60, maxlen=60)
        self.autostart: dict[str, str] = {}

    def compose(self) -> ComposeResult:
        yield Static("floor", id="header")
        with Horizontal(id="body"):
            yield DataTable(id="table", cursor_type="row")
            yield Sparkline(list(self.history), id="graph")
        yield Static("", id="status")
        yield Footer()

    def on_mount(self) -> None:
        table: DataTable[str] = self.query_one(DataTable)
        for label in COLUMNS:
            table.add_column(label, key=label)
        self.set_interval(1.0, self.poll)
        self.poll()

    def poll(self) -> None:
        self.run_worker(self._read, thread=True, exclusive=True)

    def _read(self) -> None:
        records = self.connection.getAllDomainStats(STATS, 0)
        now = time.monotonic()
        rows = []
        for dom, stats in records:
            name = dom.name()
            if name not in self.autostart:
                self.autostart[name] = "yes" if dom.autostart() else "no"
            rows.append(self._row(name, stats, now))
        self.call_from_thread(self._show, rows)

    def _row(self, name: str, stats: dict[str, Any], now: float) -> tuple[Any, ...]:
        earlier, old = self.before.get(name, (now, stats))
        self.before[name] = (now, stats)
        elapsed = (now - earlier) or 1.0

        def delta(*keys: str) -> float:
            return float(sum(stats.get(k, 0) - old.get(k, 0) for k in keys)) / elapsed

        blocks = [f"block.{i}" for i in range(int(stats.get("block.count", 0)))]
        nets = [f"net.{i}" for i in range(int(stats.get("net.count", 0)))]
        cpu = delta("cpu.time") / 1e9 * 100
        memory = int(stats.get("balloon.current", 0))
        return (
            name,
            cpu,
            (
                self.host,
                name,
                STATES.get(int(stats.get("state.state", 0)), "other"),
                str(stats.get("vcpu.current", "")),
                f"{cpu:.1f}",
                f"{memory // 1024}M",
                f"{100 * memory / self.memory_kib:.1f}",
                _time(int(stats.get("cpu.time", 0))),
                _rate(delta(*(f"{b}.rd.bytes" for b in blocks))),
                _rate(delta(*(f"{b}.wr.bytes" for b in blocks))),
                _rate(delta(*(f"{n}.rx.bytes" for n in nets))),
                _rate(delta(*(f"{n}.tx.bytes" for n in nets))),
                self.autostart[name],
            ),
        )

    def _show(self, rows: list[tuple[Any, ...]]) -> None:
        table: DataTable[str] = self.query_one(DataTable)
        rows.sort(key=lambda row: (-round(row[1], 1), row[0]))  # the graph's top domain
        shown = {key.value for key in table.rows if key.value is not None}
        columns = list(table.columns)
        for name, _cpu, cells in rows:
            if name not in shown:
                table.add_row(*cells, key=name)
                continue
            for column, old, new in zip(columns, table.get_row(name), cells, strict=True):
                if old != new:
                    table.update_cell(name, column, new)
        for gone in shown - {row[0] for row in rows}:
            table.remove_row(gone)
        # Sorted on the figure shown, ties by name, as virtui and virt-top sort.
        table.sort("%CPU", "NAME", key=lambda cpu_name: (-float(cpu_name[0]), cpu_name[1]))
        total = sum(cpu for _name, cpu, _cells in rows)
        running = sum(1 for _n, _c, cells in rows if cells[2] == "running")
        self.query_one("#header", Static).update(
            f"{self.host}  {len(rows)} domains, {running} running\n"
            f"CPU {total / self.cpus:5.1f}% of {self.cpus} CPUs"
        )
        if rows:
            self.history.append(rows[0][1])
            graph = self.query_one(Sparkline)
            graph.data = list(self.history)
            graph.border_title = f"{rows[0][0]} {rows[0][1]:.1f}%"
        self.query_one("#status", Static).update(f"floor · {len(rows)} domains · sorted by %CPU")


if __name__ == "__main__":
    WorkFloorApp(sys.argv[1]).run()
