"""A backup's manifest is a file, read as data: an incremental's parent must be a folder
beside it, not a path that leads elsewhere."""

from __future__ import annotations

from pathlib import Path

from virtui.backends.backups import read_backup, verify, write_manifest
from virtui.model.backup import INCREMENTAL, BackupManifest


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
