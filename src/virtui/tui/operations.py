"""OperationsController: what happens between a key press and a changed domain.

Asks for confirmation before anything destructive (naming domain and host), marks rows
as busy, runs each action on its own background thread, and reports a result per domain:
one notification for a single domain, a per-domain summary for a bulk action.
"""

from __future__ import annotations

import itertools
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from textual.screen import Screen

from virtui.model import ActionResult, DomainAction, DomainKey, LogEntry, Severity
from virtui.monitor.hostports import HostPorts
from virtui.monitor.store import DomainStore
from virtui.screens.confirm import Choice, ConfirmScreen
from virtui.screens.prompt import PromptScreen
from virtui.ui.calls import Calls

log = logging.getLogger("virtui.tui.operations")

NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+-]{0,63}$")


@dataclass
class Batch:
    """Results of one action on several domains, reported together when all are in."""

    verb: str
    expected: int
    results: list[ActionResult] = field(default_factory=list)


def valid_name(kind: str, taken: Callable[[str], bool]) -> Callable[[str], str]:
    """A validator for a new domain or snapshot name."""

    def check(value: str) -> str:
        if not value:
            return f"the {kind} needs a name"
        if not NAME_PATTERN.match(value):
            return (
                f"{value!r} is not a valid {kind} name: use letters, digits and . _ + - "
                "(no spaces or slashes), at most 64 characters"
            )
        if taken(value):
            return f"a {kind} named {value!r} already exists"
        return ""

    return check


class OperationsApp(Protocol):
    """The little of the app that the controller uses."""

    store: DomainStore
    ports: HostPorts

    def push_screen(self, screen: Screen[Any], callback: Any = None) -> Any:
        """Show a dialog; ``callback`` gets its result."""

    def notify(self, message: str, *, title: str = "", **kwargs: Any) -> None:
        """Show a notification."""

    @property
    def calls(self) -> Calls:
        """Blocking calls off the event loop, their outcome back on it."""

    def record(self, entry: LogEntry) -> None:
        """Add an entry to the logs timeline."""

    def poll_host(self, name: str) -> None:
        """Read a host again now."""

    def set_busy(self, key: DomainKey, text: str | None) -> None:
        """Show ``text`` in a domain's row while an action runs (None: clear it)."""


