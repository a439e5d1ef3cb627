"""A user's own store is private; one in a team's folder is open to the team's group."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from virtui.review.store import ReviewStore


def test_an_own_store_is_0600_in_a_0700_folder(tmp_path: Path) -> None:
    store = ReviewStore(tmp_path / "own" / "reviews.db")
    try:
        assert not store.shared
        assert stat.S_IMODE(store.path.stat().st_mode) == 0o600
        assert stat.S_IMODE(store.path.parent.stat().st_mode) == 0o700
    finally:
        store.close()


def test_a_store_in_a_team_folder_is_0660_and_so_are_its_wal_files(tmp_path: Path) -> None:
    folder = tmp_path / "team"
    folder.mkdir()
    os.chmod(folder, 0o2770)
    store = ReviewStore(folder / "reviews.db")
    try:
        assert store.shared
        assert stat.S_IMODE(store.path.stat().st_mode) == 0o660
        assert store.ids() == []
        for suffix in ("-wal", "-shm"):
            side = folder / f"reviews.db{suffix}"
            assert side.exists() and stat.S_IMODE(side.stat().st_mode) == 0o660
    finally:
        store.close()
