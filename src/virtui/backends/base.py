"""The adapter layer: what every backend offers to the rest of virtui.

Screens never call libvirt; they reach hosts through a Backend. All methods here block
and are called from worker threads, never from the UI event loop.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from virtui.model import DomainAction, DomainEvent, HostInfo, HostPoll
from virtui.model.detail import DomainDetail, SnapshotInfo

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
        self.reason = reason  # "refused", "auth failed" or "" (anything else)


@dataclass(frozen=True, slots=True)
class BackendCapabilities:
    """What a backend can do beyond reading; screens disable what is missing."""

    mutations: bool = False
    events: bool = False
    bulk_stats: bool = False


class Backend(ABC):
    """One host reached through one backend (a libvirt connection, a recording, ...)."""

    def __init__(self, uri: str, name: str) -> None:
        self.uri = uri
        self.name = name

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


class ConsoleStream(Protocol):
    """A domain's text console as a byte stream (blocking calls)."""

    def recv(self, size: int) -> bytes:
        """Bytes from the guest; b"" when the console closed."""

    def send(self, data: bytes) -> None:
        """Bytes to the guest."""

    def close(self) -> None:
        """Detach."""
