"""NetworksScreen: the networks view with the keys that start, stop, create and delete
networks, and the edits that become change requests on the review desk."""

from __future__ import annotations

import ipaddress

from textual.binding import Binding
from textual.widgets import DataTable

from virtui.model.netcheck import (
    NetworkInputError,
    check_network_name,
    check_range,
    default_range,
    parse_subnet,
    propose_subnet,
    subnets_of,
)
from virtui.review.netops import FORWARD_MODES, SetDhcpRange, SetForward
from virtui.screens.confirm import Choice
from virtui.screens.form import Field, FormScreen
from virtui.screens.navigation import navigation_keys
from virtui.screens.networks.detail import NetworkDetailScreen
from virtui.screens.networks.edits import ask_fixed_host
from virtui.screens.networks.view import NetworksView


class NetworksScreen(NetworksView):
    """Every virtual network of every host; changes to a network's XML are drafted as
    change requests (key 5 reviews and merges them)."""

    HELP_TITLE = "Networks"
    HELP_NOTE = (
        "h, D, f and e draft change requests: nothing changes until they are merged on\n"
        "the review desk (5). Fixed DHCP hosts go live when merged; the DHCP range and the\n"
        "forward mode at the network's next start."
    )

    BINDINGS = [
        Binding("enter", "detail", "Detail"),
        Binding("n", "new", "New NAT network"),
        Binding("s", "start", "Start"),
        Binding("ctrl+k", "stop", "Stop", show=False),
        Binding("a", "autostart", "Autostart on/off", show=False),
        Binding("ctrl+d", "delete", "Delete", show=False),
        Binding("r", "refresh", "Refresh"),  # r, h, D mean other things on domains
        Binding("h", "fixed_host", "Fixed host (review)"),
        Binding("D", "dhcp_range", "DHCP range (review)"),
        Binding("f", "forward", "Forward mode (review)", show=False),
        Binding("e", "edit_xml", "Edit XML (review)", show=False),
        Binding("1,escape", "back", "Domains"),
        *navigation_keys("6"),
    ]

    # -- lifecycle ----------------------------------------------------------------------

    def action_detail(self) -> None:
        network = self._selected_or_say()
        if network is not None:
            self.app.push_screen(NetworkDetailScreen(network, self.hosts, self.calls, self.drafts))

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        # Enter on the table is the table's own key ("select"): it opens the detail.
        event.stop()
        self.action_detail()

    def action_refresh(self) -> None:
        self.reload()

    def action_start(self) -> None:
        network = self._selected_or_say("start a network")
        if network is None:
            return
        if network.active:
            self.notify(f"network {network.name} is already active")
            return
        port = self.hosts.networks(network.host)
        self._run_on(network.host, "start", lambda: port.network_command(network.name, "start"))

    def action_stop(self) -> None:
        network = self._selected_or_say("stop a network")
        if network is None:
            return
        if not network.active:
            self.notify(f"network {network.name} is not active")
            return
        port = self.hosts.networks(network.host)
        losing = network.running_domains
        self._confirm(
            f"Stop network {network.name}?",
            [f"network {network.name} on {network.host} ({network.config.bridge or '-'})"],
            (
                f"These running domains lose their link: {', '.join(losing)}."
                if losing
                else "No running domain has a NIC on it."
            )
            + " Its configuration stays; s starts it again.",
            Choice("stop", "Stop", "y"),
            lambda: self._run_on(
                network.host, "stop", lambda: port.network_command(network.name, "stop")
            ),
        )

    def action_autostart(self) -> None:
        network = self._selected_or_say("change autostart")
        if network is None:
            return
        command = "noautostart" if network.autostart else "autostart"
        port = self.hosts.networks(network.host)
        self._run_on(network.host, command, lambda: port.network_command(network.name, command))

    def action_delete(self) -> None:
        network = self._selected_or_say("delete a network")
        if network is None:
            return
        port = self.hosts.networks(network.host)
        users = ", ".join(network.domains) or "no domain"
        self._confirm(
            f"Delete network {network.name}?",
            [f"network {network.name} on {network.host}, used by {users}"],
            "It is stopped and its definition removed: domains with a NIC on it cannot "
            "start until they are given another network.",
            Choice("delete", "Delete", "D"),
            lambda: self._run_on(network.host, "delete", lambda: port.delete_network(network.name)),
        )

    def action_new(self) -> None:
        usable = sorted(host for host, why in self._hosts().items() if not why)
        if not usable:
            self.notify("no connected host can hold networks", severity="warning")
            return
        selected = self.selected()
        host = selected.host if selected is not None else usable[0]
        if not self._may_change(host, "create a network"):
            return
        # Every host's networks: a subnet free here may be routed to from another host.
        used = subnets_of(n.config for n in self.networks.values())
        try:
            subnet = propose_subnet(used)
        except NetworkInputError:
            subnet = None
        start, end = default_range(subnet) if subnet is not None else ("", "")

        def check(values: dict[str, str]) -> str:
            try:
                if values["host"] not in usable:
                    return f"{values['host']!r} is not a connected host: {', '.join(usable)}"
                taken = [n.name for n in self.networks.values() if n.host == values["host"]]
                check_network_name(values["name"], taken)
                network = parse_subnet(values["subnet"], used)
                check_range(network, values["start"], values["end"])
            except NetworkInputError as error:
                return str(error)
            return ""

        def chosen(values: dict[str, str] | None) -> None:
            if not values:
                return
            port = self.hosts.networks(values["host"])
            self._run_on(
                values["host"],
                "create network",
                lambda: port.create_nat_network(
                    values["name"],
                    str(parse_subnet(values["subnet"], used)),
                    values["start"].strip(),
                    values["end"].strip(),
                    values["domain"].strip(),
                ),
            )

        self.app.push_screen(
            FormScreen(
                "New NAT network",
                "Defined, started and set to autostart. The subnet proposed overlaps no "
                "network of any connected host.",
                [
                    Field("host", "Host", host),
                    Field("name", "Name", placeholder="lab"),
                    Field("subnet", "Subnet", str(subnet) if subnet else ""),
                    Field("start", "DHCP from", start),
                    Field("end", "DHCP to", end),
                    Field("domain", "DNS domain (optional)", placeholder="lab.example"),
                ],
                check,
            ),
            chosen,
        )

    # -- change requests ------------------------------------------------------------------

    def action_fixed_host(self) -> None:
        network = self._selected_or_say("draft a configuration change")
        if network is not None:
            ask_fixed_host(self, network, self.drafts)

    def action_dhcp_range(self) -> None:
        network = self._selected_or_say("draft a configuration change")
        if network is None:
            return
        ipv4 = network.config.ipv4()
        if ipv4 is None:
            self.notify(f"network {network.name} has no IPv4 subnet", severity="warning")
            return
        subnet = ipaddress.IPv4Network(ipv4.cidr, strict=False)

        def check(values: dict[str, str]) -> str:
            try:
                check_range(subnet, values["start"], values["end"])
            except NetworkInputError as error:
                return str(error)
            return ""

        def chosen(values: dict[str, str] | None) -> None:
            if values:
                first, last = check_range(subnet, values["start"], values["end"])
                self.drafts.draft(
                    network.host,
                    network.config.uuid,
                    f"{network.name}: DHCP range {first}-{last}",
                    [SetDhcpRange(first, last)],
                )

        self.app.push_screen(
            FormScreen(
                f"DHCP range of {network.name} ({subnet})",
                "A change request is drafted; the range changes at the network's next start.",
                [
                    Field("start", "From", ipv4.range_start),
                    Field("end", "To", ipv4.range_end),
                ],
                check,
            ),
            chosen,
        )

    def action_forward(self) -> None:
        network = self._selected_or_say("draft a configuration change")
        if network is None:
            return

        def check(values: dict[str, str]) -> str:
            mode = values["mode"].strip()
            if mode not in FORWARD_MODES:
                return f"{mode!r}: one of {', '.join(FORWARD_MODES)}"
            if mode == network.config.forward:
                return f"the network is {mode} already"
            return ""

        def chosen(values: dict[str, str] | None) -> None:
            if values:
                mode = values["mode"].strip()
                self.drafts.draft(
                    network.host,
                    network.config.uuid,
                    f"{network.name}: forward {network.config.forward} → {mode}",
                    [SetForward(mode)],
                )

        self.app.push_screen(
            FormScreen(
                f"Forward mode of {network.name}",
                f"Now {network.config.forward}. A change request is drafted; the mode "
                "changes at the network's next start.",
                [Field("mode", f"Mode ({', '.join(FORWARD_MODES)})", network.config.forward)],
                check,
            ),
            chosen,
        )

    def action_edit_xml(self) -> None:
        network = self._selected_or_say("draft a configuration change")
        if network is not None:
            self.drafts.edit(network.host, network.config.uuid, network.name)
