"""The review desk as the app holds it: opened at start (fails soft: the rest of the app
runs without it), and told when a host reports a configuration change, so a request
whose base is no longer live goes stale at once and the user hears of it."""

from __future__ import annotations

import logging
import sqlite3
from typing import Any, Protocol

from textual.screen import Screen

from virtui.backends.base import BackendError
from virtui.config.settings import Settings, cache_dir, review_store_path
from virtui.model import LogEntry, Severity
from virtui.ports.config import ConfigHosts
from virtui.review.desk import ReviewDesk, ReviewRules
from virtui.review.store import ReviewStore, StoreError
from virtui.screens.review import ReviewScreen
from virtui.tui.calls import Calls, Failure

log = logging.getLogger("virtui.tui.desk_watch")

UNAVAILABLE = "the review desk is unavailable (see virtui's log)"


class DeskWatchApp(Protocol):
    """The little of the app this uses."""

    calls: Calls

    def front(self) -> Screen[object] | None:
        """The screen in front."""

    def notify(self, message: str, *, title: str = "", **kwargs: Any) -> None:
        """Show a notification."""

    def record(self, entry: LogEntry) -> None:
        """Add an entry to the logs timeline."""


class DeskWatch:
    """Holds the desk (None until opened, or when it could not be). UI thread only."""

    def __init__(self, app: DeskWatchApp) -> None:
        self.app = app
        self.desk: ReviewDesk | None = None

    def open(self, settings: Settings, hosts: ConfigHosts) -> None:
        """Open the desk's store (a file); a failure is logged and the desk stays off."""
        try:
            self.desk = ReviewDesk(
                # The demo's change requests stay with the demo, out of the real desk.
                ReviewStore(
                    cache_dir() / "demo-embed" / "reviews.db"
                    if settings.demo
                    else review_store_path()
                ),
                hosts,
                ReviewRules(
                    settings.required_approvals,
                    settings.forbid_self_approval,
                    settings.review_rules_problem,
                ),
            )
        except (OSError, sqlite3.Error, StoreError) as error:
            log.error("review desk unavailable: %s", error)

    def required(self) -> ReviewDesk:
        """The desk, for a controller on a background thread (BackendError when off)."""
        if self.desk is None:
            raise BackendError(UNAVAILABLE)
        return self.desk

    def close(self) -> None:
        """Close the store (at exit)."""
        if self.desk is not None:
            self.desk.store.close()
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

    def _went_stale(self, host: str, stale: list[int]) -> None:
        numbers = ", ".join(f"#{n}" for n in stale)
        text = f"{numbers} went stale: the live configuration changed (R rebases)"
        self.app.record(LogEntry.now(host, "", "review", text, Severity.WARNING))
        self.app.notify(text, severity="warning")
        front = self.app.front()
        if isinstance(front, ReviewScreen):
            front.reload()
