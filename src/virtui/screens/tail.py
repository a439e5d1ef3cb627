"""TailScreen: a log file followed live, like ``tail -f`` (QEMU logs, virtui's own)."""

from __future__ import annotations

import threading
from pathlib import Path

from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Footer, Log

from virtui.model.timeline import LogLocation
from virtui.monitor.tail import follow
from virtui.screens.base import VirtuiScreen
from virtui.text import visible
from virtui.ui.calls import Calls, Failure, hand_to_ui
from virtui.widgets.plain import Static
from virtui.widgets.status_bar import StatusBar

MAX_LINES = 20_000


class TailScreen(VirtuiScreen):
    """Shows the end of a file and appends what is written to it; survives the file
    being truncated or replaced (log rotation). Esc goes back."""

    HELP_TITLE = "QEMU log"
    HELP_NOTE = "Follows the log like tail -f; new lines appear as QEMU writes them."

    BINDINGS = [
        Binding("escape,q", "back", "Back"),
        Binding("end,G", "follow", "Newest and follow"),
        Binding("question_mark", "help", "Help", key_display="?"),
    ]

    DEFAULT_CSS = """
    TailScreen {
        & Log { height: 1fr; background: $surface; }
        & #note { padding: 1 2; color: $text-warning; height: auto; }
    }
    """

    def __init__(self, title: str, location: LogLocation, calls: Calls) -> None:
        super().__init__()
        self.title_text = title
        self.location = location
        self.calls = calls
        self.stop = threading.Event()
        self.log_widget = Log(max_lines=MAX_LINES, id="tail", auto_scroll=True)

    def compose(self) -> ComposeResult:
        yield StatusBar(id="status")
        yield Static("", id="note", markup=False)
        yield self.log_widget
        yield Footer(show_command_palette=False)

    def on_mount(self) -> None:
        path = self.location.path
        self.query_one(StatusBar).set_parts(
            [
                ("virtui", "bold $accent"),
                (self.title_text, "bold"),
                (path or "no file", "$text-muted"),
                ("Esc back", "$text-muted"),
            ]
        )
        if not self.location.readable_here:
            self.query_one("#note", Static).update(visible(self.location.note))
            self.log_widget.display = False
            return
        self.query_one("#note", Static).display = False
        self.log_widget.focus()
        self.calls(
            f"tail:{path}",
            lambda: follow(Path(path), self._lines, self._say, self.stop),
            lambda _stopped: None,
            self._follow_failed,
        )

    def _follow_failed(self, failure: Failure) -> None:
        if self.is_attached:
            self.log_widget.write_line(f"── {failure.message} ──")

    def on_unmount(self) -> None:
        self.stop.set()

    def _lines(self, lines: list[str]) -> None:
        if not self.stop.is_set():
            # A QEMU log holds whatever the guest printed: escapes are made visible.
            shown = [visible(line) for line in lines]
            hand_to_ui(self.app, self.log_widget.write_lines, shown)

    def _say(self, note: str) -> None:
        if not self.stop.is_set():
            hand_to_ui(self.app, self.log_widget.write_line, f"── {visible(note)} ──")

    def action_follow(self) -> None:
        self.log_widget.auto_scroll = True
        self.log_widget.scroll_end(animate=False)
