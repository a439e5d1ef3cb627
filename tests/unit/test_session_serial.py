"""One host is polled by one thread at a time, whoever asks.

A named fake backend: it only counts how many calls are inside it at once. The fault it
stands for (two connects of one libvirt backend at once deadlocked inside libvirt, one
closing the old connection while the other registered events on the new one) happens
for real but not on demand.
"""

from __future__ import annotations

import threading
import time

from virtui.backends.base import Backend, BackendCapabilities
from virtui.model import HostInfo, HostPoll
from virtui.monitor.session import HostSession


class CountingBackend(Backend):
    """Records the most calls it ever had in flight at once. The first call inside waits
    for ``release``, so a second caller that is let in is caught there."""

    def __init__(self) -> None:
        super().__init__("fake://", "fake")
        self._lock = threading.Lock()
        self.inside = 0
        self.most = 0
        self.entered = threading.Event()
        self.release = threading.Event()

    def _enter(self) -> None:
        with self._lock:
            self.inside += 1
            self.most = max(self.most, self.inside)
        self.entered.set()
        self.release.wait(timeout=30)
        with self._lock:
            self.inside -= 1

    @property
    def capabilities(self) -> BackendCapabilities:
        return BackendCapabilities()

    def connect(self) -> HostInfo:
        self._enter()
        return HostInfo("fake", self.uri, "fake", "FAKE", 1, 1024)

    def poll(self) -> HostPoll:
        self._enter()
        return HostPoll(
            HostInfo("fake", self.uri, "fake", "FAKE", 1, 1024), time.monotonic_ns(), time.time()
        )

    def close(self) -> None:
        pass


def test_two_callers_never_poll_one_host_at_once() -> None:
    backend = CountingBackend()
    session = HostSession(backend)
    ready = threading.Barrier(5)

    def caller() -> None:
        ready.wait()
        session.poll_once()

    threads = [threading.Thread(target=caller) for _ in range(4)]
    for thread in threads:
        thread.start()
    ready.wait()
    assert backend.entered.wait(timeout=30)
    # Every caller is past the barrier: without the session's lock the other three walk
    # straight in while the first is held, well within this window.
    deadline = time.monotonic() + 0.5
    while backend.inside < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    backend.release.set()
    for thread in threads:
        thread.join()
    assert backend.most == 1
