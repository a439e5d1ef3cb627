"""The registry of top screens: one entry per screen a digit opens.

Everything that names a top screen is derived from here: the digit keys on every screen
(``screens.navigation``), the ``:`` command's words and its help (``ui.commands``), the
command palette's entries and the keymap's sections (``tui``). What opens each screen is
in ``tui.top_screens``, keyed by the same ``name``.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class TopScreen:
    """A screen of the top row, as a person reaches it."""

    name: str
    """Its one name: the action ``app.show('NAME')`` and the key's id ``nav.show_NAME``."""
    digit: str
    title: str
    """What the key is called in footers and help ("Storage")."""
    words: tuple[str, ...]
    """The ``:`` command's names, the canonical one first."""
    usage: str
    """Its line of ``:help``, after the command (``[@host] [filter]   domains …``)."""
    section: str
    """Its heading in the help screen and docs/keymap.md."""


TOP_SCREENS: tuple[TopScreen, ...] = (
    TopScreen(
        "domains",
        "1",
        "Domains",
        ("dom", "doms", "domain", "domains", "vm", "vms"),
        "[@host] [filter]   domains (of one host, filtered)",
        "Domains screen",
    ),
    TopScreen(
        "hosts", "2", "Hosts", ("host", "hosts", "node", "nodes"), "  hosts", "Hosts screen (2)"
    ),
    TopScreen(
        "storage",
        "3",
        "Storage",
        ("pool", "pools", "storage", "vol", "volumes"),
        "  storage pools and volumes",
        "Storage screen (3)",
    ),
    TopScreen(
        "logs",
        "4",
        "Logs",
        ("log", "logs", "events"),
        "[@host] [filter]   the logs timeline (filtered)",
        "Logs screen (4)",
    ),
    TopScreen(
        "review",
        "5",
        "Review desk",
        ("review", "reviews", "cr", "changes"),
        "  the review desk",
        "Review desk (5)",
    ),
    TopScreen(
        "networks",
        "6",
        "Networks",
        ("net", "nets", "network", "networks"),
        "[@host]   virtual networks (of one host)",
        "Networks screen (6)",
    ),
    TopScreen(
        "backups",
        "7",
        "Backups",
        ("backups", "backup", "bak"),
        "  every backup, per domain (verify, chains)",
        "Backups screen (7)",
    ),
)
BY_WORD = {screen.words[0]: screen for screen in TOP_SCREENS}
