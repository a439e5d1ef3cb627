"""Storage pools and volumes over libvirt: listing, lifecycle, and streamed transfers."""

from __future__ import annotations

import contextlib
import os
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path
from xml.sax.saxutils import escape

import libvirt

from virtui.backends.base import BackendError
from virtui.backends.imageformat import sniff
from virtui.backends.libvirt import leftovers
from virtui.backends.libvirt.handle import LibvirtHandle, describe
from virtui.backends.naming import is_local
from virtui.formatting import format_bytes
from virtui.model.storage import PoolInfo, TransferProgress, VolumeInfo
from virtui.ports.storage import CancelFlag

CHUNK = 1024 * 1024
_POOL_STATES = ("inactive", "building", "running", "degraded", "inaccessible")

Progress = Callable[[TransferProgress], None]


class Cancelled(BackendError):
    """A transfer stopped because the user cancelled it."""


class LibvirtStorage(LibvirtHandle):
    """Mixed into LibvirtBackend: the storage screen's calls. Blocking; call from workers."""

    # -- reading ------------------------------------------------------------------------

    def pools(self) -> list[PoolInfo]:
        """Every pool of the host, by name."""
        conn = self._connection()
        try:
            pools = conn.listAllStoragePools(0)
        except libvirt.libvirtError as error:
            if error.get_error_code() == libvirt.VIR_ERR_NO_SUPPORT:
                raise BackendError("no storage driver on this connection") from error
            raise BackendError(
                f"{self.name}: cannot list storage pools: {describe(error)}"
            ) from error
        found: list[PoolInfo] = []
        for pool in pools:
            with contextlib.suppress(libvirt.libvirtError):  # removed while we looked
                found.append(self._pool_info(pool))
        return sorted(found, key=lambda pool: pool.name)

    def _pool_info(self, pool: libvirt.virStoragePool) -> PoolInfo:
        state, capacity, allocation, available = pool.info()
        root = ET.fromstring(pool.XMLDesc(0))
        active = bool(pool.isActive())
        return PoolInfo(
            host=self.name,
            name=pool.name(),
            uuid=pool.UUIDString(),
            type=root.get("type", ""),
            state=_POOL_STATES[state] if 0 <= state < len(_POOL_STATES) else f"state {state}",
            autostart=bool(pool.autostart()),
            persistent=bool(pool.isPersistent()),
            capacity=capacity,
            allocation=allocation,
            available=available,
            path=root.findtext("./target/path", ""),
            volumes=pool.numOfVolumes() if active else 0,
        )

    def volumes(self, pool_name: str) -> list[VolumeInfo]:
        """The volumes of a started pool, each with the defined domains that use it."""
        pool = self._pool(pool_name)
        if not pool.isActive():
            return []
        users = self._volume_users()
        unfinished = {volume for pool, volume in leftovers.pending(self.uri) if pool == pool_name}
        found: list[VolumeInfo] = []
        try:
            volumes = pool.listAllVolumes(0)
        except libvirt.libvirtError as error:
            raise BackendError(f"{pool_name}: cannot list volumes: {describe(error)}") from error
        for volume in volumes:
            with contextlib.suppress(libvirt.libvirtError):
                _type, capacity, allocation = volume.info()
                root = ET.fromstring(volume.XMLDesc(0))
                path = volume.path()
                used_by = users.get(path, set()) | users.get(f"{pool_name}/{volume.name()}", set())
                found.append(
                    VolumeInfo(
                        host=self.name,
                        pool=pool_name,
                        name=volume.name(),
                        path=path,
                        format=root.find("./target/format").get("type", "")  # type: ignore[union-attr]
                        if root.find("./target/format") is not None
                        else "",
                        capacity=capacity,
                        allocation=allocation,
                        used_by=tuple(sorted(used_by)),
                        incomplete=volume.name() in unfinished,
                    )
                )
        return sorted(found, key=lambda volume: volume.name)

    def _volume_users(self) -> dict[str, set[str]]:
        """Disk source (a path, or ``pool/volume``) -> names of defined domains using it."""
        users: dict[str, set[str]] = {}
        for dom in self._connection().listAllDomains(0):
            try:
                root = ET.fromstring(dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE))
                name = dom.name()
            except libvirt.libvirtError:
                continue  # undefined while we looked
            for source in root.findall("./devices/disk/source"):
                for where in (
                    source.get("file"),
                    source.get("dev"),
                    f"{source.get('pool')}/{source.get('volume')}" if source.get("pool") else None,
                ):
                    if where:
                        users.setdefault(where, set()).add(name)
        return users

    def _pool(self, name: str) -> libvirt.virStoragePool:
        try:
            return self._connection().storagePoolLookupByName(name)
        except libvirt.libvirtError as error:
            raise BackendError(f"{self.name}: no pool {name}: {describe(error)}") from error

    def _volume(self, pool_name: str, name: str) -> libvirt.virStorageVol:
        try:
            return self._pool(pool_name).storageVolLookupByName(name)
        except libvirt.libvirtError as error:
            raise BackendError(f"{pool_name}: no volume {name}: {describe(error)}") from error

    # -- pools --------------------------------------------------------------------------

    def pool_command(self, pool_name: str, command: str) -> str:
        """refresh, start, stop, autostart or noautostart a pool."""
        self._refuse_when_readonly(f"{command} pool {pool_name}")
        pool = self._pool(pool_name)
        try:
            if command == "refresh":
                pool.refresh(0)
                return f"pool {pool_name}: refreshed"
            if command == "start":
                pool.create(0)
                return f"pool {pool_name}: started"
            if command == "stop":
                pool.destroy()
                return f"pool {pool_name}: stopped"
            if command in ("autostart", "noautostart"):
                pool.setAutostart(int(command == "autostart"))
                on = "on" if command == "autostart" else "off"
                return f"pool {pool_name}: autostart {on}"
        except libvirt.libvirtError as error:
            raise BackendError(f"pool {pool_name}: {command}: {describe(error)}") from error
        raise BackendError(f"unknown pool command {command!r}")

    def create_pool(self, pool_name: str, path: str) -> str:
        """Define, start and autostart a dir pool over an existing directory."""
        self._refuse_when_readonly(f"create pool {pool_name}")
        conn = self._connection()
        with contextlib.suppress(libvirt.libvirtError):
            conn.storagePoolLookupByName(pool_name)
            raise BackendError(f"a pool named {pool_name} already exists on {self.name}")
        if is_local(self.uri) and not os.path.isdir(path):
            raise BackendError(f"{path} does not exist (or is not a directory)")
        xml = (
            f"<pool type='dir'><name>{escape(pool_name)}</name>"
            f"<target><path>{escape(path)}</path></target></pool>"
        )
        try:
            pool = conn.storagePoolDefineXML(xml, libvirt.VIR_STORAGE_POOL_DEFINE_VALIDATE)
        except libvirt.libvirtError as error:
            raise BackendError(f"create pool {pool_name}: {describe(error)}") from error
        try:
            pool.create(0)
            pool.setAutostart(1)
        except libvirt.libvirtError as error:
            with contextlib.suppress(libvirt.libvirtError):  # nothing half-made stays
                pool.undefine()
            raise BackendError(f"create pool {pool_name}: {describe(error)}") from error
        return f"pool {pool_name}: created over {path}, started, autostart on"

    def delete_pool(self, pool_name: str, *, remove_directory: bool) -> str:
        """Stop and undefine a pool; its directory goes too only when asked (and empty)."""
        self._refuse_when_readonly(f"delete pool {pool_name}")
        pool = self._pool(pool_name)
        try:
            if remove_directory and pool.isActive() and pool.numOfVolumes():
                raise BackendError(
                    f"pool {pool_name} still holds {pool.numOfVolumes()} volume(s): "
                    "delete them first, or keep the directory"
                )
            if pool.isActive():
                pool.destroy()
            if remove_directory:
                pool.delete(libvirt.VIR_STORAGE_POOL_DELETE_NORMAL)
            if pool.isPersistent():
                pool.undefine()
        except libvirt.libvirtError as error:
            raise BackendError(f"delete pool {pool_name}: {describe(error)}") from error
        kept = "directory removed" if remove_directory else "its files are kept"
        return f"pool {pool_name}: deleted ({kept})"

    # -- volumes ------------------------------------------------------------------------

    def create_volume(self, pool_name: str, name: str, capacity: int, fmt: str) -> str:
        """A new empty volume; raw ones are sparse (nothing allocated up front)."""
        self._refuse_when_readonly(f"create volume {name}")
        pool = self._pool(pool_name)
        self._refuse_existing(pool, name)
        try:
            pool.createXML(_volume_xml(name, capacity, fmt), 0)
        except libvirt.libvirtError as error:
            raise BackendError(f"create volume {name}: {describe(error)}") from error
        return f"volume {name}: created in {pool_name} ({format_bytes(capacity)} {fmt})"

    def resize_volume(self, pool_name: str, name: str, capacity: int) -> str:
        """Grow a volume to ``capacity`` bytes (shrinking is refused: it loses data)."""
        self._refuse_when_readonly(f"resize volume {name}")
        volume = self._volume(pool_name, name)
        try:
            current = volume.info()[1]
            if capacity < current:
                raise BackendError(
                    f"volume {name} is {format_bytes(current)}: shrinking it would lose data"
                )
            volume.resize(capacity, 0)
        except libvirt.libvirtError as error:
            raise BackendError(f"resize volume {name}: {describe(error)}") from error
        return f"volume {name}: resized to {format_bytes(capacity)}"

    def clone_volume(self, pool_name: str, name: str, new_name: str) -> str:
        """A full copy of a volume in the same pool."""
        self._refuse_when_readonly(f"clone volume {name}")
        volume = self._volume(pool_name, name)
        pool = self._pool(pool_name)
        self._refuse_existing(pool, new_name)
        try:
            root = ET.fromstring(volume.XMLDesc(0))
            root.find("name").text = new_name  # type: ignore[union-attr]
            for parent, tag in ((root, "key"), (root.find("target"), "path")):
                element = parent.find(tag) if parent is not None else None
                if parent is not None and element is not None:
                    parent.remove(element)
            pool.createXMLFrom(ET.tostring(root, encoding="unicode"), volume, 0)
        except libvirt.libvirtError as error:
            self._remove_partial(pool, new_name)
            raise BackendError(f"clone volume {name}: {describe(error)}") from error
        return f"volume {name}: cloned as {new_name}"

    def delete_volume(self, pool_name: str, name: str, *, force: bool = False) -> str:
        """Delete a volume; one that a defined domain uses only when ``force``."""
        self._refuse_when_readonly(f"delete volume {name}")
        volume = self._volume(pool_name, name)
        users = self._volume_users()
        used_by = sorted(users.get(volume.path(), set()) | users.get(f"{pool_name}/{name}", set()))
        if used_by and not force:
            raise BackendError(
                f"volume {name} is used by {', '.join(used_by)}: not deleted",
                reason="in use",
            )
        try:
            volume.delete(0)
        except libvirt.libvirtError as error:
            raise BackendError(f"delete volume {name}: {describe(error)}") from error
        return f"volume {name}: deleted from {pool_name}"

    def _refuse_existing(self, pool: libvirt.virStoragePool, name: str) -> None:
        with contextlib.suppress(libvirt.libvirtError):
            pool.storageVolLookupByName(name)
            raise BackendError(f"a volume named {name} already exists in pool {pool.name()}")

    def _remove_partial(self, pool: libvirt.virStoragePool, name: str) -> bool:
        """Delete an unfinished upload's volume; False when the host could not be asked
        (it stays written down and is deleted at the next connect)."""
        try:
            pool.refresh(0)
            pool.storageVolLookupByName(name).delete(0)
        except libvirt.libvirtError as error:
            if error.get_error_code() != libvirt.VIR_ERR_NO_STORAGE_VOL:
                return False
        leftovers.forget(self.uri, pool.name(), name)
        return True

    def remove_leftovers(self) -> list[str]:
        """Delete the volumes of uploads that did not finish (at connect); what was done."""
        done = []
        for pool_name, volume in leftovers.pending(self.uri):
            try:
                pool = self._connection().storagePoolLookupByName(pool_name)
            except libvirt.libvirtError:
                leftovers.forget(self.uri, pool_name, volume)  # the pool is gone, and it
                continue
            if self._remove_partial(pool, volume):
                done.append(f"deleted {pool_name}/{volume}: an upload that did not finish")
        return done

    def incomplete_uploads(self) -> list[tuple[str, str]]:
        """(pool, volume) of uploads that did not finish and are not deleted yet."""
        return leftovers.pending(self.uri)

    # -- transfers ----------------------------------------------------------------------

    def upload_volume(
        self,
        pool_name: str,
        name: str,
        local_path: str,
        progress: Progress,
        cancelled: CancelFlag,
    ) -> str:
        """Create volume ``name`` from a local file (qcow2 or raw, from its header)."""
        self._refuse_when_readonly(f"upload into {pool_name}")
        source = Path(local_path)
        try:
            size = source.stat().st_size
            with source.open("rb") as head:
                fmt = sniff(head.read(64))
        except OSError as error:
            raise BackendError(f"{local_path}: {error.strerror or error}") from error
        pool = self._pool(pool_name)
        self._refuse_existing(pool, name)
        conn = self._connection()
        leftovers.remember(self.uri, pool_name, name)
        try:
            volume = pool.createXML(_volume_xml(name, max(size, 1), fmt), 0)
        except libvirt.libvirtError as error:
            self._remove_partial(pool, name)
            raise BackendError(f"upload {name}: {describe(error)}") from error
        stream = conn.newStream(0)
        try:
            volume.upload(stream, 0, size, 0)
            with source.open("rb") as data:
                done = 0
                while chunk := data.read(CHUNK):
                    if cancelled.is_set():
                        raise Cancelled(f"upload of {name} cancelled")
                    view = memoryview(chunk)
                    while view:
                        sent = stream.send(bytes(view))
                        view = view[sent:]
                    done += len(chunk)
                    progress(TransferProgress(done, size))
            stream.finish()
        except BaseException as error:
            with contextlib.suppress(libvirt.libvirtError):
                stream.abort()
            removed = self._remove_partial(pool, name)
            kept = (
                ": nothing kept"
                if removed
                else f"; its incomplete volume {pool_name}/{name} could not be deleted now "
                f"and is deleted when {self.name} answers again"
            )
            if isinstance(error, Cancelled):
                raise Cancelled(f"{error.message}{kept}") from error
            readable = _readable(f"upload of {name} did not finish", error)
            if isinstance(readable, BackendError):
                raise BackendError(f"{readable.message}{kept}") from error
            raise
        leftovers.forget(self.uri, pool_name, name)
        with contextlib.suppress(libvirt.libvirtError):
            pool.refresh(0)  # re-read the format's own idea of capacity
        return f"volume {name}: uploaded {format_bytes(size)} ({fmt}) into {pool_name}"

    def download_volume(
        self,
        pool_name: str,
        name: str,
        local_path: str,
        progress: Progress,
        cancelled: CancelFlag,
    ) -> str:
        """Copy a volume into a new local file; a cancelled download leaves no file."""
        target = Path(local_path)
        if target.exists():
            raise BackendError(f"{local_path} already exists: not overwritten")
        if not target.parent.is_dir():
            raise BackendError(f"{target.parent} does not exist (or is not a directory)")
        volume = self._volume(pool_name, name)
        try:
            root = ET.fromstring(volume.XMLDesc(0))
            total = int(root.findtext("physical") or volume.info()[1])
        except libvirt.libvirtError as error:
            raise BackendError(f"download {name}: {describe(error)}") from error
        partial = target.with_name(target.name + ".part")
        stream = self._connection().newStream(0)
        try:
            volume.download(stream, 0, 0, 0)
            done = 0
            with partial.open("xb") as out:
                while True:
                    if cancelled.is_set():
                        raise Cancelled(f"download of {name} cancelled: nothing kept")
                    chunk = stream.recv(CHUNK)
                    if not chunk or not isinstance(chunk, bytes):
                        break
                    out.write(chunk)
                    done += len(chunk)
                    progress(TransferProgress(done, max(total, done)))
            stream.finish()
            partial.rename(target)
        except BaseException as error:
            with contextlib.suppress(libvirt.libvirtError):
                stream.abort()
            partial.unlink(missing_ok=True)
            readable = _readable(f"download {name}", error)
            if readable is error:
                raise
            raise readable from error
        return f"volume {name}: downloaded {format_bytes(done)} to {local_path}"


def _readable(what: str, error: BaseException) -> BaseException:
    """What a failed transfer reports: libvirt and file errors as a BackendError saying
    ``what`` failed; anything else (BackendError, cancel, interrupt) as it is."""
    if isinstance(error, libvirt.libvirtError):
        return BackendError(f"{what}: {describe(error)}")
    if isinstance(error, OSError):
        return BackendError(f"{what}: {error.strerror or error}")
    return error


def _volume_xml(name: str, capacity: int, fmt: str) -> str:
    return (
        f"<volume><name>{escape(name)}</name><capacity unit='bytes'>{capacity}</capacity>"
        f"<allocation unit='bytes'>0</allocation>"
        f"<target><format type='{escape(fmt)}'/></target></volume>"
    )
