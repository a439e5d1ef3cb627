"""The desk service's own file: where it listens, which group may use it, where it keeps
its store and history, the team's rules and the hosts it merges into.

    [desk]
    socket = "/run/virtui-desk/desk.sock"
    group = "virtadmins"                     # who may use the desk

    [review]                                 # the team's rules (as in config.toml)
    store = "/var/lib/virtui-desk/reviews.db"
    history = "/var/lib/virtui-desk/config.git"
    required_approvals = 1
    forbid_self_approval = true

    [[hosts]]
    name = "h1"                              # members name the host so too
    uri = "qemu:///system"

The rules bind people who are not the service's account: a file that anyone but root or
that account can change (or replace, through its folder) is refused, and so is a state
folder open to others. Rules that cannot be read leave the service up with merging
disabled (fail closed); a file that cannot be read at all stops it.
"""

from __future__ import annotations

import grp
import os
import stat
from dataclasses import dataclass
from pathlib import Path

from virtui.config.hostsfile import (
    ConfigError,
    HostEntry,
    ReviewConfig,
    _document,
    load_hosts,
    load_review_config,
)

DESK_KEYS = frozenset({"socket", "group"})


@dataclass(frozen=True, slots=True)
class DeskConfig:
    """The service's file, read and checked."""

    path: Path
    socket: Path
    group: str
    gid: int
    review: ReviewConfig
    rules_problem: str  # why the rules cannot be read: merging stays disabled
    hosts: list[HostEntry]


def _trusted(path: Path, what: str) -> None:
    """Refuse ``path`` unless only root or this account can change it."""
    info = path.stat()
    if info.st_uid not in (0, os.geteuid()):
        raise ConfigError(f"{path}: owned by uid {info.st_uid}: {what} must be root's or mine")
    if info.st_mode & 0o022 and not (stat.S_ISDIR(info.st_mode) and info.st_mode & stat.S_ISVTX):
        mode = stat.S_IMODE(info.st_mode)
        raise ConfigError(f"{path}: mode {mode:04o} lets others change {what}: chmod go-w {path}")


def private_folder(folder: Path) -> None:
    """Make ``folder`` (0700) or check that it is this account's and closed to others."""
    if not folder.exists():
        folder.mkdir(mode=0o700, parents=True)
    info = folder.stat()
    if info.st_uid != os.geteuid() or info.st_mode & 0o077:
        raise ConfigError(
            f"{folder}: the desk's files must be its account's alone (owner uid "
            f"{info.st_uid}, mode {stat.S_IMODE(info.st_mode):04o}): chown the folder to "
            "the service's account and chmod 700 it"
        )


def load_desk_config(path: Path) -> DeskConfig:
    """The service's file (ConfigError when it cannot be used at all)."""
    path = path.absolute()
    try:
        _trusted(path, "the team's rules")
        _trusted(path.parent, "the folder of the team's rules")
    except FileNotFoundError as error:
        raise ConfigError(f"{path}: no such file") from error
    document = _document(path)
    desk = document.get("desk")
    if not isinstance(desk, dict):
        raise ConfigError(f"{path}: needs a [desk] table with socket and group")
    unknown = set(desk) - DESK_KEYS
    if unknown:
        raise ConfigError(f"{path}: [desk] unknown key(s) {', '.join(sorted(unknown))}")
    socket_path, group = desk.get("socket"), desk.get("group")
    if not isinstance(socket_path, str) or not socket_path.startswith("/"):
        raise ConfigError(f'{path}: [desk] socket must be an absolute path, as "/run/…/desk.sock"')
    if not isinstance(group, str) or not group:
        raise ConfigError(f'{path}: [desk] group must name the team\'s group, as "virtadmins"')
    try:
        gid = grp.getgrnam(group).gr_gid
    except KeyError as error:
        raise ConfigError(f"{path}: [desk] group: there is no group {group!r}") from error
    try:
        review, problem = load_review_config(path), ""
    except ConfigError as error:
        # The service still answers (nothing merges): where its files are is all it takes.
        table = document.get("review")
        places = {
            key: value
            for key in ("store", "history")
            if isinstance(table, dict)
            and isinstance(value := table.get(key, ""), str)
            and value.startswith("/")
        }
        review = ReviewConfig(store=places.get("store", ""), history=places.get("history", ""))
        problem = str(error)
    if not review.store and not problem:
        raise ConfigError(f"{path}: [review] store must say where the desk keeps its requests")
    if review.desk:
        raise ConfigError(f"{path}: [review] desk names a desk service: this file is one")
    return DeskConfig(path, Path(socket_path), group, gid, review, problem, load_hosts(path))
