"""Virtual networks, their DHCP leases and static hosts, as the screens see them."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class DhcpHost:
    """A fixed address in a network's DHCP configuration (``<host mac ip name/>``)."""

    mac: str
    ip: str
    name: str = ""


@dataclass(frozen=True, slots=True)
class NetworkAddress:
    """One ``<ip>`` of a network: its address, prefix and DHCP range ("" when none)."""

    family: str  # ipv4 or ipv6
    address: str
    prefix: int
    range_start: str = ""
    range_end: str = ""
    range_size: int = 0
    hosts: tuple[DhcpHost, ...] = ()

    @property
    def cidr(self) -> str:
        """``192.168.122.1/24``."""
        return f"{self.address}/{self.prefix}"

    @property
    def dhcp_range(self) -> str:
        """``192.168.122.2-192.168.122.254``, or "" without DHCP."""
        return f"{self.range_start}-{self.range_end}" if self.range_start else ""


@dataclass(frozen=True, slots=True)
class NetworkConfig:
    """What a network's XML says, read by the backend (no libvirt types)."""

    name: str
    uuid: str
    forward: str  # nat, route, bridge, open, hostdev, … or "isolated" without <forward>
    bridge: str
    domain_name: str = ""  # the DNS domain handed out (<domain name=…>)
    addresses: tuple[NetworkAddress, ...] = ()
    portgroups: tuple[str, ...] = ()

    def ipv4(self) -> NetworkAddress | None:
        """The first IPv4 address, the one the screen shows."""
        return next((a for a in self.addresses if a.family == "ipv4"), None)

    def ipv6(self) -> NetworkAddress | None:
        """The first IPv6 address."""
        return next((a for a in self.addresses if a.family == "ipv6"), None)


@dataclass(frozen=True, slots=True)
class NetworkInfo:
    """One network of one host, with its use."""

    host: str
    config: NetworkConfig
    active: bool
    autostart: bool
    persistent: bool
    leases: int  # DHCP leases in use now (0 when inactive)
    domains: tuple[str, ...] = ()  # domains with a NIC on it (by name)
    running_domains: tuple[str, ...] = ()  # those of them running (they lose their link)

    @property
    def name(self) -> str:
        """The network's name."""
        return self.config.name

    @property
    def state(self) -> str:
        """active or inactive."""
        return "active" if self.active else "inactive"


@dataclass(frozen=True, slots=True)
class DhcpLease:
    """One lease handed out by the network's DHCP server."""

    mac: str
    ip: str
    prefix: int
    hostname: str
    expiry: float  # epoch seconds; 0: never
    domain: str = ""  # the domain whose NIC has this MAC ("" when none here)


@dataclass(frozen=True, slots=True)
class NicUse:
    """A domain's NIC on a network: what it is plugged into."""

    domain: str
    mac: str
    network: str  # the network's name ("" for a bridge NIC)
    bridge: str
    model: str
    running: bool


@dataclass(frozen=True, slots=True)
class NetworkDetail:
    """Everything the network detail screen shows."""

    info: NetworkInfo
    leases: tuple[DhcpLease, ...]
    nics: tuple[NicUse, ...]
    xml: str  # secure, inactive XML as libvirt has it


@dataclass(frozen=True, slots=True)
class GuestAddress:
    """An address of a domain's NIC and which source told it."""

    mac: str
    address: str  # 10.0.0.5/24
    source: str  # lease, agent or arp
    interface: str = ""


@dataclass(frozen=True, slots=True)
class GuestAddresses:
    """A domain's addresses, from the first source that answered; ``tried`` says which
    sources were asked and why each gave nothing."""

    addresses: tuple[GuestAddress, ...] = ()
    tried: tuple[str, ...] = field(default=())
