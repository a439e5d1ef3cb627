"""Derived figures: what the monitor computed from two successive samples."""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from virtui.model.devices import DiskRates, NicRates
from virtui.model.domain import DomainSample

Rates = TypeVar("Rates", DiskRates, NicRates)


class CpuMode(enum.Enum):
    """How a CPU percentage is scaled.

    IRIX: 100% is one CPU (top's default); a 4-vCPU guest can read 400%.
    SOLARIS: 100% is all logical CPUs of the host (virt-top's default).
    """

    IRIX = "irix"
    SOLARIS = "solaris"

    @property
    def label(self) -> str:
        """Short name shown on screen."""
        return "Irix" if self is CpuMode.IRIX else "Solaris"

    @property
    def meaning(self) -> str:
        """What 100% means in this mode, for headers and axes."""
        return "100% = 1 CPU" if self is CpuMode.IRIX else "100% = all host CPUs"

    def toggled(self) -> CpuMode:
        """The other mode."""
        return CpuMode.SOLARIS if self is CpuMode.IRIX else CpuMode.IRIX


@dataclass(slots=True)  # not frozen, for speed: see DomainSample
class DomainStats:
    """A sample plus the rates computed against the previous sample of the same run.

    ``cpu_pct_irix`` is None when no rate can be computed yet (first sample, guest not
    running, counter reset, zero interval). Per-vCPU rates follow the same rule.
    """

    sample: DomainSample
    host_cpus: int
    cpu_pct_irix: float | None
    vcpu_pct_irix: tuple[float, ...] = ()
    host_memory_kib: int = 0
    # Per-device traffic; None until two reads of the same run exist (or the driver
    # cannot tell). A device whose counters went back has no entry.
    disk_rates: tuple[DiskRates, ...] | None = None
    nic_rates: tuple[NicRates, ...] | None = None

    @property
    def disk_rd_bps(self) -> float | None:
        """Bytes read per second, all disks."""
        return _total(self.disk_rates, lambda rate: rate.rd_bps)

    @property
    def disk_wr_bps(self) -> float | None:
        """Bytes written per second, all disks."""
        return _total(self.disk_rates, lambda rate: rate.wr_bps)

    @property
    def disk_rd_iops(self) -> float | None:
        """Read requests per second, all disks."""
        return _total(self.disk_rates, lambda rate: rate.rd_iops)

    @property
    def disk_wr_iops(self) -> float | None:
        """Write requests per second, all disks."""
        return _total(self.disk_rates, lambda rate: rate.wr_iops)

    @property
    def net_rx_bps(self) -> float | None:
        """Bytes received per second, all interfaces."""
        return _total(self.nic_rates, lambda rate: rate.rx_bps)

    @property
    def net_tx_bps(self) -> float | None:
        """Bytes sent per second, all interfaces."""
        return _total(self.nic_rates, lambda rate: rate.tx_bps)

    def cpu_pct(self, mode: CpuMode) -> float | None:
        """The domain's CPU percentage in the given mode."""
        if self.cpu_pct_irix is None:
            return None
        if mode is CpuMode.IRIX:
            return self.cpu_pct_irix
        return self.cpu_pct_irix / max(1, self.host_cpus)

    def vcpu_pct(self, mode: CpuMode) -> tuple[float, ...]:
        """Per-vCPU percentages in the given mode (empty when unknown)."""
        if mode is CpuMode.IRIX:
            return self.vcpu_pct_irix
        return tuple(value / max(1, self.host_cpus) for value in self.vcpu_pct_irix)

    @property
    def mem_pct(self) -> float | None:
        """Memory in use as a share of the host's memory, like top's %MEM."""
        if self.host_memory_kib <= 0 or not self.sample.state.is_active:
            return None
        return 100.0 * self.sample.mem_kib / self.host_memory_kib

    def cpu_ceiling(self, mode: CpuMode) -> float:
        """Full scale for a graph of this domain: all its vCPUs busy, in this mode."""
        full = 100.0 * max(1, self.sample.vcpus)
        return full if mode is CpuMode.IRIX else full / max(1, self.host_cpus)


def _total(rates: tuple[Rates, ...] | None, figure: Callable[[Rates], float]) -> float | None:
    """One figure summed over a domain's devices; None when they are not known."""
    return None if rates is None else sum(figure(rate) for rate in rates)
