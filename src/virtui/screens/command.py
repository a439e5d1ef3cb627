"""CommandLine: the ``:`` prompt at the bottom of the screen, with history."""

from __future__ import annotations

from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input

from virtui.ui.commands import CommandError, parse
from virtui.widgets.plain import Static


class CommandLine(ModalScreen[str | None]):
    """Type a command; Enter runs it if it parses, ↑/↓ walk the history, Esc cancels."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    DEFAULT_CSS = """
    CommandLine {
        align: left bottom;
        background: $background 0%;
        & #box { dock: bottom; height: auto; background: $panel; }
        & Input, & Input:focus { border: none; height: 1; padding: 0 1; background: $panel; }
        & #error { color: $text-error; padding: 0 1; height: auto; }
    }
    """

    def __init__(self, recall: list[str]) -> None:
        super().__init__()
        self.recall = recall  # shared with the app: newest last
        self.position = len(recall)

    def compose(self) -> ComposeResult:
        with Vertical(id="box"):
            yield Static("", id="error", markup=False)
            yield Input(
                placeholder=":dom @host filter · :host · :pool · :log · :review · :help",
                value=":",
                id="command",
            )

    def on_mount(self) -> None:
        command = self.query_one(Input)
        command.focus()
        command.cursor_position = len(command.value)

    def on_key(self, event: events.Key) -> None:
        command = self.query_one(Input)
        if self.focused is not command:
            # Keys typed right after ':' (a burst) reach the screen before the input has
            # focus: they are the command all the same.
            if event.is_printable and event.character:
                event.stop()
                command.insert_text_at_cursor(event.character)
                return
            if event.key == "enter":
                event.stop()
                self._run(command.value)
                return
        if event.key not in ("up", "down") or not self.recall:
            return
        event.stop()
        step = -1 if event.key == "up" else 1
        self.position = max(0, min(len(self.recall), self.position + step))
        command = self.query_one(Input)
        command.value = self.recall[self.position] if self.position < len(self.recall) else ":"
        command.cursor_position = len(command.value)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self._run(event.value)

    def _run(self, value: str) -> None:
        line = value.strip()
        try:
            parse(line)
        except CommandError as error:
            self.query_one("#error", Static).update(str(error))
            return
        if not self.recall or self.recall[-1] != line:
            self.recall.append(line)
        self.dismiss(line)

    def on_input_changed(self, _event: Input.Changed) -> None:
        self.query_one("#error", Static).update("")

    def action_cancel(self) -> None:
        self.dismiss(None)
