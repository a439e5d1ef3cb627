"""A backup of one domain through libvirt: a running guest's disks with the backup API
in push mode (libvirt and QEMU write the images) and a checkpoint each time, so the next
backup copies only the clusters written since; a shut-off guest's disks copied with
qemu-img. Frozen through the guest agent when one answers."""

from __future__ import annotations

import contextlib
import json
import shutil
import subprocess
import threading
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import libvirt

from virtui.backends.backups import (
    DOMAIN_XML,
    Backup,
    BackupError,
    backups_of,
    domain_folder,
    rebase_onto,
    sha256_of,
    stamp,
    write_manifest,
)
from virtui.backends.base import BackendError
from virtui.backends.libvirt.handle import LibvirtPart
from virtui.backends.naming import is_local
from virtui.config.settings import private_dir, write_private
from virtui.model.backup import (
    CRASH_CONSISTENT,
    FROZEN,
    FULL,
    INCREMENTAL,
    BackupManifest,
    DiskImage,
)
from virtui.xmltext import escape, quoteattr

JOB_EVERY_S = 0.5  # progress is said this often, as migration's
DONE_EVERY_S = 0.05  # whether the job ended is asked this often (a small one takes ms)
Progress = Callable[[int, int], None]
"""progress(bytes done, bytes in all) of the backup job."""


class LibvirtBackups(LibvirtPart):
    """Backups of the host's domains (the port)."""

    LONG_JOBS = frozenset({"back_up"})  # minutes to hours: not on the polls' connection

    def back_up(
        self,
        uuid: str,
        root: Path,
        incremental: bool,
        progress: Progress,
        cancel: threading.Event,
    ) -> BackupManifest:
        self._refuse_when_readonly("back a domain up")
        if not is_local(self.uri):
            # libvirt writes the images where the path names on that host, and the
            # manifest, hashes and chain are made here: they would not meet.
            raise BackendError(
                f"{self.name} is remote: run virtui backup on that host (a timer: see "
                "docs/backup.md); the console backs up this machine's domains"
            )
        dom = self._domain(uuid)
        try:
            return back_up(dom, root, incremental=incremental, progress=progress, cancel=cancel)
        except BackupError as error:
            raise BackendError(str(error)) from error
        except libvirt.libvirtError as error:
            raise BackendError(f"backup of {dom.name()}: {error.get_error_message()}") from error

    def pool_folder(self, pool: str) -> Path:
        """The folder of a started dir pool of this (local) host, where backups go."""
        try:
            return pool_folder(self._connection(), pool)
        except BackupError as error:
            raise BackendError(f"{self.name}: {error}") from error


def pool_folder(conn: libvirt.virConnect, name: str) -> Path:
    """Where backups go in the storage pool ``name``: its target folder, for a started
    pool of type dir on this machine (the images are written by the host's QEMU; the
    manifests and hashes here)."""
    if not is_local(conn.getURI()):
        raise BackupError(f"pool {name}: the host is remote: back up on that host")
    try:
        pool = conn.storagePoolLookupByName(name)
        root = ET.fromstring(pool.XMLDesc(0))
        active = pool.isActive()
    except libvirt.libvirtError as error:
        raise BackupError(f"pool {name}: {error.get_error_message()}") from error
    if root.get("type") != "dir":
        raise BackupError(f"pool {name} is of type {root.get('type')}: backups need a dir pool")
    if not active:
        raise BackupError(f"pool {name} is not started")
    return Path(root.findtext("target/path", "").strip())


def _disks(xml: str) -> list[tuple[str, str, str]]:
    """(target, source file, format) of every file disk that is not read-only."""
    found = []
    for disk in ET.fromstring(xml).iterfind("devices/disk"):
        if disk.get("device", "disk") != "disk" or disk.find("readonly") is not None:
            continue
        source, target, driver = disk.find("source"), disk.find("target"), disk.find("driver")
        path = source.get("file", "") if source is not None else ""
        if path and target is not None:
            fmt = driver.get("type", "raw") if driver is not None else "raw"
            found.append((target.get("dev", ""), path, fmt))
    return found


def _usable_parent(dom: libvirt.virDomain, earlier: list[Backup]) -> Backup | None:
    """The last backup whose checkpoint the domain still has (a checkpoint deleted by
    hand, or a domain restored elsewhere, leaves none: the next backup is full)."""
    for backup in reversed(earlier):
        if backup.manifest.checkpoint:
            try:
                dom.checkpointLookupByName(backup.manifest.checkpoint)
            except libvirt.libvirtError:
                return None
            return backup
    return None


