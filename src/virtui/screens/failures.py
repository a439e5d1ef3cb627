"""The base of virtui's full screens: worker failures shown (Worker.StateChanged does not
bubble), Esc/back that pops only itself, and ``?`` help built from the bindings."""

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


class VirtuiScreen(ReportsWorkerFailures):
    """A full screen with ``action_back`` and ``action_help`` (title and note below)."""

    HELP_TITLE = ""
    HELP_NOTE = ""

    def _failed(self, why: str) -> None:
        """Say a background call failed, if this screen is still shown (a call can
        outlive its screen)."""
        if self.is_attached:
            self.notify(why, severity="error", timeout=10)

    def action_back(self) -> None:
        # Only this screen: a second Esc or q in the same burst must not pop the one below.
        if self.app.screen is self:
            self.dismiss()

    def action_help(self) -> None:
        from virtui.screens.help import HelpScreen, screen_keys

        self.app.push_screen(HelpScreen(self.HELP_TITLE, screen_keys(self), self.HELP_NOTE))
