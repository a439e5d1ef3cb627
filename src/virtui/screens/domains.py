"""DomainsScreen: the live table of every domain on every host, top-style."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import Footer, Input

from virtui.formatting import plural
from virtui.model import CpuMode, DomainKey, DomainStats, HostStatus
from virtui.model.columns import DISK_BYTES, DISK_REQUESTS
from virtui.monitor.cpu_history import CpuHistory
from virtui.monitor.store import DomainStore
from virtui.screens.domain_keys import DOMAIN_ACTION_BINDINGS, DomainKeysScreen
from virtui.screens.help import HelpScreen, screen_keys
from virtui.screens.io_views import VIEW_NOTE
from virtui.screens.navigation import navigation_keys
from virtui.ui.broadcast import shared_state, subscribe
from virtui.ui.messages import ToggleCpuMode
from virtui.widgets.cpu_graph import CpuGraph
from virtui.widgets.domain_table import COLUMNS, DomainTable
from virtui.widgets.status_bar import Part, StatusBar

HELP_NOTE = (
    "Irix mode: 100% is one CPU, so a 4-vCPU guest can read 400% (top's default).\n"
    "Solaris mode: 100% is every logical CPU of the domain's host (virt-top's default)."
)


class DomainsScreen(DomainKeysScreen):
    """Every domain of every connected host, with a CPU graph of the selected one."""

    BINDINGS = [
        Binding("I", "toggle_mode", "Irix/Solaris"),
        Binding("P", "sort('cpu')", "Sort %CPU", show=False),
        Binding("M", "sort('mem')", "Sort MEM", show=False),
        Binding("T", "sort('time')", "Sort TIME", show=False),
        Binding("N", "sort('name')", "Sort NAME", show=False),
        Binding("H", "sort('host')", "Sort HOST", show=False),
        Binding("R", "reverse", "Reverse sort", show=False),
        Binding("B", "disk_figures", "Disk bytes/requests", show=False),
        Binding(
            "exclamation_mark",
            "app.show_view('cpus')",
            "Physical CPUs",
            key_display="!",
            show=False,
        ),
        Binding("at", "app.show_view('nics')", "Interfaces", key_display="@", show=False),
        Binding(
            "number_sign", "app.show_view('disks')", "Block devices", key_display="#", show=False
        ),
        Binding("less_than_sign", "shift_sort(-1)", "Sort column left", show=False),
        Binding("greater_than_sign", "shift_sort(1)", "Sort column right", show=False),
        Binding("enter", "detail", "Detail"),
        *DOMAIN_ACTION_BINDINGS,
        Binding("space", "mark", "Mark", show=False),
        Binding("U", "unmark", "Unmark all", show=False),
        # Priority: handled before the keys behind it are routed, so typed-ahead letters
        # land in the filter box instead of running as commands (s starts, h shuts down).
        Binding("slash", "filter", "Filter", priority=True),
        Binding("escape", "clear_filter", "Clear filter", show=False),
        Binding("plus", "delay(-1)", "Faster refresh", key_display="+", show=False),
        Binding("minus", "delay(1)", "Slower refresh", key_display="-", show=False),
        *navigation_keys("1"),
    ]

    DEFAULT_CSS = """
    DomainsScreen {
        & #filter { dock: bottom; display: none; margin-bottom: 1; border: tall $accent; }
        & #filter.-active { display: block; }
        & #graph-row { height: auto; }
    }
    """

    class DelayChange(Message):
        """Ask the app for a faster (-1) or slower (+1) refresh."""

        def __init__(self, step: int) -> None:
            super().__init__()
            self.step = step

    def __init__(
        self,
        store: DomainStore,
        cpu_history: CpuHistory,
        mode: CpuMode,
        *,
        readonly: bool = False,
    ) -> None:
        super().__init__()
        self.readonly = readonly
        self.store = store
        self.cpu_history = cpu_history
        self.mode = mode  # the app's cpu_mode, kept here by a watch
        self.filter_text = ""
        self.delay = 0.0
        self.status = StatusBar(id="status")
        self.table = DomainTable(id="domains")
        self.graph = CpuGraph(id="graph")

    def compose(self) -> ComposeResult:
        yield self.status
        yield self.table
        with Vertical(id="graph-row"):
            yield self.graph
        yield Input(placeholder="filter by name (Enter keeps it, Esc clears)", id="filter")
        yield Footer(show_command_palette=False)

    def on_mount(self) -> None:
        self.query_one(DomainTable).focus()
        # State down: the app's reactives, watched, and its news after each poll.
        if shared_state(self) is not None:
            self.watch(self.app, "cpu_mode", self._mode_changed, init=False)
            self.watch(self.app, "delay", self.set_delay)
            subscribe(self, "polled", lambda screen, _news: screen.refresh_view())
        self.refresh_view()

    def _mode_changed(self, mode: CpuMode) -> None:
        self.mode = mode
        self.refresh_view()

    def refresh_view(self) -> None:
        """Bring table, graph and status in line with the store (after each poll)."""
        self.table.sync(self.store.matching(self.filter_text), self.mode)
        self.table.set_alerted(frozenset(self.store.alerted()))
        self._refresh_graph()
        self._refresh_status()

    def _refresh_graph(self) -> None:
        graph = self.graph
        key = self.table.selected_key
        stats = self.store.get(key) if key is not None else None
        if stats is None:
            graph.show((), 100.0, self.mode, f"CPU — {self.mode.label} mode ({self.mode.meaning})")
            return
        scale = 1.0 if self.mode is CpuMode.IRIX else 1.0 / max(1, stats.host_cpus)
        values = [value * scale for value in self.cpu_history.series(stats.sample.key)]
        graph.show(
            values,
            stats.cpu_ceiling(self.mode),
            self.mode,
            f"CPU {stats.sample.key.host}/{stats.sample.name} — {self.mode.label} mode "
            f"({self.mode.meaning})",
            _vcpu_summary(stats, self.mode),
        )

    def _refresh_status(self) -> None:
        hosts = self.store.hosts.values()
        up = sum(1 for host in hosts if host.status is HostStatus.CONNECTED)
        running, total = self.store.counts()
        shown = self.table.row_count
        column = next(c.label for c in COLUMNS if c.key == self.table.sort_column)
        arrow = "▼" if self.table.sort_reverse else "▲"
        all_up = up == len(self.store.hosts)
        # Priorities: 0 never cut (what you act on), higher numbers go first when narrow.
        parts = [
            Part("virtui", "bold $accent", 1),
            *([Part("READ-ONLY", "bold reverse $text-warning")] if self.readonly else []),
            Part(
                f"hosts {up}/{len(self.store.hosts)}",
                "" if all_up else "$text-error",
                2 if all_up else 0,
                f"h {up}/{len(self.store.hosts)}",
            ),
            Part(f"domains {running} running / {total}", "", 3, f"{running}/{total} run"),
            Part(
                f"CPU {self.mode.label} ({self.mode.meaning})",
                "bold $text-warning",
                1,
                "Irix" if self.mode is CpuMode.IRIX else "Sol",
            ),
            Part(f"sort {column}{arrow}", "", 5, f"{column}{arrow}"),
            Part(f"delay {self.delay:g}s", "", 4, f"{self.delay:g}s"),
        ]
        if self.table.marked:
            parts.append(Part(f"{len(self.table.marked)} marked", "bold $text-accent"))
        backups = self.table.backup_summary(item.sample.key for item in self.store.all())
        if backups:
            parts.append(Part(backups, "$text-warning", 2))
        alerts = len(self.store.alerts())
        if alerts:
            text = f"! {plural(alerts, 'alert')} firing"
            parts.append(Part(text, "bold $text-error", 0, f"! {alerts}"))
        if self.filter_text:
            parts.append(
                Part(
                    f"filter '{self.filter_text}' ({shown} shown)",
                    "$text-accent",
                    0,
                    f"/{self.filter_text} ({shown})",
                )
            )
        down = [host for host in hosts if host.status is not HostStatus.CONNECTED]
        for host in down[:2]:
            parts.append(Part(f"{host.name}: {host.status.value} {host.message}", "$text-error", 6))
        self.status.set_parts(parts)

    def set_delay(self, delay: float) -> None:
        """Show the refresh delay the app now uses."""
        self.delay = delay
        self._refresh_status()

    def on_domain_table_highlighted(self, event: DomainTable.Highlighted) -> None:
        self._refresh_graph()

    def action_toggle_mode(self) -> None:
        self.post_message(ToggleCpuMode())

    def action_sort(self, column: str) -> None:
        self._sort(column)

    def action_reverse(self) -> None:
        self._sort(self.table.sort_column, not self.table.sort_reverse)

    def action_shift_sort(self, step: int) -> None:
        shown = self.table.shown_columns
        current = self.table.sort_column
        index = shown.index(current) if current in shown else -step
        self._sort(shown[(index + step) % len(shown)])

    def action_disk_figures(self) -> None:
        """Show disk requests per second instead of bytes, or back (virt-top's B)."""
        hidden = set(self.table.hidden)
        showing_bytes = not set(DISK_BYTES) & hidden
        swap_out, swap_in = (
            (DISK_BYTES, DISK_REQUESTS) if showing_bytes else (DISK_REQUESTS, DISK_BYTES)
        )
        self.table.set_hidden((hidden | set(swap_out)) - set(swap_in))
        self.notify(
            "disk columns: requests per second"
            if showing_bytes
            else "disk columns: bytes per second",
            timeout=3,
        )

    def _sort(self, column: str, reverse: bool | None = None) -> None:
        # The row under an unmoved cursor may change without a highlight event.
        self.table.sort_by(column, reverse)
        self._refresh_graph()
        self._refresh_status()

    def action_filter(self) -> None:
        box = self.query_one("#filter", Input)
        if self.focused is box:
            box.insert_text_at_cursor("/")  # "/" is text inside the box: host/name
            return
        box.add_class("-active")
        box.value = self.filter_text
        box.cursor_position = len(box.value)
        self.set_focus(box)

    def action_clear_filter(self) -> None:
        box = self.query_one("#filter", Input)
        box.remove_class("-active")
        box.value = ""
        self._set_filter("")
        self.table.focus()

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id == "filter":
            self._set_filter(event.value.strip())

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id == "filter":
            event.input.remove_class("-active")
            self.table.focus()

    def show_host(self, host: str, text: str = "") -> None:
        """Show only the domains of one host (the filter becomes ``host/text``); with no
        host, filter by ``text`` alone ("" shows everything)."""
        wanted = f"{host}/{text}" if host else text
        box = self.query_one("#filter", Input)
        box.value = wanted
        box.set_class(bool(wanted), "-active")
        self._set_filter(wanted)
        self.table.focus()

    def _set_filter(self, text: str) -> None:
        if text != self.filter_text:
            self.filter_text = text
            self.refresh_view()

    def command_targets(self) -> list[DomainKey]:
        return self.table.targets()

    def action_detail(self) -> None:
        self.action_command("detail")

    def action_mark(self) -> None:
        self.table.toggle_mark()
        self._refresh_status()

    def action_unmark(self) -> None:
        self.table.clear_marks()
        self._refresh_status()

    def action_delay(self, step: int) -> None:
        self.post_message(self.DelayChange(step))

    def action_help(self) -> None:
        note = (
            f"{HELP_NOTE}\n{VIEW_NOTE}\nB shows disk requests instead of bytes, as in virt-top."
            f"\n{ALERTS_NOTE}"
        )
        self.app.push_screen(HelpScreen("Domains", screen_keys(self), note))


ALERTS_NOTE = (
    "! before a row: an alert of the host's Prometheus fires for that domain (● is your"
    " mark, and wins). The header counts every firing alert; the hosts screen lists a"
    " host's, and the logs timeline (4) says when each starts and stops firing."
)


def _vcpu_summary(stats: DomainStats, mode: CpuMode) -> str:
    rates = stats.vcpu_pct(mode)
    if not rates:
        return f"{stats.sample.vcpus} vCPU, host {stats.host_cpus} CPUs"
    shown = " ".join(f"vCPU{index} {rate:.1f}%" for index, rate in enumerate(rates[:8]))
    more = f" +{len(rates) - 8}" if len(rates) > 8 else ""
    return f"{shown}{more} │ host {stats.host_cpus} CPUs"
