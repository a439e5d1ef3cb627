"""DetailScreen: one domain in depth — overview, per-vCPU CPU, disks, NICs, consoles, XML."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import DataTable, Footer

from virtui.formatting import format_kib
from virtui.model import CpuMode, DomainKey
from virtui.model.detail import DomainDetail
from virtui.monitor.cpu_history import CpuHistory
from virtui.monitor.io import io_rates
from virtui.monitor.store import DomainStore
from virtui.screens.base import VirtuiScreen
from virtui.screens.domain_keys import DOMAIN_ACTION_BINDINGS, DomainKeysScreen
from virtui.text import visible, visible_lines
from virtui.ui.broadcast import subscribe
from virtui.ui.calls import Calls
from virtui.widgets.cpu_graph import CpuGraph
from virtui.widgets.plain import Static
from virtui.widgets.status_bar import StatusBar
from virtui.widgets.table_sync import sync_rows

MAX_VCPU_GRAPHS = 8


@dataclass(frozen=True, slots=True)
class DetailSource:
    """Where the screen gets its data: plain callables the app binds to a backend.

    All of them block; the screen calls them from thread workers.
    """

    detail: Callable[[], DomainDetail]
    xml: Callable[[bool], str]
    remote_host: str | None  # for the ssh tunnel hint of graphical consoles


def format_rate(bytes_per_second: float) -> str:
    """A byte rate: ``0 B/s``, ``12.5 KiB/s``, ``3.1 MiB/s``."""
    value = bytes_per_second
    for unit in ("B/s", "KiB/s", "MiB/s", "GiB/s"):
        if value < 1024 or unit == "GiB/s":
            return f"{value:.0f} {unit}" if unit == "B/s" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} GiB/s"


class DetailScreen(DomainKeysScreen, VirtuiScreen):
    """Everything about one domain, read again after each of the app's polls."""

    HELP_TITLE = "Domain detail"
    HELP_NOTE = "The keys of the domains screen act on this domain too."

    BINDINGS = [
        Binding("escape,q", "back", "Back"),
        Binding("x", "toggle_xml", "XML"),
        Binding("S", "toggle_secure", "Secure XML", show=False),
        *DOMAIN_ACTION_BINDINGS,
        Binding("question_mark", "help", "Help", key_display="?"),
    ]

    DEFAULT_CSS = """
    DetailScreen {
        & VerticalScroll { height: 1fr; }
        & .section { color: $text-primary; text-style: bold; margin-top: 1; padding: 0 1; }
        & #overview { padding: 0 1; }
        & #vcpu-note { padding: 0 1; color: $text-muted; }
        & #consoles { padding: 0 1; color: $text; }
        & DataTable { height: auto; max-height: 12; margin: 0 1; }
        & CpuGraph { height: 5; }
        & #xml { display: none; padding: 0 1; }
        & #xml.-shown { display: block; }
    }
    """

    def __init__(
        self,
        key: DomainKey,
        source: DetailSource,
        store: DomainStore,
        cpu_history: CpuHistory,
        mode: CpuMode,
        calls: Calls,
    ) -> None:
        super().__init__()
        self.key = key
        self.source = source
        self.store = store
        self.cpu_history = cpu_history
        self.mode = mode
        self.calls = calls
        self.detail: DomainDetail | None = None
        self._previous: DomainDetail | None = None
        self._secure = False
        self._graphs: list[CpuGraph] = []

    def command_targets(self) -> list[DomainKey]:
        return [self.key]

    def action_back(self) -> None:
        # Only this screen: a second Esc or q in the same burst must not pop the one below.
        if self.app.screen is self:
            self.dismiss()

    def compose(self) -> ComposeResult:
        yield StatusBar(id="status")
        with VerticalScroll():
            yield Static("Reading…", id="overview", markup=False)
            yield Static("CPU per vCPU", classes="section")
            yield Static("", id="vcpu-note", markup=False)
            yield VerticalScroll(id="vcpus")
            yield Static("Disks", classes="section")
            disks: DataTable[str] = DataTable(id="disks", cursor_type="none")
            disks.add_columns("Target", "Device", "Source", "Read", "Write")
            yield disks
            yield Static("Network interfaces", classes="section")
            nics: DataTable[str] = DataTable(id="nics", cursor_type="none")
            nics.add_columns("Name", "MAC", "Source", "Model", "Rx", "Tx", "Addresses")
            yield nics
            yield Static("Consoles", classes="section")
            yield Static("", id="consoles", markup=False)
            yield Static("XML (x to show, S for secure XML)", classes="section")
            yield Static("", id="xml")
        yield Footer(show_command_palette=False)

    def on_mount(self) -> None:
        self.query_one("#vcpus").styles.height = "auto"
        self._fetch()
        # Read again after each of the app's polls: its delay, its one timer.
        subscribe(self, "polled", lambda screen, _news: screen._fetch())

    def _fetch(self) -> None:
        # One read at a time: a frozen host is not asked again at every tick.
        self.calls(
            f"detail:{self.key}",
            self.source.detail,
            self._show,
            lambda failure: self._failed(failure.message),
            once=True,
        )

    def _show(self, detail: DomainDetail) -> None:
        if not self.is_attached:
            return
        self._previous, self.detail = self.detail, detail
        rates = io_rates(self._previous, detail)
        self._show_status(detail)
        self._show_overview(detail)
        self._show_vcpus(detail)
        self._show_devices(detail, rates)
        self._show_consoles(detail)

    def _show_status(self, detail: DomainDetail) -> None:
        self.query_one(StatusBar).set_parts(
            [
                ("virtui", "bold $accent"),
                (f"{self.key.host}/{detail.name}", "bold"),
                (f"{detail.state} ({detail.reason})", ""),
                (f"CPU {self.mode.label} ({self.mode.meaning})", "bold $text-warning"),
                ("Esc back", "$text-muted"),
            ]
        )

    def _show_overview(self, detail: DomainDetail) -> None:
        rows = [
            ("UUID", detail.uuid),
            ("State", f"{detail.state} ({detail.reason})"),
            ("OS", f"{detail.os_type} {detail.arch} {detail.machine}".strip()),
            ("vCPUs", f"{detail.vcpus} current / {detail.max_vcpus} max"),
            (
                "Memory",
                f"{format_kib(detail.mem_kib)} current / {format_kib(detail.max_mem_kib)} max",
            ),
            ("Autostart", "yes" if detail.autostart else "no"),
            ("Persistent", "yes" if detail.persistent else "no (transient)"),
            ("Managed save", "yes (start restores it)" if detail.managed_save else "no"),
        ]
        self.query_one("#overview", Static).update(
            "\n".join(f"{label:<13}{visible(value)}" for label, value in rows)
        )

    def _show_vcpus(self, detail: DomainDetail) -> None:
        series = self.cpu_history.vcpu_series(self.key)
        stats = self.store.get(self.key)
        host_cpus = stats.host_cpus if stats is not None else 1
        scale = 1.0 if self.mode is CpuMode.IRIX else 1.0 / max(1, host_cpus)
        ceiling = 100.0 * scale
        box = self.query_one("#vcpus", VerticalScroll)
        wanted = min(len(series), MAX_VCPU_GRAPHS)
        while len(self._graphs) < wanted:  # created once, then updated in place
            graph = CpuGraph()
            self._graphs.append(graph)
            box.mount(graph)
        self.query_one("#vcpu-note", Static).update(
            ""
            if series
            else "No per-vCPU figures yet (the guest is not running, or its "
            "driver does not report vcpu.N.time)."
        )
        for index, (graph, points) in enumerate(zip(self._graphs, series, strict=False)):
            latest = points[-1] * scale if points else 0.0
            graph.show(
                [value * scale for value in points],
                ceiling,
                self.mode,
                f"vCPU {index} — {latest:.1f}% ({self.mode.label}: {self.mode.meaning})",
            )

    def _show_devices(self, detail: DomainDetail, rates: dict[str, tuple[float, ...]]) -> None:
        def rate(name: str, index: int) -> str:
            figures = rates.get(name)
            return format_rate(figures[index]) if figures else "-"

        sync_rows(
            self.query_one("#disks", DataTable),
            {
                f"{disk.target}|{disk.source}": (
                    disk.target,
                    disk.device,
                    disk.source,
                    rate(disk.target, 0),
                    rate(disk.target, 1),
                )
                for disk in detail.disks
            },
        )
        sync_rows(
            self.query_one("#nics", DataTable),
            {
                f"{nic.mac}|{nic.name}": (
                    nic.name or "-",
                    nic.mac,
                    nic.source,
                    nic.model,
                    rate(nic.name, 0),
                    rate(nic.name, 1),
                    ", ".join(nic.addresses) or "unknown (no lease, agent or ARP entry)",
                )
                for nic in detail.nics
            },
        )

    def _show_consoles(self, detail: DomainDetail) -> None:
        lines = []
        if detail.has_console:
            lines.append("Text console: press c to attach (Ctrl+] detaches)")
        for graphics in detail.graphics:
            where = f"{graphics.listen}:{graphics.port}"
            line = f"{graphics.kind.upper()} at {where}"
            if self.source.remote_host:
                line += (
                    f"  — tunnel: ssh -N -L {graphics.port}:{graphics.listen}:{graphics.port} "
                    f"{self.source.remote_host}, then connect to localhost:{graphics.port}"
                )
            lines.append(line)
        self.query_one("#consoles", Static).update(visible_lines("\n".join(lines)) or "none")

    def action_toggle_xml(self) -> None:
        xml = self.query_one("#xml", Static)
        xml.toggle_class("-shown")
        if xml.has_class("-shown"):
            self._load_xml()

    def action_toggle_secure(self) -> None:
        self._secure = not self._secure
        self.query_one("#xml", Static).add_class("-shown")
        self._load_xml()
        self.notify(
            "Secure XML shown (passwords included)" if self._secure else "Secure XML hidden"
        )

    def _load_xml(self) -> None:
        secure = self._secure

        self.calls(
            f"detail-xml:{self.key}",
            lambda: self.source.xml(secure),
            self._show_xml,
            lambda failure: self._failed(failure.message),
        )

    def _show_xml(self, text: str) -> None:
        if not self.is_attached:
            return
        # Pygments and Rich's Syntax cost 2 MiB: loaded when an XML is first shown.
        from rich.syntax import Syntax

        from virtui.widgets.xml_theme import xml_syntax_theme

        self.query_one("#xml", Static).update(
            Syntax(
                visible_lines(text),
                "xml",
                theme=xml_syntax_theme(self.app.get_css_variables()),
                word_wrap=False,
                background_color="default",
            )
        )
