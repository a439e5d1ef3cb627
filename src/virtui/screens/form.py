"""FormScreen: a few labelled fields, each checked before anything is sent anywhere."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.content import Content
from textual.widgets import Input

from virtui.screens.dialog import Dialog
from virtui.text import visible, visible_lines
from virtui.widgets.plain import Label, Static

FORM_KEYS = "Enter next field (sends on the last) · Tab moves · Esc cancels"

FormCheck = Callable[[dict[str, str]], str]
"""Returns what is wrong with the filled-in form, or "" when it can be submitted."""


@dataclass(frozen=True, slots=True)
class Field:
    """One input line: its key in the result, label, first value and placeholder."""

    key: str
    label: str
    value: str = ""
    placeholder: str = ""


class FormScreen(Dialog[dict[str, str] | None]):
    """Enter on a field moves to the next one; on the last it submits if the check
    passes. Esc cancels (result None)."""

    # Priority: a burst of keys (a paste, a slow SSH link) arrives before the field that
    # has focus handles any of them; without these, Tab would move the focus only after
    # every key of the burst had gone to the first field.
    BINDINGS = [
        Binding("escape", "cancel", "Cancel"),
        Binding("tab", "move(1)", "Next field", priority=True, show=False),
        Binding("shift+tab", "move(-1)", "Previous field", priority=True, show=False),
    ]

    DEFAULT_CSS = """
    FormScreen {
        & > VerticalScroll { width: 72; }
        & Label { color: $text-muted; margin-top: 1; }
        & #hint { color: $text-muted; }
        & #error { color: $text-error; height: auto; margin-top: 1; }
        /* A form of several steps fits 80x24: one line per field, its label above. */
        &.-compact Label { margin-top: 0; }
        &.-compact Input { border: none; height: 1; padding: 0 1; margin-bottom: 1; }
    }
    """

    def __init__(
        self,
        title: str,
        hint: str,
        fields: Sequence[Field],
        check: FormCheck,
        *,
        compact: bool = False,
        error: str = "",
        focus: str = "",
    ) -> None:
        """``error``: what was wrong the last time this form was sent (shown at once,
        with the focus on the field ``focus`` it concerns)."""
        super().__init__(classes="-compact" if compact else None)
        self._title = title
        self._hint = hint
        self._fields = list(fields)
        self._check = check
        self._error = error
        self._focus = focus
        self._said_for: dict[str, str] | None = None  # the values the error was said of

    def compose(self) -> ComposeResult:
        # It scrolls: at 80x24 a long form's last fields are below the edge, and the
        # focused field is scrolled into view as Tab or Enter reaches it.
        with VerticalScroll() as box:
            box.border_title = Content(visible(self._title))  # a name may hold escapes or [markup]
            box.border_subtitle = FORM_KEYS
            box.can_focus = False  # the fields take the focus, the box only scrolls
            if self._hint:
                # Hints and refusals name what a host has (pools, networks): made visible.
                yield Static(visible_lines(self._hint), id="hint", markup=False)
            for field in self._fields:
                yield Label(field.label)
                # A first value may be a name from a host or a file: shown visible.
                yield Input(
                    value=visible(field.value),
                    placeholder=visible(field.placeholder),
                    id=field.key,
                )
            yield Static(visible_lines(self._error), id="error", markup=False)

    def on_mount(self) -> None:
        self._said_for = self.values() if self._error else None
        if self._focus:
            self.set_focus(self.query_one(f"#{self._focus}", Input))

    def values(self) -> dict[str, str]:
        """What is in the fields now, stripped; a first value left as shown is the
        value itself, control characters and all (it names something that has them)."""
        return {field.key: self._typed(field).strip() for field in self._fields}

    def _typed(self, field: Field) -> str:
        typed = self.query_one(f"#{field.key}", Input).value
        return field.value if typed == visible(field.value) else typed

    def _position(self) -> int:
        keys = [field.key for field in self._fields]
        focused = self.focused
        return keys.index(focused.id) if focused is not None and focused.id in keys else 0

    def action_move(self, step: int) -> None:
        position = (self._position() + step) % len(self._fields)
        self.set_focus(self.query_one(f"#{self._fields[position].key}", Input))

    def action_enter(self) -> None:
        # Enter goes field by field, and sends from the last one only: a form whose last
        # field had a default was sent by the first Enter, its other fields unread.
        if self._position() < len(self._fields) - 1:
            self.action_move(1)
            return
        self._submit()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_enter()

    def _submit(self) -> None:
        values = self.values()
        problem = self._check(values)
        if problem:
            error = self.query_one("#error", Static)
            error.update(visible_lines(problem))
            self._said_for = values
            self.call_after_refresh(error.scroll_visible, animate=False)
            return
        self.dismiss(values)

    def on_input_changed(self, _event: Input.Changed) -> None:
        # The error stays until what it was said of changes (the fields' first values
        # arrive as changes too, after the form shows an error it was opened with).
        if self._said_for is not None and self.values() != self._said_for:
            self._said_for = None
            self.query_one("#error", Static).update("")

    def action_cancel(self) -> None:
        self.dismiss(None)
