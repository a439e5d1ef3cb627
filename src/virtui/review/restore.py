"""A domain restored from a backup, as a change request like any new guest: the backup's
domain XML under a new name and UUID, each disk a new volume that the merge builds from
the backup's chain. What a volume's ``restore`` names is read only under the desk's own
[backup] dir, by plain folder names, and its chain is verified again at merge."""

from __future__ import annotations

import contextlib
import tempfile
import uuid as uuidlib
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from virtui.backends.backups import (
    DOMAIN_XML,
    Backup,
    BackupError,
    all_backups,
    chain,
    plain_name,
    read_backup,
    restore_image,
    verify,
)
from virtui.model.newguest import NewVolume
from virtui.review.xmlsafe import XmlRefused, parse_config, to_text

if TYPE_CHECKING:
    from lxml import etree


def reference(backup: Backup, target: str) -> str:
    """What a restored volume records: ``DOMAIN-FOLDER/BACKUP/TARGET``."""
    return f"{backup.folder.parent.name}/{backup.name}/{target}"


def locate(root: Path, ref: str) -> tuple[Backup, str]:
    """The backup and disk a volume's ``restore`` names, found only under ``root``, its
    chain present (BackupError says why not)."""
    parts = ref.split("/")
    if len(parts) != 3:
        raise BackupError(f"{ref!r} does not name DOMAIN-FOLDER/BACKUP/DISK")
    folder, name, target = (
        plain_name(part, what)
        for part, what in zip(parts, ("domain folder", "backup", "disk"), strict=True)
    )
    backup = read_backup(root / folder / name)
    if not any(disk.target == target for disk in backup.manifest.disks):
        raise BackupError(f"{folder}/{name} has no disk {target}")
    chain(backup)
    return backup, target


def check_whole(backup: Backup) -> None:
    """Every backup the image is read through, verified: hashes and qemu-img check."""
    for link in chain(backup):
        problems = verify(link)
        if problems:
            raise BackupError(
                f"backup {link.folder.parent.name}/{link.name} is damaged: {'; '.join(problems)}"
            )


@contextlib.contextmanager
def built_image(root: Path, ref: str) -> Iterator[Path]:
    """The disk ``ref`` names, verified and built whole from its chain into a private
    temporary qcow2 image (removed after)."""
    backup, target = locate(root, ref)
    check_whole(backup)
    with tempfile.TemporaryDirectory(prefix="virtui-restore-") as work:
        image = Path(work) / f"{target}.qcow2"
        restore_image(backup, target, image)
        yield image


def find_backup(root: Path, domain: str, name: str = "") -> Backup:
    """The newest backup (or the one called ``name``) of the domain called ``domain``
    (its name, UUID or folder) under ``root``."""
    for folder, backups in all_backups(root).items():
        if not backups:
            continue
        made = backups[-1].manifest
        if domain not in (folder.name, made.domain, made.uuid):
            continue
        if not name:
            return backups[-1]
        for backup in backups:
            if backup.name == name:
                return backup
        raise BackupError(f"{domain} has no backup {name}")
    raise BackupError(f"no backup of {domain} under {root}")


# Live state a running guest's XML carries, which a new definition must not: libvirt
# assigns them again.
_LIVE = ("alias", "backingStore")


def restored_xml(xml: str, name: str, uuid: str, volumes: dict[str, tuple[str, str]]) -> str:
    """The backup's domain XML as a new domain: ``name`` and ``uuid``; each backed-up
    disk (target -> (pool, volume)) on its new volume; other disks' images are not in
    the backup (a CD-ROM's tray is left empty, any other such disk dropped); MAC
    addresses and live state left for libvirt to assign anew."""
    try:
        root = parse_config(xml, "domain")
    except XmlRefused as error:
        raise BackupError(f"{DOMAIN_XML}: {error}") from error
    root.attrib.pop("id", None)
    _set(root, "name", name)
    _set(root, "uuid", uuid)
    devices = root.find("devices")
    for disk in list(devices.iterfind("disk") if devices is not None else ()):
        target = disk.find("target")
        dev = target.get("dev", "") if target is not None else ""
        if dev in volumes:
            pool, volume = volumes[dev]
            disk.set("type", "volume")
            for old in disk.findall("source") + [e for t in _LIVE for e in disk.findall(t)]:
                disk.remove(old)
            source = disk.makeelement("source", {"pool": pool, "volume": volume})
            disk.insert(1 if disk.find("driver") is not None else 0, source)
            driver = disk.find("driver")
            if driver is not None:
                driver.set("type", "qcow2")
        elif disk.get("device") == "cdrom":
            for old in disk.findall("source"):
                disk.remove(old)
        elif devices is not None:
            devices.remove(disk)
    for element in list(root.iter()):
        if element.tag in ("mac", "alias") or (
            element.tag == "seclabel" and element.get("type") == "dynamic"
        ):
            parent = element.getparent()
            if parent is not None:
                parent.remove(element)
    for graphics in root.iterfind("devices/graphics"):
        if graphics.get("autoport") == "yes":
            graphics.attrib.pop("port", None)
    return to_text(root)


def _set(root: etree._Element, tag: str, text: str) -> None:
    element = root.find(tag)
    if element is None:
        element = root.makeelement(tag, {})
        root.insert(0, element)
    element.text = text


def restore_plan(
    backup: Backup, name: str, pool: str, new_uuid: str = ""
) -> tuple[str, list[NewVolume]]:
    """The new domain's XML and the volumes to build, for restoring ``backup`` as
    ``name`` with its disks in ``pool`` (named NAME-TARGET.qcow2)."""
    try:
        xml = (backup.folder / DOMAIN_XML).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise BackupError(f"{backup.name}: cannot read {DOMAIN_XML} ({error})") from error
    volumes = [
        NewVolume(
            pool,
            f"{name}-{disk.target}.qcow2",
            disk.virtual_size,
            "qcow2",
            restore=reference(backup, disk.target),
        )
        for disk in backup.manifest.disks
    ]
    targets = {disk.target: (pool, f"{name}-{disk.target}.qcow2") for disk in backup.manifest.disks}
    return restored_xml(xml, name, new_uuid or str(uuidlib.uuid4()), targets), volumes
