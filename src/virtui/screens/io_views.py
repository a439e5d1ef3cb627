"""virt-top's other views: physical CPUs (its ``1``), network interfaces (``2``) and
block devices (``3``). Here they are ``!``, ``@`` and ``#``: the digits already switch
between virtui's screens. ``0`` (or Esc) is back to the domains, as in virt-top."""

from __future__ import annotations

from collections.abc import Sequence

from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Footer

from virtui.formatting import format_bytes, format_pct, format_rate
from virtui.model import DomainStats
from virtui.model.pcpu import PhysicalCpuReading
from virtui.monitor.pcpu import pcpu_usage
from virtui.monitor.store import DomainStore
from virtui.ports.domains import DomainsPort
from virtui.screens.base import VirtuiScreen
from virtui.screens.navigation import TopScreenMark, navigation_keys
from virtui.text import visible
from virtui.ui.broadcast import subscribe
from virtui.ui.calls import Calls, Failure
from virtui.widgets.status_bar import Part, StatusBar
from virtui.widgets.table_sync import sync_rows

VIEW_KEYS = [
    Binding("0,escape", "back", "Domains"),
    Binding("exclamation_mark", "app.show_view('cpus')", "Physical CPUs", key_display="!"),
    Binding("at", "app.show_view('nics')", "Interfaces", key_display="@"),
    Binding("number_sign", "app.show_view('disks')", "Block devices", key_display="#"),
]

VIEW_NOTE = (
    "Like virt-top's views 1, 2 and 3, on ! @ # (the digits switch virtui's screens);\n"
    "0 or Esc goes back to the domains, as virt-top's 0 does. Rates need two polls."
)


def _count(value: int) -> str:
    return str(value) if value >= 0 else "-"


class LiveView(TopScreenMark, VirtuiScreen):
    """A table of figures brought up to date after every poll (``refresh_view``)."""

    HELP_NOTE = VIEW_NOTE
    TITLE_TEXT = ""
    COLUMNS: tuple[str, ...] = ()

    DEFAULT_CSS = """
    LiveView {
        & DataTable { height: 1fr; }
    }
    """

    def __init__(self) -> None:
        super().__init__()
        self.status = StatusBar(id="status")
        self.table: DataTable[str] = DataTable(id="view", cursor_type="row", zebra_stripes=False)

    def compose(self) -> ComposeResult:
        yield self.status
        yield self.table
        yield Footer(show_command_palette=False)

    def on_mount(self) -> None:
        self.table.add_columns(*self.COLUMNS)
        self.table.focus()
        subscribe(self, "polled", lambda screen, _news: screen.after_poll())
        self.refresh_view()

    def after_poll(self) -> None:
        """What the view does after each of the app's polls: show the new figures."""
        self.refresh_view()

    def refresh_view(self) -> None:
        """Show the latest figures."""

    def _show(self, rows: dict[str, Sequence[str]], note: str) -> None:
        sync_rows(self.table, rows)
        self._status(note)

    def _status(self, note: str) -> None:
        self.status.set_parts(
            [
                Part("virtui", "bold $accent", 1),
                Part(self.TITLE_TEXT, "bold", 0),
                Part(visible(note), "", 2),
            ]
        )


class InterfacesView(LiveView):
    """One row per network interface of every running domain (virt-top's ``2``)."""

    HELP_TITLE = TITLE_TEXT = "Network interfaces"
    COLUMNS = (
        "Host",
        "Domain",
        "Device",
        "MAC",
        "Bridge",
        "RX/s",
        "TX/s",
        "RXpkt/s",
        "TXpkt/s",
        "Errors",
        "Drops",
    )
    BINDINGS = [*VIEW_KEYS, *navigation_keys("1")]

    def __init__(self, store: DomainStore) -> None:
        super().__init__()
        self.store = store

    def refresh_view(self) -> None:
        rows: dict[str, Sequence[str]] = {}
        for item in _running(self.store):
            rates = {r.nic.name: r for r in item.nic_rates or ()}
            for nic in item.sample.nics or ():
                rate = rates.get(nic.name)
                rows[f"{item.sample.key}/{nic.name}"] = (
                    item.sample.key.host,
                    item.sample.name,
                    nic.name,
                    nic.mac,
                    nic.bridge,
                    format_rate(rate.rx_bps if rate else None),
                    format_rate(rate.tx_bps if rate else None),
                    format_rate(rate.rx_pps if rate else None),
                    format_rate(rate.tx_pps if rate else None),
                    f"{nic.rx_errors}/{nic.tx_errors}",
                    f"{nic.rx_drops}/{nic.tx_drops}",
                )
        self._show(rows, f"{len(rows)} interfaces · errors and drops: rx/tx since start")


