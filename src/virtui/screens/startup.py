"""StartupScreen: progress while the embedded demo boots its guests."""

from __future__ import annotations

import time
from collections.abc import Callable

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import ProgressBar

from virtui.screens.dialog import Dialog
from virtui.widgets.plain import Label


class StartupScreen(Dialog[None]):
    """Shows the current step, a progress bar and the seconds spent on the step, since
    QEMU's first capability probe can take half a minute with nothing else to show."""

    DEFAULT_CSS = """
    StartupScreen {
        & #step { width: 100%; }
        & #elapsed { color: $text-muted; }
        & ProgressBar { margin-top: 1; }
    }
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__()
        self._clock = clock
        self._step_started = clock()

    def compose(self) -> ComposeResult:
        with Vertical() as box:
            box.border_title = "Starting the demo"
            yield Label("Starting…", id="step")
            yield ProgressBar(total=1, show_eta=False, id="progress")
            yield Label("", id="elapsed")

    def on_mount(self) -> None:
        self.set_interval(1.0, self._tick)

    def advance(self, message: str, step: int, steps: int) -> None:
        """Show a new step."""
        self.query_one("#step", Label).update(message)
        self.query_one(ProgressBar).update(total=steps, progress=step)
        self._step_started = self._clock()
        self._tick()

    def _tick(self) -> None:
        spent = self._clock() - self._step_started
        self.query_one("#elapsed", Label).update(f"{spent:.0f}s on this step")
