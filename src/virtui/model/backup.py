"""Backups of domains: what one backup holds, as its manifest says (readable without
virtui: a JSON file beside the images)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

FULL, INCREMENTAL = "full", "incremental"
FROZEN, CRASH_CONSISTENT = "frozen", "crash-consistent"


@dataclass(frozen=True, slots=True)
class DiskImage:
    """One disk's image in a backup: ``file`` is relative to the backup's folder."""

    target: str  # the disk's target device: vda
    source: str  # the disk's file when it was backed up
    file: str  # vda.qcow2
    virtual_size: int  # bytes the disk holds
    size: int  # bytes the image takes (an incremental: about what changed)
    sha256: str


@dataclass(frozen=True, slots=True)
class BackupManifest:
    """One backup of one domain: full, or incremental over ``parent`` (a folder name in
    the same domain's folder) since its ``checkpoint``."""

    domain: str
    uuid: str
    created: str  # UTC, ISO 8601
    kind: str  # full or incremental
    consistency: str  # frozen (the guest agent froze the filesystems) or crash-consistent
    checkpoint: str = ""  # the checkpoint made with it ("" for a shut-off guest's copy)
    parent: str = ""  # the backup an incremental's images build on
    note: str = ""  # why it is what it is ("no earlier checkpoint: full")
    disks: tuple[DiskImage, ...] = field(default_factory=tuple)

    def to_json(self) -> dict[str, Any]:
        """The manifest as a JSON object."""
        data = asdict(self)
        data["disks"] = [asdict(disk) for disk in self.disks]
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> BackupManifest:
        """A manifest read back (ValueError when it is not one)."""
        try:
            disks = tuple(DiskImage(**disk) for disk in data["disks"])
            fields = {k: v for k, v in data.items() if k != "disks"}
            return cls(**fields, disks=disks)
        except (KeyError, TypeError) as error:
            raise ValueError(f"not a backup manifest: {error}") from error


@dataclass(frozen=True, slots=True)
class BackupRow:
    """One backup as the backups screen lists it."""

    key: str  # DOMAIN-FOLDER/BACKUP: unique under the backups' place
    domain: str
    uuid: str
    name: str  # the backup's folder: 20261207T031500Z-full
    kind: str
    parent: str
    created: float  # epoch seconds (0: the manifest's time could not be read)
    size: int  # bytes of its images
    disk_size: int  # bytes its disks hold
    consistency: str
    chain: int  # how many backups a restore of it reads (1: a full one)
    verified: float | None = None  # when verify last read it (None: never)
    problems: str = ""  # what that verify found ("": it was whole)
