"""TextScreen: one long text in full (a log line, an error), wrapped; Esc or Enter closes."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.content import Content

from virtui.screens.dialog import Dialog
from virtui.text import visible, visible_lines
from virtui.widgets.plain import Static


class TextScreen(Dialog[None]):
    """Shows ``text`` whole, control characters made visible."""

    BINDINGS = [Binding("escape,enter,q", "close", "Close")]

    DEFAULT_CSS = """
    TextScreen {
        & > VerticalScroll { width: 90%; max-width: 120; height: auto; max-height: 80%; }
    }
    """

    def __init__(self, title: str, text: str) -> None:
        super().__init__()
        self._title = title
        self._text = text

    def compose(self) -> ComposeResult:
        with VerticalScroll() as box:
            box.border_title = Content(visible(self._title))
            yield Static(visible_lines(self._text), markup=False)

    def action_close(self) -> None:
        self.dismiss(None)
