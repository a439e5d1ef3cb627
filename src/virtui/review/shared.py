"""Setting up a desk a team shares on one jump host: the store and the history in
folders of one group (set-group-ID, 2770), so every file made there belongs to the group
and is open to it (the store 0660, its WAL files alike; git objects group-writable)."""

from __future__ import annotations

import grp
import os
import stat
from pathlib import Path

from virtui.review.history import ConfigHistory, HistoryError
from virtui.review.store import ReviewStore, StoreError

FOLDER_MODE = 0o2770
STORE_MODE = 0o660


class SharedSetupError(Exception):
    """The shared desk could not be set up; the message says why."""


def _team_folder(folder: Path, gid: int) -> None:
    """Make the folder the team's; one that exists with another mode or group is
    refused (it may be /tmp, or someone's own: re-moding it would open or close it to
    people without asking)."""
    if folder.exists():
        info = folder.stat()
        mode = stat.S_IMODE(info.st_mode)
        if mode != FOLDER_MODE or info.st_gid != gid:
            raise SharedSetupError(
                f"{folder} exists with mode {mode:04o}, group {_group_name(info.st_gid)}: "
                "not re-moded; give a new folder, or set it to 2770 and the team's group "
                "yourself"
            )
        return
    folder.mkdir(parents=True)
    os.chown(folder, -1, gid)
    os.chmod(folder, FOLDER_MODE)  # chmod after chown: chown clears set-group-ID


def _group_name(gid: int) -> str:
    try:
        return grp.getgrgid(gid).gr_name
    except KeyError:
        return str(gid)


def init_shared(store: Path, group: str, history: Path | None = None) -> list[str]:
    """Make (or bring into line) the shared store and history for ``group``; returns
    what was done, a line each. Needs the right to give files to the group (root)."""
    try:
        gid = grp.getgrnam(group).gr_gid
    except KeyError as error:
        raise SharedSetupError(f"there is no group {group!r} (groupadd {group})") from error
    done = []
    try:
        _team_folder(store.parent, gid)
        done.append(f"{store.parent}: 2770, group {group}")
        ReviewStore(store).close()  # the schema; 0660 in a team folder
        os.chown(store, -1, gid)
        os.chmod(store, STORE_MODE)
        for suffix in ("-wal", "-shm"):
            side = store.with_name(store.name + suffix)
            if side.exists():
                os.chown(side, -1, gid)
                os.chmod(side, STORE_MODE)
        done.append(f"{store}: 0660, group {group}")
        if history is not None:
            _team_folder(history.parent, gid)
            if not history.exists():  # made here: its modes are ours to set
                ConfigHistory.init(history, shared=True)
                for root, folders, files in os.walk(history):
                    for name in folders:
                        os.chown(os.path.join(root, name), -1, gid)
                    for name in files:
                        os.chown(os.path.join(root, name), -1, gid)
                os.chown(history, -1, gid)
                os.chmod(history, FOLDER_MODE)
            else:
                _team_folder(history, gid)
                if not ConfigHistory(history).exists():
                    raise SharedSetupError(f"{history} exists and is not a git repository")
            done.append(f"{history}: git repository shared with group {group}")
    except PermissionError as error:
        raise SharedSetupError(
            f"{error.filename}: {error.strerror} (run this as root, or as a member of "
            f"{group} who owns the folders)"
        ) from error
    except (OSError, StoreError, HistoryError) as error:
        raise SharedSetupError(str(error)) from error
    return done
