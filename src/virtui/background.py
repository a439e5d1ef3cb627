"""Blocking calls that may hang (a dead or silent host) run on daemon threads.

Textual's thread workers use asyncio's default executor: it is joined when the app
exits, so one libvirt open() stuck on a silent host would keep `q` from quitting, and it
has only min(32, CPUs + 4) threads, so a few stuck hosts would starve everything else.

Every call is registered by name while it runs: a poller passes ``once=True`` so a read
still in flight (a frozen host) is not joined by another one every few seconds, and tests
wait for ``idle()`` instead of sleeping.
"""

from __future__ import annotations

import contextvars
import logging
import queue
import threading
import time
from collections import Counter
from collections.abc import Callable

log = logging.getLogger("virtui.background")

_lock = threading.Lock()
_running: Counter[str] = Counter()


def run_detached(name: str, work: Callable[[], None], *, once: bool = False) -> bool:
    """Run ``work`` on its own daemon thread; an exception escaping it is logged.

    ``work`` reports its outcome itself (by posting a message), failures included. With
    ``once``, nothing starts while a call of the same name is still running (returns
    False then).
    """
    with _lock:
        if once and _running[name]:
            return False
        _running[name] += 1

    def guarded() -> None:
        try:
            work()
        except Exception:  # a bug, not a host failure: those are reported by work()
            log.exception("background call %s failed", name)
        finally:
            with _lock:
                _running[name] -= 1
                if not _running[name]:
                    del _running[name]

    # The caller's context goes along: a screen's thread still finds its app (Textual's
    # active_app) after the screen was closed while the call was in flight.
    context = contextvars.copy_context()
    threading.Thread(target=context.run, args=(guarded,), name=name, daemon=True).start()
    return True


class SerialWorker:
    """One daemon thread that runs the calls handed to it one after another, each
    registered by ``name`` while it runs, as ``run_detached`` registers its own. For work
    that repeats (a host's poll every second): starting a thread for each call cost the
    UI thread about 0.2 ms, an eighth of its time at 5,000 domains. The thread ends
    after IDLE_S without work, and a new one starts with the next call."""

    IDLE_S = 30.0

    def __init__(self, name: str) -> None:
        self.name = name
        self._queue: queue.SimpleQueue[tuple[contextvars.Context, Callable[[], None]]]
        self._queue = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._guard = threading.Lock()  # a call handed over never waits for a thread ending

    def submit(self, work: Callable[[], None]) -> None:
        """Run ``work`` after those handed over before it (in the caller's context)."""
        with _lock:
            _running[self.name] += 1
        with self._guard:
            self._queue.put((contextvars.copy_context(), work))
            if self._thread is None:
                self._thread = threading.Thread(target=self._loop, name=self.name, daemon=True)
                self._thread.start()

    def _loop(self) -> None:
        while True:
            try:
                context, work = self._queue.get(timeout=self.IDLE_S)
            except queue.Empty:
                with self._guard:
                    if self._queue.empty():
                        self._thread = None
                        return
                continue
            try:
                context.run(work)
            except Exception:  # a bug, not a host failure: those are reported by work()
                log.exception("background call %s failed", self.name)
            finally:
                with _lock:
                    _running[self.name] -= 1
                    if not _running[self.name]:
                        del _running[self.name]


def in_flight(prefix: str = "") -> list[str]:
    """Names of the calls running now (those starting with ``prefix``)."""
    with _lock:
        return sorted(name for name in _running if name.startswith(prefix) and _running[name])


def running(name: str) -> int:
    """How many calls named ``name`` run now."""
    with _lock:
        return _running[name]


def idle(prefix: str = "", timeout: float = 30.0) -> bool:
    """Wait until no call starting with ``prefix`` runs; False on timeout (tests)."""
    deadline = time.monotonic() + timeout
    while in_flight(prefix):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


_cancellable: dict[int, tuple[threading.Event, threading.Event]] = {}


class Cancellable:
    """Long work a person started (a transfer, a migration), registered while it runs
    so that a console that leaves can cancel it and give it a moment to clean up (an
    upload deletes the volume it made, a migration aborts with the guest at home)."""

    def __init__(self, flag: threading.Event) -> None:
        self.flag = flag
        self._done = threading.Event()

    def __enter__(self) -> Cancellable:
        with _lock:
            _cancellable[id(self)] = (self.flag, self._done)
        return self

    def __exit__(self, *_exc: object) -> None:
        with _lock:
            _cancellable.pop(id(self), None)
        self._done.set()


def cancel_all(wait_s: float) -> int:
    """Cancel every registered piece of work and wait up to ``wait_s`` in all for it to
    end; returns how many were cancelled."""
    with _lock:
        jobs = list(_cancellable.values())
    for flag, _done in jobs:
        flag.set()
    deadline = time.monotonic() + wait_s
    for _flag, done in jobs:
        done.wait(max(0.0, deadline - time.monotonic()))
    return len(jobs)
