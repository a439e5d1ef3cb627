"""The keys that move between the top screens, in one place (like k9s's `:` aliases).

Every top screen (domains, hosts, storage, logs, review desk, networks) ends its bindings with
``navigation_keys(its digit)``: ``?`` for help, the digits of the other top screens and
``q`` to quit. They are bindings of the screens rather than of the app so that a dialog
in front (a confirmation, a form) never sees ``q`` or a digit as anything but a key.
"""

from __future__ import annotations

from textual.binding import Binding

# digit -> (the app's action, what the screen is called)
TOP_SCREENS = {
    "1": ("app.show_domains", "Domains"),
    "2": ("app.show_hosts", "Hosts"),
    "3": ("app.show_storage", "Storage"),
    "4": ("app.show_logs", "Logs"),
    "5": ("app.show_review", "Review desk"),
    "6": ("app.show_networks", "Networks"),
}


def navigation_keys(here: str) -> list[Binding]:
    """``?``, the digits of the other top screens (not ``1``: each screen says what it
    does, mostly "back"), and ``q``."""
    digits = [
        Binding(digit, action, title, show=False, id=f"nav.{action.removeprefix('app.')}")
        for digit, (action, title) in TOP_SCREENS.items()
        if digit not in (here, "1")
    ]
    return [
        Binding("question_mark", "help", "Help", key_display="?", id="nav.help"),
        *digits,
        Binding("q", "app.quit", "Quit", id="nav.quit"),
    ]


class TopScreenMark:
    """Marks a top screen: opening another top screen closes it first (no deep stack)."""

    TOP_SCREEN = True
