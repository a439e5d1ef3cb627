"""TransferScreen: an upload or download with a progress bar, throughput and cancel."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.widgets import Button, ProgressBar

from virtui.background import Cancellable
from virtui.formatting import format_bytes
from virtui.model.storage import TransferProgress
from virtui.model.timeline import LogEntry, Severity
from virtui.screens.dialog import Dialog
from virtui.text import visible
from virtui.ui.calls import Calls, hand_to_ui
from virtui.ui.messages import TimelineNote
from virtui.widgets.plain import Static

Transfer = Callable[[Callable[[TransferProgress], None], threading.Event], str]
"""Blocking: moves the bytes, reporting progress, until done or the event is set."""


UPDATE_EVERY_S = 0.1
CANCEL_ANSWER_S = 1.0  # a cancel closes the dialog within this, whatever the host does


class TransferScreen(Dialog[str | None]):
    """Runs one transfer; dismisses with its result message, or None when it failed or
    was cancelled (the reason is shown as a notification)."""

    BINDINGS = [Binding("escape,c", "cancel", "Cancel transfer")]

    DEFAULT_CSS = """
    TransferScreen {
        & > Vertical { width: 72; }
        & ProgressBar { margin: 1 0; }
        & #rate { color: $text-muted; }
        & Horizontal { height: auto; align-horizontal: right; }
    }
    """

    def __init__(
        self, title: str, what: str, transfer: Transfer, calls: Calls, host: str = ""
    ) -> None:
        super().__init__()
        self.host = host
        self._title = title
        self._what = what
        self._transfer = transfer
        self._calls = calls
        self.cancelled = threading.Event()
        self._started = 0.0
        self._last_update = 0.0
        self.last: TransferProgress | None = None
        self._done = False

    def compose(self) -> ComposeResult:
        with Vertical() as box:
            box.border_title = Content(visible(self._title))  # a name may hold escapes or [markup]
            yield Static(self._what, id="what", markup=False)
            yield ProgressBar(id="bar", show_eta=True)
            yield Static("starting…", id="rate")
            with Horizontal():
                yield Button("Cancel (c)", id="cancel", variant="error")

    def on_mount(self) -> None:
        # Kept: the transfer thread may outlive this dialog (a cancel the host did not
        # answer), and a removed screen no longer finds its app.
        self._virtui_app = self.app
        self._started = time.monotonic()

        def run() -> str:
            with Cancellable(self.cancelled):  # a console that leaves cancels it
                return self._transfer(self._progress, self.cancelled)

        self._calls(
            f"transfer:{self._title}",
            run,
            lambda message: self._finish(message, ""),
            lambda failure: self._finish(None, failure.message),
        )

    def _progress(self, progress: TransferProgress) -> None:
        now = time.monotonic()
        done = progress.done >= progress.total
        if not done and now - self._last_update < UPDATE_EVERY_S:
            return
        self._last_update = now
        hand_to_ui(self._virtui_app, self._show, progress)

    def _show(self, progress: TransferProgress) -> None:
        if self._done:
            return
        self.last = progress
        bar = self.query_one(ProgressBar)
        bar.update(total=max(progress.total, 1), progress=progress.done)
        elapsed = max(time.monotonic() - self._started, 1e-3)
        self.query_one("#rate", Static).update(
            f"{format_bytes(progress.done)} of {format_bytes(progress.total)}"
            f" · {format_bytes(int(progress.done / elapsed))}/s"
        )

    def _finish(self, message: str | None, problem: str) -> None:
        app = self._virtui_app
        if message is not None:
            app.notify(message)
            entry = LogEntry.now(self.host, "", "action", message)
        else:
            cancelled = self.cancelled.is_set()
            app.notify(problem, severity="warning" if cancelled else "error", timeout=15)
            severity = Severity.WARNING if cancelled else Severity.ERROR
            entry = LogEntry.now(self.host, "", "action", problem, severity)
        app.post_message(TimelineNote(entry))  # the dialog may be gone (cancel answered)
        if not self._done:
            self._done = True
            self.dismiss(message)

    def _give_up_waiting(self) -> None:
        """A cancel the host did not answer within a second: close anyway, say so."""
        if self._done:
            return
        self._done = True
        self.app.notify(
            f"{self._title}: cancelled, but {self.host or 'the host'} does not answer; the "
            "transfer stops when it does, and what it made is deleted then (see the logs)",
            severity="warning",
            timeout=15,
        )
        self.dismiss(None)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.action_cancel()

    def action_cancel(self) -> None:
        """Ask the transfer to stop; it removes what it made, then the dialog closes."""
        self.cancelled.set()
        self.query_one("#rate", Static).update("cancelling…")
        self.set_timer(CANCEL_ANSWER_S, self._give_up_waiting)