class BlockDevicesView(LiveView):
    """One row per block device of every running domain (virt-top's ``3``)."""

    HELP_TITLE = TITLE_TEXT = "Block devices"
    COLUMNS = (
        "Host",
        "Domain",
        "Device",
        "RD/s",
        "WR/s",
        "RDRQ/s",
        "WRRQ/s",
        "Capacity",
        "Allocated",
        "Path",
    )
    BINDINGS = [*VIEW_KEYS, *navigation_keys("1")]

    def __init__(self, store: DomainStore) -> None:
        super().__init__()
        self.store = store

    def refresh_view(self) -> None:
        rows: dict[str, Sequence[str]] = {}
        for item in _running(self.store):
            rates = {r.disk.name: r for r in item.disk_rates or ()}
            for disk in item.sample.disks or ():
                rate = rates.get(disk.name)
                rows[f"{item.sample.key}/{disk.name}"] = (
                    item.sample.key.host,
                    item.sample.name,
                    disk.name,
                    format_rate(rate.rd_bps if rate else None),
                    format_rate(rate.wr_bps if rate else None),
                    format_rate(rate.rd_iops if rate else None),
                    format_rate(rate.wr_iops if rate else None),
                    format_bytes(disk.capacity) if disk.capacity >= 0 else "-",
                    format_bytes(disk.allocation) if disk.allocation >= 0 else "-",
                    disk.path,
                )
        self._show(rows, f"{len(rows)} block devices")


class PhysicalCpusView(LiveView):
    """One row per physical CPU of one host: how busy it was and which domains' vCPUs
    ran on it (virt-top's ``1``). Read while the view is open, after each of the app's
    polls."""

    HELP_TITLE = TITLE_TEXT = "Physical CPUs"
    COLUMNS = ("CPU", "%BUSY", "%GUESTS", "Domains on it (%CPU of this CPU)")
    BINDINGS = [*VIEW_KEYS, *navigation_keys("1")]

    def __init__(self, host: str, port: DomainsPort, calls: Calls) -> None:
        super().__init__()
        self.host = host
        self._port = port
        self._calls = calls
        self._last: PhysicalCpuReading | None = None
        self._note = "reading…"

    def on_mount(self) -> None:  # besides LiveView's (Textual calls each class's handler)
        self._read()

    def after_poll(self) -> None:
        """Read anew after each poll (the app's delay, its one timer); drawn on arrival."""
        self._read()

    def _read(self) -> None:
        self._calls(
            f"pcpu:{self.host}", self._port.physical_cpus, self._got, self._failed_read, once=True
        )

    def _failed_read(self, failure: Failure) -> None:
        self._note = f"cannot read: {failure.message}"
        self.refresh_view()

    def _got(self, reading: PhysicalCpuReading) -> None:
        before, self._last = self._last, reading
        if not self.is_attached or before is None:
            return
        rows: dict[str, Sequence[str]] = {}
        for usage in pcpu_usage(before, reading):
            guests = ", ".join(f"{visible(name)} {pct:.1f}" for name, pct in usage.guests[:8])
            rows[str(usage.cpu)] = (
                str(usage.cpu),
                format_pct(usage.busy_pct),
                format_pct(usage.guests_pct),
                guests,
            )
        self._note = f"host {self.host} · {len(reading.domains)} running domains"
        self._show(rows, self._note)

    def refresh_view(self) -> None:
        self._status(self._note)  # the figures come from its own reads, not the polls


def _running(store: DomainStore) -> list[DomainStats]:
    everything = [item for item in store.all() if item.sample.state.is_active]
    return sorted(everything, key=lambda item: (item.sample.key.host, item.sample.name.casefold()))
