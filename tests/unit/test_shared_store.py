"""A user's own store is private; one in a team's folder is open to the team's group."""

from __future__ import annotations

import grp
import os
import stat
from pathlib import Path

import pytest

from virtui.review.shared import SharedSetupError, init_shared
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


def test_init_shared_refuses_a_folder_it_would_re_mode(tmp_path: Path) -> None:
    """A /tmp-like folder (1777) or someone's own stays as it is: nothing is re-moded,
    nothing is made in it."""
    group = grp.getgrgid(os.getegid()).gr_name
    for mode in (0o1777, 0o755, 0o2775):
        folder = tmp_path / f"f{mode:o}"
        folder.mkdir()
        os.chmod(folder, mode)
        with pytest.raises(SharedSetupError, match=f"exists with mode {mode:04o}.*not re-moded"):
            init_shared(folder / "reviews.db", group)
        assert stat.S_IMODE(folder.stat().st_mode) == mode
        assert list(folder.iterdir()) == []
    made = tmp_path / "new" / "desk"
    assert init_shared(made / "reviews.db", group)[0].startswith(f"{made}: 2770")
    assert stat.S_IMODE(made.stat().st_mode) == 0o2770
    init_shared(made / "reviews.db", group)  # its own folder, as it made it: again is fine
