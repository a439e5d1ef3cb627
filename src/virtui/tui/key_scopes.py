"""Every screen and widget whose keys a person may remap, with the scope its binding ids
start with (``domains.act_reboot``) and the title its keys have in help and in
docs/keymap.md. The app's own keys are scope ``app``; the keys that move between the top
screens are ``nav.*`` on every screen (``nav.show_hosts``, ``nav.quit``)."""

from __future__ import annotations

from textual.dom import DOMNode

from virtui.screens.command import CommandLine
from virtui.screens.confirm import ConfirmScreen
from virtui.screens.detail import DetailScreen
from virtui.screens.help import HelpScreen
from virtui.screens.history import HistoryScreen
from virtui.screens.migrations import MigrationsScreen
from virtui.screens.networks.detail import NetworkDetailScreen
from virtui.screens.snapshots import SnapshotsScreen
from virtui.screens.tail import TailScreen
from virtui.screens.transfer import TransferScreen
from virtui.tui.top_screens import OPENINGS
from virtui.ui.top_screens import TOP_SCREENS
from virtui.widgets.domain_table import DomainTable
from virtui.widgets.log_view import LogView

# (title, scope, class), in the order docs/keymap.md lists them: the command line, the
# top screens (from their registry: a new one needs nothing here), then the rest.
SCOPES: tuple[tuple[str, str, type[DOMNode]], ...] = (
    ("Command line (:)", "command", CommandLine),
    *((top.section, top.name, OPENINGS[top.name].kind) for top in TOP_SCREENS),
    ("Domains table (moving the cursor)", "table", DomainTable),
    ("Upload and download progress", "transfer", TransferScreen),
    ("Timeline (moving the cursor)", "timeline", LogView),
    ("QEMU log and virtui's log (L, V)", "tail", TailScreen),
    ("Network detail (Enter on a network)", "network", NetworkDetailScreen),
    ("Migrations panel (J)", "migrations", MigrationsScreen),
    ("Configuration history (:history DOMAIN)", "history", HistoryScreen),
    ("Detail screen (Enter on a domain)", "detail", DetailScreen),
    ("Snapshots screen (z)", "snapshots", SnapshotsScreen),
    ("Confirmation dialogs", "confirm", ConfirmScreen),
    ("Help screen", "help", HelpScreen),
)
