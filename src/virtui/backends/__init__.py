"""Backends: the adapter layer between virtui and the systems it watches."""

from __future__ import annotations

from virtui.backends.base import Backend, BackendCapabilities, BackendError
from virtui.backends.naming import host_label, unique_labels


def open_backend(uri: str, name: str, *, readonly: bool = False) -> Backend:
    """The backend for a URI: ``replay:///file.json`` replays a recording (always
    read-only), ``prometheus+http://...`` reads a target from Prometheus (read-only),
    anything else is a libvirt URI. Nothing is connected yet: call
    ``connect()`` in a worker."""
    if uri.startswith("prometheus"):
        from virtui.backends.prometheus.backend import PrometheusBackend

        return PrometheusBackend(uri, name)
    if uri.startswith("replay://"):
        from virtui.backends.replay import ReplayBackend

        return ReplayBackend(uri, name)
    from virtui.backends.libvirt.backend import LibvirtBackend

    return LibvirtBackend(uri, name, readonly=readonly)


def set_keepalive(interval_s: int, count: int) -> None:
    """libvirt keepalive for every connection opened from now on (``-k``/``-K``)."""
    from virtui.backends.libvirt.backend import set_keepalive as set_libvirt_keepalive

    set_libvirt_keepalive(interval_s, count)


__all__ = [
    "Backend",
    "BackendCapabilities",
    "BackendError",
    "host_label",
    "open_backend",
    "set_keepalive",
    "unique_labels",
]
