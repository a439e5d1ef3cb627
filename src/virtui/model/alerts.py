"""Alerts firing in the monitoring a host is read from (Prometheus' rules)."""

from __future__ import annotations

from dataclasses import dataclass

from virtui.model.timeline import Severity


@dataclass(frozen=True, slots=True)
class Alert:
    """One firing alert of a host, or of one of its domains (``uuid`` set).

    ``labels`` are the alert's own, sorted, for telling two alerts of one rule apart.
    """

    name: str
    severity: str  # the rule's ``severity`` label: critical, warning, … ("" if none)
    summary: str  # its ``summary`` (or ``description``) annotation
    uuid: str = ""  # the domain it is about ("": the host)
    domain: str = ""  # that domain's name, as the alert says it
    since: str = ""  # when it became active (RFC 3339, as Prometheus says it)
    labels: tuple[tuple[str, str], ...] = ()

    @property
    def level(self) -> Severity:
        """The timeline's severity for it: critical (or error, page) is an error."""
        return (
            Severity.ERROR if self.severity in ("critical", "error", "page") else Severity.WARNING
        )

    @property
    def line(self) -> str:
        """``HighCpu (warning): one vCPU spins``."""
        kind = f" ({self.severity})" if self.severity else ""
        return f"{self.name}{kind}: {self.summary}" if self.summary else f"{self.name}{kind}"
