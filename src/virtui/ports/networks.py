"""The networks port: one host's virtual networks, and guests' addresses."""

from __future__ import annotations

from typing import Protocol

from virtui.model.config import DomainConfig, LiveChange
from virtui.model.network import GuestAddresses, NetworkDetail, NetworkInfo, NicUse


class NetworksPort(Protocol):
    """Virtual networks of one host. Blocking: call from a worker."""

    def networks(self) -> list[NetworkInfo]:
        """Every network of the host, by name, with the domains that have a NIC on it."""

    def network_detail(self, name: str) -> NetworkDetail:
        """One network with its DHCP leases, the NICs on it and its XML."""

    def network_command(self, name: str, command: str) -> str:
        """start, stop, autostart or noautostart a network."""

    def delete_network(self, name: str) -> str:
        """Stop and undefine a network."""

    def create_nat_network(
        self, name: str, subnet: str, start: str, end: str, domain_name: str = ""
    ) -> str:
        """Define, start and autostart a NAT network over ``subnet``."""

    def nics(self) -> list[NicUse]:
        """Every NIC of every domain of the host, with what it is plugged into."""

    def guest_addresses(self, uuid: str) -> GuestAddresses:
        """A domain's addresses: leases, then the guest agent, then ARP."""


class NetworkConfigPort(Protocol):
    """Network configurations of one host, under the review desk's names."""

    @property
    def uri(self) -> str:
        """Where the host is reached (no call to the host)."""

    def read_config(self, uuid: str) -> DomainConfig:
        """The network's persistent XML and whether it is active."""

    def define_config(self, xml: str) -> str:
        """Define (validated); returns it as libvirt stored it."""

    def apply_live(self, uuid: str, change: LiveChange) -> None:
        """Apply one fixed-DHCP-host change to the running network."""


class NetworkHosts(Protocol):
    """The networks screen's view of every host."""

    def network_hosts(self) -> dict[str, str]:
        """Every host by name -> "" when its networks can be read now, else why not."""

    def networks(self, host: str) -> NetworksPort:
        """The host's networks port (raises when it has none)."""

    def read_only(self, host: str) -> bool:
        """True when the host takes no changes (``--readonly``): no call to the host."""
