"""Themes from files: the shipped ones (package data in ``virtui/tui/themes/``) and the user's own.

A theme file is TOML with Textual's theme fields (name, dark, primary, secondary,
accent, foreground, background, surface, panel, boost, success, warning, error, ansi)
and an optional ``[variables]`` table. Every colour on every screen comes from these.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from textual.theme import Theme

from virtui.config.settings import config_dir
from virtui.config.textfile import THEME_LIMIT, read_small_text

DEFAULT_THEME = "virtui-dark"
CONSOLE_THEME = "virtui-console"
_FIELDS = {
    "name",
    "dark",
    "ansi",
    "primary",
    "secondary",
    "accent",
    "foreground",
    "background",
    "surface",
    "panel",
    "boost",
    "success",
    "warning",
    "error",
    "variables",
}


@dataclass(frozen=True, slots=True)
class LoadedThemes:
    """The themes found, and what was wrong with the files that were not loaded."""

    themes: dict[str, Theme]
    problems: list[str]


def theme_dirs() -> list[Path]:
    """Where theme files are read from, later ones overriding earlier ones by name."""
    shipped = Path(__file__).resolve().parent / "themes"  # package data, in a wheel too
    return [shipped, config_dir() / "themes"]


def load_theme(path: Path) -> Theme:
    """One theme file; ValueError names the file and what is wrong."""
    try:
        data = tomllib.loads(read_small_text(path, THEME_LIMIT))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        raise ValueError(f"{path}: {error}") from error
    unknown = set(data) - _FIELDS
    if unknown:
        raise ValueError(f"{path}: unknown key(s) {', '.join(sorted(unknown))}")
    if not isinstance(data.get("name"), str) or not isinstance(data.get("primary"), str):
        raise ValueError(f"{path}: a theme needs a name and a primary colour")
    for field in _FIELDS - {"name", "dark", "ansi", "variables"}:
        if field in data and not isinstance(data[field], str):
            raise ValueError(f"{path}: {field} must be a colour in quotes, not {data[field]!r}")
    for flag in ("dark", "ansi"):
        if flag in data and not isinstance(data[flag], bool):
            raise ValueError(f"{path}: {flag} must be true or false, not {data[flag]!r}")
    variables = data.pop("variables", {})
    if not isinstance(variables, dict):
        raise ValueError(f"{path}: [variables] must be a table")
    try:
        theme = Theme(**data, variables={str(k): str(v) for k, v in variables.items()})
        theme.to_color_system().generate()  # every colour must parse
    except Exception as error:
        raise ValueError(f"{path}: {error}") from error
    return theme


_FILES: dict[str, Path] = {}  # theme name -> the file it was last loaded from


def user_theme_file(name: str) -> Path | None:
    """The user's own file a theme of that name was loaded from (not a shipped one,
    which the snapshot tests check), or None."""
    path = _FILES.get(name)
    return path if path is not None and path.parent != theme_dirs()[0] else None


def load_themes() -> LoadedThemes:
    """Every theme in the theme directories."""
    themes: dict[str, Theme] = {}
    problems: list[str] = []
    for folder in theme_dirs():
        for path in sorted(folder.glob("*.toml")) if folder.is_dir() else []:
            try:
                theme = load_theme(path)
            except ValueError as error:
                problems.append(f"theme ignored: {error}")
                continue
            themes[theme.name] = theme
            _FILES[theme.name] = path
    return LoadedThemes(themes, problems)


def default_theme() -> str:
    """The Linux console gets the 16-colour theme; everything else the dark one."""
    return CONSOLE_THEME if os.environ.get("TERM") == "linux" else DEFAULT_THEME


class ThemedApp(Protocol):
    """What applying themes needs of an app."""

    @property
    def available_themes(self) -> dict[str, Theme]:
        """Every registered theme by name."""

    def register_theme(self, theme: Theme) -> None:
        """Make a theme available."""

    def switch_theme(self, name: str) -> bool:
        """Apply a theme; False when it was refused."""


def apply_themes(app: ThemedApp, wanted: str) -> list[str]:
    """Register every theme file and switch to ``wanted`` (or the terminal's default);
    returns what to tell the user about files not loaded and a theme not found."""
    loaded = load_themes()
    for theme in loaded.themes.values():
        app.register_theme(theme)
    problems = list(loaded.problems)
    wanted = wanted or default_theme()
    if wanted not in app.available_themes:
        problems.append(
            f"no theme {wanted!r}: using {DEFAULT_THEME} "
            f"(themes: {', '.join(sorted(loaded.themes))})"
        )
        wanted = DEFAULT_THEME if DEFAULT_THEME in app.available_themes else "textual-dark"
    if not app.switch_theme(wanted) and wanted != DEFAULT_THEME:  # refused, and said why
        app.switch_theme(DEFAULT_THEME if DEFAULT_THEME in app.available_themes else "textual-dark")
    return problems
