"""VirtuiApp: owns host sessions and polling, and hands results to the screens."""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Sequence

from textual.app import App
from textual.timer import Timer
from textual.worker import Worker, WorkerState

from virtui.config import MAX_DELAY_S, MIN_DELAY_S, Settings
from virtui.messages import DemoProgress, HostUpdated
from virtui.model import HostStatus
from virtui.monitor.history import HistoryStore
from virtui.monitor.session import HostSession, HostUpdate
from virtui.monitor.store import DomainStore
from virtui.screens.domains import DomainsScreen
from virtui.screens.startup import StartupScreen
from virtui.sessions import DemoStartError, open_sessions, start_demo

log = logging.getLogger("virtui.app")

DELAY_STEPS = (0.5, 1.0, 2.0, 3.0, 5.0, 10.0, 30.0, 60.0)
REDRAW_COALESCE_S = 0.05


class VirtuiApp(App[None]):
    """The virtui console.

    Polling: a timer fires every ``delay`` seconds; each host with no poll in flight gets
    a thread worker that polls it and posts a HostUpdated message. A slow or dead host
    therefore never blocks the UI or the other hosts, and polls of one host never overlap.
    """

    TITLE = "virtui"

    def __init__(
        self,
        settings: Settings,
        *,
        sessions: Sequence[HostSession] | None = None,
        auto_poll: bool = True,
    ) -> None:
        super().__init__()
        self.settings = settings
        self.auto_poll = auto_poll
        self.sessions: list[HostSession] = list(sessions) if sessions is not None else []
        self._sessions_given = sessions is not None
        self.store = DomainStore()
        self.history = HistoryStore()
        self.domains = DomainsScreen(self.store, self.history, settings.cpu_mode)
        self._in_flight: set[str] = set()
        self._timer: Timer | None = None
        self._redraw_pending = False
        self._demo: object | None = None  # an EmbeddedDemo, kept only to stop it

    async def on_mount(self) -> None:
        await self.push_screen(self.domains)
        self.domains.set_delay(self.settings.delay)
        if self.settings.demo and not self._sessions_given:
            await self.push_screen(StartupScreen())
            self.run_worker(self._start_demo, thread=True, exit_on_error=False, name="demo")
            return
        if not self._sessions_given:
            self.sessions = open_sessions(self.settings.uris)
        self._start_polling()

    # -- demo -------------------------------------------------------------------------

    def _start_demo(self) -> list[str]:
        def progress(message: str, step: int, steps: int) -> None:
            self.post_message(DemoProgress(message, step, steps))

        try:
            demo, uris = start_demo(progress)
        except DemoStartError as error:
            self.call_from_thread(self.notify, str(error), severity="warning", timeout=10)
            return list(error.fallback_uris)
        self._demo = demo
        return uris

    def on_demo_progress(self, message: DemoProgress) -> None:
        if isinstance(self.screen, StartupScreen):
            self.screen.advance(message.message, message.step, message.steps)

    def _demo_ready(self, uris: list[str]) -> None:
        if isinstance(self.screen, StartupScreen):
            self.pop_screen()
        self.sessions = open_sessions(uris + self.settings.uris)
        self._start_polling()

    # -- polling ----------------------------------------------------------------------

    def _start_polling(self) -> None:
        if not self.auto_poll:
            return
        self.poll_all()
        self._timer = self.set_interval(self.settings.delay, self.poll_all, name="poll")

    def poll_all(self) -> None:
        """Start a poll of every host that has none in flight."""
        for session in self.sessions:
            if session.name in self._in_flight:
                continue
            self._in_flight.add(session.name)
            self.run_worker(
                lambda s=session: self._poll_in_thread(s),
                thread=True,
                exit_on_error=False,
                group="poll",
                name=f"poll:{session.name}",
            )

    def _poll_in_thread(self, session: HostSession) -> None:
        self.post_message(HostUpdated(session.poll_once()))

    async def poll_now(self) -> None:
        """Poll every host once and apply the results before returning (tests, refresh)."""
        updates = await asyncio.gather(
            *(asyncio.to_thread(session.poll_once) for session in self.sessions)
        )
        for update in updates:
            self._apply(update)
        self._redraw()

    def on_host_updated(self, message: HostUpdated) -> None:
        self._in_flight.discard(message.update.name)
        self._apply(message.update)
        if not self._redraw_pending:
            # Several hosts answer within a few ms of each other: draw once for all.
            self._redraw_pending = True
            self.set_timer(REDRAW_COALESCE_S, self._redraw)

    def _apply(self, update: HostUpdate) -> None:
        previous = self.store.hosts.get(update.name)
        if previous is not None and previous.status is not update.status:
            connected = update.status is HostStatus.CONNECTED
            self.notify(
                f"{update.name}: {update.status.value} {update.message}",
                severity="information" if connected else "error",
            )
            log.info("host %s is %s: %s", update.name, update.status.value, update.message)
        gone = self.store.apply(update)
        self.history.forget(gone)
        self.history.record(update.stats)

    def _redraw(self) -> None:
        self._redraw_pending = False
        # A poll can land while the app is closing and its screen is being torn down.
        if self.domains.is_attached and self.domains.table.is_attached:
            self.domains.refresh_view()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """Every worker failure lands here: logged and shown, never fatal."""
        worker = event.worker
        if worker.name == "demo" and event.state is WorkerState.SUCCESS:
            self._demo_ready(list(worker.result or []))
        elif event.state is WorkerState.ERROR:
            if worker.name.startswith("poll:"):
                self._in_flight.discard(worker.name.removeprefix("poll:"))
            log.error("worker %s failed", worker.name, exc_info=worker.error)
            self.notify(f"{worker.name}: {worker.error}", severity="error", timeout=10)
            if worker.name == "demo":
                self._demo_ready([])

    # -- delay ------------------------------------------------------------------------

    def on_domains_screen_delay_change(self, message: DomainsScreen.DelayChange) -> None:
        self.set_delay(_next_delay(self.settings.delay, message.step))

    def set_delay(self, delay: float) -> None:
        """Change the refresh delay and restart the poll timer."""
        self.settings.delay = min(MAX_DELAY_S, max(MIN_DELAY_S, delay))
        if self._timer is not None:
            self._timer.stop()
            self._timer = self.set_interval(self.settings.delay, self.poll_all, name="poll")
        self.domains.set_delay(self.settings.delay)

    # -- exit -------------------------------------------------------------------------

    def shutdown(self) -> None:
        """Close every connection and tear the demo guests down (blocking; after run)."""
        for session in self.sessions:
            try:
                session.close()
            except Exception:  # one broken host must not keep the demo guests alive
                log.exception("closing %s", session.name)
        stop = getattr(self._demo, "stop", None)
        if stop is not None:
            print("virtui: stopping the demo guests…", file=sys.stderr, flush=True)
            stop()
            self._demo = None


def _next_delay(current: float, step: int) -> float:
    """The next delay on the ladder in direction ``step`` (-1 faster, +1 slower)."""
    if step < 0:
        faster = [value for value in DELAY_STEPS if value < current]
        return faster[-1] if faster else DELAY_STEPS[0]
    slower = [value for value in DELAY_STEPS if value > current]
    return slower[0] if slower else DELAY_STEPS[-1]
