"""Lines of the logs screen's timeline: events, connection changes, actions, warnings."""

from __future__ import annotations

import time
from dataclasses import dataclass
from enum import IntEnum


class Severity(IntEnum):
    """How much a line matters; ordered, so a filter can ask for ``warning`` and up."""

    DEBUG = 10
    INFO = 20
    WARNING = 30
    ERROR = 40

    @property
    def label(self) -> str:
        """Lower-case name, as shown and as typed in filters."""
        return self.name.lower()


@dataclass(frozen=True, slots=True)
class LogEntry:
    """One line of the timeline.

    ``kind`` says what it is: a libvirt event (``started``, ``stopped``, ``crashed``,
    ``reboot``, ``watchdog``, ``io-error``, ``block-job``, ``device-added``, ...), or
    ``connection``, ``action`` (done in virtui) and ``virtui`` (the app's own warnings).
    """

    wall_time: float
    host: str
    domain: str
    kind: str
    detail: str
    severity: Severity = Severity.INFO

    @classmethod
    def now(
        cls, host: str, domain: str, kind: str, detail: str, severity: Severity = Severity.INFO
    ) -> LogEntry:
        """An entry stamped with the current time."""
        return cls(time.time(), host, domain, kind, detail, severity)


@dataclass(frozen=True, slots=True)
class LogLocation:
    """Where a domain's QEMU log is, and whether virtui can read it from here."""

    path: str
    readable_here: bool
    note: str = ""  # why not, or where to look instead


@dataclass(frozen=True, slots=True)
class DaemonLogging:
    """A libvirt daemon's log settings, in libvirt's own syntax."""

    filters: str  # e.g. "1:qemu 3:object" ("" when none)
    outputs: str  # e.g. "3:file:/var/log/libvirt/libvirtd.log"
