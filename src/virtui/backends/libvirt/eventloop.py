"""The one libvirt event loop of the process.

libvirt needs an event loop implementation registered before any ``open`` (for the
embedded QEMU driver, keepalive and domain events), and only one per process. We use
libvirt's default implementation driven by a daemon thread: it is independent of any
asyncio loop, so it survives Textual's loop, pytest's per-test loops and batch mode alike,
and it never waits for an asyncio loop to wake up while calls run in worker threads.
"""

from __future__ import annotations

import threading

import libvirt

_lock = threading.Lock()
_thread: threading.Thread | None = None


def _quiet(_ctx: object, _err: object) -> None:
    """libvirt's default handler prints every error to stderr, which is the terminal
    Textual draws on; errors still reach us as exceptions."""


def _run() -> None:
    while True:
        libvirt.virEventRunDefaultImpl()


def ensure_event_loop() -> None:
    """Register libvirt's default event implementation and start its thread, once."""
    global _thread
    with _lock:
        if _thread is not None:
            return
        libvirt.registerErrorHandler(_quiet, None)
        libvirt.virEventRegisterDefaultImpl()
        _thread = threading.Thread(target=_run, name="libvirt-events", daemon=True)
        _thread.start()
