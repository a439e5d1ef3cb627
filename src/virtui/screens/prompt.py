"""PromptScreen: one line of input, validated before anything is sent anywhere."""

from __future__ import annotations

from collections.abc import Callable

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.widgets import Input

from virtui.screens.dialog import Dialog
from virtui.text import visible, visible_lines
from virtui.widgets.plain import Static

Validator = Callable[[str], str]
"""Returns an error message for bad input, or "" when the input is fine."""


class PromptScreen(Dialog[str | None]):
    """Asks for a value; Enter submits only valid input, Esc cancels (result None)."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    DEFAULT_CSS = """
    PromptScreen {
        & > Vertical { width: 64; }
        & #error { color: $text-error; height: auto; }
        & #hint { color: $text-muted; }
    }
    """

    def __init__(self, title: str, hint: str, validate: Validator, value: str = "") -> None:
        super().__init__()
        self._title = title
        self._hint = hint
        self._validate = validate
        self._value = value

    def compose(self) -> ComposeResult:
        with Vertical() as box:
            box.border_title = Content(visible(self._title))  # a name may hold escapes or [markup]
            yield Static(visible_lines(self._hint), id="hint", markup=False)
            # A first value left as shown is the value itself (see FormScreen).
            yield Input(value=visible(self._value), id="value")
            yield Static("", id="error", markup=False)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        value = (self._value if event.value == visible(self._value) else event.value).strip()
        problem = self._validate(value)
        if problem:
            self.query_one("#error", Static).update(visible_lines(problem))
            return
        self.dismiss(value)

    def on_input_changed(self, event: Input.Changed) -> None:
        self.query_one("#error", Static).update("")

    def action_cancel(self) -> None:
        self.dismiss(None)
