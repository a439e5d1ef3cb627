"""The adapter layer: what every backend offers to the rest of virtui.

Screens never call libvirt; they reach hosts through a Backend's ports (virtui.ports).
All methods here block and are called from worker threads, never from the UI event loop.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass

from virtui.model import DomainEvent, HostInfo, HostPoll
from virtui.ports.backups import BackupPort
from virtui.ports.domain_config import DomainConfigPort
from virtui.ports.domains import DomainsPort
from virtui.ports.logs import LogsPort
from virtui.ports.migration import MigrationPort
from virtui.ports.networks import NetworkConfigPort, NetworksPort
from virtui.ports.storage import StoragePort

EventSink = Callable[[DomainEvent], None]
"""Called (from a backend's own thread) for every event a host reports."""


class BackendError(Exception):
    """A readable failure from a backend.

    ``connection_lost`` is True when the connection itself is gone (daemon died, link
    cut), so the caller should reconnect rather than retry the same handle.
    """

    def __init__(self, message: str, *, connection_lost: bool = False, reason: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.connection_lost = connection_lost
        # "refused", "auth failed", "permanent" (an unknown driver, a missing file: not
        # retried) or "" (anything else)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class BackendCapabilities:
    """What a backend can do beyond reading; screens disable what is missing."""

    mutations: bool = False
    cpu_history: bool = False  # cpu_history() can pre-fill the graphs


class Backend(ABC):
    """One host reached through one backend (a libvirt connection, a recording, ...)."""

    def __init__(self, uri: str, name: str) -> None:
        self.uri = uri
        self.name = name
        # A read-only backend may name a libvirt host entry of the same machine: actions
        # on its rows go there (the domain's UUID is the same on both).
        self.actions_via = ""

    @property
    @abstractmethod
    def capabilities(self) -> BackendCapabilities:
        """What this backend supports."""

    @abstractmethod
    def connect(self) -> HostInfo:
        """Open the connection and read static host facts. Raises BackendError."""

    @abstractmethod
    def poll(self) -> HostPoll:
        """Read every domain's counters once. Raises BackendError."""

    @abstractmethod
    def close(self) -> None:
        """Release the connection; safe to call more than once."""

    def connected(self) -> bool:
        """True while the connection is up, as far as this side knows (no call made)."""
        return True

    def cpu_history(self) -> dict[str, list[float]]:
        """Past Irix %CPU per domain UUID, oldest first, to pre-fill graphs ({}: none)."""
        return {}

    def set_event_sink(self, sink: EventSink | None) -> None:  # noqa: B027 - optional hook
        """Deliver host events to ``sink`` from the next connect on (default: none)."""

    # Capabilities beyond reading, each a port (virtui.ports) or None when missing.

    def domain_port(self) -> DomainsPort | None:
        """Actions, detail, consoles, snapshots and clones of this host's domains."""
        return None

    def storage_port(self) -> StoragePort | None:
        """This host's pools and volumes."""
        return None

    def domain_config_port(self) -> DomainConfigPort | None:
        """Reading and defining this host's domain configurations (the review desk)."""
        return None

    def logs_port(self) -> LogsPort | None:
        """This host's QEMU logs and daemon logging."""
        return None

    def network_port(self) -> NetworksPort | None:
        """This host's virtual networks and its guests' addresses."""
        return None

    def migration_port(self) -> MigrationPort | None:
        """Moving this host's domains to another host (and receiving them)."""
        return None

    def network_config_port(self) -> NetworkConfigPort | None:
        """Reading and defining this host's network configurations (the review desk)."""
        return None

    def backup_port(self) -> BackupPort | None:
        """Backing this host's domains up."""
        return None
