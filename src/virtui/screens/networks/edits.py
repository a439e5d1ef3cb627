"""The fixed-DHCP-host form, asked from the networks screen and the network detail."""

from __future__ import annotations

from typing import Any

from textual.screen import Screen

from virtui.model.netcheck import NetworkInputError, check_dhcp_host
from virtui.model.network import NetworkInfo
from virtui.review.netops import AddDhcpHost
from virtui.screens.form import Field, FormScreen
from virtui.screens.networks.drafts import NetworkDrafts


def ask_fixed_host(screen: Screen[Any], network: NetworkInfo, drafts: NetworkDrafts) -> None:
    """Ask for a MAC, an address and a name, checked against the network; draft the
    fixed DHCP host as a change request."""

    def check(values: dict[str, str]) -> str:
        try:
            check_dhcp_host(network.config, values["mac"], values["ip"], values["name"].strip())
        except NetworkInputError as error:
            return str(error)
        return ""

    def chosen(values: dict[str, str] | None) -> None:
        if values:
            mac, ip, name = check_dhcp_host(
                network.config, values["mac"], values["ip"], values["name"].strip()
            )
            drafts.draft(
                network.host,
                network.config.uuid,
                f"{network.name}: fixed address {ip} for {mac}",
                [AddDhcpHost(mac, ip, name)],
            )

    ipv4 = network.config.ipv4()
    screen.app.push_screen(
        FormScreen(
            f"Fixed DHCP host on {network.name}" + (f" ({ipv4.cidr})" if ipv4 else ""),
            "A change request is drafted; once merged the address is given live "
            "(networkUpdate) and kept in the configuration.",
            [
                Field("mac", "MAC", placeholder="52:54:00:12:34:56"),
                Field("ip", "Address", placeholder=ipv4.address if ipv4 else ""),
                Field("name", "Host name (optional)"),
            ],
            check,
        ),
        chosen,
    )
