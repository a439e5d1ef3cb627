"""Typed edits of a network's configuration: fixed DHCP hosts (they can go live through
networkUpdate), the DHCP range and the forward mode (seen at the network's next start)."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from virtui.model.config import LiveChange
from virtui.review.opbase import NET_RESTART, Conflict, PlanItem
from virtui.review.xmlsafe import XmlRefused, to_text

if TYPE_CHECKING:
    from lxml import etree
else:
    from virtui.lazyimport import lxml_etree as etree

FORWARD_MODES = ("nat", "route", "open", "isolated")


def _ipv4(root: etree._Element) -> etree._Element:
    for ip in root.findall("ip"):
        if ip.get("family", "ipv4") == "ipv4":
            return ip
    raise XmlRefused(f"network {root.findtext('name')} has no IPv4 <ip> element")


def _hosts(root: etree._Element) -> dict[str, etree._Element]:
    """Fixed DHCP hosts of the IPv4 subnet by MAC (lower case)."""
    try:
        ip = _ipv4(root)
    except XmlRefused:
        return {}
    return {host.get("mac", "").lower(): host for host in ip.findall("dhcp/host")}


def _range(root: etree._Element) -> tuple[str, str]:
    found = _ipv4(root).find("dhcp/range")
    return (found.get("start", ""), found.get("end", "")) if found is not None else ("", "")


def _host_xml(host: etree._Element) -> str:
    element = copy.deepcopy(host)
    element.tail = None
    return to_text(element)


def _describe(host: etree._Element) -> str:
    name = f" ({host.get('name')})" if host.get("name") else ""
    return f"{host.get('mac', '').lower()} → {host.get('ip', '')}{name}"


def _when(live: bool, active: bool) -> str:
    if not active:
        return "at next network start"
    return "live and in the configuration" if live else NET_RESTART


@dataclass(frozen=True, slots=True)
class AddDhcpHost:
    """Give a MAC a fixed address in the network's DHCP server."""

    mac: str
    ip: str
    name: str = ""
    kind: str = "dhcp-host-add"

    def element(self) -> etree._Element:
        host = etree.Element("host", mac=self.mac.lower())
        if self.name:
            host.set("name", self.name)
        host.set("ip", self.ip)
        return host

    def apply(self, root: etree._Element, old_base: etree._Element | None = None) -> None:
        ip = _ipv4(root)
        for mac, host in _hosts(root).items():
            if mac == self.mac.lower():
                raise Conflict(f"{mac} already has a fixed address: {host.get('ip')}")
            if host.get("ip") == self.ip:
                raise Conflict(f"{self.ip} is already fixed for {mac}")
        dhcp = ip.find("dhcp")
        if dhcp is None:
            dhcp = etree.SubElement(ip, "dhcp")
        dhcp.append(self.element())

    def plan(self, base: etree._Element, active: bool) -> list[PlanItem]:
        live = LiveChange("dhcp-host-add", xml=_host_xml(self.element())) if active else None
        return [PlanItem(f"fixed address {_describe(self.element())}: {_when(True, active)}", live)]


@dataclass(frozen=True, slots=True)
class RemoveDhcpHost:
    """Take a MAC's fixed address away."""

    mac: str
    kind: str = "dhcp-host-delete"

    def apply(self, root: etree._Element, old_base: etree._Element | None = None) -> None:
        host = _hosts(root).get(self.mac.lower())
        if host is None:
            raise Conflict(f"{self.mac} has no fixed address in the configuration now")
        parent = host.getparent()
        assert parent is not None
        parent.remove(host)

    def plan(self, base: etree._Element, active: bool) -> list[PlanItem]:
        host = _hosts(base).get(self.mac.lower())
        if host is None:
            raise Conflict(f"{self.mac} has no fixed address in the configuration")
        live = LiveChange("dhcp-host-delete", xml=_host_xml(host)) if active else None
        return [PlanItem(f"remove fixed address {_describe(host)}: {_when(True, active)}", live)]


