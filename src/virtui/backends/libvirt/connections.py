"""Opening libvirt connections, with one shared connection per embedded-driver root.

libvirt 9.0 registers the QEMU driver again on every open of a ``qemu:///embed`` URI and
refuses after about 16 in one process ("Too many drivers, cannot register QEMU"), even
when earlier connections were closed. So an embedded root gets one connection for the
life of the process, shared by the demo and every backend on it, and never closed.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import libvirt

_lock = threading.Lock()
_shared: dict[str, libvirt.virConnect] = {}


def is_embedded(uri: str) -> bool:
    """True for URIs of libvirt's in-process embedded drivers."""
    parts = urlsplit(uri)
    return parts.path.rstrip("/") == "/embed" and not parts.hostname


def without_prompts(uri: str) -> str:
    """``uri`` with ssh told never to prompt (``no_tty=1``), unless the user chose.

    ssh would otherwise ask for a password on the terminal the TUI draws on; virtui never
    asks for passwords: keys and agents work as they do for virsh.
    """
    parts = urlsplit(uri)
    if not parts.scheme.endswith("+ssh"):
        return uri
    query = parse_qsl(parts.query, keep_blank_values=True)
    if any(key == "no_tty" for key, _ in query):
        return uri
    return urlunsplit(parts._replace(query=urlencode([*query, ("no_tty", "1")], safe="/")))


def open_connection(uri: str, *, readonly: bool = False) -> libvirt.virConnect:
    """A connection to ``uri``; for an embedded root, the process-wide shared one."""
    uri = without_prompts(uri)
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


class ConnectionOwner:
    """One connection and the calls in flight on it.

    libvirt frees a connection on close even while another thread is inside a call on
    it (a storage listing, say): the process then crashes. So a backend never closes its
    connection itself; it retires the owner, which closes the connection when the last
    call in flight returns. A call that never returns (a frozen host) keeps the handle
    open: it is abandoned, never closed under a caller.

    ``serial``: one thread at a time inside libvirt on this connection (``one_at_a_time``).
    libvirt 9.0's RPC client crashes the process (SIGSEGV in its I/O loop) when its
    keepalive gives up on a frozen host while two or more threads wait on the same
    connection; with one, that thread gets "connection closed due to keepalive timeout".
    So every connection with keepalive (a remote one) is serial; in-process drivers
    (test, embed) have no RPC client and stay concurrent.
    """

    def __init__(self, uri: str, conn: libvirt.virConnect, *, serial: bool = False) -> None:
        self.uri = uri
        self.conn = conn
        self.serial = serial
        self._gate = threading.Lock()
        self._lock = threading.Lock()
        self._calls = 0
        self._retired = False
        self._closed = False

    @contextlib.contextmanager
    def one_at_a_time(self) -> Iterator[libvirt.virConnect]:
        """The connection, held by this thread alone while inside (when serial)."""
        if not self.serial:
            yield self.conn
            return
        with self._gate:
            yield self.conn

    def enter(self) -> bool:
        """Count one more call in flight; False once retired (no new calls)."""
        with self._lock:
            if self._retired:
                return False
            self._calls += 1
            return True

    def leave(self) -> None:
        """One call returned; the last one out of a retired owner closes it."""
        with self._lock:
            self._calls -= 1
            close = self._retired and self._calls == 0 and not self._closed
            self._closed = self._closed or close
        if close:
            self._release()

    def retire(self) -> None:
        """No new calls; close now if none is in flight, else when the last returns."""
        with self._lock:
            self._retired = True
            close = self._calls == 0 and not self._closed
            self._closed = self._closed or close
        if close:
            self._release()

    @property
    def calls_in_flight(self) -> int:
        """How many calls are using the connection now."""
        with self._lock:
            return self._calls

    @property
    def closed(self) -> bool:
        """True once the connection was handed back to libvirt."""
        with self._lock:
            return self._closed

    def _release(self) -> None:
        with contextlib.suppress(libvirt.libvirtError):  # already dead: nothing to free
            release_connection(self.uri, self.conn)
