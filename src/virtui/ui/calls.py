"""One way to run a blocking call from the UI: on a daemon thread, its result or its
failure handed back on the UI thread; what it reports meanwhile goes by ``hand_to_ui``.

Not Textual's thread workers: those run on asyncio's default executor, which is joined
at exit (one call stuck on a silent host would keep ``q`` from quitting) and has only
min(32, CPUs + 4) threads. Every call is registered by name while it runs
(``background.in_flight``), so tests await ``background.idle()`` instead of sleeping.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from textual.app import App

from virtui.background import SerialWorker, run_detached, running
from virtui.text import error_text

log = logging.getLogger("virtui.ui.calls")

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Failure:
    """Why a call failed, ready to show: ``message`` is readable with control characters
    made visible; ``reason`` is the backend's own word for it ("in use", "refused", …)."""

    message: str
    reason: str = ""


class Calls(Protocol):
    """What screens and controllers are given to run blocking calls."""

    def __call__(
        self,
        name: str,
        call: Callable[[], T],
        done: Callable[[T], object],
        failed: Callable[[Failure], object],
        *,
        once: bool = False,
    ) -> bool:
        """Run ``call`` on its own thread; ``done(result)`` or ``failed(failure)`` then
        runs on the UI thread. With ``once``, nothing starts while a call of the same
        name still runs (returns False)."""


class LaterCalls(Protocol):
    """What ``hand_to_ui`` needs of an app."""

    def call_later(self, callback: Callable[..., Any], *args: Any, **kwargs: Any) -> bool:
        """Run a callback on the UI thread once the current messages are handled."""


def hand_to_ui(app: LaterCalls, callback: Callable[..., object], *args: Any) -> None:
    """From a worker thread: run ``callback(*args)`` on the UI thread soon, without
    waiting for it. Progress (a transfer's bytes, a migration's job, a followed log's
    lines) goes this way: a worker that waited for the UI could not see a cancel while
    the UI thread is busy, e.g. leaving and waiting for that very worker to take back
    what it made. Nothing happens once the app has closed."""
    with contextlib.suppress(RuntimeError):  # the loop is closed: nobody to tell
        app.call_later(callback, *args)


class BlockingCalls:
    """Calls for one app: results and failures come back through ``call_from_thread``."""

    def __init__(self, app: App[Any]) -> None:
        self._app = app
        # Calls made ``once`` repeat (a timer's): each name keeps a thread across calls.
        self._workers: dict[str, SerialWorker] = {}

    def __call__(
        self,
        name: str,
        call: Callable[[], T],
        done: Callable[[T], object],
        failed: Callable[[Failure], object],
        *,
        once: bool = False,
    ) -> bool:
        def work() -> None:
            try:
                result = call()
            except Exception as error:  # a host's failure, or a bug: both are shown
                if not hasattr(error, "message"):
                    log.warning("%s failed", name, exc_info=error)
                failure = Failure(error_text(error), str(getattr(error, "reason", "")))
                self._back(failed, failure)
                return
            self._back(done, result)

        if not once:
            return run_detached(name, work)
        if running(name):
            return False
        worker = self._workers.get(name)
        if worker is None:
            worker = self._workers[name] = SerialWorker(name)
        worker.submit(work)
        return True

    def _back(self, handler: Callable[[Any], object], value: object) -> None:
        # The app may have closed while the call was in flight: then nobody is told
        # (asked before the hand-over too: a closed loop leaves its coroutine unawaited).
        if not self._app.is_running:
            return
        with contextlib.suppress(RuntimeError):
            self._app.call_from_thread(handler, value)
