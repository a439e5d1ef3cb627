"""HostsController: hosts added and removed while the app runs, and what their updates mean to
the user (a host going down or coming back is said once, not at every retry)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace
from typing import Any, Protocol

from virtui.config.settings import Settings
from virtui.config.uripolicy import UriRefused, check_in_app, check_readonly
from virtui.model import DomainEvent, DomainKey, HostStatus, LogEntry, Severity
from virtui.monitor.cpu_history import CpuHistory
from virtui.monitor.poller import Poller
from virtui.monitor.session import HostSession, HostUpdate
from virtui.monitor.sessions import open_sessions
from virtui.monitor.store import DomainStore
from virtui.text import visible
from virtui.ui.calls import Calls, Failure

log = logging.getLogger("virtui.tui.hosts_controller")

_CONNECTION_SEVERITY = {
    HostStatus.CONNECTING: Severity.INFO,
    HostStatus.CONNECTED: Severity.INFO,
    HostStatus.RECONNECTING: Severity.WARNING,
    HostStatus.NO_ANSWER: Severity.WARNING,
}


class HostsControllerApp(Protocol):
    """The little of the app this controller uses."""

    settings: Settings
    sessions: list[HostSession]
    store: DomainStore
    cpu_history: CpuHistory
    poller: Poller
    calls: Calls

    def notify(self, message: str, *, title: str = "", **kwargs: Any) -> None:
        """Show a notification."""

    def record(self, entry: LogEntry) -> None:
        """Add an entry to the logs timeline."""

    def redraw(self) -> None:
        """Bring the screens in line with the store."""


class HostsController:
    """Connects, forgets and follows hosts for the app. UI thread only."""

    def __init__(self, app: HostsControllerApp, on_event: Callable[[DomainEvent], None]) -> None:
        self.app = app
        self._on_event = on_event  # called on a backend's thread
        self._save_when_connected: set[str] = set()  # hosts from :connect, kept once up

    def open(self, uris: list[str]) -> list[HostSession]:
        """Sessions for URIs, named and tagged from the config (nothing connected yet)."""
        settings = self.app.settings
        return open_sessions(
            uris,
            readonly=settings.readonly,
            names=settings.names,
            refresh=settings.refresh,
            tags=settings.tags,
        )

    def follow(self, session: HostSession) -> None:
        """Take events from the host, and show it as connecting until its first answer."""
        session.backend.set_event_sink(self._on_event)
        update = HostUpdate(session.name, session.backend.uri, HostStatus.CONNECTING)
        self.app.store.apply(update)

    def connect(self, uri: str) -> None:
        """Add a host now (``:connect URI``); saved for the next start once it connected.
        A URI that would run a program is refused (it is typed inside the app)."""
        app = self.app
        try:
            check_in_app(uri)
            if app.settings.readonly:
                check_readonly(uri)
        except UriRefused as error:
            app.notify(visible(error), severity="error", timeout=10)
            log.warning("refused :connect %s", visible(uri))
            return
        if any(session.backend.uri == uri for session in app.sessions):
            app.notify(f"{uri} is connected already", severity="warning")
            return
        taken = {session.name for session in app.sessions}
        (session,) = self.open([uri])
        if session.name in taken:
            app.notify(
                f"a host is named {session.name} already: add it to config.toml with a name",
                severity="error",
            )
            return
        app.sessions.append(session)
        self._save_when_connected.add(session.name)
        self.follow(session)
        app.notify(f"{session.name}: connecting to {uri}")
        app.redraw()
        app.poller.start(session)

    def disconnect(self, name: str) -> None:
        """Close a host and forget it: it is no longer saved for the next start."""
        app = self.app
        session = next((s for s in app.sessions if s.name == name), None)
        if session is None:
            names = ", ".join(s.name for s in app.sessions) or "none"
            app.notify(f"no host named {name} (hosts: {names})", severity="error")
            return
        app.sessions.remove(session)
        self._save_when_connected.discard(name)
        uri = session.backend.uri
        if uri in app.settings.added_hosts:
            app.settings.added_hosts.remove(uri)
        app.cpu_history.forget(app.store.forget_host(name))
        app.poller.forget(name)
        # Off the loop (a frozen host may block); nothing to report either way.
        app.calls(f"disconnect:{name}", session.close, _ignore, _ignore)
        in_config = uri in app.settings.names or uri in app.settings.tags
        note = "; it is in config.toml, so it comes back at the next start" if in_config else ""
        app.notify(f"{name} disconnected and forgotten{note}")
        app.record(LogEntry.now(name, "", "connection", f"disconnected by the user{note}"))
        app.redraw()

    def reconnect(self, name: str) -> None:
        """Try a host again now, whatever its backoff says."""
        for session in self.app.sessions:
            if session.name == name:
                session.retry_now()
        self.app.poller.poll_host(name)

    def apply(self, update: HostUpdate) -> None:
        """Take a host's update into the stores; say when it goes down or comes back."""
        app = self.app
        previous = app.store.hosts.get(update.name)
        update = self._follow_alerts(previous, update)
        was_up = previous is not None and previous.status is HostStatus.CONNECTED
        is_up = update.status is HostStatus.CONNECTED
        first_answer = previous is not None and previous.status is HostStatus.CONNECTING
        # Tell the user when a host goes down or comes back, not at every retry.
        if previous is None or previous.status is not update.status:
            app.record(_connection_entry(update))
        if previous is not None and was_up != is_up and not (first_answer and is_up):
            app.notify(
                f"{update.name}: {update.status.value} {update.message}",
                severity="information" if is_up else "error",
            )
            log.info("host %s is %s: %s", update.name, update.status.value, update.message)
        if is_up and (previous is None or previous.status is not HostStatus.CONNECTED):
            self._prefill_history(update.name)
            if update.name in self._save_when_connected:
                self._save_when_connected.discard(update.name)
                app.settings.added_hosts.append(update.uri)
        gone = app.store.apply(update)
        app.cpu_history.forget(gone)
        app.cpu_history.record(update.stats)
        app.cpu_history.record_host(update.name, update.host_cpu_pct)

    def _follow_alerts(self, previous: HostUpdate | None, update: HostUpdate) -> HostUpdate:
        """Put alerts that start or stop firing on the timeline. A poll that failed
        says nothing of them: the last ones known stay."""
        before = previous.alerts if previous is not None else ()
        if not update.answered:
            return replace(update, alerts=before) if before else update
        for alert in update.alerts:
            if alert not in before:
                detail = f"firing: {visible(alert.line)}"
                self.app.record(
                    LogEntry.now(update.name, visible(alert.domain), "alert", detail, alert.level)
                )
        for alert in before:
            if alert not in update.alerts:
                self.app.record(
                    LogEntry.now(
                        update.name,
                        visible(alert.domain),
                        "alert",
                        f"resolved: {visible(alert.name)}",
                    )
                )
        return update

    def mark_silent(self) -> None:
        """Show the hosts whose poll has been in flight too long as not answering."""
        app = self.app

        def shown_silent(name: str) -> bool:
            current = app.store.hosts.get(name)
            return current is not None and current.status is HostStatus.NO_ANSWER

        for update in app.poller.silent(shown_silent):
            self.apply(update)
            app.redraw()

    def _prefill_history(self, host: str) -> None:
        """Read a host's past CPU figures for its graphs, where its backend has them."""
        app = self.app
        session = next((s for s in app.sessions if s.name == host), None)
        if session is None or not session.backend.capabilities.cpu_history:
            return

        def failed(failure: Failure) -> None:  # graphs simply start empty
            log.warning("history of %s: %s", host, failure.message)

        def read(history: dict[str, list[float]]) -> None:
            for uuid, values in history.items():
                app.cpu_history.prefill(DomainKey(host, uuid), values)
            app.redraw()

        app.calls(f"history:{host}", session.backend.cpu_history, read, failed)


def _connection_entry(update: HostUpdate) -> LogEntry:
    severity = _CONNECTION_SEVERITY.get(update.status, Severity.ERROR)
    detail = update.status.value + (f": {update.message}" if update.message else "")
    return LogEntry.now(update.name, "", "connection", detail, severity)


def _ignore(_outcome: object) -> None:
    """What a disconnect's outcome is for: nothing (the host is forgotten already)."""
