"""The domains port: lifecycle actions, detail, XML, consoles, snapshots and clones."""

from __future__ import annotations

from typing import Protocol

from virtui.model import DomainAction
from virtui.model.detail import DomainDetail, SnapshotInfo
from virtui.model.pcpu import PhysicalCpuReading


class ConsoleStream(Protocol):
    """A domain's text console as a byte stream (blocking calls)."""

    def recv(self, size: int) -> bytes:
        """Bytes from the guest; b"" when the console closed."""

    def send(self, data: bytes) -> None:
        """Bytes to the guest."""

    def close(self) -> None:
        """Detach."""


class DomainsPort(Protocol):
    """What can be done to one host's domains, by UUID."""

    def act(self, uuid: str, action: DomainAction) -> str:
        """Run a lifecycle action; returns what happened in words."""

    def detail(self, uuid: str) -> DomainDetail:
        """The detail view's facts about a domain."""

    def xml(self, uuid: str, *, secure: bool = False) -> str:
        """The domain's XML (secure: with passwords and other secrets)."""

    def open_console(self, uuid: str) -> ConsoleStream:
        """Attach to the domain's text console."""

    def snapshots(self, uuid: str) -> list[SnapshotInfo]:
        """The domain's snapshots, oldest first."""

    def create_snapshot(self, uuid: str, name: str, description: str = "") -> str:
        """Take a snapshot."""

    def revert_snapshot(self, uuid: str, name: str) -> str:
        """Revert the domain to a snapshot."""

    def delete_snapshot(self, uuid: str, name: str) -> str:
        """Delete a snapshot (its children stay)."""

    def physical_cpus(self) -> PhysicalCpuReading:
        """Each physical CPU's busy time and where every running domain's vCPUs ran."""

    def clone(self, uuid: str, new_name: str) -> str:
        """Define a copy of a shut-off domain under a new name, its storage copied."""
