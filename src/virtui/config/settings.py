"""Run-time settings and the XDG locations virtui uses."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from virtui.model import CpuMode
from virtui.model.columns import DEFAULT_HIDDEN

DEFAULT_DELAY_S = 2.0
MIN_DELAY_S = 0.5
MAX_DELAY_S = 60.0
DEFAULT_URI = "qemu:///system"


def _xdg(variable: str, fallback: str) -> Path:
    value = os.environ.get(variable, "")
    base = Path(value) if value and Path(value).is_absolute() else Path.home() / fallback
    return base / "virtui"


def cache_dir() -> Path:
    """``$XDG_CACHE_HOME/virtui``: the demo driver's root lives here."""
    return _xdg("XDG_CACHE_HOME", ".cache")


def state_dir() -> Path:
    """``$XDG_STATE_HOME/virtui``: logs and other state."""
    return _xdg("XDG_STATE_HOME", ".local/state")


def private_dir(path: Path) -> Path:
    """Create ``path`` (and its parents) for this user only: mode 0700. Raises OSError."""
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(path, 0o700)
    return path


def private_file(path: Path) -> Path:
    """Make sure ``path`` exists, mode 0600, in a 0700 directory; raises OSError when it
    cannot be written (a read-only state directory)."""
    private_dir(path.parent)
    handle = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        os.fchmod(handle, 0o600)
    finally:
        os.close(handle)
    return path


def write_private(path: Path, text: str) -> None:
    """Write a new file readable by its owner only (0600); an existing file is never
    overwritten (FileExistsError)."""
    handle = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(handle, "w", encoding="utf-8") as file:
        file.write(text)


def review_store_path(configured: str = "") -> Path:
    """The review desk's store: a team's shared one when configured, else this user's
    own (change requests, 0600)."""
    return Path(configured) if configured else state_dir() / "reviews.db"


def config_dir() -> Path:
    """``$XDG_CONFIG_HOME/virtui``: user configuration."""
    return _xdg("XDG_CONFIG_HOME", ".config")


def default_uris() -> list[str]:
    """What to connect to when no ``-c`` is given: ``$LIBVIRT_DEFAULT_URI``, as virsh does."""
    return [os.environ.get("LIBVIRT_DEFAULT_URI") or DEFAULT_URI]


@dataclass(slots=True)
class Settings:
    """What the user asked for on the command line."""

    uris: list[str] = field(default_factory=list)
    delay: float = DEFAULT_DELAY_S
    cpu_mode: CpuMode = CpuMode.IRIX
    demo: bool = False
    readonly: bool = False
    names: dict[str, str] = field(default_factory=dict)  # URI -> name from the config
    tags: dict[str, tuple[str, ...]] = field(default_factory=dict)  # URI -> tags
    refresh: dict[str, float] = field(default_factory=dict)  # URI -> own poll interval
    config_problem: str = ""  # why the config file was ignored, if it was
    theme: str = ""  # "" : the default for this terminal
    sort: str = "cpu"
    sort_reverse: bool | None = None  # None: the column's natural direction
    added_hosts: list[str] = field(default_factory=list)  # from :connect, saved
    # of the domains table
    hidden_columns: list[str] = field(default_factory=lambda: list(DEFAULT_HIDDEN))
    keys: dict[str, str] = field(default_factory=dict)  # settings.toml [keys]: id -> keys
    required_approvals: int = 0  # [review] rules from the config
    forbid_self_approval: bool = False
    forbid: frozenset[str] = frozenset()  # [review] forbid: kinds of host reach refused
    review_rules_problem: str = ""  # why the [review] rules could not be read: no merges
    review_store: str = ""  # a shared store ([review] store, --review-store); "": the user's
    review_history: str = ""  # a git repository of merged configurations ([review] history)
    review_desk: str = ""  # a team's desk service ([review] desk): its socket or ssh://...
    review_desk_relay: tuple[str, ...] = ("virtui",)  # what ssh runs on the desk's machine
    backup_dir: str = ""  # [backup] dir: where B puts backups ("": not configured)
    backup_pool: str = ""  # [backup] pool: a dir pool of the local host instead
    backup_too_old_hours: float = 26.0  # [backup] too_old_hours: BACKUP's warning
    backup_problem: str = ""  # why [backup] could not be read: no backups from the console

    def clamp_delay(self, value: float) -> float:
        """A refresh delay within the allowed range."""
        return min(MAX_DELAY_S, max(MIN_DELAY_S, value))
