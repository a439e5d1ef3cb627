"""OperationsController: what happens between a key press and a changed domain.

Asks for confirmation before anything destructive (naming domain and host), marks rows
as busy, runs each action in its own thread worker, and reports a result per domain:
one notification for a single domain, a per-domain summary for a bulk action.
"""

from __future__ import annotations

import itertools
import logging
import re
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from virtui.backends.base import Backend, BackendError
from virtui.background import run_detached
from virtui.messages import ActionFinished, DomainCommand
from virtui.model import ActionResult, DomainAction, DomainKey, LogEntry, Severity
from virtui.screens.confirm import Choice, ConfirmScreen
from virtui.screens.prompt import PromptScreen

if TYPE_CHECKING:
    from virtui.app import VirtuiApp

log = logging.getLogger("virtui.operations")

RESULTS_KEPT = 500
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


class OperationsController:
    """Runs domain commands for the app. Used on the UI thread only."""

    def __init__(self, app: VirtuiApp) -> None:
        self.app = app
        self._batches: dict[int, Batch] = {}
        self._ids = itertools.count(1)
        # Every result, newest last: what was done in virtui and how it went.
        self.results: deque[ActionResult] = deque(maxlen=RESULTS_KEPT)
        # Every report shown to the user, (title, text), newest last.
        self.reports: deque[tuple[str, str]] = deque(maxlen=RESULTS_KEPT)

    # -- entry point --------------------------------------------------------------------

    def handle(self, message: DomainCommand) -> None:
        """Dispatch a command from a screen."""
        keys = [key for key in message.keys if self._backend(key) is not None]
        if not keys:
            return
        if message.command == "act" and message.action is not None:
            self.request(keys, message.action)
        elif message.command == "detail":
            self.app.open_detail(keys[0])
        elif message.command == "console":
            if self._can_mutate(keys[0]):
                self.app.open_console(keys[0])
            else:  # typing into a guest is a change like any other
                self._refuse("attach to the console", keys[:1])
        elif message.command == "snapshot":
            self._ask_snapshot_name(keys[0])
        elif message.command == "snapshots":
            self.app.open_snapshots(keys[0])
        elif message.command == "clone":
            self._ask_clone_name(keys[0])
        elif message.command == "qemu_log":
            self.app.open_qemu_log(keys[0])
        elif message.command in ("edit_xml", "set_vcpus", "set_memory", "attach_disk"):
            if self._can_mutate(keys[0]):
                self.app.changes.handle(message.command, keys[0])
            else:  # refused before libvirt says "virDomainGetXMLDesc with secure flag"
                self._refuse("draft a configuration change", keys[:1])

    def _backend(self, key: DomainKey) -> Backend | None:
        return self.app.backend_for(key.host)

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
            warning = (
                "Like pulling the power cord: the guest gets no chance to shut down."
                if action is DomainAction.DESTROY
                else ""
            )

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
        self.reports.append((f"{verb}: refused", text))
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
        backend = self._backend(key)
        return backend is not None and backend.capabilities.mutations

    def run(self, keys: list[DomainKey], action: DomainAction) -> None:
        """Start one worker per domain; results come back as ActionFinished."""
        batch_id = next(self._ids)
        self._batches[batch_id] = Batch(action.verb, len(keys))
        for key in keys:
            self.app.domains.table.set_busy(key, action.progress)
            self._start(key, action.verb, batch_id, self._actor(key, action))

    def _actor(self, key: DomainKey, action: DomainAction) -> Callable[[], str]:
        backend = self._backend(key)
        assert backend is not None
        return lambda: backend.act(key.uuid, action)

    def _start(self, key: DomainKey, verb: str, batch_id: int, call: Callable[[], str]) -> None:
        name = self.app.store.label(key)

        def work() -> None:
            try:
                result = ActionResult(key, name, verb, True, call())
            except BackendError as error:
                result = ActionResult(key, name, verb, False, error.message)
            except Exception as error:  # a bug: still one result per domain, never a hang
                log.exception("%s %s", verb, name)
                result = ActionResult(key, name, verb, False, f"internal error: {error}")
            self.app.post_message(ActionFinished(result, batch_id))

        run_detached(f"action:{verb}:{key}", work)

    def finished(self, message: ActionFinished) -> None:
        """One domain's result is in: clear its row, refresh its host, report when done."""
        result = message.result
        self.app.domains.table.set_busy(result.key, None)
        self.app.poll_host(result.key.host)
        self.results.append(result)
        self.app.record(
            LogEntry.now(
                result.key.host,
                self.app.store.name(result.key),
                "action",
                f"{result.action}: {'ok' if result.ok else 'failed'}: {result.message}",
                Severity.INFO if result.ok else Severity.ERROR,
            )
        )
        batch = self._batches.get(message.batch)
        if batch is None:
            return
        batch.results.append(result)
        if len(batch.results) < batch.expected:
            return
        del self._batches[message.batch]
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
        self.reports.append((title, text))
        self.app.notify(
            text, title=title, severity="error" if failed else "information", timeout=timeout
        )

    # -- named things -------------------------------------------------------------------

    def _ask_snapshot_name(self, key: DomainKey) -> None:
        if not self._can_mutate(key):
            self._refuse("snapshot", [key])
            return
        validate = valid_name("snapshot", lambda _name: False)

        def chosen(name: str | None) -> None:
            if name:
                backend = self._backend(key)
                assert backend is not None
                self._single(key, "snapshot", lambda: backend.create_snapshot(key.uuid, name))

        self.app.push_screen(
            PromptScreen(
                f"New snapshot of {self.app.store.label(key)}", "Snapshot name:", validate
            ),
            chosen,
        )

    def _ask_clone_name(self, key: DomainKey) -> None:
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
                backend = self._backend(key)
                assert backend is not None
                self._single(key, "clone", lambda: backend.clone(key.uuid, name))

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
        self.app.domains.table.set_busy(key, f"{verb}…")
        self._start(key, verb, batch_id, call)
