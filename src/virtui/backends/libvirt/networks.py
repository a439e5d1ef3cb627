"""Virtual networks over libvirt: listing with their use, detail with DHCP leases,
lifecycle, creation, guests' addresses, and network configurations for the review desk."""

from __future__ import annotations

import contextlib
import functools
import ipaddress
import xml.etree.ElementTree as ET

import libvirt

from virtui.backends.base import BackendError
from virtui.backends.libvirt.addresses import resolve
from virtui.backends.libvirt.handle import LibvirtPart, Link, describe
from virtui.backends.libvirt.netxml import (
    domain_nics,
    nat_network_xml,
    parse_network,
)
from virtui.backends.libvirt.xmlread import read_xml
from virtui.model.config import DomainConfig, LiveChange
from virtui.model.network import (
    DhcpHost,
    DhcpLease,
    GuestAddresses,
    NetworkConfig,
    NetworkDetail,
    NetworkInfo,
    NicUse,
)

_DEFINE_VALIDATE = getattr(libvirt, "VIR_NETWORK_DEFINE_VALIDATE", 1)
# How a fixed DHCP host goes live: the define already wrote the persistent config.
_LIVE_UPDATES = {
    "dhcp-host-add": libvirt.VIR_NETWORK_UPDATE_COMMAND_ADD_LAST,
    "dhcp-host-delete": libvirt.VIR_NETWORK_UPDATE_COMMAND_DELETE,
    "dhcp-host-modify": libvirt.VIR_NETWORK_UPDATE_COMMAND_MODIFY,
}


