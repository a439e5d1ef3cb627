"""Every call of the libvirt backend that reaches the connection is counted (the
connection is never closed under it, and on a remote host it is the only thread inside
libvirt's client). The backend is made of parts around one link; a part's methods are
wrapped when its class is made, so a method or a part added later cannot be left out."""

from __future__ import annotations

import pytest

from virtui.backends.base import BackendError
from virtui.backends.libvirt.backend import LibvirtBackend
from virtui.backends.libvirt.config import LibvirtDomainConfig
from virtui.backends.libvirt.connections import ConnectionOwner
from virtui.backends.libvirt.domains import LibvirtDomains
from virtui.backends.libvirt.handle import LibvirtPart, Link
from virtui.backends.libvirt.migration import LibvirtMigration
from virtui.backends.libvirt.networks import LibvirtNetworks
from virtui.backends.libvirt.transfers import LibvirtTransfers


def _parts(cls: type[LibvirtPart] = LibvirtPart) -> set[type[LibvirtPart]]:
    found = set()
    for sub in cls.__subclasses__():
        if sub.__module__.startswith("virtui."):
            found |= {sub, *_parts(sub)}
    return found


def test_every_public_method_of_every_part_is_counted() -> None:
    backend = LibvirtBackend("test:///default", "t")
    used: set[type] = {
        type(port)
        for port in (
            backend.domain_port(),
            backend.storage_port(),
            backend.domain_config_port(),
            backend.network_port(),
            backend.migration_port(),
        )
    }
    assert used == {
        LibvirtDomains,
        LibvirtTransfers,
        LibvirtDomainConfig,
        LibvirtNetworks,
        LibvirtMigration,
    }
    checked = 0
    for cls in _parts():
        for name, value in vars(cls).items():
            if name.startswith("_") or name in cls.UNCOUNTED or not callable(value):
                continue
            assert getattr(value, "__wrapped__", None) is not None, f"{cls.__name__}.{name}"
            checked += 1
    assert checked > 40
    assert LibvirtBackend.poll.__wrapped__ is not None  # type: ignore[attr-defined]


def test_long_jobs_name_methods_that_exist() -> None:
    """A renamed long job would quietly run on the shared connection."""
    for cls in _parts():
        public = {name for klass in cls.__mro__ for name in vars(klass)}
        assert public >= cls.LONG_JOBS, cls.__name__


def test_a_part_added_later_is_counted_without_a_word() -> None:
    """A new capability only subclasses LibvirtPart: its calls wait for no registry."""

    class Devices(LibvirtPart):
        def host_devices(self) -> str:
            return "read on " + str(self._link.pin.owner.conn)

    link = Link("test:///x", "x", False, lambda: ConnectionOwner("test:///x", None))
    devices = Devices(link)
    with pytest.raises(BackendError, match="not connected"):
        devices.host_devices()  # no connection: refused, never run beside a close
    link.owner = ConnectionOwner("test:///x", "conn", serial=False)
    assert devices.host_devices() == "read on conn"  # pinned to the owner while it ran
    assert getattr(link.pin, "owner", None) is None