class OperationsController:
    """Runs lifecycle actions, snapshots and clones for the app. UI thread only."""

    def __init__(self, app: OperationsApp) -> None:
        self.app = app
        self._batches: dict[int, Batch] = {}
        self._ids = itertools.count(1)

    def known(self, key: DomainKey) -> bool:
        """True when some backend can act on the domain's host."""
        return self.app.ports.acting_backend(key.host) is not None

    def may_change(self, key: DomainKey, verb: str) -> bool:
        """True when the domain's host takes changes; otherwise say why, and False."""
        if self._can_mutate(key):
            return True
        self._refuse(verb, [key])
        return False

    # -- lifecycle actions --------------------------------------------------------------

    def request(self, keys: list[DomainKey], action: DomainAction) -> None:
        """Confirm if destructive, then run ``action`` on every key."""
        refused = [k for k in keys if not self._can_mutate(k)]
        if refused:
            self._refuse(action.verb, refused)
            keys = [k for k in keys if k not in refused]
            if not keys:
                return
        if not action.destructive:
            self.run(keys, action)
            return
        targets = [self.app.store.label(k) for k in keys]
        if action in (DomainAction.UNDEFINE, DomainAction.UNDEFINE_WITH_STORAGE):
            choices = [
                Choice("keep", "Keep storage", "k"),
                Choice("delete", "DELETE storage", "d"),
            ]
            warning = (
                "The definition goes (a running domain keeps running until it stops). "
                "Deleting storage removes its disk images for good."
            )

            def chosen(result: str | None) -> None:
                if result == "keep":
                    self.run(keys, DomainAction.UNDEFINE)
                elif result == "delete":
                    self.run(keys, DomainAction.UNDEFINE_WITH_STORAGE)

            title = f"Undefine {len(keys)} domain(s)?"
        else:
            choices = [Choice("yes", action.verb.capitalize(), "y")]
            warning = {
                DomainAction.DESTROY: "Like pulling the power cord: the guest gets no "
                "chance to shut down.",
                DomainAction.RESET: "Like pressing the reset button: the guest restarts at "
                "once, without shutting down; unsaved data in it is lost.",
            }.get(action, "")

            def chosen(result: str | None) -> None:
                if result == "yes":
                    self.run(keys, action)

            title = f"{action.verb.capitalize()} {len(keys)} domain(s)?"
        self.app.push_screen(ConfirmScreen(title, targets, warning, choices), chosen)

    def _refuse(self, verb: str, keys: list[DomainKey]) -> None:
        hosts = ", ".join(sorted({k.host for k in keys}))
        text = (
            f"cannot {verb}: {hosts} is read-only "
            "(opened with --readonly, or a recording); nothing was sent"
        )
        for key in keys:
            self.app.record(
                LogEntry.now(
                    key.host,
                    self.app.store.name(key),
                    "action",
                    f"{verb}: refused: {text}",
                    Severity.WARNING,
                )
            )
        self.app.notify(text, title=f"{verb}: refused", severity="error")

    def _can_mutate(self, key: DomainKey) -> bool:
        backend = self.app.ports.acting_backend(key.host)
        return backend is not None and backend.capabilities.mutations

    def run(self, keys: list[DomainKey], action: DomainAction) -> None:
        """Start one worker per domain; results come back through the app's calls."""
        batch_id = next(self._ids)
        self._batches[batch_id] = Batch(action.verb, len(keys))
        for key in keys:
            self.app.set_busy(key, action.progress)
            self._start(key, action.verb, batch_id, self._actor(key, action))

    def _actor(self, key: DomainKey, action: DomainAction) -> Callable[[], str]:
        return lambda: self.app.ports.domains(key.host).act(key.uuid, action)

    def _start(self, key: DomainKey, verb: str, batch_id: int, call: Callable[[], str]) -> None:
        name = self.app.store.label(key)
        # A failure of any kind (a bug too) is still one result per domain, never a hang.
        self.app.calls(
            f"action:{verb}:{key}",
            call,
            lambda text: self.finished(ActionResult(key, name, verb, True, text), batch_id),
            lambda failure: self.finished(
                ActionResult(key, name, verb, False, failure.message), batch_id
            ),
        )

    def finished(self, result: ActionResult, batch_id: int) -> None:
        """One domain's result is in: clear its row, refresh its host, report when done."""
        self.app.set_busy(result.key, None)
        self.app.poll_host(result.key.host)
        self.app.record(
            LogEntry.now(
                result.key.host,
                self.app.store.name(result.key),
                "action",
                f"{result.action}: {'ok' if result.ok else 'failed'}: {result.message}",
                Severity.INFO if result.ok else Severity.ERROR,
            )
        )
        batch = self._batches.get(batch_id)
        if batch is None:
            return
        batch.results.append(result)
        if len(batch.results) < batch.expected:
            return
        del self._batches[batch_id]
        self._report(batch)

    def _report(self, batch: Batch) -> None:
        failed = [r for r in batch.results if not r.ok]
        if batch.expected == 1:
            (result,) = batch.results
            title, text = f"{result.action}: {result.name}", result.message
            timeout = 10 if failed else 4
        else:
            title = f"{batch.verb}: {batch.expected - len(failed)} ok, {len(failed)} failed"
            text = "\n".join(f"{'✓' if r.ok else '✗'} {r.name}: {r.message}" for r in batch.results)
            timeout = 15 if failed else 6
        self.app.notify(
            text, title=title, severity="error" if failed else "information", timeout=timeout
        )

    # -- named things -------------------------------------------------------------------

    def ask_snapshot_name(self, key: DomainKey) -> None:
        """Ask for a name, then take a snapshot of the domain."""
        if not self._can_mutate(key):
            self._refuse("snapshot", [key])
            return
        validate = valid_name("snapshot", lambda _name: False)

        def chosen(name: str | None) -> None:
            if name:
                ports = self.app.ports
                self._single(
                    key, "snapshot", lambda: ports.domains(key.host).create_snapshot(key.uuid, name)
                )

        self.app.push_screen(
            PromptScreen(
                f"New snapshot of {self.app.store.label(key)}", "Snapshot name:", validate
            ),
            chosen,
        )

    def ask_clone_name(self, key: DomainKey) -> None:
        """Ask for the copy's name, then clone the (shut-off) domain."""
        if not self._can_mutate(key):
            self._refuse("clone", [key])
            return
        stats = self.app.store.get(key)
        if stats is not None and stats.sample.state.is_active:
            # Asked first, not after the name: a running domain cannot be cloned.
            self.app.notify(
                f"{stats.sample.name} is {stats.sample.state.value}: shut it down before "
                "cloning (nothing was asked or sent)",
                severity="error",
            )
            return
        taken = {s.sample.name for s in self.app.store.all() if s.sample.key.host == key.host}
        validate = valid_name("domain", lambda name: name in taken)
        suggestion = f"{stats.sample.name}-clone" if stats is not None else ""

        def chosen(name: str | None) -> None:
            if name:
                ports = self.app.ports
                self._single(key, "clone", lambda: ports.domains(key.host).clone(key.uuid, name))

        self.app.push_screen(
            PromptScreen(
                f"Clone {self.app.store.label(key)}",
                "Name of the copy (its disks are copied beside the originals):",
                validate,
                suggestion,
            ),
            chosen,
        )

    def _single(self, key: DomainKey, verb: str, call: Callable[[], str]) -> None:
        """Run one backend call on one domain with the usual busy row and report."""
        batch_id = next(self._ids)
        self._batches[batch_id] = Batch(verb, 1)
        self.app.set_busy(key, f"{verb}…")
        self._start(key, verb, batch_id, call)