class LibvirtNetworks(LibvirtPart):
    """LibvirtBackend's networks port. Blocking; call from workers."""

    def __init__(self, link: Link) -> None:
        super().__init__(link)
        self._lease_counter = LeaseCounter()
        # Network name -> (the facts its info was made of, the info): rebuilt on change.
        self._network_infos: dict[str, tuple[tuple[object, ...], NetworkInfo]] = {}

    # -- reading ------------------------------------------------------------------------

    def networks(self) -> list[NetworkInfo]:
        """Every network of the host, by name, with the domains that have a NIC on it."""
        conn = self._connection()
        try:
            networks = conn.listAllNetworks(0)
            # Listings say what three calls per network would: at 50 networks a host,
            # the difference is most of a refresh. Names only where libvirt has it; the
            # autostart and transient lists are short on most hosts.
            active = set(conn.listNetworks())
            autostart = _names(conn, libvirt.VIR_CONNECT_LIST_NETWORKS_AUTOSTART)
            transient = _names(conn, libvirt.VIR_CONNECT_LIST_NETWORKS_TRANSIENT)
        except libvirt.libvirtError as error:
            if error.get_error_code() == libvirt.VIR_ERR_NO_SUPPORT:
                raise BackendError("no network driver on this connection") from error
            raise BackendError(f"{self.name}: cannot list networks: {describe(error)}") from error
        users = _network_users(self._all_nics(conn))
        found = []
        for network in networks:
            with contextlib.suppress(libvirt.libvirtError):  # removed while we looked
                name = network.name()
                found.append(
                    self._network_info(
                        network, users, name in active, name in autostart, name not in transient
                    )
                )
        if len(self._network_infos) > len(found):  # forget the networks gone
            names = {info.name for info in found}
            self._network_infos = {k: v for k, v in self._network_infos.items() if k in names}
        return sorted(found, key=lambda info: info.name)

    def _network_info(
        self,
        network: libvirt.virNetwork,
        users: dict[str, dict[str, bool]],
        active: bool,
        autostart: bool,
        persistent: bool,
    ) -> NetworkInfo:
        xml = network.XMLDesc(0)
        config = _parsed(xml)
        using = dict(users.get(config.name, {}))
        if config.bridge:
            using.update(users.get(f"bridge:{config.bridge}", {}))
        ipv4 = config.ipv4()
        has_dhcp = ipv4 is not None and bool(ipv4.range_start or ipv4.hosts)
        leases = self._lease_counter.count(network) if active and has_dhcp else 0
        # The same facts give back the same object: the screen skips it by identity.
        facts = (xml, active, autostart, persistent, leases, tuple(sorted(using.items())))
        kept = self._network_infos.get(config.name)
        if kept is not None and kept[0] == facts:
            return kept[1]
        info = NetworkInfo(
            host=self.name,
            config=config,
            active=active,
            autostart=autostart,
            persistent=persistent,
            leases=leases,
            domains=tuple(sorted(using)),
            running_domains=tuple(sorted(name for name, running in using.items() if running)),
        )
        self._network_infos[config.name] = (facts, info)
        return info

    def nics(self) -> list[NicUse]:
        """Every NIC of every domain of the host: what it is plugged into."""
        return self._all_nics(self._connection())

    def _all_nics(self, conn: libvirt.virConnect) -> list[NicUse]:
        nics: list[NicUse] = []
        try:
            domains = conn.listAllDomains(0)
        except libvirt.libvirtError:
            return nics
        for dom in domains:
            with contextlib.suppress(libvirt.libvirtError, ET.ParseError):
                nics += _nics_of(dom.XMLDesc(0), bool(dom.isActive()))
        return nics

    def network_detail(self, name: str) -> NetworkDetail:
        """The network with its leases (each matched to a domain by MAC), the NICs on
        it, and its inactive XML."""
        conn = self._connection()
        network = self._network(name)
        try:
            every_nic = self._all_nics(conn)  # each domain's XML, read once
            info = self._network_info(
                network,
                _network_users(every_nic),
                bool(network.isActive()),
                bool(network.autostart()),
                bool(network.isPersistent()),
            )
            nics = tuple(
                nic
                for nic in every_nic
                if nic.network == name or (info.config.bridge and nic.bridge == info.config.bridge)
            )
            owners = {nic.mac: nic.domain for nic in every_nic}
            leases = tuple(
                DhcpLease(
                    mac=str(lease.get("mac", "")).lower(),
                    ip=str(lease.get("ipaddr", "")),
                    prefix=int(str(lease.get("prefix") or 0)),
                    hostname=str(lease.get("hostname") or ""),
                    expiry=float(str(lease.get("expirytime") or 0)),
                    domain=owners.get(str(lease.get("mac", "")).lower(), ""),
                )
                for lease in (self._lease_counter.leases(network) if info.active else [])
            )
            xml = _inactive_xml(network)
        except libvirt.libvirtError as error:
            raise BackendError(f"{self.name}: network {name}: {describe(error)}") from error
        return NetworkDetail(info, leases, nics, xml)

    def _network(self, name: str) -> libvirt.virNetwork:
        try:
            return self._connection().networkLookupByName(name)
        except libvirt.libvirtError as error:
            raise BackendError(f"{self.name}: no network {name}: {describe(error)}") from error

    def guest_addresses(self, uuid: str) -> GuestAddresses:
        """The domain's addresses from DHCP leases, else the guest agent, else the ARP
        table; the first source that answers is the one shown."""
        return resolve(self._domain(uuid))

    # -- changing -----------------------------------------------------------------------

    def network_command(self, name: str, command: str) -> str:
        """start, stop, autostart or noautostart a network."""
        self._refuse_when_readonly(f"{command} a network")
        network = self._network(name)
        try:
            if command == "start":
                network.create()
                return f"network {name} started"
            if command == "stop":
                network.destroy()
                return f"network {name} stopped"
            if command in ("autostart", "noautostart"):
                network.setAutostart(1 if command == "autostart" else 0)
                return f"network {name} autostart {'on' if command == 'autostart' else 'off'}"
        except libvirt.libvirtError as error:
            raise BackendError(f"{self.name}: {command} {name}: {describe(error)}") from error
        raise BackendError(f"unknown network command {command!r}")

    def delete_network(self, name: str) -> str:
        """Stop (when active) and undefine a network."""
        self._refuse_when_readonly("delete a network")
        network = self._network(name)
        try:
            if network.isActive():
                network.destroy()
            if network.isPersistent():
                network.undefine()
        except libvirt.libvirtError as error:
            raise BackendError(f"{self.name}: delete {name}: {describe(error)}") from error
        return f"network {name} deleted"

    def create_nat_network(
        self, name: str, subnet: str, start: str, end: str, domain_name: str = ""
    ) -> str:
        """Define (validated), start and autostart a NAT network; undefined again if it
        cannot start, so nothing half-made stays."""
        self._refuse_when_readonly("create a network")
        xml = nat_network_xml(name, ipaddress.IPv4Network(subnet), start, end, domain_name)
        conn = self._connection()
        try:
            network = conn.networkDefineXMLFlags(xml, _DEFINE_VALIDATE)
        except libvirt.libvirtError as error:
            raise BackendError(
                f"{self.name}: network {name} not created: {describe(error)}"
            ) from error
        try:
            network.create()
            network.setAutostart(1)
        except libvirt.libvirtError as error:
            with contextlib.suppress(libvirt.libvirtError):
                if network.isActive():
                    network.destroy()
                network.undefine()
            raise BackendError(
                f"{self.name}: network {name} could not start, so it was removed: {describe(error)}"
            ) from error
        return f"network {name} created on {subnet}, started, autostart on"

    # -- configurations, for the review desk ------------------------------------------

    def read_network_config(self, uuid: str) -> DomainConfig:
        """The network's persistent XML and whether it is active."""
        try:
            network = self._connection().networkLookupByUUIDString(uuid)
            return DomainConfig(
                str(_inactive_xml(network)),
                bool(network.isActive()),
                network.name(),
            )
        except libvirt.libvirtError as error:
            raise BackendError(f"{self.name}: no network {uuid}: {describe(error)}") from error

    def define_network_config(self, xml: str) -> str:
        """Define a network's XML with libvirt's validation; returns it as stored."""
        self._refuse_when_readonly("change a network")
        try:
            network = self._connection().networkDefineXMLFlags(xml, _DEFINE_VALIDATE)
            return str(_inactive_xml(network))
        except libvirt.libvirtError as error:
            raise BackendError(f"{self.name}: {describe(error)}") from error

    def apply_network_live(self, uuid: str, change: LiveChange) -> None:
        """Apply a fixed DHCP host to the running network (``networkUpdate``), then read
        the live XML back to see it there (or gone)."""
        self._refuse_when_readonly("change a running network")
        command = _LIVE_UPDATES.get(change.kind)
        if command is None:
            raise BackendError(f"{change.kind} cannot be applied to a running network")
        try:
            network = self._connection().networkLookupByUUIDString(uuid)
            network.update(
                command,
                libvirt.VIR_NETWORK_SECTION_IP_DHCP_HOST,
                -1,
                change.xml,
                libvirt.VIR_NETWORK_UPDATE_AFFECT_LIVE,
            )
            live = parse_network(network.XMLDesc(0))
        except libvirt.libvirtError as error:
            raise BackendError(f"{self.name}: {describe(error)}") from error
        wanted = read_xml(change.xml)
        mac = wanted.get("mac", "").lower()
        hosts = {host.mac: host for a in live.addresses for host in a.hosts}
        if change.kind == "dhcp-host-delete":
            if mac in hosts:
                raise BackendError(f"{mac} is still a fixed host of the running network")
        elif hosts.get(mac) != DhcpHost(mac, wanted.get("ip", ""), wanted.get("name", "")):
            raise BackendError(f"the running network does not show {change.xml} as asked")