def back_up(
    dom: libvirt.virDomain,
    root: Path,
    *,
    incremental: bool = True,
    progress: Progress | None = None,
    cancel: threading.Event | None = None,
) -> BackupManifest:
    """Back ``dom`` up under ``root``; what was made, as its manifest says. On failure or
    cancel nothing half-made is left (BackupError says what happened)."""
    # The disks as they run now; the definition kept for a restore (secrets too).
    disks = _disks(dom.XMLDesc(libvirt.VIR_DOMAIN_XML_SECURE))
    xml = dom.XMLDesc(libvirt.VIR_DOMAIN_XML_SECURE | libvirt.VIR_DOMAIN_XML_INACTIVE)
    if not disks:
        raise BackupError(f"{dom.name()} has no file disk to back up")
    running = dom.isActive()
    if running and any(fmt != "qcow2" for _t, _p, fmt in disks):
        raise BackupError(
            "a running guest's backup needs qcow2 disks (checkpoints keep their "
            "dirty bitmaps in them)"
        )
    now = datetime.now(UTC)
    home = private_dir(domain_folder(root, dom.name(), dom.UUIDString()))
    earlier = backups_of(home)
    parent = _usable_parent(dom, earlier) if incremental and running else None
    note = ""
    if incremental and parent is None:
        note = (
            "a shut-off guest's disks are copied whole"
            if not running
            else "no earlier backup with its checkpoint on the domain: full"
        )
    kind = INCREMENTAL if parent is not None else FULL
    folder = home / f"{stamp(now)}-{kind}"
    # A checkpoint a failed backup could not remove (its daemon killed) keeps its name.
    taken = {c.getName() for c in dom.listAllCheckpoints()} if running else set()
    for again in range(2, 100):  # two backups within a second (a timer run by hand too)
        if not folder.exists() and f"virtui-{folder.name}" not in taken:
            break
        folder = home / f"{stamp(now)}-{kind}-{again}"
    private_dir(folder)
    checkpoint = f"virtui-{folder.name}" if running else ""
    try:
        if running:
            consistency = _push(dom, disks, folder, checkpoint, parent, progress, cancel)
        else:
            consistency = CRASH_CONSISTENT  # nothing runs: the copy is what is on disk
            _copy(disks, folder, cancel)
        if parent is not None:
            for target, _path, _fmt in disks:
                rebase_onto(folder / f"{target}.qcow2", parent.folder / f"{target}.qcow2")
        write_private(folder / DOMAIN_XML, xml)
        manifest = BackupManifest(
            domain=dom.name(),
            uuid=dom.UUIDString(),
            created=now.isoformat(timespec="seconds"),
            kind=kind,
            consistency=consistency,
            checkpoint=checkpoint,
            parent=parent.name if parent is not None else "",
            note=note,
            disks=tuple(_image(folder, target, path) for target, path, _fmt in disks),
        )
        write_manifest(folder, manifest)
    except BaseException as error:
        shutil.rmtree(folder, ignore_errors=True)
        left = _remove_checkpoint(dom, checkpoint) if checkpoint else ""
        if isinstance(error, libvirt.libvirtError):
            # The host stopped answering mid-job (libvirtd killed, the link lost).
            raise BackupError(
                f"the connection to the host was lost: {error.get_error_message()}; "
                f"what it wrote is removed{left}"
            ) from error
        if left and isinstance(error, BackupError):
            raise BackupError(f"{error}{left}") from error
        raise
    if checkpoint:
        _drop_older_checkpoints(dom, checkpoint)
    return manifest


def _remove_checkpoint(dom: libvirt.virDomain, name: str) -> str:
    """Delete the checkpoint a failed backup made: "" when it is gone, else what to say."""
    try:
        dom.checkpointLookupByName(name).delete(0)
    except libvirt.libvirtError as error:
        if error.get_error_code() != libvirt.VIR_ERR_NO_DOMAIN_CHECKPOINT:
            return (
                f"; its checkpoint {name} could not be removed "
                "(the next successful backup removes it)"
            )
    return ""