@dataclass(frozen=True, slots=True)
class SetDhcpRange:
    """Hand out addresses from ``start`` to ``end`` (IPv4)."""

    start: str
    end: str
    kind: str = "dhcp-range"

    def apply(self, root: etree._Element, old_base: etree._Element | None = None) -> None:
        if old_base is not None and _range(old_base) != _range(root):
            raise Conflict(f"the DHCP range changed meanwhile: {'-'.join(_range(root))}")
        ip = _ipv4(root)
        dhcp = ip.find("dhcp")
        if dhcp is None:
            dhcp = etree.SubElement(ip, "dhcp")
        found = dhcp.find("range")
        if found is None:
            found = etree.Element("range")
            dhcp.insert(0, found)
        for key in list(found.attrib):
            del found.attrib[key]
        found.set("start", self.start)
        found.set("end", self.end)

    def plan(self, base: etree._Element, active: bool) -> list[PlanItem]:
        old = "-".join(_range(base)) or "none"
        return [
            PlanItem(f"DHCP range {old} → {self.start}-{self.end}: {_when(False, active)}", None)
        ]


@dataclass(frozen=True, slots=True)
class SetForward:
    """Change how the network reaches the outside: nat, route, open or isolated."""

    mode: str
    kind: str = "forward"

    def apply(self, root: etree._Element, old_base: etree._Element | None = None) -> None:
        if self.mode not in FORWARD_MODES:
            raise XmlRefused(f"forward mode {self.mode!r}: one of {', '.join(FORWARD_MODES)}")
        if old_base is not None and _mode(old_base) != _mode(root):
            raise Conflict(f"the forward mode changed meanwhile: {_mode(root)}")
        forward = root.find("forward")
        if self.mode == "isolated":
            if forward is not None:
                root.remove(forward)
            return
        if forward is None:
            forward = etree.Element("forward")
            name = root.find("name")
            position = list(root).index(name) + 1 if name is not None else 0
            uuid = root.find("uuid")
            if uuid is not None:
                position = max(position, list(root).index(uuid) + 1)
            root.insert(position, forward)
        forward.set("mode", self.mode)

    def plan(self, base: etree._Element, active: bool) -> list[PlanItem]:
        return [PlanItem(f"forward {_mode(base)} → {self.mode}: {_when(False, active)}", None)]


def _mode(root: etree._Element) -> str:
    forward = root.find("forward")
    return forward.get("mode", "nat") if forward is not None else "isolated"


def raw_network_plan(base: etree._Element, new: etree._Element, active: bool) -> list[PlanItem]:
    """The summary of a network XML edit: fixed DHCP hosts added, removed or changed go
    live; anything else waits for the network's next start."""
    old_hosts, new_hosts = _hosts(base), _hosts(new)
    items: list[PlanItem] = []
    for mac, host in new_hosts.items():
        if mac not in old_hosts:
            live = LiveChange("dhcp-host-add", xml=_host_xml(host)) if active else None
            items.append(
                PlanItem(f"fixed address {_describe(host)} (XML edit): {_when(True, active)}", live)
            )
        elif _host_xml(host) != _host_xml(old_hosts[mac]):
            live = LiveChange("dhcp-host-modify", xml=_host_xml(host)) if active else None
            items.append(
                PlanItem(f"fixed address {_describe(host)} (XML edit): {_when(True, active)}", live)
            )
    for mac, host in old_hosts.items():
        if mac not in new_hosts:
            live = LiveChange("dhcp-host-delete", xml=_host_xml(host)) if active else None
            items.append(
                PlanItem(
                    f"remove fixed address {_describe(host)} (XML edit): {_when(True, active)}",
                    live,
                )
            )
    if _without_hosts(base) != _without_hosts(new):
        items.append(PlanItem(f"XML edit: {_when(False, active)}", None))
    return items or [PlanItem(f"XML edit: {_when(False, active)}", None)]


def _without_hosts(root: etree._Element) -> str:
    tree = copy.deepcopy(root)
    for host in tree.findall("ip/dhcp/host"):
        parent = host.getparent()
        assert parent is not None
        parent.remove(host)
    return bytes(etree.tostring(tree, method="c14n")).decode()


NETWORK_OPS: dict[str, type[Any]] = {
    "dhcp-host-add": AddDhcpHost,
    "dhcp-host-delete": RemoveDhcpHost,
    "dhcp-range": SetDhcpRange,
    "forward": SetForward,
}
