"""The parts LibvirtBackend is made of, and the one counted connection they share.

LibvirtBackend composes its capabilities (domains, storage, networks, configuration,
migration), each a ``LibvirtPart`` around one ``Link``. Every public method of a part
runs as a call in flight on the link's connection (``counted``): the connection is
never closed under it, and on a remote host it is the only thread inside libvirt's
client. Methods named in a part's ``LONG_JOBS`` get a connection of their own on a
remote host. This is done when the class is made (``__init_subclass__``), so a new part
or a new method cannot be left uncounted.
"""

from __future__ import annotations

import collections
import functools
import threading
from collections.abc import Callable
from typing import Any, ClassVar, TypeVar

import libvirt

from virtui.backends.base import BackendError
from virtui.backends.libvirt.connections import ConnectionOwner

# Errors after which a request may or may not have been carried out: the link or the
# daemon went away while it was in flight.
UNANSWERED = {
    libvirt.VIR_ERR_RPC,
    libvirt.VIR_ERR_SYSTEM_ERROR,
    libvirt.VIR_ERR_NO_CONNECT,
    libvirt.VIR_ERR_INVALID_CONN,
    libvirt.VIR_ERR_INTERNAL_ERROR,
}


def describe(error: BaseException) -> str:
    """The message libvirt gave, without Python's exception decoration (any other
    exception: its own text)."""
    if isinstance(error, libvirt.libvirtError):
        return error.get_error_message() or str(error)
    return str(error)


def alive(conn: libvirt.virConnect) -> bool:
    """Whether the connection still reaches its host (on a remote one, keepalive has
    had answers); a local driver is alive until closed."""
    try:
        return bool(conn.isAlive())
    except libvirt.libvirtError:
        return False


class Link:
    """One host's connection as LibvirtBackend's parts use it, and what they share."""

    def __init__(
        self, uri: str, name: str, readonly: bool, open_job: Callable[[], ConnectionOwner]
    ) -> None:
        self.uri = uri
        self.name = name
        self.readonly = readonly
        self.owner: ConnectionOwner | None = None  # the connection new calls use
        self.pin = threading.local()  # .owner: the connection a call on this thread uses
        self.open_job = open_job  # a connection of its own for one long job (blocking)
        # Domain UUID -> autostart flag, read once and kept: libvirt has no event for it,
        # so whatever may change it (an action here, any event of the domain) forgets it.
        self.autostart: dict[str, bool] = {}
        # Domain UUID -> DEFINED events seen by this backend (the review desk's check for
        # a define by someone else inside its merge window), while ``events`` are had.
        self.defines: collections.Counter[str] = collections.Counter()
        self.events = False
        self.defined = threading.Condition()

    def connection(self) -> libvirt.virConnect:
        """The connection of the call in flight on this thread (else the current one)."""
        owner = getattr(self.pin, "owner", None) or self.owner
        if owner is None:
            raise self.not_connected()
        return owner.conn

    def not_connected(self) -> BackendError:
        """What a call on a host that is not connected fails with."""
        return BackendError(f"{self.name}: not connected", connection_lost=True)

    def refuse_when_readonly(self, what: str) -> None:
        """Fail, saying so, when the host is connected read-only."""
        if self.readonly:
            raise BackendError(f"{self.name} is connected read-only: cannot {what}")


_Method = TypeVar("_Method", bound=Callable[..., Any])


def counted(method: _Method) -> _Method:
    """Run a call as one call in flight on the connection it starts with, the only
    thread inside libvirt on it when the connection is serial (for methods of objects
    with a ``_link``)."""

    @functools.wraps(method)
    def call(self: Any, *args: Any, **kwargs: Any) -> Any:
        link: Link = self._link
        if getattr(link.pin, "owner", None) is not None:  # nested: counted already
            return method(self, *args, **kwargs)
        owner = link.owner
        if owner is None or not owner.enter():
            raise link.not_connected()
        link.pin.owner = owner
        try:
            with owner.one_at_a_time():
                return method(self, *args, **kwargs)
        finally:
            link.pin.owner = None
            owner.leave()

    return call  # type: ignore[return-value]


def on_own_connection(method: _Method) -> _Method:
    """Run a long job on a connection of its own (a remote host's); what it returns may
    keep that connection (``adopt_connection``: a console), else it is retired."""
    shared = counted(method)

    @functools.wraps(method)
    def call(self: Any, *args: Any, **kwargs: Any) -> Any:
        link: Link = self._link
        main = link.owner
        if getattr(link.pin, "owner", None) is not None or main is None or not main.serial:
            return shared(self, *args, **kwargs)  # in-process drivers: as any call
        job = link.open_job()
        job.enter()
        link.pin.owner = job
        kept = False
        try:
            result = method(self, *args, **kwargs)
            adopt = getattr(result, "adopt_connection", None)
            if adopt is not None:
                adopt(job)
                kept = True
            return result
        finally:
            link.pin.owner = None
            job.leave()
            if not kept:
                job.retire()

    return call  # type: ignore[return-value]


class LibvirtPart:
    """One capability of LibvirtBackend. Blocking: call from background threads."""

    # Calls that may hold a connection for seconds to hours: on a remote host each gets
    # a connection of its own, so the host's polls and reads never wait behind them.
    LONG_JOBS: ClassVar[frozenset[str]] = frozenset()
    # Methods that never reach the connection and must not hold it (one waits on events).
    UNCOUNTED: ClassVar[frozenset[str]] = frozenset()

    def __init__(self, link: Link) -> None:
        self._link = link

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        for name, value in list(vars(cls).items()):
            if name.startswith("_") or name in cls.UNCOUNTED:
                continue
            if isinstance(value, (type, staticmethod, classmethod)):
                continue
            if not callable(value):
                continue
            wrap = on_own_connection if name in cls.LONG_JOBS else counted
            setattr(cls, name, wrap(value))

    @property
    def name(self) -> str:
        return self._link.name

    @property
    def uri(self) -> str:
        return self._link.uri

    @property
    def readonly(self) -> bool:
        return self._link.readonly

    @property
    def _autostart(self) -> dict[str, bool]:
        return self._link.autostart

    def _connection(self) -> libvirt.virConnect:
        return self._link.connection()

    def _domain(self, uuid: str) -> libvirt.virDomain:
        try:
            return self._connection().lookupByUUIDString(uuid)
        except libvirt.libvirtError as error:
            raise BackendError(f"{self.name}: no domain {uuid}: {describe(error)}") from error

    def _refuse_when_readonly(self, what: str) -> None:
        self._link.refuse_when_readonly(what)
