"""Pruning backups by retention rules, as restic's forget counts them, without ever
removing a backup a kept one is built on."""

from __future__ import annotations

import io
from pathlib import Path

from virtui.backends.backups import Retention, all_backups, to_keep, write_manifest
from virtui.cli.backup import backup_main
from virtui.model.backup import FULL, INCREMENTAL, BackupManifest


def _make(root: Path, day: int, hour: int, kind: str, parent: str = "") -> str:
    name = f"202612{day:02d}T{hour:02d}0000Z-{kind}"
    folder = root / "web01-6695eb01" / name
    folder.mkdir(parents=True)
    write_manifest(
        folder,
        BackupManifest(
            "web01",
            "6695eb01-f6a4-8304-79aa-97f2502e193f",
            f"2026-12-{day:02d}T{hour:02d}:00:00+00:00",
            kind,
            "crash-consistent",
            parent=parent,
        ),
    )
    return name


def test_the_rules_keep_what_they_count_and_every_parent_of_it(tmp_path: Path) -> None:
    # A full on the 1st, incrementals each day after; a new full on the 8th.
    names = [_make(tmp_path, 1, 3, FULL)]
    for day in range(2, 8):
        names.append(_make(tmp_path, day, 3, INCREMENTAL, names[-1]))
    names.append(_make(tmp_path, 8, 3, FULL))
    names.append(_make(tmp_path, 8, 15, INCREMENTAL, names[-1]))  # two on the 8th
    ((_folder, backups),) = all_backups(tmp_path).items()
    # The last one only: it and the full it is built on.
    assert to_keep(backups, Retention(last=1)) == {names[-1], names[-2]}
    # The newest of each of the last 2 days: the 8th's later one, and the 7th's, which
    # needs its whole chain back to the 1st.
    assert to_keep(backups, Retention(daily=2)) == {names[-1], names[-2], *names[:7]}


def test_prune_removes_the_rest_and_a_dry_run_removes_nothing(tmp_path: Path) -> None:
    first = _make(tmp_path, 1, 3, FULL)
    second = _make(tmp_path, 2, 3, FULL)
    out = io.StringIO()
    assert backup_main(["prune", "--to", str(tmp_path), "--keep-last", "1", "--dry-run"], out) == 0
    assert out.getvalue() == f"web01 {first}: would remove\nweb01 {second}: keep\n"
    assert (tmp_path / "web01-6695eb01" / first).is_dir()
    out = io.StringIO()
    assert backup_main(["prune", "--to", str(tmp_path), "--keep-last", "1"], out) == 0
    assert out.getvalue() == f"web01 {first}: removed\nweb01 {second}: keep\n"
    assert not (tmp_path / "web01-6695eb01" / first).exists()
    out = io.StringIO()
    assert backup_main(["prune", "--to", str(tmp_path)], out) == 2  # no rule: nothing goes
    assert "say what to keep" in out.getvalue()
