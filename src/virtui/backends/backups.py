"""Backups on disk: one folder per domain, one per backup in it, each with its images,
the domain's XML and a manifest (JSON) that says what it is. Readable without virtui;
checked with qemu-img. No libvirt here: the job that writes them is
backends/libvirt/backup.py."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import subprocess
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from virtui.config.settings import write_private
from virtui.model.backup import INCREMENTAL, BackupManifest, BackupRow

MANIFEST = "manifest.json"
DOMAIN_XML = "domain.xml"
VERIFIED = "verified.json"  # when verify last read the backup, and what it found
CHUNK = 1 << 20


class BackupError(Exception):
    """A backup that cannot be made, read or trusted; the message says why, in a line."""


@dataclass(frozen=True, slots=True)
class Backup:
    """One backup: its folder and what its manifest says."""

    folder: Path
    manifest: BackupManifest

    @property
    def name(self) -> str:
        """The folder's name: ``20261207T031500Z-full``."""
        return self.folder.name


def stamp(now: datetime | None = None) -> str:
    """A backup's time as its folder and checkpoint names carry it: 20261207T031500Z."""
    return (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")


def domain_folder(root: Path, name: str, uuid: str) -> Path:
    """Where a domain's backups go: its name (made safe for a path) and its UUID's start,
    so that a renamed domain or two of one name stay apart."""
    safe = re.sub(r"[^A-Za-z0-9_.-]", "_", name)[:60] or "domain"
    return root / f"{safe}-{uuid[:8]}"


def sha256_of(path: Path) -> str:
    """The SHA-256 of a file, read in 1 MiB pieces."""
    digest = hashlib.sha256()
    with path.open("rb") as file:
        while piece := file.read(CHUNK):
            digest.update(piece)
    return digest.hexdigest()


def write_manifest(folder: Path, manifest: BackupManifest) -> None:
    """The backup's manifest, 0600."""
    write_private(folder / MANIFEST, json.dumps(manifest.to_json(), indent=2) + "\n")


# A disk's target and image file, as a manifest names them: a file beside the manifest.
_PLAIN_FILE = re.compile(r"[A-Za-z0-9_+-][A-Za-z0-9_.+-]{0,63}")
# A folder a reference names (a domain's, a backup's): one name, never . or .. or a path.
_PLAIN = re.compile(r"[A-Za-z0-9_+-][A-Za-z0-9_.+-]*")


def plain_name(part: str, what: str) -> str:
    """``part`` when it is one plain name (BackupError otherwise): references to backups
    come from change requests and screens, and are read only under the backups' place."""
    if not _PLAIN.fullmatch(part):
        raise BackupError(f"{what} {part!r} is not a plain name")
    return part


def read_backup(folder: Path) -> Backup:
    """The backup in ``folder`` (BackupError when its manifest is missing or bad). A
    manifest is a file, read as data: its images must be files beside it."""
    try:
        data = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
        manifest = BackupManifest.from_json(data)
    except (OSError, ValueError) as error:
        raise BackupError(f"{folder}: no readable manifest ({error})") from error
    for disk in manifest.disks:
        for what, name in (("disk", disk.target), ("image", disk.file)):
            if not isinstance(name, str) or not _PLAIN_FILE.fullmatch(name):
                raise BackupError(f"{folder.name}: its {what} {name!r} is not a file beside it")
    return Backup(folder, manifest)


def backups_of(folder: Path) -> list[Backup]:
    """A domain folder's backups, oldest first (folders without a manifest: left out,
    as a backup that never finished)."""
    found = []
    for child in sorted(folder.iterdir()) if folder.is_dir() else []:
        if (child / MANIFEST).is_file():
            try:
                found.append(read_backup(child))
            except BackupError:
                continue
    return found


def all_backups(root: Path) -> dict[Path, list[Backup]]:
    """Every domain folder under ``root`` with its backups, oldest first."""
    if not root.is_dir():
        return {}
    return {folder: backups_of(folder) for folder in sorted(root.iterdir()) if folder.is_dir()}


def last_backups(root: Path) -> dict[str, datetime]:
    """When each domain (by UUID) was last backed up, from the manifests under ``root``
    (a backup without one never finished)."""
    last: dict[str, datetime] = {}
    for backups in all_backups(root).values():
        for backup in backups:
            with contextlib.suppress(ValueError):
                when = datetime.fromisoformat(backup.manifest.created)
                uuid = backup.manifest.uuid
                if uuid not in last or when > last[uuid]:
                    last[uuid] = when
    return last


def chain(backup: Backup) -> list[Backup]:
    """The backups an image of ``backup`` is read through, the full one first
    (BackupError naming a missing parent)."""
    links = [backup]
    while links[0].manifest.kind == INCREMENTAL:
        name = links[0].manifest.parent
        if not name or Path(name).name != name or name in (".", ".."):
            # A manifest is a file: its parent must be a folder beside it, nothing else.
            raise BackupError(f"{links[0].name}: its parent {name!r} is not a backup's name")
        parent = links[0].folder.parent / name
        if not (parent / MANIFEST).is_file():
            raise BackupError(
                f"{links[0].name}: its parent {links[0].manifest.parent} is missing: "
                "the chain is broken"
            )
        links.insert(0, read_backup(parent))
    return links


def verify(backup: Backup) -> list[str]:
    """What is wrong with a backup (nothing: it is whole): each image re-read against
    its manifest's SHA-256 and checked by ``qemu-img check``, and its chain present."""
    problems = []
    try:
        chain(backup)
    except BackupError as error:
        problems.append(str(error))
    for disk in backup.manifest.disks:
        image = backup.folder / disk.file
        if not image.is_file():
            problems.append(f"{disk.file}: missing")
            continue
        if sha256_of(image) != disk.sha256:
            problems.append(f"{disk.file}: its SHA-256 is not the manifest's (the image changed)")
        checked = subprocess.run(
            ["qemu-img", "check", "-q", "-U", str(image)], capture_output=True, text=True
        )
        if checked.returncode:
            why = (checked.stderr or checked.stdout).strip().splitlines()
            problems.append(f"{disk.file}: qemu-img check: {why[-1] if why else 'failed'}")
    return problems


def rebase_onto(image: Path, parent: Path) -> None:
    """Make an incremental image read its unchanged clusters from the parent's (libvirt
    points it at the live disk): a relative path, so the folders can move together."""
    relative = os.path.relpath(parent, image.parent)
    done = subprocess.run(
        ["qemu-img", "rebase", "-u", "-F", "qcow2", "-b", relative, str(image)],
        capture_output=True,
        text=True,
    )
    if done.returncode:
        raise BackupError(f"qemu-img rebase {image.name}: {done.stderr.strip()}")


def restore_image(backup: Backup, target: str, output: Path) -> None:
    """One disk of ``backup``, built whole from its chain into a new qcow2 ``output``."""
    disk = next((d for d in backup.manifest.disks if d.target == target), None)
    if disk is None:
        raise BackupError(f"{backup.name} has no disk {target}")
    chain(backup)  # every parent present
    done = subprocess.run(
        ["qemu-img", "convert", "-O", "qcow2", str(backup.folder / disk.file), str(output)],
        capture_output=True,
        text=True,
    )
    if done.returncode:
        raise BackupError(f"qemu-img convert: {done.stderr.strip()}")


@dataclass(frozen=True, slots=True)
class Retention:
    """How many backups to keep, as restic's ``forget`` counts them: the ``last`` N,
    and the newest of each of the last N days and N ISO weeks that have one."""

    last: int = 0
    daily: int = 0
    weekly: int = 0

    @property
    def keeps_anything(self) -> bool:
        """False when no rule is given (pruning then would remove every backup)."""
        return bool(self.last or self.daily or self.weekly)


def to_keep(backups: list[Backup], retention: Retention) -> set[str]:
    """The names of the backups (of one domain, oldest first) that ``retention`` keeps,
    with every backup a kept one is built on: a chain is never broken."""
    newest_first = sorted(backups, key=lambda b: (b.manifest.created, b.name), reverse=True)
    kept: set[str] = {b.name for b in newest_first[: retention.last]}
    for count, period in ((retention.daily, "%Y-%m-%d"), (retention.weekly, "%G-W%V")):
        seen: list[str] = []
        for backup in newest_first:
            when = datetime.fromisoformat(backup.manifest.created).strftime(period)
            if when not in seen:
                if len(seen) == count:
                    break
                seen.append(when)
                kept.add(backup.name)
    by_name = {b.name: b for b in backups}
    for name in list(kept):
        parent = by_name[name].manifest.parent
        while parent and parent in by_name:
            kept.add(parent)
            parent = by_name[parent].manifest.parent
    return kept


def record_verified(backup: Backup, problems: list[str], now: datetime | None = None) -> None:
    """Keep what a verify found beside the backup (the backups screen shows it)."""
    when = (now or datetime.now(UTC)).isoformat(timespec="seconds")
    fresh = backup.folder / f".{VERIFIED}.{os.getpid()}.{threading.get_ident()}"
    with contextlib.suppress(FileNotFoundError):
        fresh.unlink()
    write_private(fresh, json.dumps({"when": when, "problems": problems}) + "\n")
    os.replace(fresh, backup.folder / VERIFIED)  # whole, for a reader at the same time


def read_verified(backup: Backup) -> tuple[float, str] | None:
    """When verify last read ``backup`` (epoch seconds) and what it found ("": whole);
    None when it never did (or what it wrote cannot be read)."""
    try:
        data = json.loads((backup.folder / VERIFIED).read_text(encoding="utf-8"))
        problems = data.get("problems", [])
        return datetime.fromisoformat(str(data["when"])).timestamp(), "; ".join(
            str(p) for p in problems
        )
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None


def backup_rows(root: Path) -> list[BackupRow]:
    """Every backup under ``root``, as the backups screen lists them: by domain, newest
    first."""
    rows = []
    for folder, backups in all_backups(root).items():
        by_name = {b.name: b for b in backups}
        for backup in reversed(backups):
            made = backup.manifest
            try:
                created = datetime.fromisoformat(made.created).timestamp()
            except ValueError:
                created = 0.0
            length, parent = 1, made.parent
            while parent in by_name and length < len(backups):
                length += 1
                parent = by_name[parent].manifest.parent
            verified = read_verified(backup)
            rows.append(
                BackupRow(
                    key=f"{folder.name}/{backup.name}",
                    domain=made.domain,
                    uuid=made.uuid,
                    name=backup.name,
                    kind=made.kind,
                    parent=made.parent,
                    created=created,
                    size=sum(disk.size for disk in made.disks),
                    disk_size=sum(disk.virtual_size for disk in made.disks),
                    consistency=made.consistency,
                    chain=length if not parent else 0,  # 0: a parent is missing
                    verified=verified[0] if verified else None,
                    problems=verified[1] if verified else "",
                )
            )
    return rows


def find_by_key(root: Path, key: str) -> Backup:
    """The backup a row's key names (``DOMAIN-FOLDER/BACKUP``), only under ``root``."""
    folder, _slash, name = key.partition("/")
    return read_backup(root / plain_name(folder, "domain folder") / plain_name(name, "backup"))
