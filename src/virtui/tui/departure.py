"""Leaving when the terminal goes away or a signal asks: never a console left spinning.

A dropped SSH session, a closed window or a killed tmux takes the console's terminal
away. The kernel may send SIGHUP, but not always to us (another process group may hold
the terminal's foreground), and Textual's input thread treats end-of-file as "no input"
and polls the dead terminal forever. So three things end the console, whatever screen,
form, dialog or editor is open:

- SIGHUP or SIGTERM;
- the terminal gone: every half second the watch asks the terminal for its foreground
  process group, which a hung-up terminal refuses (EIO); a console served to a
  browser (its input a pipe from ``virtui serve``) leaves when that server is gone;
- and if the app has not left ``GRACE_S`` after being asked, the process ends itself,
  after the teardown that must happen anyway (the demo's guests). Textual's own exit
  waits for its writer thread, and that waits forever on a terminal nobody reads (an
  SSH link that froze): a form left open there ignored SIGTERM.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import threading
from collections.abc import Callable
from types import FrameType
from typing import Any, Protocol

from virtui.background import cancel_all

log = logging.getLogger(__name__)

GRACE_S = 2.0
FORCED_JOBS_S = 0.5  # transfers and migrations cancelled at a forced exit: their moment
WATCH_EVERY_S = 0.5
TERMINAL_GONE = 128 + signal.SIGHUP


class Leavable(Protocol):
    """What the watch needs of the app."""

    def exit(self, result: Any = None, return_code: int = 0, message: Any = None) -> None:
        """Leave the app's run loop."""


def terminal_gone(fd: int) -> bool:
    """Whether the terminal on ``fd`` has hung up (or was never one)."""
    try:
        os.tcgetpgrp(fd)
    except OSError:
        return True
    return False


class Departure:
    """Ends the console on SIGHUP, SIGTERM or a terminal that is gone; see the module."""

    def __init__(self, app: Leavable, terminal_fd: int, teardown: Callable[[], None]) -> None:
        self._app = app
        self._fd = terminal_fd
        self._teardown = teardown
        self._loop: asyncio.AbstractEventLoop | None = None
        self._leaving = threading.Event()
        self._done = threading.Event()
        self._previous: dict[int, Any] = {}
        self.reason = ""
        self._code = 0

    def listen(self) -> None:
        """Take SIGHUP and SIGTERM from now on (main thread, before the app runs)."""
        for sig in (signal.SIGHUP, signal.SIGTERM):
            self._previous[sig] = signal.signal(sig, self._on_signal)

    def watch(self, loop: asyncio.AbstractEventLoop) -> None:
        """Watch the terminal from now on; ``loop``: the app's, where its exit is asked.
        A signal that came before is acted on now."""
        self._loop = loop
        if self._leaving.is_set():
            self._ask_exit(self._code)
        # On a terminal, the terminal is watched; on a pipe (a console served to a
        # browser by `virtui serve`), the server that feeds it: killed, it leaves the
        # app behind with nobody to read it.
        on_terminal = not terminal_gone(self._fd)
        threading.Thread(
            target=self._watch, args=(on_terminal,), name="virtui-terminal-watch", daemon=True
        ).start()

    def finished(self) -> None:
        """The app has left its loop: stop watching, put the signal handlers back."""
        self._done.set()
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)
        self._previous.clear()

    def _on_signal(self, signum: int, _frame: FrameType | None) -> None:
        self.leave(128 + signum, f"signal {signum}")

    def _watch(self, on_terminal: bool) -> None:
        parent = os.getppid()
        while not self._done.wait(WATCH_EVERY_S):
            if on_terminal and terminal_gone(self._fd):
                self.leave(TERMINAL_GONE, "the terminal is gone")
                return
            if not on_terminal and os.getppid() != parent:
                self.leave(TERMINAL_GONE, "the server that served this console is gone")
                return

    def leave(self, code: int, why: str) -> None:
        """Ask the app to exit with ``code`` (once); force it after ``GRACE_S``."""
        if self._leaving.is_set() or self._done.is_set():
            return
        self._leaving.set()
        self.reason, self._code = why, code
        log.info("%s: leaving", why)
        self._ask_exit(code)
        threading.Thread(
            target=self._force, args=(code, why), name="virtui-leave-deadline", daemon=True
        ).start()

    def _ask_exit(self, code: int) -> None:
        """Ask the app to exit with ``code``, on its own loop (from any thread)."""
        loop = self._loop
        if loop is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):  # the loop closed in between
                loop.call_soon_threadsafe(lambda: self._app.exit(return_code=code))

    def _force(self, code: int, why: str) -> None:
        if self._done.wait(GRACE_S):
            return
        # Nothing here may wait on the terminal: a frozen one (an SSH link that stopped
        # reading) is what keeps the app from leaving. The log goes to a file.
        log.warning("%s: the app did not leave within %.0f s; ending the process", why, GRACE_S)
        try:
            cancel_all(FORCED_JOBS_S)  # what they could not take back, the next start does
            self._teardown()
        except Exception:  # the process ends either way
            log.exception("teardown before a forced exit")
        os._exit(code)
