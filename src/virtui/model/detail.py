"""What the detail view shows about one domain."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class DiskInfo:
    """One disk: its target, source and cumulative I/O counters."""

    target: str
    source: str
    device: str
    rd_bytes: int = 0
    wr_bytes: int = 0


@dataclass(frozen=True, slots=True)
class NicInfo:
    """One network interface, its counters and the addresses libvirt could tell."""

    name: str
    mac: str
    source: str
    model: str
    rx_bytes: int = 0
    tx_bytes: int = 0
    addresses: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class GraphicsInfo:
    """A graphical console (VNC, SPICE) and where to reach it."""

    kind: str
    listen: str
    port: int


@dataclass(frozen=True, slots=True)
class SnapshotInfo:
    """One snapshot of a domain."""

    name: str
    created: float
    state: str
    current: bool
    description: str = ""


@dataclass(frozen=True, slots=True)
class DomainDetail:
    """Everything the detail view shows, read in one go."""

    uuid: str
    name: str
    state: str
    reason: str
    os_type: str
    arch: str
    machine: str
    vcpus: int
    max_vcpus: int
    mem_kib: int
    max_mem_kib: int
    autostart: bool
    persistent: bool
    managed_save: bool
    monotonic_ns: int
    disks: tuple[DiskInfo, ...] = field(default_factory=tuple)
    nics: tuple[NicInfo, ...] = field(default_factory=tuple)
    graphics: tuple[GraphicsInfo, ...] = field(default_factory=tuple)
    has_console: bool = False
