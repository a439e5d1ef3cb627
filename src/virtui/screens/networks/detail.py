"""NetworkDetailScreen: one network's DHCP leases (MAC → IP → hostname → domain →
expiry), its fixed DHCP hosts, the NICs on it, port groups and XML."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Footer

from virtui.model.network import NetworkDetail, NetworkInfo
from virtui.ports.networks import NetworkHosts
from virtui.review.netops import RemoveDhcpHost
from virtui.screens.base import VirtuiScreen
from virtui.screens.networks.drafts import NetworkDrafts
from virtui.screens.networks.edits import ask_fixed_host
from virtui.screens.networks.tables import HOST_COLUMNS, LEASE_COLUMNS, host_row, lease_row
from virtui.screens.readonly import refused_read_only
from virtui.screens.text_view import TextScreen
from virtui.text import visible
from virtui.ui.calls import Calls, Failure
from virtui.widgets.plain import Static
from virtui.widgets.table_sync import sync_rows

RELOAD_EVERY_S = 5.0


class NetworkDetailScreen(VirtuiScreen):
    """Read when opened and every few seconds; Esc goes back to the networks."""

    HELP_TITLE = "Network detail"
    HELP_NOTE = "h and Ctrl+D (on a fixed host) draft change requests for the review desk (5)."

    BINDINGS = [
        Binding("h", "fixed_host", "Add fixed host (review)"),
        Binding("ctrl+d", "remove_host", "Remove fixed host (review)"),
        Binding("x", "xml", "XML"),
        Binding("r", "refresh", "Refresh"),  # r: reboot on domains
        Binding("escape", "back", "Back"),
        Binding("question_mark", "help", "Help", key_display="?"),
    ]

    DEFAULT_CSS = """
    NetworkDetailScreen {
        & #facts { height: auto; padding: 0 1; }
        & .heading { height: 1; padding: 0 1; text-style: bold; color: $accent; }
        & DataTable { height: auto; max-height: 40%; }
    }
    """

    def __init__(
        self, network: NetworkInfo, hosts: NetworkHosts, calls: Calls, drafts: NetworkDrafts
    ) -> None:
        super().__init__()
        self.network = network
        self.hosts = hosts
        self.calls = calls
        self.drafts = drafts
        self.detail: NetworkDetail | None = None
        self.leases: DataTable[str] = DataTable(id="leases", cursor_type="row")
        self.fixed: DataTable[str] = DataTable(id="fixed", cursor_type="row")
        self.nics: DataTable[str] = DataTable(id="nics", cursor_type="row")

    def compose(self) -> ComposeResult:
        yield Static(self._facts(), id="facts", markup=False)
        yield Static("DHCP leases", classes="heading")
        yield self.leases
        yield Static("Fixed DHCP hosts", classes="heading")
        yield self.fixed
        yield Static("NICs on this network", classes="heading")
        yield self.nics
        yield Footer(show_command_palette=False)

    def on_mount(self) -> None:
        self.leases.add_columns(*LEASE_COLUMNS)
        self.fixed.add_columns(*HOST_COLUMNS)
        self.nics.add_columns("Domain", "MAC", "Model", "Running")
        self.leases.focus()
        self.action_refresh()
        self.set_interval(RELOAD_EVERY_S, self.action_refresh, name="network-detail-reload")

    def _facts(self) -> str:
        network = self.network
        config = network.config
        ipv4, ipv6 = config.ipv4(), config.ipv6()
        lines = [
            f"{config.name} on {network.host}: {network.state}, "
            f"autostart {'on' if network.autostart else 'off'}, "
            f"{'persistent' if network.persistent else 'transient'}",
            f"forward {config.forward} · bridge {config.bridge or '-'}"
            + (f" · DNS domain {config.domain_name}" if config.domain_name else ""),
            f"IPv4 {ipv4.cidr if ipv4 else '-'}"
            + (f" · DHCP {ipv4.dhcp_range}" if ipv4 and ipv4.dhcp_range else "")
            + (f" · IPv6 {ipv6.cidr}" if ipv6 else ""),
            f"port groups: {', '.join(config.portgroups) or 'none'}",
        ]
        return "\n".join(visible(line) for line in lines)

    def action_refresh(self) -> None:
        network = self.network
        self.calls(
            f"network-detail:{network.host}:{network.name}",
            lambda: self.hosts.networks(network.host).network_detail(network.name),
            self._show,
            lambda failure: self._failed_read(failure),
            once=True,
        )

    def _failed_read(self, failure: Failure) -> None:
        self._failed(failure.message)

    def _show(self, detail: NetworkDetail) -> None:
        if not self.is_attached:
            return
        self.detail = detail
        self.network = detail.info
        self.query_one("#facts", Static).update(self._facts())
        sync_rows(self.leases, {lease.mac + lease.ip: lease_row(lease) for lease in detail.leases})
        ipv4 = detail.info.config.ipv4()
        hosts = ipv4.hosts if ipv4 is not None else ()
        sync_rows(self.fixed, {host.mac: host_row(host) for host in hosts})
        sync_rows(
            self.nics,
            {
                f"{nic.domain}\t{nic.mac}": (
                    nic.domain,
                    nic.mac,
                    nic.model or "-",
                    "yes" if nic.running else "no",
                )
                for nic in detail.nics
            },
        )

    def action_fixed_host(self) -> None:
        if self._may_draft():
            ask_fixed_host(self, self.network, self.drafts)

    def _may_draft(self) -> bool:
        host = self.network.host
        if not self.hosts.read_only(host):
            return True
        refused_read_only(self, "draft a configuration change", host)
        return False

    def action_remove_host(self) -> None:
        if not self._may_draft():
            return
        table = self.fixed
        if self.focused is not table or not table.row_count:
            self.notify("move to a fixed host first (Tab)", severity="warning")
            return
        mac = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value or ""
        network = self.network
        self.drafts.draft(
            network.host,
            network.config.uuid,
            f"{network.name}: remove fixed address of {mac}",
            [RemoveDhcpHost(mac)],
        )

    def action_xml(self) -> None:
        if self.detail is None:
            self.notify("not read yet", severity="warning")
            return
        self.app.push_screen(TextScreen(f"network {self.network.name}", self.detail.xml))
