"""Hosts from the config file: ``$XDG_CONFIG_HOME/virtui/config.toml``.

    [[hosts]]
    name = "h1"                              # optional: derived from the URI
    uri = "qemu+ssh://admin@h1/system"
    tags = ["prod", "rack-3"]                # optional
    refresh = 10                             # optional: seconds between polls of this host

virtui never asks for or stores passwords: ssh, TLS and SASL authenticate as they do for
virsh (keys, agents, certificates).
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from virtui.config.settings import MAX_DELAY_S, MIN_DELAY_S, config_dir
from virtui.config.textfile import UnreadableFile, read_small_text
from virtui.model.config import REACH_KINDS


@dataclass(frozen=True, slots=True)
class HostEntry:
    """One configured host."""

    uri: str
    name: str = ""
    tags: tuple[str, ...] = field(default_factory=tuple)
    refresh: float | None = None


class ConfigError(Exception):
    """The config file is unusable; the message names the file and the line."""


def config_path() -> Path:
    """Where the config file lives."""
    return config_dir() / "config.toml"


def _document(path: Path) -> dict[str, object]:
    try:
        text = read_small_text(path)
    except FileNotFoundError:
        return {}
    except UnreadableFile as error:
        raise ConfigError(str(error)) from error
    except OSError as error:
        raise ConfigError(f"{path}: {error.strerror}") from error
    except UnicodeDecodeError as error:
        why = f"not UTF-8 text ({error.reason} at byte {error.start})"
        raise ConfigError(f"{path}: {why}") from error
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path}: {error}") from error  # "... (at line 3, column 7)"


@dataclass(frozen=True, slots=True)
class ReviewConfig:
    """The [review] table: the rules, and where a team keeps its shared desk.

    ``store``: the change requests (default: this user's own, private); ``history``: a
    git repository that gets a commit for every merged configuration (default: none).
    """

    required_approvals: int = 0
    forbid_self_approval: bool = False
    store: str = ""
    history: str = ""
    forbid: frozenset[str] = frozenset()  # kinds of host reach refused outright
    # A team's desk service: its socket, or ssh://[USER@]HOST[:PORT]/SOCKET ("": none),
    # and the program ssh runs there (``virtui``, or an argument list).
    desk: str = ""
    desk_relay: tuple[str, ...] = ("virtui",)


TABLES = frozenset({"hosts", "review", "desk", "backup"})  # what config.toml may hold


def load_review_config(path: Path | None = None) -> ReviewConfig:
    """The [review] table (defaults when there is none). Raises ConfigError."""
    path = path or config_path()
    document = _document(path)
    # A misspelt [review] would leave the defaults in force (no approvals needed): a
    # table this file does not have is a rule that cannot be read.
    unknown_tables = set(document) - TABLES
    if unknown_tables:
        named = ", ".join(f"[{name}]" for name in sorted(unknown_tables))
        raise ConfigError(f"{path}: unknown table(s) {named}: the review rules cannot be read")
    review = document.get("review", {})
    if not isinstance(review, dict):
        raise ConfigError(f"{path}: 'review' must be a table ([review])")
    required = review.get("required_approvals", 0)
    forbid = review.get("forbid_self_approval", False)
    if isinstance(required, bool) or not isinstance(required, int) or not 0 <= required <= 9:
        raise ConfigError(f"{path}: [review] required_approvals must be a number from 0 to 9")
    if not isinstance(forbid, bool):
        raise ConfigError(f"{path}: [review] forbid_self_approval must be true or false")
    places = {}
    for key in ("store", "history"):
        value = review.get(key, "")
        if not isinstance(value, str) or (value and not Path(value).expanduser().is_absolute()):
            raise ConfigError(f"{path}: [review] {key} must be an absolute path in quotes")
        places[key] = str(Path(value).expanduser()) if value else ""
    kinds = review.get("forbid", [])
    if not isinstance(kinds, list) or not all(isinstance(k, str) for k in kinds):
        raise ConfigError(f'{path}: [review] forbid must be a list of kinds, as ["qemu"]')
    # A misspelt kind would forbid nothing: it is a rule that cannot be read.
    unknown_kinds = sorted(set(kinds) - set(REACH_KINDS))
    if unknown_kinds:
        raise ConfigError(
            f"{path}: [review] forbid: unknown kind(s) {', '.join(unknown_kinds)} "
            f"(known: {', '.join(REACH_KINDS)})"
        )
    unknown = set(review) - {
        "required_approvals",
        "forbid_self_approval",
        "store",
        "history",
        "forbid",
        "desk",
        "desk_relay",
    }
    if unknown:
        raise ConfigError(f"{path}: [review] unknown key(s) {', '.join(sorted(unknown))}")
    desk = review.get("desk", "")
    if not isinstance(desk, str) or (desk and not desk.startswith(("/", "ssh://"))):
        raise ConfigError(
            f'{path}: [review] desk must be the service\'s socket, "/run/…/desk.sock", '
            'or "ssh://[USER@]HOST[:PORT]/PATH/TO/SOCKET"'
        )
    relay = review.get("desk_relay", ["virtui"])
    if isinstance(relay, str):
        relay = [relay]
    if not isinstance(relay, list) or not relay or not all(isinstance(r, str) for r in relay):
        raise ConfigError(f'{path}: [review] desk_relay must be a program, as ["virtui"]')
    return ReviewConfig(
        required,
        forbid,
        places["store"],
        places["history"],
        frozenset(kinds),
        desk,
        tuple(relay),
    )


@dataclass(frozen=True, slots=True)
class BackupConfig:
    """The [backup] table: where backups go, and when a domain's last one is too old."""

    dir: str = ""  # "": not configured (the console's B asks for it; the CLI's --to)
    too_old_hours: float = 26.0  # a nightly backup missed once
    pool: str = ""  # a dir-type storage pool of the host instead (virtui backup create)


def load_backup_config(path: Path | None = None) -> BackupConfig:
    """The [backup] table (defaults when there is none). Raises ConfigError."""
    path = path or config_path()
    table = _document(path).get("backup", {})
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: 'backup' must be a table ([backup])")
    unknown = set(table) - {"dir", "too_old_hours", "pool"}
    if unknown:
        raise ConfigError(f"{path}: [backup] unknown key(s) {', '.join(sorted(unknown))}")
    where = table.get("dir", "")
    if not isinstance(where, str) or (where and not Path(where).expanduser().is_absolute()):
        raise ConfigError(f"{path}: [backup] dir must be an absolute path in quotes")
    hours = table.get("too_old_hours", 26.0)
    if isinstance(hours, bool) or not isinstance(hours, (int, float)) or hours <= 0:
        raise ConfigError(f"{path}: [backup] too_old_hours must be a number of hours above 0")
    pool = table.get("pool", "")
    if not isinstance(pool, str) or (pool and not re.fullmatch(r"[A-Za-z0-9_.+-]{1,64}", pool)):
        raise ConfigError(f"{path}: [backup] pool must be a storage pool's name in quotes")
    return BackupConfig(str(Path(where).expanduser()) if where else "", float(hours), pool)


def load_hosts(path: Path | None = None) -> list[HostEntry]:
    """The hosts of the config file ([] when there is none). Raises ConfigError."""
    path = path or config_path()
    document = _document(path)
    hosts = document.get("hosts", [])
    if not isinstance(hosts, list):
        raise ConfigError(f"{path}: 'hosts' must be an array of tables ([[hosts]])")
    entries = []
    for number, item in enumerate(hosts, start=1):
        where = f"{path}: host #{number}"
        if not isinstance(item, dict):
            raise ConfigError(f"{where}: must be a table ([[hosts]])")
        uri = item.get("uri")
        if not isinstance(uri, str) or not uri.strip():
            raise ConfigError(f'{where}: needs uri = "driver+transport://host/path"')
        name = item.get("name", "")
        tags = item.get("tags", [])
        if not isinstance(name, str) or "/" in name:
            raise ConfigError(f"{where}: name must be text without '/'")
        if not isinstance(tags, list) or not all(isinstance(tag, str) for tag in tags):
            raise ConfigError(f"{where}: tags must be a list of strings")
        refresh = item.get("refresh")
        if refresh is not None and (
            isinstance(refresh, bool)
            or not isinstance(refresh, int | float)
            or not MIN_DELAY_S <= refresh <= MAX_DELAY_S
        ):
            raise ConfigError(
                f"{where}: refresh must be a number of seconds from {MIN_DELAY_S} to {MAX_DELAY_S}"
            )
        unknown = set(item) - {"uri", "name", "tags", "refresh"}
        if unknown:
            raise ConfigError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}")
        entries.append(
            HostEntry(
                uri.strip(),
                name.strip(),
                tuple(tags),
                float(refresh) if refresh is not None else None,
            )
        )
    return entries
