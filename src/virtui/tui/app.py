"""VirtuiApp: owns host sessions and polling, and hands results to the screens."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys
import time
from collections.abc import Iterable, Sequence
from functools import partial
from pathlib import Path
from typing import Any

from textual import on
from textual.app import SystemCommand
from textual.await_complete import AwaitComplete
from textual.binding import Binding
from textual.dom import DOMNode
from textual.message import Message
from textual.reactive import reactive
from textual.screen import Screen
from textual.timer import Timer

from virtui.backends.base import BackendError
from virtui.background import cancel_all
from virtui.config.settings import Settings, state_dir
from virtui.config.usersettings import UserSettings, save_user_settings
from virtui.model import CpuMode, DomainEvent, DomainKey, LogEntry
from virtui.monitor.cpu_history import CpuHistory
from virtui.monitor.hostports import HostPorts
from virtui.monitor.poller import Poller
from virtui.monitor.session import HostSession, HostUpdate
from virtui.monitor.store import DomainStore
from virtui.monitor.timeline import Timeline, TimelineFile, WarningsToTimeline
from virtui.screens.domain_keys import (
    BackUpDomains,
    DomainIntent,
    MigrateDomains,
    NewGuest,
    RunAction,
)
from virtui.screens.domains import DomainsScreen
from virtui.screens.hosts import HostsScreen
from virtui.screens.io_views import BlockDevicesView, InterfacesView, PhysicalCpusView
from virtui.screens.migrations import MigrationsScreen
from virtui.screens.navigation import navigation_keys
from virtui.screens.startup import StartupScreen
from virtui.text import visible, visible_lines
from virtui.tui.backups import BackupsController
from virtui.tui.changes import ChangesController
from virtui.tui.collector import (
    AFTER_SWITCH_S,
    collect_closed_screens,
    collect_young,
    settle_collector,
)
from virtui.tui.command_line import CommandLineController
from virtui.tui.demo_start import DemoProgress, DemoStart
from virtui.tui.departure import Departure
from virtui.tui.desk_watch import DeskWatch
from virtui.tui.domain_intents import DomainIntents
from virtui.tui.hosts_controller import HostsController
from virtui.tui.key_scopes import SCOPES
from virtui.tui.migrations import MigrationsController
from virtui.tui.network_changes import NetworkChanges
from virtui.tui.new_guests import NewGuestController
from virtui.tui.operations import OperationsController
from virtui.tui.themes import apply_themes, user_theme_file
from virtui.tui.top_screens import OPENINGS
from virtui.ui.broadcast import Broadcasts
from virtui.ui.calls import BlockingCalls, Calls
from virtui.ui.messages import TimelineNote, ToggleCpuMode
from virtui.ui.top_screens import TOP_SCREENS
from virtui.widgets import textual_hacks
from virtui.widgets.braille import limited_glyphs

log = logging.getLogger("virtui.tui.app")


class HostUpdated(Message):
    """A poll of one host finished (successfully or not)."""

    def __init__(self, update: HostUpdate) -> None:
        super().__init__()
        self.update = update


class HostEventArrived(Message):
    """A backend reported an event (posted from the backend's own thread)."""

    def __init__(self, event: DomainEvent) -> None:
        super().__init__()
        self.event = event


DELAY_STEPS = (0.5, 1.0, 2.0, 3.0, 5.0, 10.0, 30.0, 60.0)
REDRAW_COALESCE_S = 0.05
# A transfer or migration cancelled at exit gets this long to take back what it made
# (within Departure's grace); what it could not is taken back at the next start.
LEAVE_JOBS_S = 1.5
REVIEW_COUNT_EVERY_S = 2.0  # a colleague's new request shows in the header this soon


class VirtuiApp(textual_hacks.HackedApp[None]):
    """The virtui console.

    It drives: a timer fires every ``delay`` seconds and the Poller (monitor/poller.py)
    reads each due host on a thread of its own, posting HostUpdated; a slow or dead host
    never blocks the UI or the other hosts. Screens ask for things with one message per
    intent; controllers (operations, changes, domain screens, the command line, the host
    list) do the work, each typed against the little of the app it needs. State several
    screens show (the CPU mode, the refresh delay) is a reactive here, watched by them.
    """

    TITLE = "virtui"
    # Absolute: Textual resolves a relative path against the file of the subclass.
    CSS_PATH = Path(__file__).with_name("app.tcss")
    # Priority, so ':' opens the command line whatever has focus, before the keys after it.
    BINDINGS = [
        Binding("colon", "command_line", "Command line", key_display=":", show=False, priority=True)
    ]

    cpu_mode: reactive[CpuMode] = reactive(CpuMode.IRIX)
    delay: reactive[float] = reactive(1.0)
    review_for_you: reactive[int] = reactive(0)  # others' requests waiting for my review

    def __init__(
        self,
        settings: Settings,
        *,
        sessions: Sequence[HostSession] | None = None,
        auto_poll: bool = True,
    ) -> None:
        super().__init__()
        self.settings = settings
        self._clashes_told: set[tuple[str, str]] = set()
        self._closed_at: float | None = None  # when a screen last closed, until collected
        # What ends the console when its terminal goes (set by the command line's runner).
        self.departure: Departure | None = None
        self.set_reactive(VirtuiApp.cpu_mode, settings.cpu_mode)
        self.set_reactive(VirtuiApp.delay, settings.delay)
        self.auto_poll = auto_poll
        self.sessions: list[HostSession] = list(sessions) if sessions is not None else []
        self._sessions_given = sessions is not None
        self.store = DomainStore()
        self.cpu_history = CpuHistory()
        self.broadcasts = Broadcasts()  # state down: the screens that show it subscribe
        self.ports = HostPorts(lambda: self.sessions, self.store)
        self.calls: Calls = BlockingCalls(self)
        self.timeline = Timeline()
        self.domains = DomainsScreen(
            self.store, self.cpu_history, settings.cpu_mode, readonly=settings.readonly
        )
        self.poller = Poller(lambda: self.sessions, lambda u: self.post_message(HostUpdated(u)))
        self._timer: Timer | None = None
        self._redraw_timer: Timer | None = None  # a draw waiting for more hosts' answers
        self.demo = DemoStart(self, self._demo_ready)
        self.desk_watch = DeskWatch(self)  # the desk opens on mount (its store is a file)
        self.operations = OperationsController(self)
        self.changes = ChangesController(
            self, self.desk_watch.required, self.calls, self.ports, self.store
        )
        self.network_changes = NetworkChanges(self, self.desk_watch.required, self.calls)
        self.migrations = MigrationsController(self)
        self.backups = BackupsController(self)
        self.new_guests = NewGuestController(
            self, self.desk_watch.required, self.calls, self.ports, self.store
        )
        self.domain_intents = DomainIntents(self, self.operations, self.changes)
        self.hosts = HostsController(self, self._event_arrived)
        self.command_line = CommandLineController(self)
        self._warnings = WarningsToTimeline(self._warning_logged)

    def notify(self, message: str, *, title: str = "", **kwargs: Any) -> None:
        """Notifications carry libvirt's and users' words: control characters visible,
        and never markup (a domain may be named ``[red]x``, a QEMU error names a path in
        brackets). Forced, not defaulted: a screen's or widget's own ``notify`` passes
        Textual's default (markup on) on to here."""
        kwargs["markup"] = False
        super().notify(visible_lines(message), title=visible(title), **kwargs)

    async def on_mount(self) -> None:
        if self.departure is not None:
            self.departure.watch(asyncio.get_running_loop())
        if limited_glyphs():
            self.add_class("-vt")
        if self.no_color:
            self.add_class("-no-color")
        for problem in apply_themes(self, self.settings.theme):
            self.notify(problem, severity="warning", timeout=15)
        self._apply_keys(self.settings.keys)
        try:
            self.timeline.writer = TimelineFile(state_dir() / "timeline.log")
        except OSError as error:
            log.warning("timeline file: %s", error)
        logging.getLogger("virtui").addHandler(self._warnings)
        self.desk_watch.open(self.settings, self.ports)
        if self.auto_poll:
            self.desk_watch.count_for_me()
            self.set_interval(REVIEW_COUNT_EVERY_S, self.desk_watch.count_for_me)
        await self.push_screen(self.domains)
        self.domains.table.sort_by(self.settings.sort, self.settings.sort_reverse)
        self.domains.table.set_hidden(self.settings.hidden_columns)
        self.backups.start()
        if self.settings.config_problem:
            self.notify(self.settings.config_problem, severity="warning", timeout=15)
        if self.settings.demo and not self._sessions_given:
            await self.push_screen(StartupScreen())
            self.demo.start()
            return
        if not self._sessions_given:
            self.sessions = self.hosts.open(self.settings.uris)
        self._start_polling()

    def front(self) -> Screen[object] | None:
        """The screen in front, or None while the app shuts down (app.screen raises)."""
        stack = self.screen_stack
        return stack[-1] if stack else None

    def pop_screen(self) -> AwaitComplete:
        """Pop the top screen; once the next is drawn, let go of the closed one (see
        _let_go_of_closed_screens)."""
        done = super().pop_screen()
        self.call_after_refresh(self._let_go_of_closed_screens)
        self._closed_at = time.monotonic()
        return done

    def _collect_if_settled(self) -> None:
        """Once the switching has stopped for a moment: free what the closed screens left.
        Checked at each poll rather than by a timer of its own: one more timer wakes the
        console for nothing, and while a timer is pending asyncio keeps a closed screen's
        cancelled timer handles (and, through the context they hold, the screen) until
        they would have fired, which the memory test saw as screens left behind."""
        closed_at = self._closed_at
        if closed_at is not None and time.monotonic() - closed_at >= AFTER_SWITCH_S:
            self._closed_at = None
            collect_closed_screens()

    def _let_go_of_closed_screens(self) -> None:
        """Forget the watchers closed screens' widgets left behind (see
        textual_hacks.prune_watchers: otherwise every screen ever closed stays in
        memory), then free what they left in the young generations."""
        nodes: list[DOMNode] = [self]
        for screen in self.screen_stack:
            nodes.extend(screen.walk_children(with_self=True))
        textual_hacks.prune_watchers(nodes)
        collect_young()

    def switch_theme(self, name: str) -> bool:
        """Apply a theme; one that fails is refused (and so never saved as the choice)."""
        theme, where = self.get_theme(name), user_theme_file(name)
        # A user's [variables] are free-form CSS values: tried before they are applied.
        why = textual_hacks.css_refusal(self, theme) if theme and where else ""
        if why:
            log.warning("theme %s refused: %s: %s", name, where, why)
            self.notify(f"theme {name} refused: {where}: {why}", severity="error", timeout=15)
            return False
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
        self.command_line.open()

    def save_settings(self) -> None:
        """Keep what the user chose in the app for the next start (blocking)."""
        table = self.domains.table
        save_user_settings(
            UserSettings(
                delay=self.settings.delay,
                cpu_mode=self.cpu_mode.value,
                sort=table.sort_column,
                sort_reverse=table.sort_reverse,
                theme=self.theme,
                hosts=list(self.settings.added_hosts),
                hidden_columns=sorted(table.hidden),
                keys=dict(self.settings.keys),  # the user's, written by hand: kept
            )
        )

    def on_demo_progress(self, message: DemoProgress) -> None:
        front = self.front()
        if isinstance(front, StartupScreen):
            front.advance(message.message, message.step, message.steps)

    def _demo_ready(self, uris: list[str]) -> None:
        if isinstance(self.front(), StartupScreen):
            self.pop_screen()
        self.sessions = self.hosts.open(uris + self.settings.uris)
        self._start_polling()

    # -- polling --------------------------------------------------------------------------

    def _start_polling(self) -> None:
        for session in self.sessions:
            # Shown at once, so a host that is slow to answer is visibly "connecting".
            self.hosts.follow(session)
        self.domains.refresh_view()
        if not self.auto_poll:
            return
        self.poll_all()
        self._timer = self.set_interval(self.settings.delay, self.poll_all, name="poll")

    def poll_all(self) -> None:
        """Start a poll of every host that has none in flight and is due (the timer)."""
        self.hosts.mark_silent()
        self.poller.poll_due()

    def poll_host(self, name: str) -> None:
        """Poll one host now (after an event or an action); once more if one is running."""
        self.poller.poll_host(name)

    async def poll_now(self) -> None:
        """Poll every host once and apply the results before returning (tests, refresh)."""
        updates = await asyncio.gather(
            *(asyncio.to_thread(session.poll_once) for session in self.sessions)
        )
        for update in updates:
            self.hosts.apply(update)
        self.redraw()

    def on_host_updated(self, message: HostUpdated) -> None:
        settle_collector()  # start-up is over (once per process): see tui/collector.py
        self.hosts.apply(message.update)
        self.poller.finished(message.update)
        if not self.poller.busy():
            # The round's last answer (with one host, every answer): draw now, once.
            if self._redraw_timer is not None:
                self._redraw_timer.stop()
                self._redraw_timer = None
            self.redraw()
        elif self._redraw_timer is None:
            # Several hosts answer within a few ms of each other: draw once for all.
            self._redraw_timer = self.set_timer(REDRAW_COALESCE_S, self._redraw_coalesced)

    def _redraw_coalesced(self) -> None:
        self._redraw_timer = None
        self.redraw()

    def _event_arrived(self, event: DomainEvent) -> None:
        # Called on libvirt's event thread: post_message is safe from any thread.
        self.post_message(HostEventArrived(event))

    def on_host_event_arrived(self, message: HostEventArrived) -> None:
        event: DomainEvent = message.event
        log.info("event %s/%s: %s %s", event.host, event.name, event.kind, event.detail)
        self.record(
            LogEntry(
                event.wall_time, event.host, event.name, event.kind, event.detail, event.severity
            )
        )
        if event.kind.startswith("network "):
            self.broadcasts.networks_changed.publish(event.host)
            return
        if event.kind in ("defined", "device-added", "device-removed", "metadata"):
            self.desk_watch.configuration_changed(event.host, event.uuid)
        self.poll_host(event.host)

    def redraw(self) -> None:
        """Tell the screens that show figures (domains, hosts, the live views) to."""
        self.broadcasts.polled.publish(None)
        self._collect_if_settled()

    # -- the timeline ---------------------------------------------------------------------

    def record(self, entry: LogEntry) -> None:
        """Add an entry to the logs timeline (and to the logs screen if it is open)."""
        self.timeline.add(entry)
        self.broadcasts.logged.publish(entry)

    def _warning_logged(self, entry: LogEntry) -> None:
        self.post_message(TimelineNote(entry))  # any thread may log

    def on_timeline_note(self, message: TimelineNote) -> None:
        self.record(message.entry)

    # -- the top screens (keys 1-6) -------------------------------------------------------

    def _leave_top_screens(self, wanted: type[Screen[None]]) -> bool:
        """Close the top screens in front (hosts, storage, …), unless it is ``wanted``; True
        when ``wanted`` should be opened. The digit keys switch screens: no deep stack."""
        if isinstance(self.front(), wanted):
            return False
        self._close_top_screens()
        return True

    def _close_top_screens(self) -> None:
        while getattr(self.front(), "TOP_SCREEN", False):
            self.pop_screen()

    def action_show(self, name: str, host: str = "", text: str = "", scoped: bool = False) -> None:
        """Show the top screen ``name`` of the registry (its digit key, ``:`` command or
        palette entry): the one in front if it is that screen already, else a new one in
        place of the top screens in front (no deep stack). A ``:`` command is ``scoped``:
        its ``@host`` and text become the screen's filter."""
        opening = OPENINGS[name]
        front = self.front()
        if isinstance(front, opening.kind) and opening.same_scope(front, host):
            screen: Screen[Any] = front
        else:
            built = opening.build(self, host)
            if built is None:
                return
            screen = built
            if screen is self.domains:
                while self.front() is not self.domains and len(self.screen_stack) > 1:
                    self.pop_screen()
            else:
                self._close_top_screens()
                self.push_screen(screen)
        if scoped and opening.scope is not None:
            # A screen just pushed is composed after this message: its filter then.
            self.call_later(opening.scope, screen, host, text)

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        """The command palette (Ctrl+P): each top screen, every action of the screen it
        was opened on (by its name in help: "New snapshot", with its key), and
        Textual's own (themes, keys, quit)."""
        for top in TOP_SCREENS:
            yield SystemCommand(
                f"Show {top.title}",
                f"key {top.digit} · :{top.words[0]} {top.usage.strip()}",
                partial(self.action_show, top.name),
            )
        shown = {binding.action for binding in navigation_keys("")}
        for key, active in screen.active_bindings.items():
            binding = active.binding
            if not binding.description or binding.action in shown:
                continue
            shown.add(binding.action)
            yield SystemCommand(
                binding.description,
                f"key {binding.key_display or self.get_key_display(binding) or key}",
                partial(self.run_action, binding.action, active.node),
            )
        yield from super().get_system_commands(screen)

    def action_show_view(self, name: str) -> None:
        """Open one of virt-top's views over the domains: ``cpus`` (physical CPUs of the
        selected domain's host), ``nics`` or ``disks``."""
        if name == "cpus":
            self._show_physical_cpus()
            return
        views: dict[str, type[InterfacesView] | type[BlockDevicesView]] = {
            "nics": InterfacesView,
            "disks": BlockDevicesView,
        }
        view = views[name]
        if self._leave_top_screens(view):
            self.push_screen(view(self.store))

    def _show_physical_cpus(self) -> None:
        selected = self.domains.table.selected_key
        hosts = self.ports.host_names()
        host = selected.host if selected is not None else (hosts[0] if hosts else "")
        try:  # before any screen closes: a host without a domains port opens nothing
            port = self.ports.domains(host)
        except BackendError as error:
            self.notify(error.message, severity="error")
            return
        if self._leave_top_screens(PhysicalCpusView):
            self.push_screen(PhysicalCpusView(host, port, self.calls))

    def open_history(self, host: str, name: str) -> None:
        """The git history of a domain's configuration (``:history``)."""
        self.desk_watch.open_history(host, name)

    # -- what the screens ask for (one message per intent) -------------------------------

    def set_busy(self, key: DomainKey, text: str | None) -> None:
        """Show ``text`` in a domain's row while an action runs (None: clear it)."""
        self.domains.table.set_busy(key, text)

    def on_run_action(self, message: RunAction) -> None:
        keys = [key for key in message.keys if self.operations.known(key)]
        if keys:
            self.operations.request(keys, message.action)

    @on(DomainIntent)  # every subclass: OpenDetail, OpenConsole, DraftChange, …
    def _domain_intent(self, message: DomainIntent) -> None:
        self.domain_intents.handle(message)

    def on_hosts_screen_evacuate(self, message: HostsScreen.Evacuate) -> None:
        self.migrations.evacuate(message.host)

    def on_new_guest(self, message: NewGuest) -> None:
        self.new_guests.start(message.near)

    def on_migrate_domains(self, message: MigrateDomains) -> None:
        self.migrations.request(message.keys)

    def on_back_up_domains(self, message: BackUpDomains) -> None:
        self.backups.request(message.keys)

    def action_show_migrations(self) -> None:
        """The migrations panel (J): in flight and finished, with cancel."""
        if not isinstance(self.front(), MigrationsScreen):
            self.push_screen(MigrationsScreen(self.migrations))

    def on_hosts_screen_reconnect(self, message: HostsScreen.Reconnect) -> None:
        self.hosts.reconnect(message.host)

    def on_hosts_screen_forget(self, message: HostsScreen.Forget) -> None:
        self.hosts.disconnect(message.host)

    def on_hosts_screen_scope(self, message: HostsScreen.Scope) -> None:
        if isinstance(self.screen, HostsScreen):
            self.pop_screen()
        self.domains.show_host(message.host)

    def on_toggle_cpu_mode(self, _message: ToggleCpuMode) -> None:
        self.cpu_mode = self.cpu_mode.toggled()
        self.notify(f"CPU mode: {self.cpu_mode.label} — {self.cpu_mode.meaning}", timeout=2)

    def on_domains_screen_delay_change(self, message: DomainsScreen.DelayChange) -> None:
        self.set_delay(_next_delay(self.delay, message.step))

    def set_delay(self, delay: float) -> None:
        """Change the refresh delay (within its bounds) and restart the poll timer."""
        self.delay = self.settings.clamp_delay(delay)

    def watch_delay(self, delay: float) -> None:
        self.settings.delay = delay
        if self._timer is not None:
            self._timer.stop()
            self._timer = self.set_interval(delay, self.poll_all, name="poll")

    # -- exit -----------------------------------------------------------------------------

    def _apply_keys(self, keys: dict[str, str]) -> None:
        """settings.toml's ``[keys]``: remap bindings by id; an unknown id is named."""
        unknown = sorted(set(keys) - set(BINDING_IDS))
        if unknown:
            self.notify(
                f"settings.toml [keys]: no binding {', '.join(visible(u) for u in unknown)} "
                "(the ids are in docs/keymap.md); ignored",
                severity="warning",
                timeout=15,
            )
        known = {binding: key for binding, key in keys.items() if binding in BINDING_IDS}
        if known:
            self.set_keymap(known)

    def handle_bindings_clash(self, clashed_bindings: set[Binding], node: DOMNode) -> None:
        """A key of the user's keymap that another binding had: said once per pair."""
        for binding in clashed_bindings:
            said = (binding.id or binding.action, binding.key)
            if said not in self._clashes_told:
                self._clashes_told.add(said)
                self.notify(
                    f"keys: {binding.key} is taken by your [keys]; "
                    f"{binding.description or binding.action} lost it",
                    severity="warning",
                    timeout=10,
                )

    def shutdown(self) -> None:
        """Close every connection and tear the demo guests down (blocking; after run).
        Transfers and migrations still running are cancelled first, and given a moment
        to take back what they made."""
        cancelled = cancel_all(LEAVE_JOBS_S)
        if cancelled:
            log.info("leaving: %d transfer(s) or migration(s) cancelled", cancelled)
        try:
            self.save_settings()
        except OSError as error:
            log.warning("settings not saved: %s", error)
        logging.getLogger("virtui").removeHandler(self._warnings)
        self.desk_watch.close()
        if self.timeline.writer is not None:
            self.timeline.writer.close()
            self.timeline.writer = None
        for session in self.sessions:
            try:
                session.close()
            except Exception:  # one broken host must not keep the demo guests alive
                log.exception("closing %s", session.name)
        self.demo.wait_for_boot()
        if self.demo.demo is not None:
            # The terminal may be gone already (closed window, killed tmux): the guests
            # must be stopped all the same.
            with contextlib.suppress(OSError, ValueError):
                print("virtui: stopping the demo guests…", file=sys.stderr, flush=True)
            self.demo.stop()


# Every binding a person may remap gets its id (``domains.act_reboot``) before any
# screen is made; the ids and their default keys are listed in docs/keymap.md.
BINDING_IDS = textual_hacks.give_binding_ids(
    [("app", VirtuiApp), *((scope, owner) for _title, scope, owner in SCOPES)]
)


def _next_delay(current: float, step: int) -> float:
    """The next delay on the ladder in direction ``step`` (-1 faster, +1 slower)."""
    if step < 0:
        faster = [value for value in DELAY_STEPS if value < current]
        return faster[-1] if faster else DELAY_STEPS[0]
    slower = [value for value in DELAY_STEPS if value > current]
    return slower[0] if slower else DELAY_STEPS[-1]
