"""Checks of what a user types for a network, made before anything reaches libvirt, and
the free subnet a new network is offered."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable

from virtui.model.network import NetworkConfig

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.+-]{0,49}$")
_MAC = re.compile(r"^[0-9a-f]{2}(:[0-9a-f]{2}){5}$")
# Where new networks are proposed: libvirt's own default is 192.168.122.0/24.
_CANDIDATES = [f"192.168.{n}.0/24" for n in range(100, 255)] + [
    f"10.{n}.{m}.0/24" for n in range(100, 110) for m in range(256)
]


class NetworkInputError(ValueError):
    """What the user typed cannot be used; the message says why."""


def check_network_name(name: str, taken: Iterable[str]) -> None:
    """A new network's name: letters, digits, ``_.+-``; not one the host has."""
    if not _NAME.match(name):
        raise NetworkInputError(
            f"{name!r} is not a network name: letters, digits and _.+- only, at most 50"
        )
    if name in set(taken):
        raise NetworkInputError(f"a network named {name} already exists on that host")


def subnets_of(configs: Iterable[NetworkConfig]) -> list[ipaddress.IPv4Network]:
    """The IPv4 subnets the networks use."""
    found = []
    for config in configs:
        for address in config.addresses:
            if address.family == "ipv4" and address.address:
                found.append(
                    ipaddress.IPv4Network(f"{address.address}/{address.prefix}", strict=False)
                )
    return found


def parse_subnet(text: str, used: Iterable[ipaddress.IPv4Network]) -> ipaddress.IPv4Network:
    """``192.168.100.0/24``, checked: IPv4, room for a gateway and DHCP, no overlap."""
    try:
        network = ipaddress.IPv4Network(text.strip(), strict=False)
    except ValueError as error:
        raise NetworkInputError(
            f"{text!r} is not an IPv4 subnet such as 192.168.100.0/24"
        ) from error
    if network.prefixlen > 29:
        raise NetworkInputError(f"{network} is too small: /29 is the smallest that holds DHCP")
    if network.is_loopback or network.is_multicast or network.is_link_local:
        raise NetworkInputError(f"{network} is not a subnet a network can use")
    for other in used:
        if network.overlaps(other):
            raise NetworkInputError(f"{network} overlaps {other}, already in use")
    return network


def check_range(network: ipaddress.IPv4Network, start: str, end: str) -> tuple[str, str]:
    """A DHCP range inside ``network``, not its gateway (first) or broadcast address."""
    try:
        first, last = ipaddress.IPv4Address(start.strip()), ipaddress.IPv4Address(end.strip())
    except ValueError as error:
        raise NetworkInputError(
            f"the DHCP range {start}-{end} is not two IPv4 addresses"
        ) from error
    hosts = list(_ends(network))
    for address in (first, last):
        if address not in network:
            raise NetworkInputError(f"{address} is outside the subnet {network}")
        if address == network.network_address or address == network.broadcast_address:
            raise NetworkInputError(f"{address} is the subnet's own address, not a host's")
        if address == hosts[0]:
            raise NetworkInputError(f"{address} is the network's gateway (the host)")
    if last < first:
        raise NetworkInputError(f"the DHCP range ends ({last}) before it starts ({first})")
    return str(first), str(last)


def _ends(network: ipaddress.IPv4Network) -> tuple[ipaddress.IPv4Address, ipaddress.IPv4Address]:
    return network.network_address + 1, network.broadcast_address - 1


def default_range(network: ipaddress.IPv4Network) -> tuple[str, str]:
    """The DHCP range offered: the second host address to the last."""
    gateway, last = _ends(network)
    return str(gateway + 1), str(last)


def propose_subnet(used: Iterable[ipaddress.IPv4Network]) -> ipaddress.IPv4Network:
    """The first /24 of the usual private ranges that overlaps nothing in ``used``."""
    taken = list(used)
    for text in _CANDIDATES:
        candidate = ipaddress.IPv4Network(text)
        if not any(candidate.overlaps(other) for other in taken):
            return candidate
    raise NetworkInputError("every proposed /24 is in use: type a subnet")


def normal_mac(mac: str) -> str:
    """A MAC as libvirt writes it (lower case, colons), or NetworkInputError."""
    normal = mac.strip().lower().replace("-", ":")
    if not _MAC.match(normal):
        raise NetworkInputError(f"{mac!r} is not a MAC address such as 52:54:00:12:34:56")
    if int(normal[:2], 16) & 1:
        raise NetworkInputError(f"{mac} is a multicast address: a NIC cannot have it")
    return normal


def check_dhcp_host(
    config: NetworkConfig, mac: str, ip: str, name: str = ""
) -> tuple[str, str, str]:
    """A fixed DHCP host for the network's first IPv4 subnet: a well-formed MAC and
    address inside the subnet, neither already given to another host entry."""
    normal = normal_mac(mac)
    address = config.ipv4()
    if address is None:
        raise NetworkInputError(f"network {config.name} has no IPv4 subnet to give addresses in")
    subnet = ipaddress.IPv4Network(address.cidr, strict=False)
    try:
        wanted = ipaddress.IPv4Address(ip.strip())
    except ValueError as error:
        raise NetworkInputError(f"{ip!r} is not an IPv4 address") from error
    if wanted not in subnet or wanted in (subnet.network_address, subnet.broadcast_address):
        raise NetworkInputError(f"{wanted} is not a host address of {subnet}")
    if str(wanted) == address.address:
        raise NetworkInputError(f"{wanted} is the network's own address (the host)")
    for host in address.hosts:
        if host.mac == normal:
            raise NetworkInputError(f"{normal} already has a fixed address here: {host.ip}")
        if host.ip == str(wanted):
            raise NetworkInputError(f"{wanted} is already fixed for {host.mac}")
    if name and not _NAME.match(name):
        raise NetworkInputError(f"{name!r} is not a host name: letters, digits and _.+- only")
    return normal, str(wanted), name
