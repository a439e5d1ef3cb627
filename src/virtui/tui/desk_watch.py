"""The review desk as the app holds it: opened at start (fails soft: the rest of the app
runs without it), and told when a host reports a configuration change, so a request
whose base is no longer live goes stale at once and the user hears of it."""

from __future__ import annotations

import logging
import sqlite3
from pathlib import Path
from typing import Any, Protocol

from textual.screen import Screen

from virtui.backends.base import BackendError
from virtui.config.settings import Settings, cache_dir, review_store_path
from virtui.model import LogEntry, Severity
from virtui.monitor.store import DomainStore
from virtui.ports.domain_config import DomainConfigHosts
from virtui.review.api import Desk
from virtui.review.client import DeskClient, link_to
from virtui.review.desk import ReviewDesk, ReviewRules
from virtui.review.history import ConfigHistory
from virtui.review.store import ReviewStore, StoreError
from virtui.screens.history import HistoryScreen, HistorySource
from virtui.ui.broadcast import Broadcasts
from virtui.ui.calls import Calls, Failure

log = logging.getLogger("virtui.tui.desk_watch")

UNAVAILABLE = "the review desk is unavailable (see virtui's log)"
NO_HISTORY = "no history is kept: set [review] history = PATH in config.toml"


class DeskWatchApp(Protocol):
    """The little of the app this uses."""

    calls: Calls
    review_for_you: int
    store: DomainStore

    def push_screen(self, screen: Screen[Any], callback: Any = None) -> Any:
        """Show a screen."""

    @property
    def broadcasts(self) -> Broadcasts:
        """What the app announces to the screens."""

    def notify(self, message: str, *, title: str = "", **kwargs: Any) -> None:
        """Show a notification."""

    def record(self, entry: LogEntry) -> None:
        """Add an entry to the logs timeline."""


class DeskWatch:
    """Holds the desk (None until opened, or when it could not be). UI thread only."""

    def __init__(self, app: DeskWatchApp) -> None:
        self.app = app
        self.desk: Desk | None = None

    def open(self, settings: Settings, hosts: DomainConfigHosts) -> None:
        """Open the desk's store (a file, maybe a team's) and its history (a git
        repository, when kept); a failure is logged and the desk stays off."""
        history = settings.review_history and not settings.demo
        if settings.review_desk and not settings.demo:
            self._open_service(settings, hosts)
            return
        try:
            self.desk = ReviewDesk(
                # The demo's change requests stay with the demo, out of the real desk.
                ReviewStore(
                    cache_dir() / "demo-embed" / "reviews.db"
                    if settings.demo
                    else review_store_path(settings.review_store)
                ),
                hosts,
                ReviewRules(
                    settings.required_approvals,
                    settings.forbid_self_approval,
                    settings.review_rules_problem,
                    settings.forbid,
                ),
                history=ConfigHistory(Path(settings.review_history)) if history else None,
                readonly=settings.readonly,
            )
        except (OSError, sqlite3.Error, StoreError) as error:
            log.error("review desk unavailable: %s", error)

    def _open_service(self, settings: Settings, hosts: DomainConfigHosts) -> None:
        """A team's desk service: every step is asked of it (it knows who asks). Reached
        on a worker (over ssh that takes a while); the desk is off until it answers."""

        def reach() -> Desk:
            link = link_to(settings.review_desk, settings.review_desk_relay)
            return DeskClient(link, readonly=settings.readonly)

        def reached(desk: Desk) -> None:
            self.desk = desk
            self.count_for_me()

        def failed(failure: Failure) -> None:
            log.error("review desk unavailable: %s", failure.message)
            self.app.notify(f"review desk: {failure.message}", severity="error", timeout=10)

        self.app.calls("review:desk", reach, reached, failed, once=True)

    def count_for_me(self) -> None:
        """Count the requests waiting for this user (the header shows it); on a timer."""
        desk = self.desk
        if desk is None:
            return

        def counted(count: int) -> None:
            self.app.review_for_you = count

        self.app.calls("review:count", desk.for_me, counted, lambda _f: None, once=True)

    def required(self) -> Desk:
        """The desk, for a controller on a background thread (BackendError when off)."""
        if self.desk is None:
            raise BackendError(UNAVAILABLE)
        return self.desk

    def close(self) -> None:
        """Close the store (at exit)."""
        if self.desk is not None:
            self.desk.close()
            self.desk = None

    def configuration_changed(self, host: str, uuid: str) -> None:
        """A host defined or changed a domain: check its requests against the live XML."""
        desk = self.desk
        if desk is None:
            return

        def failed(failure: Failure) -> None:  # the host went away meanwhile: checked on merge
            log.info("drift check of %s/%s: %s", host, uuid, failure.message)

        self.app.calls(
            f"drift:{host}:{uuid}",
            lambda: desk.check_domain(host, uuid),
            lambda stale: self._went_stale(host, stale) if stale else None,
            failed,
        )
        if desk.keeps_history:
            self.app.calls(
                f"history:{host}:{uuid}",
                lambda: desk.record_drift(host, uuid),
                lambda commit: self._drift_committed(host, commit) if commit else None,
                failed,
            )

    def _drift_committed(self, host: str, commit: str) -> None:
        text = f"a change made outside virtui: history commit {commit[:12]}"
        self.app.record(LogEntry.now(host, "", "review", text, Severity.WARNING))

    def open_history(self, host: str, name: str) -> None:
        """The history screen of domain ``name`` (on ``host`` when given)."""
        desk = self.desk
        if desk is None or not desk.keeps_history:
            why = UNAVAILABLE if desk is None else NO_HISTORY
            self.app.notify(why, severity="error", timeout=10)
            return
        found = [
            stats.sample.key
            for stats in self.app.store.all()
            if stats.sample.name == name and (not host or stats.sample.key.host == host)
        ]
        if len(found) != 1:
            where = f" on {host}" if host else ""
            why = (
                f"no domain {name!r}{where}"
                if not found
                else f"{name!r} is on several hosts: :history @HOST {name}"
            )
            self.app.notify(why, severity="error")
            return
        (key,) = found
        source = HistorySource(
            f"{name} on {key.host}",
            lambda: desk.versions(key.host, name),
            lambda commit: desk.version_diff(key.host, name, commit),
            lambda commit: desk.revert_to(key.host, key.uuid, commit),
        )
        self.app.push_screen(HistoryScreen(source, self.app.calls))

    def _went_stale(self, host: str, stale: list[int]) -> None:
        numbers = ", ".join(f"#{n}" for n in stale)
        text = f"{numbers} went stale: the live configuration changed (R rebases)"
        self.app.record(LogEntry.now(host, "", "review", text, Severity.WARNING))
        self.app.notify(text, severity="warning")
        self.app.broadcasts.desk_changed.publish(None)
