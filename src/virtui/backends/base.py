"""The adapter layer: what every backend offers to the rest of virtui.

Screens never call libvirt; they reach hosts through a Backend. All methods here block
and are called from worker threads, never from the UI event loop.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass

from virtui.model import HostInfo, HostPoll


class BackendError(Exception):
    """A readable failure from a backend.

    ``connection_lost`` is True when the connection itself is gone (daemon died, link
    cut), so the caller should reconnect rather than retry the same handle.
    """

    def __init__(self, message: str, *, connection_lost: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.connection_lost = connection_lost


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