def _drop_older_checkpoints(dom: libvirt.virDomain, newest: str) -> None:
    """Only the newest checkpoint is needed for the next incremental; each one kept is a
    bitmap QEMU updates at every write. virtui's older ones go (others' stay)."""
    with contextlib.suppress(libvirt.libvirtError):
        for checkpoint in dom.listAllCheckpoints():
            name = checkpoint.getName()
            if name.startswith("virtui-") and name != newest:
                with contextlib.suppress(libvirt.libvirtError):
                    checkpoint.delete(0)


def _image(folder: Path, target: str, source: str) -> DiskImage:
    image = folder / f"{target}.qcow2"
    info = subprocess.run(
        ["qemu-img", "info", "-U", "--output=json", str(image)], capture_output=True, text=True
    )
    virtual = int(json.loads(info.stdout).get("virtual-size", 0)) if info.returncode == 0 else 0
    return DiskImage(target, source, image.name, virtual, image.stat().st_size, sha256_of(image))


def _push(
    dom: libvirt.virDomain,
    disks: list[tuple[str, str, str]],
    folder: Path,
    checkpoint: str,
    parent: Backup | None,
    progress: Progress | None,
    cancel: threading.Event | None,
) -> str:
    """The backup job in push mode; the consistency it had."""
    # The parent's checkpoint name comes from its manifest, a file: escaped like any text.
    since = f"<incremental>{escape(parent.manifest.checkpoint)}</incremental>" if parent else ""
    targets = "".join(
        f"<disk name={quoteattr(target)} type='file'>"
        f"<target file={quoteattr(str(folder / f'{target}.qcow2'))}/><driver type='qcow2'/></disk>"
        for target, _path, _fmt in disks
    )
    backup_xml = f"<domainbackup mode='push'>{since}<disks>{targets}</disks></domainbackup>"
    checkpoint_xml = f"<domaincheckpoint><name>{checkpoint}</name></domaincheckpoint>"
    frozen = False
    with contextlib.suppress(libvirt.libvirtError):
        dom.fsFreeze()  # only with a guest agent that answers
        frozen = True
    try:
        dom.backupBegin(backup_xml, checkpoint_xml, 0)
    except libvirt.libvirtError as error:
        raise BackupError(f"libvirt refused the backup: {error.get_error_message()}") from error
    finally:
        if frozen:  # the point in time is taken when the job begins
            with contextlib.suppress(libvirt.libvirtError):
                dom.fsThaw()
    _follow(dom, progress, cancel)
    return FROZEN if frozen else CRASH_CONSISTENT


def _follow(
    dom: libvirt.virDomain, progress: Progress | None, cancel: threading.Event | None
) -> None:
    """Until the job ends: progress every JOB_EVERY_S, abort when ``cancel`` is set;
    then what libvirt says of it."""
    said = 0.0
    while True:
        stats = dom.jobStats()
        if stats.get("type", libvirt.VIR_DOMAIN_JOB_NONE) == libvirt.VIR_DOMAIN_JOB_NONE:
            break
        if progress is not None and time.monotonic() - said >= JOB_EVERY_S:
            said = time.monotonic()
            progress(int(stats.get("disk_processed", 0)), int(stats.get("disk_total", 0)))
        if cancel is not None and cancel.is_set():
            with contextlib.suppress(libvirt.libvirtError):
                dom.abortJob()
        time.sleep(DONE_EVERY_S)
    done = dom.jobStats(libvirt.VIR_DOMAIN_JOB_STATS_COMPLETED)
    if cancel is not None and cancel.is_set():
        raise BackupError("cancelled: what it wrote is removed")
    if not done.get("success", False):
        why = done.get("errmsg", "") or "libvirt says the job failed"
        raise BackupError(f"the backup job failed: {why}")
    if progress is not None:
        progress(int(done.get("disk_total", 0)), int(done.get("disk_total", 0)))


def _copy(disks: list[tuple[str, str, str]], folder: Path, cancel: threading.Event | None) -> None:
    """A shut-off guest's disks, each copied whole into a qcow2 image."""
    for target, path, fmt in disks:
        if cancel is not None and cancel.is_set():
            raise BackupError("cancelled: what it wrote is removed")
        done = subprocess.run(
            [
                "qemu-img",
                "convert",
                "-U",
                "-f",
                fmt,
                "-O",
                "qcow2",
                path,
                str(folder / f"{target}.qcow2"),
            ],
            capture_output=True,
            text=True,
        )
        if done.returncode:
            raise BackupError(f"copying {target}: {done.stderr.strip()}")
