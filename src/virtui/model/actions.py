"""Operations on domains, their results, and events reported by a host."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from virtui.model.domain import DomainKey
from virtui.model.timeline import Severity


class DomainAction(enum.Enum):
    """A lifecycle operation, with what the UI says while and after it runs."""

    START = ("start", "starting", "started", False)
    SHUTDOWN = (
        "shut down",
        "shutting down",
        "asked to shut down (by ACPI: a guest that ignores it runs on; Ctrl+K forces it off)",
        False,
    )
    REBOOT = ("reboot", "rebooting", "asked to reboot", False)
    DESTROY = ("force off", "forcing off", "forced off", True)
    RESET = ("reset", "resetting", "reset (like the reset button)", True)
    SUSPEND = ("pause", "pausing", "paused", False)
    RESUME = ("resume", "resuming", "resumed", False)
    MANAGED_SAVE = ("save", "saving", "saved (start restores it)", False)
    AUTOSTART_ON = ("autostart on", "setting autostart", "will start with the host", False)
    AUTOSTART_OFF = ("autostart off", "clearing autostart", "will not start with the host", False)
    UNDEFINE = ("undefine", "undefining", "undefined (storage kept)", True)
    UNDEFINE_WITH_STORAGE = (
        "undefine and delete storage",
        "undefining",
        "undefined, storage deleted",
        True,
    )

    def __init__(self, verb: str, progress: str, done: str, destructive: bool) -> None:
        self.verb = verb
        self.progress = progress
        self.done = done
        self.destructive = destructive


@dataclass(frozen=True, slots=True)
class ActionResult:
    """What happened when one action ran on one domain."""

    key: DomainKey
    name: str
    action: str
    ok: bool
    message: str


@dataclass(frozen=True, slots=True)
class DomainEvent:
    """Something a host reported about a domain (libvirt lifecycle event and the like)."""

    host: str
    uuid: str
    name: str
    kind: str
    detail: str
    wall_time: float
    severity: Severity = Severity.INFO
