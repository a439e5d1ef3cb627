"""The shared base of LibvirtBackend's parts: the connection in use and a domain by UUID."""

from __future__ import annotations

import threading

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


def describe(error: libvirt.libvirtError) -> str:
    """The message libvirt gave, without Python's exception decoration."""
    return error.get_error_message() or str(error)


class LibvirtHandle:
    """What the domains, storage and configuration parts of LibvirtBackend share."""

    name: str
    uri: str
    readonly: bool
    _owner: ConnectionOwner | None
    _pin: threading.local  # .owner: the connection a call in flight on this thread uses
    # Domain UUID -> autostart flag, read once and kept: libvirt has no event for it, so
    # whatever may change it (an action here, any event of the domain) forgets it.
    _autostart: dict[str, bool]

    def _connection(self) -> libvirt.virConnect:
        owner = getattr(self._pin, "owner", None) or self._owner
        if owner is None:
            raise BackendError(f"{self.name}: not connected", connection_lost=True)
        return owner.conn

    def _open_job_owner(self) -> ConnectionOwner:
        """A connection of its own for one long job (LibvirtBackend's)."""
        raise NotImplementedError

    def _domain(self, uuid: str) -> libvirt.virDomain:
        try:
            return self._connection().lookupByUUIDString(uuid)
        except libvirt.libvirtError as error:
            raise BackendError(f"{self.name}: no domain {uuid}: {describe(error)}") from error

    def _refuse_when_readonly(self, what: str) -> None:
        if self.readonly:
            raise BackendError(f"{self.name} is connected read-only: cannot {what}")
