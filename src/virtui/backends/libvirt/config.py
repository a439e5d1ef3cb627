"""Reading and changing a domain's persistent configuration (for the review desk)."""

from __future__ import annotations

import contextlib
import functools
import time
from collections.abc import Callable, Collection
from pathlib import Path
from typing import TYPE_CHECKING

import libvirt

from virtui.backends.base import BackendError
from virtui.backends.imageformat import file_format
from virtui.backends.libvirt.handle import LibvirtPart, describe
from virtui.backends.naming import is_local
from virtui.formatting import format_kib
from virtui.model.config import DiskUser, DomainConfig, HostFacts, LiveChange
from virtui.model.newguest import GuestSupport, NewVolume
from virtui.text import error_text
from virtui.xmltext import escape, quoteattr

if TYPE_CHECKING:
    from lxml import etree
else:
    from virtui.lazyimport import lxml_etree as etree

READ_BACK_S = 3.0  # how long a live change may take to show in the running guest
_CONFIG_XML = libvirt.VIR_DOMAIN_XML_INACTIVE | libvirt.VIR_DOMAIN_XML_SECURE


@functools.cache
def _parser() -> etree.XMLParser:
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)


def _tree(xml: str) -> etree._Element:
    return etree.fromstring(xml.encode("utf-8"), _parser())


class LibvirtConfig(LibvirtPart):
    """A domain's configuration: read, define, live changes, host facts. Blocking; call
    from workers."""

    def read_config(self, uuid: str) -> DomainConfig:
        """The inactive, secure XML (what ``virsh edit`` edits) and whether it runs."""
        dom = self._domain(uuid)
        try:
            return DomainConfig(str(dom.XMLDesc(_CONFIG_XML)), bool(dom.isActive()), dom.name())
        except libvirt.libvirtError as error:
            raise BackendError(f"{self.name}: {describe(error)}") from error

    def define_config(self, xml: str) -> str:
        """Define ``xml`` — always with libvirt's schema validation: without it an
        invalid value (a negative vCPU count) crashes libvirtd or an in-process driver."""
        self._refuse_when_readonly("change a configuration")
        try:
            dom = self._connection().defineXMLFlags(xml, libvirt.VIR_DOMAIN_DEFINE_VALIDATE)
            return str(dom.XMLDesc(_CONFIG_XML))
        except libvirt.libvirtError as error:
            raise BackendError(f"{self.name}: {describe(error)}") from error

    def apply_live(self, uuid: str, change: LiveChange) -> None:
        """Apply one change to the running domain (its config is already defined)."""
        self._refuse_when_readonly("change a running domain")
        dom = self._domain(uuid)
        try:
            if change.kind == "vcpus":
                dom.setVcpusFlags(change.number, libvirt.VIR_DOMAIN_AFFECT_LIVE)
                self._read_back(dom, 3, change.number, "vCPUs", str)
            elif change.kind == "memory":
                dom.setMemoryFlags(change.number, libvirt.VIR_DOMAIN_AFFECT_LIVE)
                self._read_back(
                    dom, 2, change.number, "memory (no balloon driver in the guest?)", format_kib
                )
            elif change.kind == "attach":
                dom.attachDeviceFlags(change.xml, libvirt.VIR_DOMAIN_AFFECT_LIVE)
            elif change.kind == "detach":
                dom.detachDeviceFlags(change.xml, libvirt.VIR_DOMAIN_AFFECT_LIVE)
            else:
                raise BackendError(f"unknown live change {change.kind!r}")
        except libvirt.libvirtError as error:
            raise BackendError(describe(error)) from error

    @staticmethod
    def _read_back(
        dom: libvirt.virDomain, field: int, wanted: int, what: str, shown: Callable[[int], str]
    ) -> None:
        """Raise BackendError unless the running domain reports ``wanted`` in its info
        within a moment: libvirt accepts some live requests that the guest ignores."""
        deadline = time.monotonic() + READ_BACK_S
        while True:
            now = int(dom.info()[field])
            if now == wanted:
                return
            if time.monotonic() > deadline:
                raise BackendError(
                    f"asked for {shown(wanted)} but the running guest has {shown(now)}: {what}"
                )
            time.sleep(0.1)  # a balloon deflates over a few hundred ms

    def image_format(self, path: str) -> str | None:
        """The format of the image at ``path`` on the host: from its storage volume when
        it is in a pool, else from its header when the host is this machine; None when
        neither can say."""
        conn = self._connection()
        try:
            volume = conn.storageVolLookupByPath(path)
            found = _tree(str(volume.XMLDesc(0))).find("target/format")
            if found is not None and found.get("type"):
                return str(found.get("type"))
        except (libvirt.libvirtError, etree.XMLSyntaxError):
            pass  # not in a pool (or no storage driver): try the file itself
        return file_format(path) if is_local(self.uri) else None

    def host_facts(self) -> HostFacts:
        """Emulators from the host's capabilities (no probe runs), pool directories from
        its storage driver (None where there is none, as under the embedded driver)."""
        conn = self._connection()
        try:
            capabilities = _tree(str(conn.getCapabilities()))
            emulators: frozenset[str] | None = frozenset(
                (e.text or "").strip()
                for e in capabilities.iterfind(".//guest/arch//emulator")
                if (e.text or "").strip()
            )
        except (libvirt.libvirtError, etree.XMLSyntaxError):
            emulators = None
        try:
            paths: tuple[str, ...] | None = tuple(
                (_tree(str(pool.XMLDesc(0))).findtext("target/path") or "").strip()
                for pool in conn.listAllStoragePools(0)
            )
        except (libvirt.libvirtError, etree.XMLSyntaxError):
            paths = None
        return HostFacts(emulators, paths)

    def guest_support(self) -> GuestSupport:
        """KVM from the host's capabilities (a ``kvm`` domain type for x86_64 guests, as
        virt-install reads it); UEFI from its domain capabilities (an ``efi`` firmware
        or an OVMF loader). Nothing is probed."""
        conn = self._connection()
        try:
            capabilities = _tree(str(conn.getCapabilities()))
            types = {
                domain.get("type")
                for guest in capabilities.iterfind("guest")
                if guest.findtext("os_type") == "hvm"
                for domain in guest.iterfind("arch[@name='x86_64']/domain")
            }
            kvm: bool | None = "kvm" in types
        except (libvirt.libvirtError, etree.XMLSyntaxError):
            kvm = None
        virt = "kvm" if kvm else "qemu"
        try:
            domcaps = _tree(str(conn.getDomainCapabilities(None, "x86_64", None, virt, 0)))
            firmware = {v.text for v in domcaps.iterfind("os/enum[@name='firmware']/value")}
            loaders = [v.text or "" for v in domcaps.iterfind("os/loader/value")]
            efi: bool | None = "efi" in firmware or any(
                "OVMF" in path or "edk2" in path for path in loaders
            )
            passthrough: bool | None = kvm is True and any(
                mode.get("name") == "host-passthrough" and mode.get("supported") == "yes"
                for mode in domcaps.iterfind("cpu/mode")
            )
        except (libvirt.libvirtError, etree.XMLSyntaxError):
            efi = passthrough = None
        machines = {}
        for alias in ("q35", "pc"):
            with contextlib.suppress(libvirt.libvirtError, etree.XMLSyntaxError):
                caps = _tree(str(conn.getDomainCapabilities(None, "x86_64", alias, virt, 0)))
                machines[alias] = (caps.findtext("machine") or alias).strip()
        return GuestSupport(kvm, efi, passthrough, machines)


