"""The keys that move between the top screens, in one place (like k9s's `:` aliases).

Every top screen (domains, hosts, storage, logs, review desk, networks) ends its bindings with
``navigation_keys(its digit)``: ``?`` for help, the digits of the other top screens and
``q`` to quit. They are bindings of the screens rather than of the app so that a dialog
in front (a confirmation, a form) never sees ``q`` or a digit as anything but a key.
"""

from __future__ import annotations

from textual.binding import Binding

from virtui.ui.top_screens import TOP_SCREENS


def navigation_keys(here: str) -> list[Binding]:
    """``?``, the digits of the other top screens (not ``1``: each screen says what it
    does, mostly "back"), and ``q``. The digits come from the registry of top screens."""
    digits = [
        Binding(
            screen.digit,
            f"app.show('{screen.name}')",
            screen.title,
            show=False,
            id=f"nav.show_{screen.name}",
        )
        for screen in TOP_SCREENS
        if screen.digit not in (here, "1")
    ]
    return [
        Binding("question_mark", "help", "Help", key_display="?", id="nav.help"),
        *digits,
        Binding("q", "app.quit", "Quit", id="nav.quit"),
    ]


class TopScreenMark:
    """Marks a top screen: opening another top screen closes it first (no deep stack)."""

    TOP_SCREEN = True
