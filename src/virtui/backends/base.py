"""The adapter layer: what every backend offers to the rest of virtui.

Screens never call libvirt; they reach hosts through a Backend. All methods here block
and are called from worker threads, never from the UI event loop.
"""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from virtui.model import DomainAction, DomainEvent, HostInfo, HostPoll
from virtui.model.config import DomainConfig, HostFacts, LiveChange
from virtui.model.detail import DomainDetail, SnapshotInfo
from virtui.model.storage import PoolInfo, TransferProgress, VolumeInfo
from virtui.model.timeline import DaemonLogging, LogLocation

TransferCallback = Callable[[TransferProgress], None]
"""Called (from the transfer's thread) after each chunk of an upload or download."""

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
    events: bool = False
    bulk_stats: bool = False
    storage: bool = False
    history: bool = False  # cpu_history() can pre-fill the graphs


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

    def cpu_history(self) -> dict[str, list[float]]:
        """Past Irix %CPU per domain UUID, oldest first, to pre-fill graphs ({}: none)."""
        return {}

    # Operations. Backends that only read (capabilities.mutations False) refuse them.

    def _unsupported(self, what: str) -> BackendError:
        return BackendError(f"{self.name}: {what} is not possible through this backend")

    def set_event_sink(self, sink: EventSink | None) -> None:  # noqa: B027 - optional hook
        """Deliver host events to ``sink`` from the next connect on (default: none)."""

    def act(self, uuid: str, action: DomainAction) -> str:
        """Run a lifecycle action; returns what happened in words."""
        raise self._unsupported(action.verb)

    def detail(self, uuid: str) -> DomainDetail:
        """Read the detail view's facts about a domain."""
        raise self._unsupported("the detail view")

    def xml(self, uuid: str, *, secure: bool = False) -> str:
        """The domain's XML (secure: with passwords and other secrets)."""
        raise self._unsupported("reading the XML")

    def open_console(self, uuid: str) -> ConsoleStream:
        """Attach to the domain's text console."""
        raise self._unsupported("the serial console")

    def snapshots(self, uuid: str) -> list[SnapshotInfo]:
        """The domain's snapshots, oldest first."""
        raise self._unsupported("listing snapshots")

    def create_snapshot(self, uuid: str, name: str, description: str = "") -> str:
        """Take a snapshot."""
        raise self._unsupported("taking snapshots")

    def revert_snapshot(self, uuid: str, name: str) -> str:
        """Revert the domain to a snapshot."""
        raise self._unsupported("reverting snapshots")

    def delete_snapshot(self, uuid: str, name: str) -> str:
        """Delete a snapshot (its children stay)."""
        raise self._unsupported("deleting snapshots")

    def clone(self, uuid: str, new_name: str) -> str:
        """Define a copy of a shut-off domain under a new name, its storage copied."""
        raise self._unsupported("cloning")

    # Storage. All sizes are in bytes.

    def pools(self) -> list[PoolInfo]:
        """Every storage pool of the host, by name."""
        raise self._unsupported("storage")

    def volumes(self, pool: str) -> list[VolumeInfo]:
        """The volumes of a started pool, with the defined domains using each."""
        raise self._unsupported("storage")

    def pool_command(self, pool: str, command: str) -> str:
        """refresh, start, stop, autostart or noautostart a pool."""
        raise self._unsupported(f"{command} a pool")

    def create_pool(self, pool: str, path: str) -> str:
        """Define, start and autostart a dir pool over an existing directory."""
        raise self._unsupported("creating pools")

    def delete_pool(self, pool: str, *, remove_directory: bool) -> str:
        """Stop and undefine a pool, removing its (empty) directory when asked."""
        raise self._unsupported("deleting pools")

    def create_volume(self, pool: str, name: str, capacity: int, fmt: str) -> str:
        """Create an empty volume of ``capacity`` bytes in format raw or qcow2."""
        raise self._unsupported("creating volumes")

    def resize_volume(self, pool: str, name: str, capacity: int) -> str:
        """Grow a volume to ``capacity`` bytes."""
        raise self._unsupported("resizing volumes")

    def clone_volume(self, pool: str, name: str, new_name: str) -> str:
        """Copy a volume within its pool."""
        raise self._unsupported("cloning volumes")

    def delete_volume(self, pool: str, name: str, *, force: bool = False) -> str:
        """Delete a volume; one in use by a defined domain only when ``force``
        (otherwise BackendError with reason "in use")."""
        raise self._unsupported("deleting volumes")

    def upload_volume(
        self,
        pool: str,
        name: str,
        local_path: str,
        progress: TransferCallback,
        cancelled: threading.Event,
    ) -> str:
        """Create volume ``name`` from a local file, streaming it; cancel keeps nothing."""
        raise self._unsupported("uploading volumes")

    def download_volume(
        self,
        pool: str,
        name: str,
        local_path: str,
        progress: TransferCallback,
        cancelled: threading.Event,
    ) -> str:
        """Stream a volume into a new local file; cancel keeps nothing."""
        raise self._unsupported("downloading volumes")

    # Configuration (the review desk).

    def read_config(self, uuid: str) -> DomainConfig:
        """The domain's inactive, secure XML and whether it is running."""
        raise self._unsupported("reading configurations")

    def define_config(self, xml: str) -> str:
        """Define a configuration (validated); returns it as libvirt stored it."""
        raise self._unsupported("changing configurations")

    def apply_live(self, uuid: str, change: LiveChange) -> None:
        """Apply one change to the running domain."""
        raise self._unsupported("changing a running domain")

    def image_format(self, path: str) -> str | None:
        """The format of an image on the host (None: cannot say)."""
        return None

    def host_facts(self) -> HostFacts:
        """The host's emulators and pool directories (None where it cannot say)."""
        return HostFacts(None, None)

    # Logs.

    def qemu_log(self, name: str) -> LogLocation:
        """Where domain ``name``'s QEMU log is (and whether it can be read from here)."""
        return LogLocation("", False, "this backend has no QEMU logs")

    def daemon_logging(self) -> DaemonLogging:
        """The host daemon's log filters and outputs."""
        raise self._unsupported("reading daemon logging")

    def set_daemon_logging(self, filters: str | None, outputs: str | None) -> DaemonLogging:
        """Change the daemon's log filters and/or outputs; returns them as read back."""
        raise self._unsupported("changing daemon logging")


class ConsoleStream(Protocol):
    """A domain's text console as a byte stream (blocking calls)."""

    def recv(self, size: int) -> bytes:
        """Bytes from the guest; b"" when the console closed."""

    def send(self, data: bytes) -> None:
        """Bytes to the guest."""

    def close(self) -> None:
        """Detach."""
