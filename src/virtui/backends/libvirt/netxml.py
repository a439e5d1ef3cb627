"""Network and NIC facts from libvirt's XML, and the XML of a new NAT network."""

from __future__ import annotations

import ipaddress
import xml.etree.ElementTree as ET

from virtui.backends.libvirt.xmlread import read_xml
from virtui.model.network import DhcpHost, NetworkAddress, NetworkConfig, NicUse
from virtui.xmltext import quoteattr


def _prefix(ip: ET.Element, family: str) -> int:
    if ip.get("prefix", "").isdigit():
        return int(ip.get("prefix", "0"))
    netmask = ip.get("netmask", "")
    if netmask:
        try:
            return ipaddress.IPv4Network(f"0.0.0.0/{netmask}").prefixlen
        except ValueError:
            return 0
    return 24 if family == "ipv4" else 64


def _range_size(start: str, end: str) -> int:
    try:
        return max(0, int(ipaddress.ip_address(end)) - int(ipaddress.ip_address(start)) + 1)
    except ValueError:
        return 0


def parse_network(xml: str) -> NetworkConfig:
    """What the screens show of a ``<network>`` document."""
    root = read_xml(xml)
    forward = root.find("forward")
    addresses = []
    for ip in root.findall("ip"):
        family = ip.get("family", "ipv4")
        dhcp_range = ip.find("dhcp/range")
        start = dhcp_range.get("start", "") if dhcp_range is not None else ""
        end = dhcp_range.get("end", "") if dhcp_range is not None else ""
        hosts = tuple(
            DhcpHost(host.get("mac", "").lower(), host.get("ip", ""), host.get("name", ""))
            for host in ip.findall("dhcp/host")
        )
        addresses.append(
            NetworkAddress(
                family=family,
                address=ip.get("address", ""),
                prefix=_prefix(ip, family),
                range_start=start,
                range_end=end,
                range_size=_range_size(start, end) if start else 0,
                hosts=hosts,
            )
        )
    bridge, domain = root.find("bridge"), root.find("domain")
    return NetworkConfig(
        name=root.findtext("name", ""),
        uuid=root.findtext("uuid", ""),
        forward=(forward.get("mode", "nat") if forward is not None else "isolated"),
        bridge=bridge.get("name", "") if bridge is not None else "",
        domain_name=domain.get("name", "") if domain is not None else "",
        addresses=tuple(addresses),
        portgroups=tuple(group.get("name", "") for group in root.findall("portgroup")),
    )


def domain_nics(xml: str, running: bool) -> list[NicUse]:
    """The NICs of a domain's XML: what each is plugged into."""
    root = read_xml(xml)
    name = root.findtext("name", "")
    nics = []
    for interface in root.findall("devices/interface"):
        source = interface.find("source")
        mac = interface.find("mac")
        model = interface.find("model")
        nics.append(
            NicUse(
                domain=name,
                mac=(mac.get("address", "") if mac is not None else "").lower(),
                network=(source.get("network", "") if source is not None else ""),
                bridge=(source.get("bridge", "") if source is not None else ""),
                model=(model.get("type", "") if model is not None else ""),
                running=running,
            )
        )
    return nics


def nat_network_xml(
    name: str, network: ipaddress.IPv4Network, start: str, end: str, domain_name: str = ""
) -> str:
    """A NAT network: the first address of ``network`` is the host's, DHCP from start to
    end (every value quoted: names come from a user)."""
    gateway = next(network.hosts())
    domain = f"\n  <domain name={quoteattr(domain_name)}/>" if domain_name else ""
    return (
        f"<network>\n  <name>{_text(name)}</name>\n  <forward mode='nat'/>{domain}\n"
        f"  <ip address='{gateway}' prefix='{network.prefixlen}'>\n"
        f"    <dhcp>\n      <range start={quoteattr(start)} end={quoteattr(end)}/>\n"
        "    </dhcp>\n  </ip>\n</network>\n"
    )


def _text(value: str) -> str:
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
