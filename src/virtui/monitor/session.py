"""HostSession: connect, poll and reconnect one host; turn polls into stats.

Textual-free, so the TUI (from a thread worker) and batch mode drive the same code.
A session is polled by one caller at a time: the caller keeps polls from overlapping.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from virtui.backends.base import Backend, BackendError
from virtui.model import DomainStats, HostCpuSample, HostInfo, HostStatus
from virtui.model.alerts import Alert
from virtui.monitor.cpu import host_busy_percent
from virtui.monitor.rates import HostRates

RETRY_FIRST_S = 1.0
RETRY_MAX_S = 30.0

# Polls of many hosts on as many threads convoy on the GIL (each makes thousands of short
# libvirt calls): 20 hosts x 100 domains cost 3.4x the CPU of the same polls in turn. So
# only as many polls read at once as there are CPUs; but the limit is soft (a poll waits
# at most SLOT_WAIT_S, then reads anyway) and connecting holds no slot, so a host that
# hangs never holds the others up for long.
POLL_SLOTS = threading.BoundedSemaphore(max(2, os.cpu_count() or 2))
SLOT_WAIT_S = 0.25


_STATUS_FOR_REASON = {"refused": HostStatus.REFUSED, "auth failed": HostStatus.AUTH_FAILED}


@dataclass(frozen=True, slots=True)
class HostUpdate:
    """The outcome of one poll of one host, handed from a worker to the UI."""

    name: str
    uri: str
    status: HostStatus
    info: HostInfo | None = None
    stats: tuple[DomainStats, ...] = ()
    message: str = ""
    wall_time: float = 0.0
    host_cpu_pct: float | None = None  # 100% = the whole host (Solaris)
    free_memory_kib: int = 0
    alerts: tuple[Alert, ...] = ()  # firing in the host's monitoring (Prometheus)

    @property
    def answered(self) -> bool:
        """Whether the poll read the host: connected, and not a failed poll on a live
        connection (an error and no domains), which says nothing of what is there."""
        return self.status is HostStatus.CONNECTED and bool(self.stats or not self.message)


class HostSession:
    """One host: its backend, its rate state and its reconnect schedule."""

    def __init__(
        self,
        backend: Backend,
        clock: Callable[[], float] = time.monotonic,
        *,
        refresh: float | None = None,
        tags: tuple[str, ...] = (),
    ) -> None:
        self.backend = backend
        self.refresh = refresh  # this host's own poll interval, from the config
        self.tags = tags
        self._clock = clock
        self._last_started = float("-inf")
        self._rates = HostRates()
        self._info: HostInfo | None = None
        self._ever_connected = False
        self._retry_delay = RETRY_FIRST_S
        self._next_attempt = 0.0
        self._last_error = ""
        self._last_cpu: HostCpuSample | None = None
        self._host_pct: float | None = None  # the figure _last_cpu gave
        self._failure = HostStatus.FAILED
        # One poll of a host at a time, whoever asks (the poller, a refresh, a test's
        # poll_now): two connects on one backend at once deadlocked inside libvirt (one
        # closing the old connection while the other registered events on the new one).
        self._polling = threading.Lock()

    @property
    def name(self) -> str:
        """The host's label."""
        return self.backend.name

    def due(self) -> bool:
        """Whether this host's own refresh interval (if any) allows a poll now.

        A little slack, so a host with refresh = 2 x delay is polled every second tick.
        """
        if self.refresh is None:
            return True
        return self._clock() - self._last_started >= self.refresh * 0.9

    def poll_once(self) -> HostUpdate:
        """Connect if needed, then poll. Blocks (also while another poll of this host
        runs); never raises BackendError."""
        with self._polling:
            return self._poll_once()

    def _poll_once(self) -> HostUpdate:
        started = self._last_started = self._clock()
        if self._info is None:
            if self._next_attempt == float("inf"):
                return self._down(
                    f"{self._last_error} (not retried: Ctrl+R on the hosts screen tries again)",
                    HostStatus.FAILED,
                )
            if started < self._next_attempt:
                wait = self._next_attempt - started
                status = HostStatus.RECONNECTING if self._ever_connected else self._failure
                return self._down(f"retry in {wait:.0f}s — {self._last_error}", status)
            try:
                self._info = self.backend.connect()
            except BackendError as error:
                self._failure = _STATUS_FOR_REASON.get(error.reason, HostStatus.FAILED)
                if error.reason == "permanent" and not self._ever_connected:
                    # An unknown driver or a missing file does not heal by waiting.
                    self._last_error = error.message
                    self._next_attempt = float("inf")
                    return self._down(
                        f"{error.message} (not retried: Ctrl+R on the hosts screen tries again)",
                        HostStatus.FAILED,
                    )
                self._schedule_retry(error.message)
                return self._down(error.message, None if self._ever_connected else self._failure)
            self._ever_connected = True
            self._retry_delay = RETRY_FIRST_S
            self._rates = HostRates()
            self._last_cpu = None
        slot = POLL_SLOTS.acquire(timeout=SLOT_WAIT_S)
        try:
            poll = self.backend.poll()
        except BackendError as error:
            if error.connection_lost:
                self.backend.close()
                self._info = None
                self._schedule_retry(error.message)
                return self._down(error.message)
            return HostUpdate(
                self.name, self.backend.uri, HostStatus.CONNECTED, self._info, (), error.message
            )
        finally:
            if slot:
                POLL_SLOTS.release()
        host_pct = None
        if poll.cpu is not None and poll.cpu == self._last_cpu:
            # The same reading again (Prometheus between two scrapes): the same figure.
            host_pct = self._host_pct
        elif poll.cpu is not None and self._last_cpu is not None:
            host_pct = host_busy_percent(
                self._last_cpu.busy_ns,
                poll.cpu.busy_ns,
                self._last_cpu.total_ns,
                poll.cpu.total_ns,
            )
        self._last_cpu, self._host_pct = poll.cpu, host_pct
        return HostUpdate(
            name=self.name,
            uri=self.backend.uri,
            status=HostStatus.CONNECTED,
            info=poll.host,
            stats=self._rates.update(poll),
            wall_time=poll.wall_time,
            host_cpu_pct=host_pct,
            free_memory_kib=poll.free_memory_kib,
            alerts=poll.alerts,
        )

    def retry_now(self) -> None:
        """Forget the backoff: the next poll tries to connect at once (the user asked)."""
        self._next_attempt = 0.0
        self._retry_delay = RETRY_FIRST_S

    def close(self) -> None:
        """Close the backend."""
        self.backend.close()
        self._info = None

    def _schedule_retry(self, message: str) -> None:
        self._last_error = message
        self._next_attempt = self._clock() + self._retry_delay
        self._retry_delay = min(self._retry_delay * 2, RETRY_MAX_S)

    def _down(self, message: str, status: HostStatus | None = None) -> HostUpdate:
        if status is None:
            status = HostStatus.LOST if self._ever_connected else HostStatus.FAILED
        return HostUpdate(self.name, self.backend.uri, status, None, (), message)
