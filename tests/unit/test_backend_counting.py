"""Every call of the libvirt backend that reaches the connection is counted (the
connection is never closed under it, and on a remote host it is the only thread inside
libvirt's client): the wrapping is derived from the backend's own bases, so a method or
a capability class added later cannot be left out."""

from __future__ import annotations

from virtui.backends.libvirt.backend import LONG_JOBS, LibvirtBackend, capability_classes
from virtui.backends.libvirt.domains import LibvirtDomains
from virtui.backends.libvirt.migration import LibvirtMigration
from virtui.backends.libvirt.transfers import LibvirtTransfers


def test_every_public_method_of_every_capability_is_wrapped() -> None:
    classes = capability_classes()
    assert {LibvirtDomains, LibvirtMigration, LibvirtTransfers} <= set(classes)
    checked = 0
    for cls in classes:
        for name, value in vars(cls).items():
            if name.startswith("_") or not callable(value):
                continue
            method = getattr(LibvirtBackend, name)
            assert getattr(method, "__wrapped__", None) is not None, f"{cls.__name__}.{name}"
            checked += 1
    assert checked > 40
    assert LibvirtBackend.poll.__wrapped__ is not None  # type: ignore[attr-defined]


def test_long_jobs_name_methods_that_exist() -> None:
    """A renamed long job would quietly run on the shared connection."""
    public = {name for cls in capability_classes() for name in vars(cls)}
    assert public >= LONG_JOBS
