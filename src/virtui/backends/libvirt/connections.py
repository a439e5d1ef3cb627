"""Opening libvirt connections, with one shared connection per embedded-driver root.

libvirt 9.0 registers the QEMU driver again on every open of a ``qemu:///embed`` URI and
refuses after about 16 in one process ("Too many drivers, cannot register QEMU"), even
when earlier connections were closed. So an embedded root gets one connection for the
life of the process, shared by the demo and every backend on it, and never closed.
"""

from __future__ import annotations

import threading
from urllib.parse import urlsplit

import libvirt

_lock = threading.Lock()
_shared: dict[str, libvirt.virConnect] = {}


def is_embedded(uri: str) -> bool:
    """True for URIs of libvirt's in-process embedded drivers."""
    parts = urlsplit(uri)
    return parts.path.rstrip("/") == "/embed" and not parts.hostname


def open_connection(uri: str, *, readonly: bool = False) -> libvirt.virConnect:
    """A connection to ``uri``; for an embedded root, the process-wide shared one."""
    if not is_embedded(uri):
        return libvirt.openReadOnly(uri) if readonly else libvirt.open(uri)
    with _lock:
        conn = _shared.get(uri)
        if conn is None:
            conn = _shared[uri] = libvirt.open(uri)
        return conn


def release_connection(uri: str, conn: libvirt.virConnect) -> None:
    """Close a connection from open_connection; shared embedded ones stay open."""
    if is_embedded(uri) and _shared.get(uri) is conn:
        return
    conn.close()
