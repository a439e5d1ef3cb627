"""A domain's text console as a blocking byte stream over a libvirt stream."""

from __future__ import annotations

import contextlib
import threading
import time

import libvirt

from virtui.backends.libvirt.connections import ConnectionOwner


class LibvirtConsole:
    """A console over a non-blocking stream.

    A blocking recv() in one thread and send() in another deadlock on the stream's lock,
    so the stream is non-blocking: libvirt's event-loop thread signals when it is
    readable, and each call returns at once. On a remote host the console has a
    connection of its own (``adopt_connection``), entered by one thread at a time and
    closed with the console.
    """

    POLL_S = 0.2

    def __init__(self, stream: libvirt.virStream) -> None:
        self._stream = stream
        self._readable = threading.Event()
        self._closed = False
        self._owner: ConnectionOwner | None = None
        stream.eventAddCallback(
            libvirt.VIR_STREAM_EVENT_READABLE
            | libvirt.VIR_STREAM_EVENT_ERROR
            | libvirt.VIR_STREAM_EVENT_HANGUP,
            self._on_event,
            None,
        )

    def _on_event(self, _stream: libvirt.virStream, _events: int, _opaque: object) -> None:
        self._readable.set()

    def adopt_connection(self, owner: ConnectionOwner) -> None:
        """Use ``owner``'s connection one thread at a time; retire it at close."""
        self._owner = owner

    def _inside(self) -> contextlib.AbstractContextManager[object]:
        return self._owner.one_at_a_time() if self._owner else contextlib.nullcontext()

    def recv(self, size: int) -> bytes:
        while not self._closed:
            try:
                with self._inside():
                    data = self._stream.recv(size)
            except libvirt.libvirtError:
                return b""
            if isinstance(data, bytes):
                return data  # b"" is the end of the console
            self._readable.wait(self.POLL_S)  # -2: nothing yet
            self._readable.clear()
        return b""

    def send(self, data: bytes) -> None:
        view = memoryview(data)
        while view and not self._closed:
            try:
                with self._inside():
                    sent = self._stream.send(bytes(view))
            except libvirt.libvirtError:
                return
            if sent == -2:  # would block
                time.sleep(0.01)
                continue
            view = view[max(0, sent) :]

    def close(self) -> None:
        self._closed = True
        with self._inside():
            with contextlib.suppress(libvirt.libvirtError):
                self._stream.eventRemoveCallback()
            with contextlib.suppress(libvirt.libvirtError):
                self._stream.abort()
        if self._owner is not None:
            self._owner.retire()
