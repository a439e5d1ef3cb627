"""Services: the screens' way to the hosts' backends.

Screens know hosts by name and never hold a backend; they talk to these objects through
protocols of their own (StoragePort, LogsPort). Calls that reach a host block and are
made from worker threads.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence

from virtui.backends.base import Backend, BackendError, TransferCallback
from virtui.backends.naming import is_local
from virtui.model import HostStatus
from virtui.model.config import DomainConfig, HostFacts, LiveChange
from virtui.model.storage import PoolInfo, VolumeInfo
from virtui.model.timeline import DaemonLogging, LogLocation
from virtui.monitor.session import HostSession
from virtui.monitor.store import DomainStore


class HostBackends:
    """Finds a host's backend by name among the app's sessions."""

    def __init__(self, sessions: Callable[[], Sequence[HostSession]], store: DomainStore) -> None:
        self._sessions = sessions
        self._store = store

    def _backend(self, host: str) -> Backend:
        for session in self._sessions():
            if session.name == host:
                return session.backend
        raise BackendError(f"no host named {host}")


class LogService(HostBackends):
    """QEMU log locations and daemon logging of the hosts."""

    def hosts(self) -> list[str]:
        """Every host's name."""
        return [session.name for session in self._sessions()]

    def qemu_log(self, host: str, name: str) -> LogLocation:
        """Where a domain's QEMU log is (no call to the host: worked out from its URI)."""
        return self._backend(host).qemu_log(name)

    def daemon_logging(self, host: str) -> DaemonLogging:
        """The host daemon's log filters and outputs."""
        return self._backend(host).daemon_logging()

    def set_daemon_logging(
        self, host: str, filters: str | None, outputs: str | None
    ) -> DaemonLogging:
        """Change them; returns what the daemon reports afterwards."""
        return self._backend(host).set_daemon_logging(filters, outputs)


class StorageService(HostBackends):
    """Pools and volumes of every connected host that has storage."""

    def hosts(self) -> dict[str, str]:
        """Every host by name -> "" when its storage can be read now, else why not."""
        found: dict[str, str] = {}
        for session in self._sessions():
            update = self._store.hosts.get(session.name)
            if not session.backend.capabilities.storage:
                found[session.name] = "no storage through this backend"
            elif update is None or update.status is not HostStatus.CONNECTED:
                found[session.name] = update.status.value if update else "connecting"
            else:
                found[session.name] = ""
        return found

    def is_local(self, host: str) -> bool:
        """True when the host's files are on this machine (paths can be checked here)."""
        return is_local(self._backend(host).uri)

    def cannot_stream(self, host: str) -> str:
        """Why volumes cannot be uploaded or downloaded on this host ("" when they can);
        from what the last poll said (no call to the host)."""
        update = self._store.hosts.get(host)
        if update is not None and update.info is not None and update.info.driver == "TEST":
            return "libvirt's test driver has no volume streams (upload/download)"
        return ""

    def pools(self, host: str) -> list[PoolInfo]:
        """The pools of one host."""
        return self._backend(host).pools()

    def volumes(self, host: str, pool: str) -> list[VolumeInfo]:
        """The volumes of one pool."""
        return self._backend(host).volumes(pool)

    def pool_command(self, host: str, pool: str, command: str) -> str:
        """refresh, start, stop, autostart or noautostart."""
        return self._backend(host).pool_command(pool, command)

    def create_pool(self, host: str, pool: str, path: str) -> str:
        """A new dir pool."""
        return self._backend(host).create_pool(pool, path)

    def delete_pool(self, host: str, pool: str, *, remove_directory: bool) -> str:
        """Stop and undefine a pool."""
        return self._backend(host).delete_pool(pool, remove_directory=remove_directory)

    def create_volume(self, host: str, pool: str, name: str, capacity: int, fmt: str) -> str:
        """A new empty volume."""
        return self._backend(host).create_volume(pool, name, capacity, fmt)

    def resize_volume(self, host: str, pool: str, name: str, capacity: int) -> str:
        """Grow a volume."""
        return self._backend(host).resize_volume(pool, name, capacity)

    def clone_volume(self, host: str, pool: str, name: str, new_name: str) -> str:
        """Copy a volume."""
        return self._backend(host).clone_volume(pool, name, new_name)

    def delete_volume(self, host: str, pool: str, name: str, *, force: bool) -> str:
        """Delete a volume (BackendError reason "in use" when a domain uses it)."""
        return self._backend(host).delete_volume(pool, name, force=force)

    def upload_volume(
        self,
        host: str,
        pool: str,
        name: str,
        local_path: str,
        progress: TransferCallback,
        cancelled: threading.Event,
    ) -> str:
        """A new volume from a local file."""
        return self._backend(host).upload_volume(pool, name, local_path, progress, cancelled)

    def download_volume(
        self,
        host: str,
        pool: str,
        name: str,
        local_path: str,
        progress: TransferCallback,
        cancelled: threading.Event,
    ) -> str:
        """A volume into a new local file."""
        return self._backend(host).download_volume(pool, name, local_path, progress, cancelled)


class ConfigService(HostBackends):
    """The review desk's ConfigPort: configurations of the hosts' domains."""

    def read_config(self, host: str, uuid: str) -> DomainConfig:
        """The inactive, secure XML of a domain."""
        return self._backend(host).read_config(uuid)

    def define(self, host: str, xml: str) -> str:
        """Define a configuration (validated by libvirt)."""
        return self._backend(host).define_config(xml)

    def apply_live(self, host: str, uuid: str, change: LiveChange) -> None:
        """Apply one change to a running domain."""
        self._backend(host).apply_live(uuid, change)

    def host_facts(self, host: str) -> HostFacts:
        """The host's emulators and pool directories."""
        return self._backend(host).host_facts()

    def image_format(self, host: str, path: str) -> str | None:
        """The format of an image on the host (None: cannot say)."""
        return self._backend(host).image_format(path)

    def uri(self, host: str) -> str:
        """The URI the host is reached at (no call to the host)."""
        return self._backend(host).uri
