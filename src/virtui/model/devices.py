"""Per-device I/O counters as a poll reads them, and the rates computed from two reads."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class DiskCounters:
    """One block device of a domain: cumulative counters since its guest started.

    ``capacity`` and ``allocation`` are in bytes, -1 where the driver does not say.
    """

    name: str  # the target device: vda, sdb
    path: str  # the source file or device ("" for a network disk or an empty drive)
    rd_bytes: int
    wr_bytes: int
    rd_reqs: int
    wr_reqs: int
    capacity: int = -1
    allocation: int = -1


@dataclass(frozen=True, slots=True)
class NicCounters:
    """One network interface of a domain: cumulative counters since its guest started."""

    name: str  # the host-side device: vnet0, tap0
    rx_bytes: int
    tx_bytes: int
    rx_packets: int = 0
    tx_packets: int = 0
    rx_errors: int = 0
    tx_errors: int = 0
    rx_drops: int = 0
    tx_drops: int = 0
    mac: str = ""
    bridge: str = ""  # the bridge or network it is plugged into


@dataclass(frozen=True, slots=True)
class DiskRates:
    """One block device's traffic per second between two reads of the same run."""

    disk: DiskCounters
    rd_bps: float
    wr_bps: float
    rd_iops: float
    wr_iops: float


@dataclass(frozen=True, slots=True)
class NicRates:
    """One network interface's traffic per second between two reads of the same run."""

    nic: NicCounters
    rx_bps: float
    tx_bps: float
    rx_pps: float
    tx_pps: float
