"""Plain data shared by backends, monitoring and the UI.

Nothing here imports Textual or libvirt: this package is where the two halves meet.
"""

from virtui.model.actions import ActionResult, DomainAction, DomainEvent
from virtui.model.devices import DiskCounters, DiskRates, NicCounters, NicRates
from virtui.model.domain import DomainKey, DomainSample, DomainState
from virtui.model.host import HostCpuSample, HostInfo, HostPoll, HostStatus
from virtui.model.stats import CpuMode, DomainStats
from virtui.model.timeline import LogEntry, Severity

__all__ = [
    "ActionResult",
    "CpuMode",
    "DiskCounters",
    "DiskRates",
    "DomainAction",
    "DomainEvent",
    "DomainKey",
    "DomainSample",
    "DomainState",
    "DomainStats",
    "HostCpuSample",
    "HostInfo",
    "HostPoll",
    "HostStatus",
    "LogEntry",
    "NicCounters",
    "NicRates",
    "Severity",
]