def _names(conn: libvirt.virConnect, flag: int) -> set[str]:
    return {network.name() for network in conn.listAllNetworks(flag)}


@functools.lru_cache(maxsize=4096)
def _parsed(xml: str) -> NetworkConfig:
    """A network's XML parsed once for as long as it stays the same text."""
    return parse_network(xml)


@functools.lru_cache(maxsize=4096)
def _nics_of(xml: str, running: bool) -> tuple[NicUse, ...]:
    return tuple(domain_nics(xml, running))


def _inactive_xml(network: libvirt.virNetwork) -> str:
    """The persistent XML; drivers without the flag (the test driver) have one XML."""
    try:
        return str(network.XMLDesc(libvirt.VIR_NETWORK_XML_INACTIVE))
    except libvirt.libvirtError as error:
        if error.get_error_code() not in (libvirt.VIR_ERR_INVALID_ARG, libvirt.VIR_ERR_NO_SUPPORT):
            raise
        return str(network.XMLDesc(0))


def _network_users(nics: list[NicUse]) -> dict[str, dict[str, bool]]:
    """Network name (or ``bridge:NAME``) -> the domains with a NIC on it -> running."""
    users: dict[str, dict[str, bool]] = {}
    for nic in nics:
        key = nic.network or f"bridge:{nic.bridge}"
        users.setdefault(key, {})[nic.domain] = nic.running
    return users


class LeaseCounter:
    """Leases in use per network; a driver that has no leases is asked once, not once
    per network per refresh (a refused call costs an error object and a log line)."""

    def __init__(self) -> None:
        self.supported = True

    def leases(self, network: libvirt.virNetwork) -> list[dict[str, object]]:
        """The network's leases ([] where the driver has none, or cannot say now)."""
        if not self.supported:
            return []
        try:
            return list(network.DHCPLeases() or [])
        except libvirt.libvirtError as error:
            if error.get_error_code() == libvirt.VIR_ERR_NO_SUPPORT:
                self.supported = False
            return []

    def count(self, network: libvirt.virNetwork) -> int:
        """How many leases are in use."""
        return len(self.leases(network))


class LibvirtNetworkConfig:
    """A backend's network configurations under the names the review desk calls
    (read_config, define_config, apply_live), as its domain configurations are."""

    def __init__(self, backend: LibvirtNetworks) -> None:
        self._backend = backend

    @property
    def uri(self) -> str:
        """Where the host is reached."""
        return self._backend.uri

    def read_config(self, uuid: str) -> DomainConfig:
        return self._backend.read_network_config(uuid)

    def define_config(self, xml: str) -> str:
        return self._backend.define_network_config(xml)

    def apply_live(self, uuid: str, change: LiveChange) -> None:
        self._backend.apply_network_live(uuid, change)
