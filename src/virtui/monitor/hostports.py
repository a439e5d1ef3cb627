"""HostPorts: a host's ports found by its name among the sessions.

Screens, controllers and the review desk know hosts by name and never hold a backend;
they ask this object for the port of the capability they need (virtui.ports) and call it
from a background thread. The few answers that need no call to a host (which hosts have
storage, whether a host is local) are worked out from the last poll.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from virtui.backends.base import Backend, BackendError
from virtui.backends.naming import is_local
from virtui.model import HostStatus
from virtui.model.timeline import DaemonLogging, LogLocation
from virtui.monitor.session import HostSession
from virtui.monitor.store import DomainStore
from virtui.ports.backups import BackupPort
from virtui.ports.domain_config import DomainConfigPort
from virtui.ports.domains import DomainsPort
from virtui.ports.logs import LogsPort
from virtui.ports.migration import MigrationPort
from virtui.ports.networks import NetworkConfigPort, NetworksPort
from virtui.ports.storage import StoragePort


class HostPorts:
    """Satisfies StorageHosts, LogsHosts and DomainConfigHosts over the app's (or the CLI's)
    sessions; ``store`` holds what the last poll of each host said."""

    def __init__(self, sessions: Callable[[], Sequence[HostSession]], store: DomainStore) -> None:
        self._sessions = sessions
        self._store = store

    def backend(self, host: str) -> Backend | None:
        """The host's backend (None: no such host)."""
        return next((s.backend for s in self._sessions() if s.name == host), None)

    def _known(self, host: str) -> Backend:
        backend = self.backend(host)
        if backend is None:
            raise BackendError(f"no host named {host}")
        return backend

    def host_names(self) -> list[str]:
        """Every host's name."""
        return [session.name for session in self._sessions()]

    # -- domains --------------------------------------------------------------------------

    def acting_backend(self, host: str) -> Backend | None:
        """The backend that acts on a host's domains: a read-only fleet entry with
        ``via=`` hands over to that libvirt host."""
        backend = self.backend(host)
        if backend is not None and backend.actions_via:
            return self.backend(backend.actions_via) or backend
        return backend

    def domains(self, host: str) -> DomainsPort:
        """The port that acts on the host's domains."""
        backend = self.acting_backend(host)
        port = backend.domain_port() if backend is not None else None
        if port is None:
            raise BackendError(f"{host}: domains cannot be changed through this backend")
        return port

    # -- storage --------------------------------------------------------------------------

    def storage_hosts(self) -> dict[str, str]:
        """Every host by name -> "" when its storage can be read now, else why not."""
        found: dict[str, str] = {}
        for session in self._sessions():
            update = self._store.hosts.get(session.name)
            if session.backend.storage_port() is None:
                found[session.name] = "no storage through this backend"
            elif update is None or update.status is not HostStatus.CONNECTED:
                found[session.name] = update.status.value if update else "connecting"
            else:
                found[session.name] = ""
        return found

    def is_local(self, host: str) -> bool:
        """True when the host's files are on this machine (paths can be checked here)."""
        return is_local(self._known(host).uri)

    def cannot_stream(self, host: str) -> str:
        """Why volumes cannot be uploaded or downloaded on this host ("" when they can);
        from what the last poll said (no call to the host)."""
        update = self._store.hosts.get(host)
        if update is not None and update.info is not None and update.info.driver == "TEST":
            return "libvirt's test driver has no volume streams (upload/download)"
        return ""

    def storage(self, host: str) -> StoragePort:
        """The host's pools and volumes."""
        port = self._known(host).storage_port()
        if port is None:
            raise BackendError(f"{host}: storage is not possible through this backend")
        return port

    # -- configuration --------------------------------------------------------------------

    def domain_config(self, host: str) -> DomainConfigPort:
        """The host's domain configurations (the review desk)."""
        port = self._known(host).domain_config_port()
        if port is None:
            raise BackendError(f"{host}: configurations cannot be changed through this backend")
        return port

    def network_config(self, host: str) -> NetworkConfigPort:
        """The host's network configurations (the review desk)."""
        port = self._known(host).network_config_port()
        if port is None:
            raise BackendError(f"{host}: networks cannot be changed through this backend")
        return port

    # -- networks -------------------------------------------------------------------------

    def network_hosts(self) -> dict[str, str]:
        """Every host by name -> "" when its networks can be read now, else why not."""
        found: dict[str, str] = {}
        for session in self._sessions():
            update = self._store.hosts.get(session.name)
            if session.backend.network_port() is None:
                found[session.name] = "no networks through this backend"
            elif update is None or update.status is not HostStatus.CONNECTED:
                found[session.name] = update.status.value if update else "connecting"
            else:
                found[session.name] = ""
        return found

    def migration(self, host: str) -> MigrationPort:
        """The host as a migration's source or target."""
        port = self._known(host).migration_port()
        if port is None:
            raise BackendError(f"{host}: migration is not possible through this backend")
        return port

    def backups(self, host: str) -> BackupPort:
        """The host's domains' backups."""
        port = self._known(host).backup_port()
        if port is None:
            raise BackendError(f"{host}: backups are not possible through this backend")
        return port

    def read_only(self, host: str) -> bool:
        """True when the host takes no changes (opened with ``--readonly``)."""
        backend = self.backend(host)
        return backend is None or not backend.capabilities.mutations

    def networks(self, host: str) -> NetworksPort:
        """The host's virtual networks."""
        port = self._known(host).network_port()
        if port is None:
            raise BackendError(f"{host}: networks are not possible through this backend")
        return port

    # -- logs -----------------------------------------------------------------------------

    def logs(self, host: str) -> LogsPort:
        """The host's QEMU logs and daemon logging (a backend without them says so)."""
        return self._known(host).logs_port() or _NoLogs(host)


class _NoLogs:
    """The logs port of a backend that has none: every answer says so."""

    def __init__(self, host: str) -> None:
        self._host = host

    def qemu_log(self, name: str) -> LogLocation:
        return LogLocation("", False, "this backend has no QEMU logs")

    def daemon_logging(self) -> DaemonLogging:
        raise BackendError(f"{self._host}: reading daemon logging is not possible here")

    def set_daemon_logging(self, filters: str | None, outputs: str | None) -> DaemonLogging:
        raise BackendError(f"{self._host}: changing daemon logging is not possible here")
