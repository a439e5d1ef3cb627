"""ConfirmScreen: asks before anything destructive, naming what it will touch."""

from __future__ import annotations

from dataclasses import dataclass

from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.widgets import Button

from virtui.screens.dialog import Dialog
from virtui.text import visible, visible_lines
from virtui.widgets.plain import Static


@dataclass(frozen=True, slots=True)
class Choice:
    """One way out of the dialog: its result id, button label, and key."""

    result: str
    label: str
    key: str
    destructive: bool = True


class ConfirmScreen(Dialog[str | None]):
    """Lists the targets and offers the choices; Esc or ``n`` cancels (result None).

    There is no "don't ask again": destruction is confirmed every time.
    """

    BINDINGS = [Binding("escape,n", "cancel", "Cancel")]

    DEFAULT_CSS = """
    ConfirmScreen {
        & > Vertical { width: 76; border: thick $error; }
        & #targets { color: $text; margin-bottom: 1; }
        & #warning { color: $text-warning; margin-bottom: 1; }
        & Horizontal { height: auto; align-horizontal: right; }
        & Button { margin-left: 1; }
    }
    """

    def __init__(self, title: str, targets: list[str], warning: str, choices: list[Choice]) -> None:
        super().__init__()
        self._title = title
        self._targets = targets
        self._warning = warning
        self._choices = choices
        self._by_key = {choice.key: choice.result for choice in choices}

    def compose(self) -> ComposeResult:
        with Vertical() as box:
            box.border_title = Content(visible(self._title))  # a name may hold escapes or [markup]
            shown = self._targets[:12]
            more = len(self._targets) - len(shown)
            # Names and reasons come from libvirt and users: control characters visible.
            lines = "\n".join(f"  • {visible(target)}" for target in shown)
            yield Static(
                lines + (f"\n  … and {more} more" if more > 0 else ""), id="targets", markup=False
            )
            if self._warning:
                yield Static(visible_lines(self._warning), id="warning", markup=False)
            with Horizontal():
                for choice in self._choices:
                    yield Button(
                        f"{choice.label} ({choice.key})",
                        id=f"choice-{choice.result}",
                        variant="error" if choice.destructive else "primary",
                    )
                yield Button("Cancel (n)", id="cancel", variant="default")

    def on_mount(self) -> None:
        self.query_one("#cancel", Button).focus()  # Enter alone never destroys anything

    def on_key(self, event: events.Key) -> None:
        if event.key in self._by_key:
            event.stop()
            self.dismiss(self._by_key[event.key])

    def on_button_pressed(self, event: Button.Pressed) -> None:
        button_id = event.button.id or ""
        self.dismiss(button_id.removeprefix("choice-") if button_id.startswith("choice-") else None)

    def action_cancel(self) -> None:
        self.dismiss(None)
