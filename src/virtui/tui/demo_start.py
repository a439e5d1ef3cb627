"""Starting the embedded demo from the app: its guests boot on a background thread while
the startup screen shows each step; when QEMU cannot run here, the test host is shown."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, Protocol

from textual.message import Message

from virtui.monitor.sessions import DemoStartError, RunningDemo, start_demo
from virtui.ui.calls import Calls, Failure


class DemoProgress(Message):
    """The demo provisioner reached a new step."""

    def __init__(self, message: str, step: int, steps: int) -> None:
        super().__init__()
        self.message = message
        self.step = step
        self.steps = steps


# At exit, a boot still under way is waited for (its guests are then stopped rather than
# left running); booting local TCG guests takes seconds, not minutes.
BOOT_WAIT_S = 120.0


class DemoApp(Protocol):
    """The little of the app this uses."""

    calls: Calls

    def post_message(self, message: Message) -> bool:
        """Queue a message for the app (any thread)."""

    def notify(self, message: str, *, title: str = "", **kwargs: Any) -> None:
        """Show a notification."""


class DemoStart:
    """Boots the demo once; ``ready`` gets the URIs to watch (UI thread)."""

    def __init__(self, app: DemoApp, ready: Callable[[list[str]], None]) -> None:
        self.app = app
        self.ready = ready
        self.demo: RunningDemo | None = None  # kept only to stop it
        self._boot_over = threading.Event()
        self._boot_over.set()  # nothing under way until start()

    def start(self) -> None:
        """Boot the guests on a thread of their own."""
        self._boot_over.clear()
        self.app.calls("demo", self._boot, self._booted, self._failed)

    def _boot(self) -> tuple[list[str], str]:
        """The URIs to watch, and why the demo fell back if it did (blocking)."""

        def progress(message: str, step: int, steps: int) -> None:
            self.app.post_message(DemoProgress(message, step, steps))

        try:
            self.demo, uris = start_demo(progress)
        except DemoStartError as error:
            return list(error.fallback_uris), str(error)
        finally:
            self._boot_over.set()
        return uris, ""

    def wait_for_boot(self) -> None:
        """At exit: let a boot under way finish, so its guests can be stopped."""
        self._boot_over.wait(BOOT_WAIT_S)

    def _booted(self, booted: tuple[list[str], str]) -> None:
        uris, fell_back = booted
        if fell_back:
            self.app.notify(fell_back, severity="warning", timeout=10)
        self.ready(uris)

    def _failed(self, failure: Failure) -> None:
        self.app.notify(f"demo: {failure.message}", severity="error", timeout=10)
        self.ready([])

    def stop(self) -> None:
        """Shut the demo guests down (blocking; at exit)."""
        if self.demo is not None:
            self.demo.stop()
            self.demo = None
