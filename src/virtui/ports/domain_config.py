"""The configuration port: what the review desk reads from and writes to a host."""

from __future__ import annotations

from collections.abc import Collection
from pathlib import Path
from typing import Protocol

from virtui.model.config import DiskUser, DomainConfig, HostFacts, LiveChange
from virtui.model.newguest import GuestSupport, NewVolume
from virtui.ports.networks import NetworkConfigPort


class DomainConfigPort(Protocol):
    """Domain configurations of one host."""

    @property
    def uri(self) -> str:
        """Where the host is reached (no call to the host)."""

    def read_config(self, uuid: str) -> DomainConfig:
        """The domain's inactive, secure XML and whether it is running."""

    def define_config(self, xml: str) -> str:
        """Define a configuration (validated); returns it as libvirt stored it."""

    def apply_live(self, uuid: str, change: LiveChange) -> None:
        """Apply one change to the running domain."""

    def host_facts(self) -> HostFacts:
        """The host's emulators and pool directories (None where it cannot say)."""

    def image_format(self, path: str) -> str | None:
        """The format of an image on the host (None: cannot say)."""

    def create_guest_volume(
        self, volume: NewVolume, content: bytes | None = None, image: Path | None = None
    ) -> str:
        """Create a volume (an overlay when it has a backing image), write ``content``
        into it when given, or make it hold exactly the file ``image``; its path."""

    def volume_exists(self, pool: str, name: str) -> bool:
        """Whether the pool has a volume of that name (raises when it cannot say)."""

    def remove_volume(self, pool: str, name: str) -> bool:
        """Delete a volume a merge made (taken back); False when it was not there."""

    def start_domain(self, uuid: str) -> None:
        """Start a defined domain."""

    def domain_named(self, name: str) -> str:
        """The UUID of the host's domain called ``name`` ("" when there is none; raises
        when the host cannot say)."""

    def disk_users(self, paths: Collection[str], other_than: str) -> list[DiskUser]:
        """The domains (other than UUID ``other_than``) with a disk at one of ``paths``."""

    def pool_room(self, pool: str) -> tuple[str, int]:
        """(target directory, bytes available) of a started pool."""

    def guest_support(self) -> GuestSupport:
        """Whether the host offers KVM and UEFI firmware to a new x86_64 guest."""


class DomainConfigHosts(Protocol):
    """Finds a host's configuration port by name (the app's sessions, or the CLI's)."""

    def domain_config(self, host: str) -> DomainConfigPort:
        """The host's configuration port (raises when there is no such host or port)."""

    def network_config(self, host: str) -> NetworkConfigPort:
        """The host's network configurations (raises when it has none)."""
