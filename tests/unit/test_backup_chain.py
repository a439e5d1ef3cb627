"""A backup's manifest is a file, read as data: an incremental's parent must be a folder
beside it, not a path that leads elsewhere."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from virtui.backends.backups import BackupError, read_backup, verify, write_manifest
from virtui.model.backup import INCREMENTAL, BackupManifest, DiskImage


def test_a_parent_that_is_a_path_elsewhere_is_not_followed(tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    write_manifest(elsewhere, BackupManifest("x", "u", "2026-12-07T00:00:00+00:00", "full", "-"))
    folder = tmp_path / "web01-6695eb01" / "20261207T031500Z-incremental"
    folder.mkdir(parents=True)
    write_manifest(
        folder,
        BackupManifest(
            "web01", "u", "2026-12-07T03:15:00+00:00", INCREMENTAL, "-", parent="../../elsewhere"
        ),
    )
    assert verify(read_backup(folder)) == [
        "20261207T031500Z-incremental: its parent '../../elsewhere' is not a backup's name"
    ]


def test_an_image_named_as_a_path_elsewhere_is_not_read(tmp_path: Path) -> None:
    """A manifest's image must be a file beside it: a restore or a verify never reads
    (and a restore never copies into a guest's disk) a file it names elsewhere."""
    folder = tmp_path / "web01-6695eb01" / "20261207T031500Z-full"
    folder.mkdir(parents=True)
    for file in ("/etc/shadow", "../../secret.qcow2"):
        disk = DiskImage("vda", "/x.qcow2", file, 1, 1, "0" * 64)
        manifest = BackupManifest("web01", "u", "2026-12-07T03:15:00+00:00", "full", "-")
        (folder / "manifest.json").unlink(missing_ok=True)
        write_manifest(folder, replace(manifest, disks=(disk,)))
        with pytest.raises(BackupError, match=r"its image .* is not a file beside it"):
            read_backup(folder)
