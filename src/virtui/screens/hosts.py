"""HostsScreen: every connection, its state and facts, and a CPU graph of the host."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.widgets import DataTable, Footer

from virtui.formatting import format_kib, format_pct, plural
from virtui.model import CpuMode, DomainState, HostInfo, HostStatus
from virtui.monitor.cpu_history import CpuHistory
from virtui.monitor.session import HostUpdate
from virtui.monitor.store import DomainStore
from virtui.screens.base import VirtuiScreen
from virtui.screens.confirm import Choice, ConfirmScreen
from virtui.screens.navigation import TopScreenMark, navigation_keys
from virtui.text import visible
from virtui.ui.broadcast import shared_state, subscribe
from virtui.ui.messages import ToggleCpuMode
from virtui.widgets.cpu_graph import CpuGraph
from virtui.widgets.plain import Static
from virtui.widgets.status_bar import StatusBar
from virtui.widgets.table_sync import sync_rows

# Figures first, the long URI last: on a narrow terminal it is the URI that gets cut.
COLUMNS = (
    "Name",
    "State",
    "%CPU",
    "Domains",
    "CPU",
    "Memory free/total",
    "Hypervisor",
    "libvirt",
    "Tags",
    "URI",
)


class HostsScreen(TopScreenMark, VirtuiScreen):
    """One row per configured host; Enter shows that host's domains."""

    HELP_TITLE = "Hosts"

    BINDINGS = [
        Binding("enter", "scope", "Its domains"),
        Binding("I", "toggle_mode", "Irix/Solaris"),
        Binding("ctrl+r", "reconnect", "Reconnect now"),
        Binding("ctrl+d", "forget", "Disconnect and forget"),
        Binding("E", "evacuate", "Evacuate (migrate every running guest)", show=False),
        Binding("J", "app.show_migrations", "Migrations (an evacuation's progress)", show=False),
        Binding("1,escape", "back", "Domains"),
        *navigation_keys("2"),
    ]

    DEFAULT_CSS = """
    HostsScreen {
        & DataTable { height: 1fr; }
        & #host-detail { height: auto; max-height: 6; padding: 0 1; color: $text-muted; }
    }
    """

    class HostIntent(Message):
        """Ask the app to do something for a host; each kind is its own subclass."""

        def __init__(self, host: str) -> None:
            super().__init__()
            self.host = host

    class Scope(HostIntent):
        """Show only this host's domains."""

    class Forget(HostIntent):
        """Disconnect the host and forget it."""

    class Reconnect(HostIntent):
        """Try the host again now."""

    class Evacuate(HostIntent):
        """Migrate every running guest of the host elsewhere."""

    def __init__(
        self,
        store: DomainStore,
        cpu_history: CpuHistory,
        mode: CpuMode,
        tags: dict[str, tuple[str, ...]] | None = None,
    ) -> None:
        super().__init__()
        self.tags = tags or {}  # host name -> tags from the config
        self.store = store
        self.cpu_history = cpu_history
        self.mode = mode  # the app's cpu_mode, kept here by a watch
        self.table: DataTable[str] = DataTable(id="hosts", cursor_type="row")
        self.graph = CpuGraph(id="host-graph")

    def compose(self) -> ComposeResult:
        yield StatusBar(id="status")
        yield self.table
        # The selected host's state in full, wrapped: a connection error is readable at
        # any width (the table cuts it).
        yield Static("", id="host-detail", markup=False)
        yield self.graph
        yield Footer(show_command_palette=False)

    def on_mount(self) -> None:
        self.table.add_columns(*COLUMNS)
        self.table.focus()
        if shared_state(self) is not None:
            self.watch(self.app, "cpu_mode", self._mode_changed, init=False)
            subscribe(self, "polled", lambda screen, _news: screen.refresh_view())
        self.refresh_view()

    def _mode_changed(self, mode: CpuMode) -> None:
        self.mode = mode
        self.refresh_view()

    def refresh_view(self) -> None:
        """Bring rows, graph and status in line with the store (after each poll)."""
        counts: dict[str, list[int]] = {}
        for item in self.store.all():
            running, total = counts.setdefault(item.sample.key.host, [0, 0])
            counts[item.sample.key.host] = [
                running + (item.sample.state is DomainState.RUNNING),
                total + 1,
            ]
        sync_rows(
            self.table,
            {
                name: self._row(update, counts.get(name, [0, 0]))
                for name, update in self.store.hosts.items()
            },
        )
        self._refresh_graph()
        up = sum(1 for h in self.store.hosts.values() if h.status is HostStatus.CONNECTED)
        alerts = len(self.store.alerts())
        self.query_one(StatusBar).set_parts(
            [
                ("virtui", "bold $accent"),
                (f"hosts {up}/{len(self.store.hosts)} connected", ""),
                (f"CPU {self.mode.label} ({self._meaning()})", "bold $text-warning"),
                *([(f"! {plural(alerts, 'alert')} firing", "bold $text-error")] if alerts else []),
            ]
        )

    def _meaning(self) -> str:
        return "100% = 1 CPU" if self.mode is CpuMode.IRIX else "100% = the whole host"

    def _row(self, update: HostUpdate, counts: list[int]) -> tuple[str, ...]:
        info = update.info
        state = update.status.value + (f": {update.message}" if update.message else "")
        if update.alerts:
            state = f"! {plural(len(update.alerts), 'alert')} · {state}"
        pct = self._pct(update)
        cpu = cpu_cell(info) if info else "-"
        memory = memory_cell(info, update.free_memory_kib) if info else "-"
        return (
            update.name,
            state,
            format_pct(pct),
            f"{counts[0]} running / {counts[1]}",
            cpu,
            memory,
            f"{info.driver} {info.hypervisor_version}" if info else "-",
            info.libvirt_version if info else "-",
            ", ".join(self.tags.get(update.name, ())),
            update.uri,
        )

    def _pct(self, update: HostUpdate) -> float | None:
        if update.host_cpu_pct is None:
            return None
        if self.mode is CpuMode.SOLARIS or update.info is None:
            return update.host_cpu_pct
        return update.host_cpu_pct * update.info.cpus

    def _selected(self) -> str | None:
        if not self.table.row_count:
            return None
        return self.table.coordinate_to_cell_key(self.table.cursor_coordinate).row_key.value

    def _refresh_graph(self) -> None:
        name = self._selected()
        update = self.store.hosts.get(name) if name else None
        lines: list[str] = []
        if update is not None:
            lines.append(f"{update.name} ({update.uri}): {update.status.value}")
            lines[0] += f" — {update.message}" if update.message else ""
            for alert in update.alerts:  # the whole lines: the state cell only counts them
                about = f" ({alert.domain})" if alert.domain else ""
                lines.append(f"! {alert.line}{about} since {alert.since}")
        detail = "\n".join(visible(line) for line in lines)
        self.query_one("#host-detail", Static).update(detail)
        if update is None:
            self.graph.show((), 100.0, self.mode, "Host CPU")
            return
        cpus = update.info.cpus if update.info else 1
        scale = float(cpus) if self.mode is CpuMode.IRIX else 1.0
        series = [value * scale for value in self.cpu_history.host_series(update.name)]
        note = "" if series else "no host CPU counters from this driver yet"
        self.graph.show(
            series,
            100.0 * scale,
            self.mode,
            f"CPU of host {update.name} — {self.mode.label} mode ({self._meaning()})",
            note or f"{cpus} CPUs",
        )

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._refresh_graph()

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        # The table takes Enter itself and reports it as a selection.
        self.action_scope()

    def action_toggle_mode(self) -> None:
        self.post_message(ToggleCpuMode())

    def action_scope(self) -> None:
        name = self._selected()
        if name:
            self.post_message(self.Scope(name))

    def action_forget(self) -> None:
        name = self._selected()
        if not name:
            return

        def chosen(answer: str | None) -> None:
            if answer == "forget":
                self.post_message(self.Forget(name))

        self.app.push_screen(
            ConfirmScreen(
                f"Disconnect {name}?",
                [f"host {name}"],
                "The connection closes and the host is not connected at the next start "
                "(unless it is in config.toml). Its domains keep running.",
                [Choice("forget", "Disconnect", "y")],
            ),
            chosen,
        )

    def action_evacuate(self) -> None:
        name = self._selected()
        if name:
            self.post_message(self.Evacuate(name))

    def action_reconnect(self) -> None:
        name = self._selected()
        if name:
            self.post_message(self.Reconnect(name))
            self.notify(f"{name}: reconnecting now")


def cpu_cell(info: HostInfo) -> str:
    """``16 x x86_64 (2 nodes, …)``; what is not known is said, never shown as 0."""
    if not info.cpus:
        text = "unknown"
    elif info.cpu_model:
        text = f"{info.cpus} x {info.cpu_model}"
    else:
        text = plural(info.cpus, "CPU")
    return f"{text} ({info.topology})" if info.topology else text


def memory_cell(info: HostInfo, free_kib: int) -> str:
    """``free/total``; a total the backend cannot read is "unknown", not 0KiB."""
    total = format_kib(info.memory_kib) if info.memory_kib else "unknown"
    return f"{format_kib(free_kib)}/{total}" if free_kib else total
