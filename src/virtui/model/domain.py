"""What one poll tells about one domain."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import NamedTuple

from virtui.model.devices import DiskCounters, NicCounters


class DomainState(enum.Enum):
    """A domain's run state, with the words virsh uses for it."""

    NOSTATE = "no state"
    RUNNING = "running"
    BLOCKED = "idle"
    PAUSED = "paused"
    SHUTDOWN = "in shutdown"
    SHUTOFF = "shut off"
    CRASHED = "crashed"
    PMSUSPENDED = "pmsuspended"
    UNKNOWN = "unknown"

    _active: bool  # set below for each member

    @property
    def is_active(self) -> bool:
        """True while a guest process exists (its CPU counter is meaningful)."""
        return self._active


# An attribute of each member rather than a set lookup: this is asked for every domain
# of every poll, and an Enum member hashes in Python.
for _state in DomainState:
    _state._active = _state not in (DomainState.SHUTOFF, DomainState.CRASHED, DomainState.UNKNOWN)

# virDomainState values, in libvirt's order (also what prometheus-libvirt-exporter's
# libvirt_domain_state_code reports).
STATES_BY_CODE = (
    DomainState.NOSTATE,
    DomainState.RUNNING,
    DomainState.BLOCKED,
    DomainState.PAUSED,
    DomainState.SHUTDOWN,
    DomainState.SHUTOFF,
    DomainState.CRASHED,
    DomainState.PMSUSPENDED,
)


def state_from_code(code: int) -> DomainState:
    """Map a virDomainState number to DomainState (UNKNOWN for numbers libvirt adds)."""
    return STATES_BY_CODE[code] if 0 <= code < len(STATES_BY_CODE) else DomainState.UNKNOWN


class DomainKey(NamedTuple):
    """Stable identity of a domain across polls: the host it lives on and its UUID.

    A named tuple rather than a dataclass: it is hashed for every domain of every poll
    (in the rates, the store, the table), and a tuple hashes in C.
    """

    host: str
    uuid: str

    def __str__(self) -> str:
        return f"{self.host}/{self.uuid}"


# Samples and stats are never changed once built (build a new one with
# dataclasses.replace): they cross from the poll thread to the UI. They are not declared
# frozen because a frozen dataclass costs six times as much to build, and a poll of
# 1,000 domains builds 2,000 of them every second.
@dataclass(slots=True)
class DomainSample:
    """One reading of a domain's counters, as the backend returned it.

    ``cpu_time_ns`` is cumulative CPU time of the whole guest (all vCPUs and emulator
    threads); ``vcpu_times_ns`` holds per-vCPU cumulative times where the driver reports
    them, else it is empty. ``run_id`` changes whenever the guest process restarts, so a
    counter that jumps back is never read as negative usage. ``read_ns`` is when this
    domain's counters were read (monotonic), where that differs from the poll's time, as
    when domains are read one by one; 0 means "at the poll's time".
    """

    key: DomainKey
    name: str
    state: DomainState
    vcpus: int
    mem_kib: int
    max_mem_kib: int
    cpu_time_ns: int
    vcpu_times_ns: tuple[int, ...] = ()
    run_id: int = -1
    read_ns: int = 0
    saved: bool = False  # shut off with a managed save image: start restores it
    # Block devices and network interfaces with their counters; None where the driver
    # cannot tell (an empty tuple: it can, and the domain has none).
    disks: tuple[DiskCounters, ...] | None = None
    nics: tuple[NicCounters, ...] | None = None
    autostart: bool | None = None  # started with the host; None: not known
    address: str = ""  # a guest address of a running domain ("" while not known)
    address_source: str = ""  # which told it: lease, agent or arp
