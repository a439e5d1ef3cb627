"""Worker failures on a screen: shown, never silent (Worker.StateChanged does not bubble)."""

from __future__ import annotations

import logging

from textual.screen import Screen
from textual.worker import Worker, WorkerState

log = logging.getLogger("virtui.screens")


class ReportsWorkerFailures(Screen[None]):
    """Mixed into screens that run workers: a failed worker becomes a notification."""

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state is not WorkerState.ERROR:
            return
        error = event.worker.error
        # Backend errors carry a readable .message; anything else is a bug: log it whole.
        message = getattr(error, "message", None)
        if message is None:
            log.error("worker %s failed", event.worker.name, exc_info=error)
            message = f"{event.worker.name}: {error}"
        self.notify(str(message), severity="error", timeout=10)
