"""Storage pools and volumes over libvirt: listing, lifecycle, and streamed transfers."""

from __future__ import annotations

import contextlib
import os
import xml.etree.ElementTree as ET

import libvirt

from virtui.backends.base import BackendError
from virtui.backends.libvirt import leftovers
from virtui.backends.libvirt.handle import LibvirtPart, describe
from virtui.backends.libvirt.xmlread import read_xml
from virtui.backends.naming import is_local
from virtui.formatting import format_bytes
from virtui.model.storage import PoolInfo, VolumeInfo
from virtui.xmltext import escape

_POOL_STATES = ("inactive", "building", "running", "degraded", "inaccessible")


class LibvirtStorage(LibvirtPart):
    """LibvirtBackend's pools and volumes (streams: LibvirtTransfers). Blocking; call
    from background threads."""

    LONG_JOBS = frozenset({"clone_volume"})

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
        root = read_xml(pool.XMLDesc(0))
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
                root = read_xml(volume.XMLDesc(0))
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
                root = read_xml(dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE))
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
            pool.createXML(volume_xml(name, capacity, fmt), 0)
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
            root = read_xml(volume.XMLDesc(0))
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


def volume_xml(name: str, capacity: int, fmt: str) -> str:
    return (
        f"<volume><name>{escape(name)}</name><capacity unit='bytes'>{capacity}</capacity>"
        f"<allocation unit='bytes'>0</allocation>"
        f"<target><format type='{escape(fmt)}'/></target></volume>"
    )
