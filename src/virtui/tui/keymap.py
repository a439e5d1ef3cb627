"""The keymap document, generated from the screens' own bindings."""

from __future__ import annotations

from textual.binding import Binding

from virtui.screens.command import CommandLine
from virtui.screens.confirm import ConfirmScreen
from virtui.screens.detail import DetailScreen
from virtui.screens.domains import DomainsScreen
from virtui.screens.help import HelpScreen
from virtui.screens.history import HistoryScreen
from virtui.screens.hosts import HostsScreen
from virtui.screens.logs import LogsScreen
from virtui.screens.migrations import MigrationsScreen
from virtui.screens.networks import NetworksScreen
from virtui.screens.networks.detail import NetworkDetailScreen
from virtui.screens.review import ReviewScreen
from virtui.screens.snapshots import SnapshotsScreen
from virtui.screens.storage import StorageScreen
from virtui.screens.tail import TailScreen
from virtui.screens.transfer import TransferScreen
from virtui.tui.app import VirtuiApp
from virtui.widgets.domain_table import DomainTable
from virtui.widgets.log_view import LogView

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

SECTIONS: tuple[tuple[str, type[object]], ...] = (
    ("Everywhere (Ctrl+P: the command palette)", VirtuiApp),
    ("Command line (:)", CommandLine),
    ("Domains screen", DomainsScreen),
    ("Domains table (moving the cursor)", DomainTable),
    ("Hosts screen (2)", HostsScreen),
    ("Storage screen (3)", StorageScreen),
    ("Upload and download progress", TransferScreen),
    ("Logs screen (4)", LogsScreen),
    ("Timeline (moving the cursor)", LogView),
    ("QEMU log and virtui's log (L, V)", TailScreen),
    ("Review desk (5)", ReviewScreen),
    ("Networks screen (6)", NetworksScreen),
    ("Network detail (Enter on a network)", NetworkDetailScreen),
    ("Migrations panel (J)", MigrationsScreen),
    ("Configuration history (:history DOMAIN)", HistoryScreen),
    ("Detail screen (Enter on a domain)", DetailScreen),
    ("Snapshots screen (z)", SnapshotsScreen),
    ("Confirmation dialogs", ConfirmScreen),
    ("Help screen", HelpScreen),
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
        "the keys of the current screen.",
    ]
    for title, owner in SECTIONS:
        lines += ["", f"## {title}", "", "| Key | Action |", "| --- | --- |"]
        for binding in owner.__dict__.get("BINDINGS", []):
            if isinstance(binding, Binding):
                lines.append(f"| {_keys(binding)} | {binding.description} |")
        if owner is ConfirmScreen:
            lines.append("| `y` (or the key shown on a button) | The choice on that button |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(render_keymap(), end="")
