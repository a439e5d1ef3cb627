"""The domains port over libvirt: lifecycle actions, detail, snapshots, clones, consoles."""

from __future__ import annotations

import contextlib
import os
import shutil
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import libvirt

from virtui.backends.base import BackendError
from virtui.backends.libvirt import domainxml
from virtui.backends.libvirt.addresses import resolve
from virtui.backends.libvirt.console import LibvirtConsole
from virtui.backends.libvirt.handle import UNANSWERED, LibvirtPart, describe
from virtui.backends.libvirt.states import reason_text
from virtui.backends.libvirt.xmlread import read_xml
from virtui.backends.naming import is_local
from virtui.model import DomainAction
from virtui.model.detail import DiskInfo, DomainDetail, NicInfo, SnapshotInfo
from virtui.model.pcpu import DomainPlacement, PhysicalCpuReading, VcpuPlacement
from virtui.ports.domains import ConsoleStream

_UNDEFINE_FLAGS = (
    libvirt.VIR_DOMAIN_UNDEFINE_MANAGED_SAVE
    | libvirt.VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA
    | libvirt.VIR_DOMAIN_UNDEFINE_CHECKPOINTS_METADATA
    | libvirt.VIR_DOMAIN_UNDEFINE_NVRAM
)
_STATE_NAMES = (
    "no state",
    "running",
    "idle",
    "paused",
    "in shutdown",
    "shut off",
    "crashed",
    "pmsuspended",
)


