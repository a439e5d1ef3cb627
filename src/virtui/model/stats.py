"""Derived figures: what the monitor computed from two successive samples."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from virtui.model.domain import DomainSample


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


@dataclass(frozen=True, slots=True)
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
