"""Where domains ran on the host's physical CPUs: one reading, for virt-top's ``1`` view."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class VcpuPlacement:
    """One vCPU: its cumulative run time and the physical CPU it was on when read."""

    time_ns: int
    pcpu: int


@dataclass(frozen=True, slots=True)
class DomainPlacement:
    """The vCPUs of one running domain."""

    uuid: str
    name: str
    run_id: int
    vcpus: tuple[VcpuPlacement, ...]


@dataclass(frozen=True, slots=True)
class PhysicalCpuReading:
    """Per physical CPU: the host's cumulative busy and total time (empty tuples where
    the driver cannot tell), and every running domain's vCPU placement."""

    host: str
    monotonic_ns: int
    busy_ns: tuple[int, ...]
    total_ns: tuple[int, ...]
    domains: tuple[DomainPlacement, ...]