class LibvirtDomains(LibvirtPart):
    """LibvirtBackend's domains port. Blocking; call from background threads."""

    LONG_JOBS = frozenset({"clone", "create_snapshot", "revert_snapshot", "open_console"})

    def act(self, uuid: str, action: DomainAction) -> str:
        self._refuse_when_readonly(action.verb)
        dom = self._domain(uuid)
        name = dom.name()
        try:
            if action is DomainAction.UNDEFINE_WITH_STORAGE:
                return self._undefine_with_storage(dom)
            # Asked before: once undefined, a shut-off domain no longer exists to ask.
            was_active = bool(dom.isActive())
            restores = action is DomainAction.START and _has_managed_save(dom)
            _run(dom, action)
            self._autostart.pop(uuid, None)
        except libvirt.libvirtError as error:
            raise BackendError(f"{action.verb} {name} on {self.name}: {describe(error)}") from error
        if action is DomainAction.UNDEFINE and was_active:
            return f"{name}: undefined; it runs on as a transient domain until it stops"
        if restores:
            return f"{name}: restored from its managed save (where it was, not booted)"
        return f"{name}: {action.done}"

    def physical_cpus(self) -> PhysicalCpuReading:
        conn = self._connection()
        try:
            count = int(conn.getInfo()[2])
            domains = conn.listAllDomains(libvirt.VIR_CONNECT_LIST_DOMAINS_ACTIVE)
        except libvirt.libvirtError as error:
            raise BackendError(f"{self.name}: {describe(error)}") from error
        busy: list[int] = []
        total: list[int] = []
        with contextlib.suppress(libvirt.libvirtError, KeyError):
            for cpu in range(count):
                times = conn.getCPUStats(cpu)
                done = int(times["kernel"]) + int(times["user"])
                busy.append(done)
                total.append(done + int(times["idle"]) + int(times.get("iowait", 0)))
        if len(busy) != count:
            busy, total = [], []
        placements = []
        for dom in domains:
            try:
                vcpus, _pinning = dom.vcpus()
                identity = (dom.UUIDString(), dom.name(), dom.ID())
            except libvirt.libvirtError:
                continue  # stopped since the listing, or a driver without vCPU info
            placed = tuple(VcpuPlacement(int(v[2]), int(v[3])) for v in vcpus)
            placements.append(DomainPlacement(*identity, placed))
        return PhysicalCpuReading(
            self.name, time.monotonic_ns(), tuple(busy), tuple(total), tuple(placements)
        )

    def _undefine_with_storage(self, dom: libvirt.virDomain) -> str:
        name = dom.name()
        if dom.isActive():
            raise BackendError(f"{name} is running: force it off before deleting its storage")
        root = read_xml(dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE))
        paths = [d.source for d in domainxml.disks(root) if d.device == "disk" and d.source]
        _undefine(dom)
        failed: list[str] = []
        for path in paths:
            problem = self._delete_volume(path)
            if problem:
                failed.append(f"{path} ({problem})")
        if failed:
            return f"{name}: undefined; could not delete: {', '.join(failed)}"
        return f"{name}: undefined, {len(paths)} volume(s) deleted"

    def _delete_volume(self, path: str) -> str:
        conn = self._connection()
        try:
            conn.storageVolLookupByPath(path).delete(0)
            return ""
        except libvirt.libvirtError as error:
            pool_error = describe(error)
        # Not in any storage pool (or no storage driver, as in the embedded driver):
        # a local file can still be removed; a remote one cannot be reached from here.
        if is_local(self.uri) and os.path.isfile(path):
            try:
                os.remove(path)
                return ""
            except OSError as error:
                return error.strerror or str(error)
        return pool_error

    def xml(self, uuid: str, *, secure: bool = False) -> str:
        flags = libvirt.VIR_DOMAIN_XML_SECURE if secure and not self.readonly else 0
        try:
            return str(self._domain(uuid).XMLDesc(flags))
        except libvirt.libvirtError as error:
            raise BackendError(f"{self.name}: {describe(error)}") from error

    def detail(self, uuid: str) -> DomainDetail:
        dom = self._domain(uuid)
        try:
            return self._detail(dom)
        except libvirt.libvirtError as error:
            raise BackendError(f"{self.name}: {describe(error)}") from error

    def _detail(self, dom: libvirt.virDomain) -> DomainDetail:
        root = read_xml(dom.XMLDesc(0))
        state, reason = dom.state()
        info = dom.info()
        active = bool(dom.isActive())
        os_type = root.find("./os/type")
        disks = []
        for spec in domainxml.disks(root):
            rd = wr = 0
            if active and spec.target:
                with contextlib.suppress(libvirt.libvirtError):
                    _, rd, _, wr, _ = dom.blockStats(spec.target)
            disks.append(DiskInfo(spec.target, spec.source, spec.device, rd, wr))
        addresses = _addresses(dom) if active else {}
        nics = []
        for nic in domainxml.nics(root):
            rx = tx = 0
            if active and nic.name:
                with contextlib.suppress(libvirt.libvirtError):
                    stats = dom.interfaceStats(nic.name)
                    rx, tx = stats[0], stats[4]
            nics.append(
                NicInfo(
                    nic.name,
                    nic.mac,
                    nic.source,
                    nic.model,
                    rx,
                    tx,
                    tuple(addresses.get(nic.mac.lower(), ())),
                )
            )
        vcpus = info[3]
        try:
            max_vcpus = dom.maxVcpus() if active else info[3]
        except libvirt.libvirtError:
            max_vcpus = info[3]
        vcpu = root.find("vcpu")
        if not active and vcpu is not None and (vcpu.text or "").strip().isdigit():
            # Shut off, the configuration is the truth: <vcpu current='1'>2</vcpu>.
            max_vcpus = int((vcpu.text or "").strip())
            vcpus = int(vcpu.get("current", max_vcpus))
        return DomainDetail(
            uuid=dom.UUIDString(),
            name=dom.name(),
            state=_STATE_NAMES[state] if 0 <= state < len(_STATE_NAMES) else "unknown",
            reason=reason_text(state, reason),
            os_type=os_type.text or "" if os_type is not None else "",
            arch=os_type.get("arch", "") if os_type is not None else "",
            machine=os_type.get("machine", "") if os_type is not None else "",
            vcpus=vcpus,
            max_vcpus=max_vcpus,
            mem_kib=info[2],
            max_mem_kib=info[1],
            autostart=bool(dom.autostart()),
            persistent=bool(dom.isPersistent()),
            managed_save=_has_managed_save(dom),
            monotonic_ns=time.monotonic_ns(),
            disks=tuple(disks),
            nics=tuple(nics),
            graphics=tuple(domainxml.graphics(root)),
            has_console=domainxml.has_text_console(root),
        )

    def open_console(self, uuid: str) -> ConsoleStream:
        self._refuse_when_readonly("attach to the console")
        dom = self._domain(uuid)
        conn = self._connection()
        stream = conn.newStream(libvirt.VIR_STREAM_NONBLOCK)
        try:
            dom.openConsole(None, stream, libvirt.VIR_DOMAIN_CONSOLE_FORCE)
        except libvirt.libvirtError as error:
            with contextlib.suppress(libvirt.libvirtError):
                stream.abort()
            raise BackendError(f"console of {dom.name()}: {describe(error)}") from error
        return LibvirtConsole(stream)

    # -- snapshots ----------------------------------------------------------------------

    def snapshots(self, uuid: str) -> list[SnapshotInfo]:
        dom = self._domain(uuid)
        try:
            current = dom.snapshotCurrent(0).getName() if dom.hasCurrentSnapshot(0) else ""
            out = []
            for snap in dom.listAllSnapshots(0):
                root = read_xml(snap.getXMLDesc(0))
                out.append(
                    SnapshotInfo(
                        name=snap.getName(),
                        created=float(root.findtext("creationTime", "0") or 0),
                        state=root.findtext("state", ""),
                        current=snap.getName() == current,
                        description=root.findtext("description", ""),
                    )
                )
        except libvirt.libvirtError as error:
            raise BackendError(f"snapshots of {dom.name()}: {describe(error)}") from error
        return sorted(out, key=lambda item: (item.created, item.name))

    def create_snapshot(self, uuid: str, name: str, description: str = "") -> str:
        self._refuse_when_readonly("take snapshots")
        dom = self._domain(uuid)
        root = ET.Element("domainsnapshot")
        ET.SubElement(root, "name").text = name
        if description:
            ET.SubElement(root, "description").text = description
        label = dom.name()
        try:
            dom.snapshotCreateXML(ET.tostring(root, encoding="unicode"), 0)
        except libvirt.libvirtError as error:
            if error.get_error_code() in UNANSWERED:
                # The request may have reached the daemon: it can still take the snapshot.
                raise BackendError(
                    f"snapshot {name} of {label}: outcome unknown — {self.name} stopped "
                    f"answering ({describe(error)}); check the list when it is back",
                    connection_lost=True,
                ) from error
            raise BackendError(f"snapshot of {label}: {describe(error)}") from error
        return f"{label}: snapshot {name} taken"

    def revert_snapshot(self, uuid: str, name: str) -> str:
        self._refuse_when_readonly("revert snapshots")
        dom = self._domain(uuid)
        try:
            dom.revertToSnapshot(dom.snapshotLookupByName(name, 0), 0)
        except libvirt.libvirtError as error:
            raise BackendError(f"revert {dom.name()} to {name}: {describe(error)}") from error
        return f"{dom.name()}: reverted to snapshot {name}"

    def delete_snapshot(self, uuid: str, name: str) -> str:
        self._refuse_when_readonly("delete snapshots")
        dom = self._domain(uuid)
        try:
            dom.snapshotLookupByName(name, 0).delete(0)
        except libvirt.libvirtError as error:
            raise BackendError(
                f"delete snapshot {name} of {dom.name()}: {describe(error)}"
            ) from error
        return f"{dom.name()}: snapshot {name} deleted"

    # -- clone --------------------------------------------------------------------------

    def clone(self, uuid: str, new_name: str) -> str:
        self._refuse_when_readonly("clone")
        dom = self._domain(uuid)
        conn = self._connection()
        if dom.isActive():
            raise BackendError(f"{dom.name()} is running: shut it down before cloning")
        with contextlib.suppress(libvirt.libvirtError):
            conn.lookupByName(new_name)
            raise BackendError(f"a domain named {new_name} already exists on {self.name}")
        root = read_xml(
            dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE | libvirt.VIR_DOMAIN_XML_SECURE)
        )
        root.find("name").text = new_name  # type: ignore[union-attr]
        for element in (root.find("uuid"), *root.findall("./devices/interface/mac")):
            if element is not None:
                _remove(root, element)  # libvirt generates fresh ones
        copied: list[str] = []
        try:
            for disk in root.findall("./devices/disk"):
                source = disk.find("source")
                if disk.get("device", "disk") != "disk" or source is None or not source.get("file"):
                    continue
                new_path = self._copy_disk(source.get("file", ""), new_name, len(copied))
                copied.append(new_path)
                source.set("file", new_path)
            conn.defineXMLFlags(
                ET.tostring(root, encoding="unicode"), libvirt.VIR_DOMAIN_DEFINE_VALIDATE
            )
        except (libvirt.libvirtError, OSError, BackendError) as error:
            orphans = []
            for path in copied:  # nothing half-made is left behind, or it is named
                try:
                    why = self._delete_volume(path)
                except BackendError as lost:
                    why = lost.message
                if why:
                    orphans.append(f"{path} ({why})")
            message = describe(error)
            left = f"; left behind, delete by hand: {', '.join(orphans)}" if orphans else ""
            raise BackendError(f"clone {dom.name()} as {new_name}: {message}{left}") from error
        return f"{dom.name()}: cloned as {new_name} ({len(copied)} disk(s) copied)"

    def _copy_disk(self, path: str, new_name: str, index: int) -> str:
        source = Path(path)
        suffix = "".join(source.suffixes) or ".img"
        target = source.with_name(f"{new_name}{'' if index == 0 else f'-{index}'}{suffix}")
        if target.exists():
            raise BackendError(f"{target} already exists")
        conn = self._connection()
        try:
            volume = conn.storageVolLookupByPath(path)
        except libvirt.libvirtError as error:
            # Only "no volume with that path" (or no storage driver at all) means the
            # file is not in a pool; anything else (a dead daemon) is a failure.
            if error.get_error_code() not in (
                libvirt.VIR_ERR_NO_STORAGE_VOL,
                libvirt.VIR_ERR_NO_SUPPORT,
            ):
                raise
            volume = None
        if volume is not None:
            pool = volume.storagePoolLookupByVolume()
            root = read_xml(volume.XMLDesc(0))
            root.find("name").text = target.name  # type: ignore[union-attr]
            for element in (root.find("key"), root.find("./target/path")):
                if element is not None:
                    _remove(root, element)
            try:
                created = pool.createXMLFrom(ET.tostring(root, encoding="unicode"), volume, 0)
            except libvirt.libvirtError as error:
                left = (
                    f"; {target} is left behind, delete it by hand"
                    if is_local(self.uri) and target.exists()
                    else ""
                )
                raise BackendError(f"copy of {path}: {describe(error)}{left}") from error
            return str(created.path())
        if not is_local(self.uri):
            raise BackendError(f"{path} is not in a storage pool on {self.name}")
        shutil.copyfile(source, target)
        return str(target)


