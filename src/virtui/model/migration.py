"""Live migration as the screens see it: options, pre-checks, progress and outcome."""

from __future__ import annotations

import enum
from dataclasses import dataclass


class CopyStorage(enum.Enum):
    """What happens to the guest's disks: shared (nothing copied), or copied."""

    NONE = "none"  # the same paths are on shared storage, or the target has them
    ALL = "all"  # every disk copied to the target (non-shared storage)
    INCREMENTAL = "incremental"  # only what differs from a base image the target has


class Transport(enum.Enum):
    """How the migration is driven and where its data flows."""

    DIRECT = "direct"  # virtui drives both hosts; QEMU to QEMU directly
    P2P = "p2p"  # the source libvirtd drives it (needs to reach the target itself)
    TUNNELLED = "tunnelled"  # P2P, data through the libvirtd connection (one port)


@dataclass(frozen=True, slots=True)
class MigrationOptions:
    """What the user chose; the defaults are the sane ones shown in the form."""

    live: bool = True  # False: an offline migration (the definition only)
    persistent: bool = True  # defined on the target
    undefine_source: bool = True  # the source's definition removed after success
    copy_storage: CopyStorage = CopyStorage.NONE
    transport: Transport = Transport.DIRECT
    bandwidth_mib: int = 0  # MiB/s; 0: unlimited
    auto_converge: bool = False  # throttle the guest's vCPUs when it dirties too fast
    postcopy: bool = False  # switch to post-copy when pre-copy does not converge
    # The migration network: the target's address QEMU's data goes to (and the target
    # listens on) instead of the host's own, as virsh's --migrateuri/--listen-address.
    address: str = ""
    tls: bool = False  # QEMU's data over TLS (the hosts' certificates), as virsh --tls
    max_downtime_ms: int = 0  # the pause the switch-over may take; 0: libvirt's (300 ms)

    def describe(self) -> list[str]:
        """The options as the confirmation names them."""
        parts = ["live" if self.live else "offline (definition only)"]
        parts.append("persistent on the target" if self.persistent else "transient on the target")
        if self.undefine_source:
            parts.append("source definition removed")
        if self.copy_storage is not CopyStorage.NONE:
            parts.append(f"copy storage: {self.copy_storage.value}")
        parts.append(f"transport: {self.transport.value}")
        if self.bandwidth_mib:
            parts.append(f"bandwidth ≤ {self.bandwidth_mib} MiB/s")
        if self.auto_converge:
            parts.append("auto-converge")
        if self.postcopy:
            parts.append("post-copy if it does not converge (P in the panel: now)")
        if self.address:
            parts.append(f"over {self.address}")
        if self.tls:
            parts.append("TLS")
        if self.max_downtime_ms:
            parts.append(f"downtime ≤ {self.max_downtime_ms} ms")
        return parts


@dataclass(frozen=True, slots=True)
class Precheck:
    """One check made before anything moves: ✓ or ✗ with the reason."""

    name: str
    ok: bool
    detail: str

    @property
    def line(self) -> str:
        """``✓ memory: 1.2 GiB free, 512 MiB needed``."""
        return f"{'✓' if self.ok else '✗'} {self.name}: {self.detail}"


@dataclass(frozen=True, slots=True)
class MigrationJob:
    """One reading of the migration job (``virDomainGetJobStats``): bytes, ms."""

    elapsed_ms: int
    data_total: int
    data_processed: int
    data_remaining: int
    memory_dirty_rate: int  # pages/s
    memory_page_size: int
    iteration: int
    expected_downtime_ms: int
    disk_total: int = 0
    disk_processed: int = 0
    postcopy: bool = False


@dataclass(frozen=True, slots=True)
class MigrationProgress:
    """What the row and the panel show of a migration in flight."""

    domain: str
    source: str
    target: str
    phase: str  # starting, copying disks, copying memory, post-copy, finishing
    processed: int
    remaining: int
    total: int
    rate: float | None  # bytes/s over the last reading; None until two readings
    dirty_rate: float  # bytes/s the guest dirties
    iteration: int
    expected_downtime_ms: int
    eta_s: float | None
    elapsed_s: float

    @property
    def percent(self) -> float | None:
        """How much of the data is sent (None while the total is unknown)."""
        return 100.0 * self.processed / self.total if self.total else None


@dataclass(frozen=True, slots=True)
class MigrationOutcome:
    """How a migration ended, read back from both hosts."""

    domain: str
    source: str
    target: str
    ok: bool
    message: str  # what happened, and where the guest is now
    downtime_ms: int | None = None


@dataclass(frozen=True, slots=True)
class MigrationSource:
    """What the target is checked against: the guest's facts from its XML."""

    host: str
    uuid: str
    name: str
    active: bool
    xml: str
    memory_kib: int
    virt_type: str
    arch: str
    machine: str
    emulator: str
    cpu_mode: str  # custom, host-model, host-passthrough, maximum, or "" (default)
    cpu_xml: str
    disks: tuple[str, ...]
    networks: tuple[str, ...]
    bridges: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class MigrationRow:
    """One migration as its panel row shows it: in flight (its latest reading, if any)
    or finished (its outcome)."""

    name: str
    source: str
    target: str
    state: str  # running, cancelling, moved, cancelled or failed
    shown: MigrationProgress | None
    outcome: MigrationOutcome | None

    @property
    def in_flight(self) -> bool:
        return self.state in ("running", "cancelling")
