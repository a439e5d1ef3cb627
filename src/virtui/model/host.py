"""What the UI knows about a host (one libvirt connection or other backend)."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from virtui.model.alerts import Alert
from virtui.model.domain import DomainSample


class HostStatus(enum.Enum):
    """Connection state of a host as shown to the user."""

    CONNECTING = "connecting"
    CONNECTED = "connected"
    LOST = "lost"  # was connected; the connection died
    RECONNECTING = "reconnecting"  # lost, waiting for the next attempt (backoff)
    REFUSED = "refused"  # nothing listens there (daemon down, wrong port)
    AUTH_FAILED = "auth failed"  # reached, but not let in
    NO_ANSWER = "no answer"  # a connect or poll has been waiting too long
    FAILED = "failed"  # any other reason it never connected


@dataclass(frozen=True, slots=True)
class HostInfo:
    """Static facts about a host, read once at connect time."""

    name: str
    uri: str
    hostname: str
    driver: str
    cpus: int
    memory_kib: int
    cpu_model: str = ""
    hypervisor_version: str = ""
    libvirt_version: str = ""
    topology: str = ""  # e.g. "1 node, 1 socket, 2 cores, 1 thread"
    # The host's own UUID (its capabilities'): one libvirtd reached under two names has
    # one, and a migration between them would be refused by libvirt as to itself.
    host_uuid: str = ""


@dataclass(frozen=True, slots=True)
class HostCpuSample:
    """Cumulative CPU time of the whole host, summed over all its CPUs (virNodeGetCPUStats).

    ``busy_ns`` is kernel + user time; ``total_ns`` adds idle and iowait.
    """

    busy_ns: int
    total_ns: int


@dataclass(frozen=True, slots=True)
class HostPoll:
    """Everything one poll of one host returned.

    ``monotonic_ns`` is the time the counters were read, on the monotonic clock of the
    polling process: CPU percentages divide by differences of it, never of wall time.
    ``wall_time`` is the epoch time of the same moment, for logs and CSV.
    """

    host: HostInfo
    monotonic_ns: int
    wall_time: float
    domains: tuple[DomainSample, ...] = field(default_factory=tuple)
    cpu: HostCpuSample | None = None
    free_memory_kib: int = 0
    alerts: tuple[Alert, ...] = ()  # firing in the host's monitoring (Prometheus)
