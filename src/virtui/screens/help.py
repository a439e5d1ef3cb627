"""HelpScreen: the keys of the screen it was opened from, read from its bindings."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen

from virtui.screens.dialog import Dialog
from virtui.widgets.key_list import KeyList
from virtui.widgets.plain import Static


class HelpScreen(Dialog[None]):
    """Lists ``(key, description)`` pairs; built from live bindings so it cannot drift."""

    BINDINGS = [
        Binding("escape,q,question_mark", "dismiss", "Close help"),
    ]

    DEFAULT_CSS = """
    HelpScreen {
        & > VerticalScroll { width: 64; padding: 0 1; }
        & > VerticalScroll.-two-columns { width: 108; }
        & .help-note { color: $text-muted; padding-top: 1; }
    }
    """
    # The box scrolls, not the key list (which is as tall as its rows): the arrow keys,
    # PgUp/PgDn and Home/End reach every key without a Tab first.
    TWO_COLUMNS_FROM = 112  # terminal columns from which keys are listed side by side

    def __init__(self, title: str, keys: list[tuple[str, str]], note: str = "") -> None:
        super().__init__()
        self._title = title
        self._keys = keys
        self._note = note

    def compose(self) -> ComposeResult:
        two = self.app.size.width >= self.TWO_COLUMNS_FROM and len(self._keys) > 8
        with VerticalScroll(classes="-two-columns" if two else "") as box:
            box.border_title = f"{self._title} — keys"
            box.border_subtitle = "Esc close"
            yield KeyList(self._keys, pairs=2 if two else 1)
            if self._note:
                yield Static(self._note, classes="help-note")

    def on_mount(self) -> None:
        box = self.query_one(VerticalScroll)
        box.focus()
        self.call_after_refresh(self._say_how_to_scroll)

    def _say_how_to_scroll(self) -> None:
        box = self.query_one(VerticalScroll)
        if box.max_scroll_y > 0:
            box.border_subtitle = "↑↓ PgUp PgDn Home End scroll · Esc close"

    async def action_dismiss(self, result: None = None) -> None:
        self.dismiss(result)


def screen_keys(screen: Screen[None]) -> list[tuple[str, str]]:
    """(key, action) for every active binding with a description: the screen class's own
    first, in the order it declares them, then the focused widget's and the app's
    (navigation, palette), each action once. Built from live bindings, so help cannot
    drift from what the keys do."""
    declared = [
        binding.action
        for binding in type(screen).__dict__.get("BINDINGS", [])
        if isinstance(binding, Binding)
    ]
    seen: set[str] = set()
    own: dict[str, Binding] = {}
    other: list[Binding] = []
    for active in screen.active_bindings.values():
        binding = active.binding
        if binding.description and binding.action not in seen:
            seen.add(binding.action)
            if binding.action in declared:
                own[binding.action] = binding
            else:
                other.append(binding)
    ordered = [own[action] for action in declared if action in own] + other
    return [
        (binding.key_display or screen.app.get_key_display(binding), binding.description)
        for binding in ordered
    ]
