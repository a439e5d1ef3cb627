"""The logs port: where a host keeps QEMU logs, and its daemon's logging settings."""

from __future__ import annotations

from typing import Protocol

from virtui.model.timeline import DaemonLogging, LogLocation


class LogsPort(Protocol):
    """Logs of one host."""

    def qemu_log(self, name: str) -> LogLocation:
        """Where domain ``name``'s QEMU log is (and whether it can be read from here)."""

    def daemon_logging(self) -> DaemonLogging:
        """The host daemon's log filters and outputs."""

    def set_daemon_logging(self, filters: str | None, outputs: str | None) -> DaemonLogging:
        """Change the daemon's log filters and/or outputs; returns them as read back."""


class LogsHosts(Protocol):
    """The logs screen's view of every host."""

    def host_names(self) -> list[str]:
        """Every host's name."""

    def logs(self, host: str) -> LogsPort:
        """The host's logs port (raises when the host has none)."""
