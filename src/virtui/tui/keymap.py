"""The keymap document, generated from the screens' own bindings."""

from __future__ import annotations

from textual.binding import Binding
from textual.dom import DOMNode

from virtui.screens.confirm import ConfirmScreen
from virtui.tui.app import VirtuiApp
from virtui.tui.key_scopes import SCOPES

_KEY_NAMES = {
    "slash": "/",
    "question_mark": "?",
    "plus": "+",
    "minus": "-",
    "less_than_sign": "<",
    "greater_than_sign": ">",
    "escape": "Esc",
    "pageup": "PgUp",
    "pagedown": "PgDn",
    "space": "Space",
    "enter": "Enter",
    "colon": ":",
    "right_square_bracket": "]",
    "left_square_bracket": "[",
}

SECTIONS: tuple[tuple[str, str, type[DOMNode]], ...] = (
    ("Everywhere (Ctrl+P: the command palette)", "app", VirtuiApp),
    *SCOPES,
)


def _keys(binding: Binding) -> str:
    keys = [_KEY_NAMES.get(key.strip(), key.strip()) for key in binding.key.split(",")]
    return ", ".join(f"`{key}`" for key in keys)


def render_keymap() -> str:
    """Markdown tables of every binding, by screen."""
    lines = [
        "# Keymap",
        "",
        "Generated from the bindings by `python -m virtui.tui.keymap > docs/keymap.md`;",
        "a test fails when this file and the bindings disagree. In the app, `?` shows",
        "the keys of the current screen, as you have them.",
        "",
        "Your own keys: a `[keys]` table in `settings.toml` (beside config.toml) maps a",
        "binding's id to the key or keys you want (Textual's key names, comma-separated);",
        "the default key of that binding then does nothing. virtui keeps the table when",
        "it writes the file, and names an id that is not below.",
        "",
        "```toml",
        "[keys]",
        '"domains.toggle_mode" = "F"       # Irix/Solaris on F instead of I',
        '"nav.show_hosts" = "f2"           # the hosts screen on F2, from every screen',
        "```",
        "",
        "One letter, several screens: the domains screen is where hands learn the keys,",
        "so a letter that means something unrelated elsewhere (`R`: reverse sort here,",
        "resize a volume on storage, rebase on the review desk) is in that screen's",
        "footer, and whatever reaches a host or cannot be taken back asks first.",
        "Related meanings stay (`s` starts a pool on storage). A test holds every screen",
        "to it (tests/unit/test_same_letter.py).",
    ]
    for title, _scope, owner in SECTIONS:
        lines += ["", f"## {title}", "", "| Key | Action | Id |", "| --- | --- | --- |"]
        for binding in owner.__dict__.get("BINDINGS", []):
            if isinstance(binding, Binding):
                lines.append(f"| {_keys(binding)} | {binding.description} | `{binding.id}` |")
        if owner is ConfirmScreen:
            lines.append("| `y` (or the key shown on a button) | The choice on that button | |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(render_keymap(), end="")
