"""Storage pools and volumes as the screens see them (sizes in bytes)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class PoolInfo:
    """One storage pool of one host."""

    host: str
    name: str
    uuid: str
    type: str  # dir, fs, logical, ...
    state: str  # running, inactive, building, degraded, inaccessible
    autostart: bool
    persistent: bool
    capacity: int
    allocation: int
    available: int
    path: str  # the pool's target path ("" when it has none)
    volumes: int  # how many volumes it holds (0 when inactive)

    @property
    def active(self) -> bool:
        """True when the pool is started (its volumes can be listed and used)."""
        return self.state in ("running", "degraded")

    @property
    def used_pct(self) -> float | None:
        """Allocation as a share of capacity; None when the pool reports no capacity."""
        return 100.0 * self.allocation / self.capacity if self.capacity else None


@dataclass(frozen=True, slots=True)
class VolumeInfo:
    """One volume of a pool, and the defined domains whose disks use it."""

    host: str
    pool: str
    name: str
    path: str
    format: str  # raw, qcow2, dir, ... ("" when libvirt does not say)
    capacity: int
    allocation: int
    used_by: tuple[str, ...] = ()
    incomplete: bool = False  # an upload into it did not finish: deleted at next connect


@dataclass(frozen=True, slots=True)
class TransferProgress:
    """How far an upload or download has come."""

    done: int
    total: int
