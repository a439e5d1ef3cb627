"""VirtuiApp: owns host sessions and polling, and hands results to the screens."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
import sys
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

from textual.app import App, SuspendNotSupported
from textual.binding import Binding
from textual.filter import Monochrome, NoColor
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Input
from textual.worker import Worker, WorkerState

from virtui.backends.base import BackendError
from virtui.background import run_detached
from virtui.config.settings import (
    MAX_DELAY_S,
    MIN_DELAY_S,
    Settings,
    cache_dir,
    review_store_path,
    state_dir,
)
from virtui.config.uripolicy import UriRefused, check_in_app, check_readonly
from virtui.config.usersettings import UserSettings, save_user_settings
from virtui.model import DomainEvent, DomainKey, HostStatus, LogEntry, Severity
from virtui.monitor.history import HistoryStore
from virtui.monitor.hostports import HostPorts
from virtui.monitor.poller import Poller
from virtui.monitor.session import HostSession, HostUpdate
from virtui.monitor.sessions import DemoStartError, RunningDemo, open_sessions, start_demo
from virtui.monitor.store import DomainStore
from virtui.monitor.timeline import Timeline, TimelineFile, WarningsToTimeline
from virtui.ports.domains import ConsoleStream
from virtui.review.desk import ReviewDesk, ReviewRules
from virtui.review.store import ReviewStore, StoreError
from virtui.screens.command import CommandLine
from virtui.screens.detail import DetailScreen, DetailSource
from virtui.screens.domains import DomainsScreen
from virtui.screens.hosts import HostsScreen
from virtui.screens.logs import LogsScreen
from virtui.screens.review import ReviewScreen
from virtui.screens.snapshots import SnapshotSource, SnapshotsScreen
from virtui.screens.startup import StartupScreen
from virtui.screens.storage import StorageScreen
from virtui.screens.tail import TailScreen
from virtui.screens.view import ViewOptions
from virtui.text import visible, visible_lines
from virtui.tui.changes import ChangesController
from virtui.tui.commands import HELP as COMMAND_HELP
from virtui.tui.commands import Command, CommandError, hidden_after
from virtui.tui.commands import parse as parse_command
from virtui.tui.console import run_console
from virtui.tui.messages import (
    ActionFinished,
    CloneDomain,
    DemoProgress,
    DraftChange,
    HistoryArrived,
    HostEventArrived,
    HostUpdated,
    OpenConsole,
    OpenDetail,
    OpenQemuLog,
    OpenSnapshots,
    RunAction,
    TakeSnapshot,
    TimelineNote,
)
from virtui.tui.operations import OperationsController, valid_name
from virtui.tui.themes import DEFAULT_THEME, default_theme, load_themes
from virtui.widgets.braille import limited_glyphs

log = logging.getLogger("virtui.tui.app")

DELAY_STEPS = (0.5, 1.0, 2.0, 3.0, 5.0, 10.0, 30.0, 60.0)
REDRAW_COALESCE_S = 0.05


class VirtuiApp(App[None]):
    """The virtui console.

    Polling: a timer fires every ``delay`` seconds; each host with no poll in flight gets
    a thread worker that polls it and posts a HostUpdated message. A slow or dead host
    therefore never blocks the UI or the other hosts, and polls of one host never overlap.
    """

    TITLE = "virtui"
    # The Linux console (TERM=linux) has no rounded corners: straight lines there.
    CSS = """
    VirtuiApp.-vt CpuGraph, VirtuiApp.-vt Dialog > Vertical,
    VirtuiApp.-vt Dialog > VerticalScroll { border: solid $primary; }
    VirtuiApp.-no-color DomainTable > .domain-table--cursor,
    VirtuiApp.-no-color LogView > .log-view--cursor,
    VirtuiApp.-no-color DataTable > .datatable--cursor { text-style: reverse; }
    """
    # Priority, so ':' opens the command line whatever has focus, before the keys after it.
    BINDINGS = [
        Binding("colon", "command_line", "Command line", key_display=":", show=False, priority=True)
    ]

    def __init__(
        self,
        settings: Settings,
        *,
        sessions: Sequence[HostSession] | None = None,
        auto_poll: bool = True,
    ) -> None:
        super().__init__()
        if self.no_color:
            # Textual turns colours into 256-colour greys under NO_COLOR; no colour at all
            # is what NO_COLOR asks for (the cursor is shown reversed instead).
            self._filters = [f for f in self._filters if not isinstance(f, Monochrome)]
            self._filters.append(NoColor())
        self.settings = settings
        self.auto_poll = auto_poll
        self.sessions: list[HostSession] = list(sessions) if sessions is not None else []
        self._sessions_given = sessions is not None
        self.store = DomainStore()
        self.ports = HostPorts(lambda: self.sessions, self.store)
        self.history = HistoryStore()
        self.view = ViewOptions(mode=settings.cpu_mode)
        self.domains = DomainsScreen(
            self.store, self.history, self.view, readonly=settings.readonly
        )
        self.poller = Poller(lambda: self.sessions, lambda u: self.post_message(HostUpdated(u)))
        self._timer: Timer | None = None
        self._redraw_pending = False
        self._demo: RunningDemo | None = None  # kept only to stop it
        self.operations = OperationsController(self)
        self.timeline = Timeline()
        self.desk: ReviewDesk | None = None  # opened on mount (its store is a file)
        self.changes = ChangesController(self, self._review_desk)
        self.command_history: list[str] = []
        self._save_when_connected: set[str] = set()  # hosts from :connect, kept once up
        self._warnings = WarningsToTimeline(self._warning_logged)

    def notify(self, message: str, *, title: str = "", **kwargs: Any) -> None:
        """Notifications carry libvirt's and users' words: control characters visible,
        and no markup (a domain may be named ``[red]x``)."""
        kwargs.setdefault("markup", False)
        super().notify(visible_lines(message), title=visible(title), **kwargs)

    async def on_mount(self) -> None:
        if limited_glyphs():
            self.add_class("-vt")
        if self.no_color:
            self.add_class("-no-color")
        self._apply_theme()
        try:
            self.timeline.writer = TimelineFile(state_dir() / "timeline.log")
        except OSError as error:
            log.warning("timeline file: %s", error)
        logging.getLogger("virtui").addHandler(self._warnings)
        try:
            self.desk = ReviewDesk(
                # The demo's change requests stay with the demo, out of the real desk.
                ReviewStore(
                    cache_dir() / "demo-embed" / "reviews.db"
                    if self.settings.demo
                    else review_store_path()
                ),
                self.ports,
                ReviewRules(
                    self.settings.required_approvals,
                    self.settings.forbid_self_approval,
                    self.settings.review_rules_problem,
                ),
            )
        except (OSError, sqlite3.Error, StoreError) as error:
            log.error("review desk unavailable: %s", error)
        await self.push_screen(self.domains)
        self.domains.set_delay(self.settings.delay)
        self.domains.table.sort_by(self.settings.sort, self.settings.sort_reverse)
        self.domains.table.set_hidden(self.settings.hidden_columns)
        if self.settings.config_problem:
            self.notify(self.settings.config_problem, severity="warning", timeout=15)
        if self.settings.demo and not self._sessions_given:
            await self.push_screen(StartupScreen())
            self.run_worker(self._start_demo, thread=True, exit_on_error=False, name="demo")
            return
        if not self._sessions_given:
            self.sessions = self._open(self.settings.uris)
        self._start_polling()

    # -- themes and the command line --------------------------------------------------

    def _apply_theme(self) -> None:
        loaded = load_themes()
        for theme in loaded.themes.values():
            self.register_theme(theme)
        for problem in loaded.problems:
            self.notify(problem, severity="warning", timeout=15)
        wanted = self.settings.theme or default_theme()
        if wanted not in self.available_themes:
            self.notify(
                f"no theme {wanted!r}: using {DEFAULT_THEME} "
                f"(themes: {', '.join(sorted(loaded.themes))})",
                severity="warning",
                timeout=15,
            )
            wanted = DEFAULT_THEME if DEFAULT_THEME in self.available_themes else "textual-dark"
        self.switch_theme(wanted)

    def switch_theme(self, name: str) -> bool:
        """Apply a theme; one that fails is refused (and so never saved as the choice)."""
        before = self.theme
        try:
            self.theme = name
            self.refresh_css()
        except Exception as error:
            log.warning("theme %s refused: %s", name, error)
            self.notify(f"theme {name} refused: {error}", severity="error", timeout=15)
            with contextlib.suppress(Exception):
                self.theme = before if before != name else "textual-dark"
            return False
        return True

    def action_command_line(self) -> None:
        """Open the ``:`` command line (k9s style); in a text field ':' is just text."""
        focused = self.focused
        if isinstance(focused, Input):
            focused.insert_text_at_cursor(":")
            return
        if not isinstance(self._front(), CommandLine):
            self.push_screen(CommandLine(self.command_history), self._run_command)

    def _run_command(self, line: str | None) -> None:
        if not line:
            return
        command = parse_command(line)
        if command.name == "dom":
            while self._front() is not self.domains and len(self.screen_stack) > 1:
                self.pop_screen()
            self.domains.show_host(command.host, command.text)
        elif command.name == "host":
            self.action_show_hosts()
        elif command.name == "pool":
            self.action_show_storage()
        elif command.name == "log":
            self.action_show_logs()
            if command.text or command.host:
                self.call_later(self._filter_logs, command)
        elif command.name == "review":
            self.action_show_review()
        elif command.name == "theme":
            if command.text in self.available_themes:
                if self.switch_theme(command.text):
                    self.notify(f"theme: {command.text}")
            else:
                names = ", ".join(
                    sorted(n for n in self.available_themes if n.startswith("virtui"))
                )
                self.notify(f"no theme {command.text!r}: {names}", severity="error")
        elif command.name == "columns":
            try:
                hidden = hidden_after(command.text, self.domains.table.hidden)
            except CommandError as error:
                self.notify(str(error), severity="error")
                return
            self.domains.table.set_hidden(hidden)
        elif command.name == "connect":
            self.connect_host(command.text)
        elif command.name == "disconnect":
            self.disconnect_host(command.text)
        elif command.name == "help":
            self.notify(COMMAND_HELP, title="command line", timeout=15)
        elif command.name == "quit":
            self.exit()

    def _filter_logs(self, command: Command) -> None:
        front = self._front()
        if isinstance(front, LogsScreen):
            words = ([f"host:{command.host}"] if command.host else []) + [command.text]
            front.set_filter(" ".join(w for w in words if w))

    def connect_host(self, uri: str) -> None:
        """Add a host now (``:connect URI``); saved for the next start once it connected.
        A URI that would run a program is refused (it is typed inside the app)."""
        try:
            check_in_app(uri)
            if self.settings.readonly:
                check_readonly(uri)
        except UriRefused as error:
            self.notify(visible(error), severity="error", timeout=10)
            log.warning("refused :connect %s", visible(uri))
            return
        if any(session.backend.uri == uri for session in self.sessions):
            self.notify(f"{uri} is connected already", severity="warning")
            return
        taken = {session.name for session in self.sessions}
        (session,) = self._open([uri])
        if session.name in taken:
            self.notify(
                f"a host is named {session.name} already: add it to config.toml with a name",
                severity="error",
            )
            return
        self.sessions.append(session)
        self._save_when_connected.add(session.name)
        session.backend.set_event_sink(self._event_from_backend)
        self.store.apply(HostUpdate(session.name, uri, HostStatus.CONNECTING))
        self.notify(f"{session.name}: connecting to {uri}")
        self._redraw()
        self.poller.start(session)

    def disconnect_host(self, name: str) -> None:
        """Close a host and forget it: it is no longer saved for the next start."""
        session = next((s for s in self.sessions if s.name == name), None)
        if session is None:
            names = ", ".join(s.name for s in self.sessions) or "none"
            self.notify(f"no host named {name} (hosts: {names})", severity="error")
            return
        self.sessions.remove(session)
        self._save_when_connected.discard(name)
        uri = session.backend.uri
        if uri in self.settings.added_hosts:
            self.settings.added_hosts.remove(uri)
        self.history.forget(self.store.forget_host(name))
        self.poller.forget(name)
        run_detached(f"disconnect:{name}", session.close)  # a frozen host may block
        in_config = uri in self.settings.names or uri in self.settings.tags
        note = "; it is in config.toml, so it comes back at the next start" if in_config else ""
        self.notify(f"{name} disconnected and forgotten{note}")
        self.record(LogEntry.now(name, "", "connection", f"disconnected by the user{note}"))
        self._redraw()

    def save_settings(self) -> None:
        """Keep what the user chose in the app for the next start (blocking)."""
        table = self.domains.table
        save_user_settings(
            UserSettings(
                delay=self.settings.delay,
                cpu_mode=self.view.mode.value,
                sort=table.sort_column,
                sort_reverse=table.sort_reverse,
                theme=self.theme,
                hosts=list(self.settings.added_hosts),
                hidden_columns=sorted(table.hidden),
            )
        )

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

    def _front(self) -> Screen[object] | None:
        """The screen in front, or None while the app shuts down (app.screen raises)."""
        stack = self.screen_stack
        return stack[-1] if stack else None

    def on_demo_progress(self, message: DemoProgress) -> None:
        front = self._front()
        if isinstance(front, StartupScreen):
            front.advance(message.message, message.step, message.steps)

    def _demo_ready(self, uris: list[str]) -> None:
        if isinstance(self._front(), StartupScreen):
            self.pop_screen()
        self.sessions = self._open(uris + self.settings.uris)
        self._start_polling()

    def _open(self, uris: list[str]) -> list[HostSession]:
        settings = self.settings
        return open_sessions(
            uris,
            readonly=settings.readonly,
            names=settings.names,
            refresh=settings.refresh,
            tags=settings.tags,
        )

    # -- polling ----------------------------------------------------------------------

    def _start_polling(self) -> None:
        for session in self.sessions:
            session.backend.set_event_sink(self._event_from_backend)
            # Shown at once, so a host that is slow to answer is visibly "connecting".
            self.store.apply(HostUpdate(session.name, session.backend.uri, HostStatus.CONNECTING))
        self.domains.refresh_view()
        if not self.auto_poll:
            return
        self.poll_all()
        self._timer = self.set_interval(self.settings.delay, self.poll_all, name="poll")

    def poll_all(self) -> None:
        """Start a poll of every host that has none in flight and is due (the timer)."""
        self._mark_silent_hosts()
        self.poller.poll_due()

    def _mark_silent_hosts(self) -> None:
        def shown_silent(name: str) -> bool:
            current = self.store.hosts.get(name)
            return current is not None and current.status is HostStatus.NO_ANSWER

        for update in self.poller.silent(shown_silent):
            self._apply(update)
            self._redraw()

    def poll_host(self, name: str) -> None:
        """Poll one host now (after an event or an action); once more if one is running."""
        self.poller.poll_host(name)

    def _event_from_backend(self, event: DomainEvent) -> None:
        # Called on libvirt's event thread: post_message is safe from any thread.
        self.post_message(HostEventArrived(event))

    def on_host_event_arrived(self, message: HostEventArrived) -> None:
        event = message.event
        log.info("event %s/%s: %s %s", event.host, event.name, event.kind, event.detail)
        self.record(
            LogEntry(
                event.wall_time, event.host, event.name, event.kind, event.detail, event.severity
            )
        )
        if event.kind in ("defined", "device-added", "device-removed"):
            self._check_drift(event.host, event.uuid)
        self.poll_host(event.host)

    # -- logs ---------------------------------------------------------------------------

    def record(self, entry: LogEntry) -> None:
        """Add an entry to the logs timeline (and to the logs screen if it is open)."""
        self.timeline.add(entry)
        front = self._front()
        if isinstance(front, LogsScreen):
            front.entry_added(entry)

    def _warning_logged(self, entry: LogEntry) -> None:
        self.post_message(TimelineNote(entry))  # any thread may log

    def on_timeline_note(self, message: TimelineNote) -> None:
        self.record(message.entry)

    def _review_desk(self) -> ReviewDesk:
        if self.desk is None:
            raise BackendError("the review desk is unavailable (see virtui's log)")
        return self.desk

    def action_show_review(self) -> None:
        """Open the review desk (key 5)."""
        if self.desk is None:
            self.notify("the review desk is unavailable (see virtui's log)", severity="error")
        elif self._leave_top_screens(ReviewScreen):
            self.push_screen(ReviewScreen(self.desk, run_detached))

    def _check_drift(self, host: str, uuid: str) -> None:
        desk = self.desk
        if desk is None:
            return

        def work() -> None:
            try:
                stale = desk.check_domain(host, uuid)
            except Exception as error:  # the host went away meanwhile: checked on merge
                log.info("drift check of %s/%s: %s", host, uuid, error)
                return
            if stale:
                self.call_from_thread(self._went_stale, host, stale)

        run_detached(f"drift:{host}:{uuid}", work)

    def _went_stale(self, host: str, stale: list[int]) -> None:
        numbers = ", ".join(f"#{n}" for n in stale)
        text = f"{numbers} went stale: the live configuration changed (R rebases)"
        self.record(LogEntry.now(host, "", "review", text, Severity.WARNING))
        self.notify(text, severity="warning")
        front = self._front()
        if isinstance(front, ReviewScreen):
            front.reload()

    def action_show_logs(self) -> None:
        """Open the logs screen (key 4)."""
        if self._leave_top_screens(LogsScreen):
            self.push_screen(
                LogsScreen(self.timeline, self.ports, run_detached, state_dir() / "virtui.log")
            )

    def open_qemu_log(self, key: DomainKey) -> None:
        """Follow a domain's QEMU log (or say where it is when it cannot be read here)."""
        name = self.store.name(key)
        location = self.ports.logs(key.host).qemu_log(name)
        self.push_screen(TailScreen(f"QEMU log of {name} on {key.host}", location, run_detached))

    # -- screens for one domain ---------------------------------------------------------

    def open_detail(self, key: DomainKey) -> None:
        """Push the detail screen of a domain."""
        backend = self.ports.acting_backend(key.host)
        if backend is None:
            return
        if backend.domain_port() is None:
            self.notify(
                f"{key.host}: the detail view is not possible through this backend",
                severity="error",
                timeout=10,
            )
            return
        host = urlsplit(backend.uri).hostname
        port = self.ports.domains
        source = DetailSource(
            detail=lambda: port(key.host).detail(key.uuid),
            xml=lambda secure: port(key.host).xml(key.uuid, secure=secure),
            remote_host=host,
        )
        self.push_screen(
            DetailScreen(key, source, self.store, self.history, self.view.mode, self.settings.delay)
        )

    def open_snapshots(self, key: DomainKey) -> None:
        """Push the snapshots screen of a domain."""
        port = self.ports.domains
        source = SnapshotSource(
            list=lambda: port(key.host).snapshots(key.uuid),
            create=lambda name: port(key.host).create_snapshot(key.uuid, name),
            revert=lambda name: port(key.host).revert_snapshot(key.uuid, name),
            delete=lambda name: port(key.host).delete_snapshot(key.uuid, name),
        )
        self.push_screen(
            SnapshotsScreen(self.store.label(key), source, valid_name("snapshot", lambda _: False))
        )

    def open_console(self, key: DomainKey) -> None:
        """Suspend the TUI and attach the terminal to the domain's text console."""
        label = self.store.label(key)
        port = self.ports.domains

        def attach() -> None:
            stream = port(key.host).open_console(key.uuid)  # a BackendError: the handler
            self.call_from_thread(self._attach_console, stream, label)

        self.run_worker(attach, thread=True, exit_on_error=False, name=f"console:{key}")

    def _attach_console(self, stream: ConsoleStream, label: str) -> None:
        try:
            with self.suspend():
                how = run_console(stream, label)
        except SuspendNotSupported:
            stream.close()
            self.notify("this terminal cannot be suspended for a console", severity="error")
            return
        self.notify(f"console of {label}: {how}")

    # -- what the domain screens ask for (one message per intent) ---------------------

    def set_busy(self, key: DomainKey, text: str | None) -> None:
        """Show ``text`` in a domain's row while an action runs (None: clear it)."""
        self.domains.table.set_busy(key, text)

    def on_run_action(self, message: RunAction) -> None:
        keys = [key for key in message.keys if self.operations.known(key)]
        if keys:
            self.operations.request(keys, message.action)

    def on_open_detail(self, message: OpenDetail) -> None:
        if self.operations.known(message.key):
            self.open_detail(message.key)

    def on_open_console(self, message: OpenConsole) -> None:
        # typing into a guest is a change like any other
        if self.operations.known(message.key) and self.operations.may_change(
            message.key, "attach to the console"
        ):
            self.open_console(message.key)

    def on_open_snapshots(self, message: OpenSnapshots) -> None:
        if self.operations.known(message.key):
            self.open_snapshots(message.key)

    def on_open_qemu_log(self, message: OpenQemuLog) -> None:
        if self.operations.known(message.key):
            self.open_qemu_log(message.key)

    def on_take_snapshot(self, message: TakeSnapshot) -> None:
        if self.operations.known(message.key):
            self.operations.ask_snapshot_name(message.key)

    def on_clone_domain(self, message: CloneDomain) -> None:
        if self.operations.known(message.key):
            self.operations.ask_clone_name(message.key)

    def on_draft_change(self, message: DraftChange) -> None:
        # refused before libvirt says "virDomainGetXMLDesc with secure flag"
        if self.operations.known(message.key) and self.operations.may_change(
            message.key, "draft a configuration change"
        ):
            self.changes.handle(message.kind, message.key)

    def on_action_finished(self, message: ActionFinished) -> None:
        self.operations.finished(message)

    async def poll_now(self) -> None:
        """Poll every host once and apply the results before returning (tests, refresh)."""
        updates = await asyncio.gather(
            *(asyncio.to_thread(session.poll_once) for session in self.sessions)
        )
        for update in updates:
            self._apply(update)
        self._redraw()

    def on_host_updated(self, message: HostUpdated) -> None:
        self._apply(message.update)
        self.poller.finished(message.update)
        if not self._redraw_pending:
            # Several hosts answer within a few ms of each other: draw once for all.
            self._redraw_pending = True
            self.set_timer(REDRAW_COALESCE_S, self._redraw)

    def _apply(self, update: HostUpdate) -> None:
        previous = self.store.hosts.get(update.name)
        was_up = previous is not None and previous.status is HostStatus.CONNECTED
        is_up = update.status is HostStatus.CONNECTED
        first_answer = previous is not None and previous.status is HostStatus.CONNECTING
        # Tell the user when a host goes down or comes back, not at every retry.
        if previous is None or previous.status is not update.status:
            self.record(_connection_entry(update))
        if previous is not None and was_up != is_up and not (first_answer and is_up):
            connected = update.status is HostStatus.CONNECTED
            self.notify(
                f"{update.name}: {update.status.value} {update.message}",
                severity="information" if connected else "error",
            )
            log.info("host %s is %s: %s", update.name, update.status.value, update.message)
        if is_up and (previous is None or previous.status is not HostStatus.CONNECTED):
            self._prefill_history(update.name)
            if update.name in self._save_when_connected:
                self._save_when_connected.discard(update.name)
                self.settings.added_hosts.append(update.uri)
        gone = self.store.apply(update)
        self.history.forget(gone)
        self.history.record(update.stats)
        self.history.record_host(update.name, update.host_cpu_pct)

    def _prefill_history(self, host: str) -> None:
        session = next((s for s in self.sessions if s.name == host), None)
        if session is None or not session.backend.capabilities.history:
            return
        backend = session.backend

        def work() -> None:
            try:
                history = backend.cpu_history()
            except Exception as error:  # graphs simply start empty
                log.warning("history of %s: %s", host, getattr(error, "message", error))
                return
            self.post_message(HistoryArrived(host, history))

        run_detached(f"history:{host}", work)

    def on_history_arrived(self, message: HistoryArrived) -> None:
        for uuid, values in message.history.items():
            self.history.prefill(DomainKey(message.host, uuid), values)
        self._redraw()

    def _redraw(self) -> None:
        self._redraw_pending = False
        # A poll can land while the app is closing and its screen is being torn down.
        if self.domains.is_attached and self.domains.table.is_attached:
            self.domains.refresh_view()
        front = self._front()
        if isinstance(front, HostsScreen):
            front.refresh_view()

    # -- hosts ------------------------------------------------------------------------

    def action_show_hosts(self) -> None:
        """Open the hosts screen (key 2)."""
        if self._leave_top_screens(HostsScreen):
            tags = {session.name: session.tags for session in self.sessions}
            self.push_screen(HostsScreen(self.store, self.history, self.view, tags))

    def action_show_storage(self) -> None:
        """Open the storage screen (key 3)."""
        if self._leave_top_screens(StorageScreen):
            self.push_screen(StorageScreen(self.ports, run_detached))

    def _leave_top_screens(self, wanted: type[Screen[None]]) -> bool:
        """Close the hosts or storage screen in front, unless it is ``wanted``; True
        when ``wanted`` should be opened. The digit keys switch screens: no deep stack."""
        if isinstance(self._front(), wanted):
            return False
        while isinstance(self._front(), (HostsScreen, StorageScreen, LogsScreen, ReviewScreen)):
            self.pop_screen()
        return True

    def on_hosts_screen_command(self, message: HostsScreen.Command) -> None:
        if message.command == "reconnect":
            for session in self.sessions:
                if session.name == message.host:
                    session.retry_now()
            self.poll_host(message.host)
        elif message.command == "forget":
            self.disconnect_host(message.host)
        elif message.command == "scope":
            if isinstance(self.screen, HostsScreen):
                self.pop_screen()
            self.domains.show_host(message.host)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """Every worker failure lands here: logged and shown, never fatal."""
        worker = event.worker
        if worker.name == "demo" and event.state is WorkerState.SUCCESS:
            self._demo_ready(list(worker.result or []))
        elif event.state is WorkerState.ERROR:
            error = worker.error
            if isinstance(error, BackendError):  # expected failures: say it plainly
                log.warning("%s: %s", worker.name or "worker", error.message)
                self.notify(error.message, severity="error", timeout=10)
            else:
                log.error("worker %s failed", worker.name, exc_info=error)
                self.notify(f"{worker.name}: {error}", severity="error", timeout=10)
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
        try:
            self.save_settings()
        except OSError as error:
            log.warning("settings not saved: %s", error)
        logging.getLogger("virtui").removeHandler(self._warnings)
        if self.desk is not None:
            self.desk.store.close()
            self.desk = None
        if self.timeline.writer is not None:
            self.timeline.writer.close()
            self.timeline.writer = None
        for session in self.sessions:
            try:
                session.close()
            except Exception:  # one broken host must not keep the demo guests alive
                log.exception("closing %s", session.name)
        if self._demo is not None:
            # The terminal may be gone already (closed window, killed tmux): the guests
            # must be stopped all the same.
            with contextlib.suppress(OSError, ValueError):
                print("virtui: stopping the demo guests…", file=sys.stderr, flush=True)
            self._demo.stop()
            self._demo = None


_CONNECTION_SEVERITY = {
    HostStatus.CONNECTING: Severity.INFO,
    HostStatus.CONNECTED: Severity.INFO,
    HostStatus.RECONNECTING: Severity.WARNING,
    HostStatus.NO_ANSWER: Severity.WARNING,
}


def _connection_entry(update: HostUpdate) -> LogEntry:
    severity = _CONNECTION_SEVERITY.get(update.status, Severity.ERROR)
    detail = update.status.value + (f": {update.message}" if update.message else "")
    return LogEntry.now(update.name, "", "connection", detail, severity)


def _next_delay(current: float, step: int) -> float:
    """The next delay on the ladder in direction ``step`` (-1 faster, +1 slower)."""
    if step < 0:
        faster = [value for value in DELAY_STEPS if value < current]
        return faster[-1] if faster else DELAY_STEPS[0]
    slower = [value for value in DELAY_STEPS if value > current]
    return slower[0] if slower else DELAY_STEPS[-1]