def _run(dom: libvirt.virDomain, action: DomainAction) -> None:
    if action is DomainAction.START:
        dom.create()  # restores a managed save when there is one
    elif action is DomainAction.SHUTDOWN:
        dom.shutdown()
    elif action is DomainAction.REBOOT:
        dom.reboot(0)
    elif action is DomainAction.DESTROY:
        dom.destroy()
    elif action is DomainAction.RESET:
        dom.reset(0)
    elif action is DomainAction.SUSPEND:
        dom.suspend()
    elif action is DomainAction.RESUME:
        dom.resume()
    elif action is DomainAction.MANAGED_SAVE:
        dom.managedSave(0)
    elif action is DomainAction.AUTOSTART_ON:
        dom.setAutostart(1)
    elif action is DomainAction.AUTOSTART_OFF:
        dom.setAutostart(0)
    elif action is DomainAction.UNDEFINE:
        _undefine(dom)
    else:
        raise BackendError(f"{action.verb}: not an action this backend runs directly")


def _undefine(dom: libvirt.virDomain) -> None:
    try:
        dom.undefineFlags(_UNDEFINE_FLAGS)
    except libvirt.libvirtError as error:
        if error.get_error_code() not in (libvirt.VIR_ERR_NO_SUPPORT, libvirt.VIR_ERR_INVALID_ARG):
            raise
        dom.undefine()  # a driver without NVRAM or checkpoints: the plain call does it


def _has_managed_save(dom: libvirt.virDomain) -> bool:
    try:
        return bool(dom.hasManagedSaveImage(0))
    except libvirt.libvirtError:
        return False


def _addresses(dom: libvirt.virDomain) -> dict[str, list[str]]:
    """MAC -> its addresses, each with the source that told it (lease, agent, arp)."""
    out: dict[str, list[str]] = {}
    for found in resolve(dom).addresses:
        out.setdefault(found.mac, []).append(f"{found.address} ({found.source})")
    return out


def _remove(root: ET.Element, element: ET.Element) -> None:
    for parent in root.iter():
        if element in list(parent):
            parent.remove(element)
            return
