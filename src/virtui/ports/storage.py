"""The storage port: one host's pools and volumes. All sizes are in bytes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from virtui.model.storage import PoolInfo, TransferProgress, VolumeInfo

TransferCallback = Callable[[TransferProgress], None]
"""Called (from the transfer's thread) after each chunk of an upload or download."""


class CancelFlag(Protocol):
    """Set by the UI to stop a transfer (a ``threading.Event``)."""

    def is_set(self) -> bool:
        """True once the user cancelled."""


class StoragePort(Protocol):
    """Pools and volumes of one host."""

    def pools(self) -> list[PoolInfo]:
        """Every storage pool of the host, by name."""

    def volumes(self, pool: str) -> list[VolumeInfo]:
        """The volumes of a started pool, with the defined domains using each."""

    def pool_command(self, pool: str, command: str) -> str:
        """refresh, start, stop, autostart or noautostart a pool."""

    def create_pool(self, pool: str, path: str) -> str:
        """Define, start and autostart a dir pool over an existing directory."""

    def delete_pool(self, pool: str, *, remove_directory: bool) -> str:
        """Stop and undefine a pool, removing its (empty) directory when asked."""

    def create_volume(self, pool: str, name: str, capacity: int, fmt: str) -> str:
        """Create an empty volume of ``capacity`` bytes in format raw or qcow2."""

    def resize_volume(self, pool: str, name: str, capacity: int) -> str:
        """Grow a volume to ``capacity`` bytes."""

    def clone_volume(self, pool: str, name: str, new_name: str) -> str:
        """Copy a volume within its pool."""

    def delete_volume(self, pool: str, name: str, *, force: bool = False) -> str:
        """Delete a volume; one in use by a defined domain only when ``force``
        (otherwise a failure with reason "in use")."""

    def upload_volume(
        self,
        pool: str,
        name: str,
        local_path: str,
        progress: TransferCallback,
        cancelled: CancelFlag,
    ) -> str:
        """Create volume ``name`` from a local file, streaming it; cancel keeps nothing."""

    def download_volume(
        self,
        pool: str,
        name: str,
        local_path: str,
        progress: TransferCallback,
        cancelled: CancelFlag,
    ) -> str:
        """Stream a volume into a new local file; cancel keeps nothing."""


class StorageHosts(Protocol):
    """The storage screen's view of every host (no call to a host unless it says so)."""

    def storage_hosts(self) -> dict[str, str]:
        """Every host by name -> "" when its storage can be read now, else why not."""

    def is_local(self, host: str) -> bool:
        """True when the host's files are on this machine (paths can be checked here)."""

    def cannot_stream(self, host: str) -> str:
        """Why volumes cannot be uploaded or downloaded on this host ("" when they can)."""

    def storage(self, host: str) -> StoragePort:
        """The host's storage port (raises when the host has none)."""