class LibvirtNewGuests(LibvirtPart):
    """What a new guest's merge needs of a host: volumes, a start, name lookups."""

    def create_guest_volume(
        self, volume: NewVolume, content: bytes | None = None, image: Path | None = None
    ) -> str:
        """Create a volume in its pool (an overlay over ``backing``), upload
        ``content`` into it, or make it hold exactly the file ``image``; its path."""
        self._refuse_when_readonly("create a volume")
        if image is not None:
            return self._volume_from_image(volume, image)
        conn = self._connection()
        backing = (
            f"<backingStore><path>{escape(volume.backing)}</path>"
            f"<format type={quoteattr(volume.backing_format or 'qcow2')}/></backingStore>"
            if volume.backing
            else ""
        )
        xml = (
            f"<volume><name>{escape(volume.name)}</name>"
            f"<capacity unit='bytes'>{volume.capacity}</capacity>"
            f"<target><format type={quoteattr(volume.format)}/></target>{backing}</volume>"
        )
        try:
            created = conn.storagePoolLookupByName(volume.pool).createXML(xml, 0)
        except libvirt.libvirtError as error:
            raise BackendError(
                f"{self.name}: volume {volume.pool}/{volume.name}: {describe(error)}"
            ) from error
        if content is not None:
            try:
                stream = conn.newStream(0)
                created.upload(stream, 0, len(content), 0)
                stream.send(content)
                stream.finish()
            except libvirt.libvirtError as error:
                with contextlib.suppress(libvirt.libvirtError):
                    created.delete(0)
                raise BackendError(
                    f"{self.name}: writing {volume.name}: {describe(error)}"
                ) from error
        return str(created.path())

    def _volume_from_image(self, volume: NewVolume, image: Path) -> str:
        """A volume holding the bytes of ``image`` (a qcow2 file here), sent through
        libvirt as virsh vol-upload does: the host may be another machine. Made raw and
        sparse at the file's length, so nothing of a header libvirt wrote stays past it;
        the pool's refresh then reads its format from its content."""
        conn = self._connection()
        size = image.stat().st_size
        xml = (
            f"<volume><name>{escape(volume.name)}</name>"
            f"<capacity unit='bytes'>{size}</capacity><allocation>0</allocation>"
            "<target><format type='raw'/></target></volume>"
        )
        try:
            pool = conn.storagePoolLookupByName(volume.pool)
            created = pool.createXML(xml, 0)
        except libvirt.libvirtError as error:
            raise BackendError(
                f"{self.name}: volume {volume.pool}/{volume.name}: {describe(error)}"
            ) from error
        try:
            stream = conn.newStream(0)
            created.upload(stream, 0, size, 0)
            with image.open("rb") as file:
                stream.sendAll(lambda _stream, wanted, source: source.read(wanted), file)
            stream.finish()
            pool.refresh(0)
            return str(pool.storageVolLookupByName(volume.name).path())
        except (libvirt.libvirtError, OSError) as error:
            with contextlib.suppress(libvirt.libvirtError):
                created.delete(0)
            why = describe(error) if isinstance(error, libvirt.libvirtError) else error_text(error)
            raise BackendError(f"{self.name}: writing {volume.name}: {why}") from error

    def _volume_or_none(self, pool: str, name: str) -> libvirt.virStorageVol | None:
        """The volume, None when the pool has none of that name."""
        try:
            found = self._connection().storagePoolLookupByName(pool)
            found.refresh(0)
            return found.storageVolLookupByName(name)
        except libvirt.libvirtError as error:
            if error.get_error_code() == libvirt.VIR_ERR_NO_STORAGE_VOL:
                return None
            raise BackendError(f"{self.name}: volume {pool}/{name}: {describe(error)}") from error

    def volume_exists(self, pool: str, name: str) -> bool:
        """Whether the pool has a volume called ``name`` (raises when it cannot say)."""
        return self._volume_or_none(pool, name) is not None

    def remove_volume(self, pool: str, name: str) -> bool:
        """Delete the volume; False when it was not there (raises when it cannot say)."""
        self._refuse_when_readonly("delete a volume")
        volume = self._volume_or_none(pool, name)
        if volume is None:
            return False
        try:
            volume.delete(0)
        except libvirt.libvirtError as error:
            raise BackendError(f"{self.name}: delete {pool}/{name}: {describe(error)}") from error
        return True

    def start_domain(self, uuid: str) -> None:
        """Start a defined domain."""
        self._refuse_when_readonly("start a domain")
        try:
            self._domain(uuid).create()
        except libvirt.libvirtError as error:
            raise BackendError(f"{self.name}: start: {describe(error)}") from error

    def domain_named(self, name: str) -> str:
        """The UUID of the domain called ``name`` ("" when none; raises when the host
        cannot say)."""
        try:
            return str(self._connection().lookupByName(name).UUIDString())
        except libvirt.libvirtError as error:
            if error.get_error_code() == libvirt.VIR_ERR_NO_DOMAIN:
                return ""
            raise BackendError(f"{self.name}: {describe(error)}") from error

    def disk_users(self, paths: Collection[str], other_than: str) -> list[DiskUser]:
        """The domains (not UUID ``other_than``) with a disk at one of ``paths``: the
        running ones as they run, the others as defined."""
        wanted = set(paths)
        if not wanted:
            return []
        found = []
        try:
            domains = self._connection().listAllDomains(0)
        except libvirt.libvirtError as error:
            raise BackendError(f"{self.name}: {describe(error)}") from error
        for dom in domains:
            try:
                if dom.UUIDString().lower() == other_than.lower():
                    continue
                running = bool(dom.isActive())
                root = _tree(dom.XMLDesc(0))
                name = str(dom.name())
            except libvirt.libvirtError:
                continue  # gone meanwhile
            for source in root.iterfind("devices/disk/source"):
                path = source.get("file") or source.get("dev") or ""
                if path in wanted:
                    found.append(DiskUser(path, name, running))
        return found

    def pool_room(self, pool: str) -> tuple[str, int]:
        """(target directory, bytes available) of a started pool."""
        try:
            found = self._connection().storagePoolLookupByName(pool)
            found.refresh(0)
            _state, _capacity, _allocation, available = found.info()
            path = etree.fromstring(found.XMLDesc(0).encode()).findtext("target/path") or ""
        except libvirt.libvirtError as error:
            raise BackendError(f"{self.name}: pool {pool}: {describe(error)}") from error
        return path, int(available)


class LibvirtDomainConfig(LibvirtConfig, LibvirtNewGuests):
    """LibvirtBackend's configuration port: what the review desk drafts and merges
    with, and the defines it did not make, as libvirt's events count them."""

    UNCOUNTED = frozenset({"define_count", "await_define"})

    def define_count(self, uuid: str) -> int | None:
        """How many times the domain was defined since this connection opened, as
        libvirt's events tell (None: this connection has no events)."""
        link = self._link
        with link.defined:
            return link.defines[uuid] if link.events else None

    def await_define(self, uuid: str, beyond: int, timeout: float) -> int | None:
        """The domain's define count once it is above ``beyond`` (the event of a define
        just made arrives on the event thread after the call returns), or as it stands
        after ``timeout`` seconds; None without events."""
        link = self._link
        with link.defined:
            if not link.events:
                return None
            link.defined.wait_for(lambda: link.defines[uuid] > beyond, timeout)
            return link.defines[uuid]
