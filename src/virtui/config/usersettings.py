"""Settings changed in the app, kept in ``settings.toml`` next to ``config.toml``.

virtui writes this file itself (never the hand-written config.toml, whose comments and
layout are the user's): delay, CPU mode, sort, hidden columns, theme and hosts added
with ``:connect``.
The command line wins over it; it wins over the defaults.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import tempfile
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from virtui.config.settings import MAX_DELAY_S, MIN_DELAY_S, config_dir
from virtui.config.textfile import read_small_text
from virtui.model.columns import DOMAIN_COLUMN_KEYS

SORT_KEYS = DOMAIN_COLUMN_KEYS
# One key or several, comma-separated: "F", "ctrl+r", "f5,ctrl+r" (Textual's key names).
_KEYS = re.compile(r"[A-Za-z0-9_+]+(,[A-Za-z0-9_+]+)*")


@dataclass
class UserSettings:
    """What the user last chose in the app (None: never chosen)."""

    delay: float | None = None
    cpu_mode: str | None = None
    sort: str | None = None
    sort_reverse: bool | None = None
    theme: str | None = None
    hosts: list[str] = field(default_factory=list)
    hidden_columns: list[str] | None = None  # an empty list: everything shown
    # [keys]: binding id -> key(s), as "domains.act_reboot" = "ctrl+r" (written by hand;
    # kept when virtui writes the file)
    keys: dict[str, str] = field(default_factory=dict)


def settings_path() -> Path:
    """Where the app's own settings live."""
    return config_dir() / "settings.toml"


def load_user_settings(path: Path | None = None) -> tuple[UserSettings, str]:
    """The saved settings and "" — or defaults and why the file was not used."""
    path = path or settings_path()
    try:
        data = tomllib.loads(read_small_text(path))
    except FileNotFoundError:
        return UserSettings(), ""
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        return UserSettings(), f"settings ignored: {path}: {error}"
    settings = UserSettings()
    problems = []
    delay = data.get("delay")
    if isinstance(delay, int | float) and not isinstance(delay, bool):
        if MIN_DELAY_S <= delay <= MAX_DELAY_S:
            settings.delay = float(delay)
        else:
            problems.append(f"delay {delay} is outside {MIN_DELAY_S}-{MAX_DELAY_S}")
    if data.get("cpu_mode") in ("irix", "solaris"):
        settings.cpu_mode = str(data["cpu_mode"])
    if data.get("sort") in SORT_KEYS:
        settings.sort = str(data["sort"])
    if isinstance(data.get("sort_reverse"), bool):
        settings.sort_reverse = data["sort_reverse"]
    if isinstance(data.get("theme"), str):
        settings.theme = data["theme"]
    hidden = data.get("hidden_columns")
    if isinstance(hidden, list):
        settings.hidden_columns = [c for c in hidden if c in SORT_KEYS and c != "name"]
    hosts = data.get("hosts", [])
    if isinstance(hosts, list) and all(isinstance(h, str) for h in hosts):
        settings.hosts = list(hosts)
    keys = data.get("keys", {})
    if isinstance(keys, dict):
        for binding, key in keys.items():
            if isinstance(key, str) and _KEYS.fullmatch(key):
                settings.keys[binding] = key
            else:
                problems.append(f'[keys] {binding}: {key!r} is not a key, as "ctrl+r" or "F"')
    else:
        problems.append('[keys] must be a table of binding ids, as "domains.act_reboot" = "F"')
    problem = f"settings: {path}: {'; '.join(problems)}" if problems else ""
    return settings, problem


def _toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(float(value))
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    return json.dumps(str(value))  # a JSON string is a valid TOML basic string


def save_user_settings(settings: UserSettings, path: Path | None = None) -> None:
    """Write the settings atomically (a crash leaves the old file or the new one)."""
    path = path or settings_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = ["# Written by virtui: the settings you last chose in the app.\n"]
    for name in ("delay", "cpu_mode", "sort", "sort_reverse", "theme", "hosts", "hidden_columns"):
        value = getattr(settings, name)
        if value is not None and (value != [] or name == "hidden_columns"):
            lines.append(f"{name} = {_toml_value(value)}\n")
    if settings.keys:
        lines.append("\n[keys]\n")
        lines += [f"{json.dumps(k)} = {json.dumps(v)}\n" for k, v in sorted(settings.keys.items())]
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".settings-")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as file:
            file.writelines(lines)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
