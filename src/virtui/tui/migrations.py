"""MigrationsController: `o` on domains and evacuate on a host become migrations, each
checked before anything moves, followed every 0.5 s, cancellable, and reconciled on
both hosts when it ends."""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from textual.screen import Screen

from virtui.background import Cancellable
from virtui.formatting import plural
from virtui.model import DomainKey, DomainState, HostInfo, LogEntry, Severity
from virtui.model.migration import (
    MigrationJob,
    MigrationOptions,
    MigrationOutcome,
    MigrationProgress,
    MigrationRow,
    MigrationSource,
    Precheck,
)
from virtui.monitor.hostports import HostPorts
from virtui.monitor.migration import fit_together, progress, window
from virtui.monitor.store import DomainStore
from virtui.screens.confirm import Choice, ConfirmScreen
from virtui.screens.migrations import busy_text, migration_form, parse_options
from virtui.screens.readonly import refused_read_only
from virtui.ui.broadcast import Broadcasts
from virtui.ui.calls import Calls, hand_to_ui

EVACUATE_AT_ONCE = 2  # migrations of one evacuation in flight together
PANEL_EVERY_S = 0.5  # the panel is refreshed at most this often


class MigrationsApp(Protocol):
    """The little of the app this controller uses."""

    store: DomainStore
    ports: HostPorts
    calls: Calls

    def push_screen(self, screen: Screen[Any], callback: Any = None) -> Any:
        """Show a screen."""

    def notify(self, message: str, *, title: str = "", **kwargs: Any) -> None:
        """Show a notification."""

    def record(self, entry: LogEntry) -> None:
        """Add to the logs timeline."""

    def set_busy(self, key: DomainKey, text: str | None) -> None:
        """Show progress in a domain's row (None: clear it)."""

    def poll_host(self, name: str) -> None:
        """Poll one host now."""

    def call_later(self, callback: Any, *args: Any, **kwargs: Any) -> bool:
        """Run on the UI thread soon (thread-safe)."""

    @property
    def broadcasts(self) -> Broadcasts:
        """What the app announces to the screens."""

    def set_timer(self, delay: float, callback: Any) -> Any:
        """Call back once after ``delay`` seconds."""


@dataclass
class Migration:
    """One migration in flight or finished, as the panel lists it."""

    key: DomainKey
    name: str
    source: str
    target: str
    options: MigrationOptions
    cancel: threading.Event = field(default_factory=threading.Event)
    job: MigrationJob | None = None
    shown: MigrationProgress | None = None
    outcome: MigrationOutcome | None = None
    started: float = field(default_factory=time.monotonic)
    busy: str = ""  # what its row shows now
    most_percent: float | None = None  # the row's figure never goes back
    readings: list[MigrationJob] = field(default_factory=list)  # the rate's window
    postcopy_now: threading.Event = field(default_factory=threading.Event)  # P, asked

    @property
    def state(self) -> str:
        """running, cancelling, moved, cancelled or failed."""
        if self.outcome is not None:
            if self.outcome.ok:
                return "moved"
            return "cancelled" if self.cancel.is_set() else "failed"
        return "cancelling" if self.cancel.is_set() else "running"


class MigrationsController:
    """Every migration of this app, in flight and finished (the panel lists them)."""

    def __init__(self, app: MigrationsApp) -> None:
        self.app = app
        self.migrations: dict[DomainKey, Migration] = {}
        self.done: list[Migration] = []  # finished ones, newest last
        self.peak = 0  # the most migrations in flight at once (an evacuation's limit)
        self._panel_due = False

    # -- asking ---------------------------------------------------------------------------

    def request(
        self,
        keys: list[DomainKey],
        title: str = "",
        go: Callable[[list[DomainKey], str, MigrationOptions], None] | None = None,
    ) -> None:
        """Ask for a target and options, check, confirm, then migrate ``keys`` (or hand
        the ones that passed to ``go``)."""
        keys = [k for k in keys if k not in self.migrations]
        if not keys:
            self.app.notify("already migrating", severity="warning")
            return
        sources = sorted({k.host for k in keys})
        refused = [h for h in sources if self.app.ports.read_only(h)]
        if refused:
            text = refused_read_only(self.app, "migrate", ", ".join(refused))
            self.app.record(LogEntry.now("", "", "migration", text, Severity.WARNING))
            return
        targets, why_not = self._targets(sources)
        if not targets:
            if not why_not and len(sources) == 1:
                text = (
                    f"{sources[0]} is the only host: connect the one to migrate to first "
                    "(:connect URI, or -c URI when starting virtui)"
                )
            elif not why_not:
                text = (
                    f"they are on every host there is ({', '.join(sources)}): migrate one "
                    "host's at a time, or connect another (:connect URI)"
                )
            else:
                reasons = "; ".join(f"{h}: {w}" for h, w in sorted(why_not.items()))
                text = f"no host can take them ({reasons})"
            self.app.notify(text, severity="error", timeout=10)
            return
        active = any(
            (stats := self.app.store.get(k)) is not None and stats.sample.state.is_active
            for k in keys
        )
        others = "; ".join(f"{h} ({w})" for h, w in sorted(why_not.items()))
        names = ", ".join(self.app.store.label(k) for k in keys)

        def check(values: dict[str, str]) -> str:
            if values["target"] not in targets:
                return f"{values['target']!r}: one of {', '.join(targets)}"
            try:
                parse_options(values)
            except ValueError as error:
                return str(error)
            return ""

        def chosen(values: dict[str, str] | None) -> None:
            if values:
                self._check(keys, values["target"], parse_options(values), go or self._start_all)

        hint = (
            f"To one of: {', '.join(targets)}."
            + (f" Cannot take them: {others}." if others else "")
            + " Nothing moves before the checks are shown."
        )
        self.app.push_screen(
            migration_form(title or f"Migrate {names}", hint, targets, active, check), chosen
        )

    def _targets(self, sources: list[str]) -> tuple[list[str], dict[str, str]]:
        """The hosts that can be a target now, and why each other one cannot."""
        ok: list[str] = []
        why_not: dict[str, str] = {}
        source_of = {uuid: s for s in sources if (uuid := self._host_uuid(s))}
        for host in self.app.ports.host_names():
            if host in sources:
                continue
            update = self.app.store.hosts.get(host)
            backend = self.app.ports.backend(host)
            if backend is None or backend.migration_port() is None:
                why_not[host] = "not a libvirt host"
            elif update is None or update.status.value != "connected":
                why_not[host] = update.status.value if update else "connecting"
            elif (same := source_of.get(self._host_uuid(host))) is not None:
                why_not[host] = f"the same host as {same} (one libvirtd under two names)"
            elif self.app.ports.read_only(host):
                why_not[host] = "read-only"
            else:
                ok.append(host)
        return ok, why_not

    def _host_uuid(self, host: str) -> str:
        info = self._info(host)
        return info.host_uuid if info is not None else ""

    def _start_all(self, keys: list[DomainKey], target: str, options: MigrationOptions) -> None:
        for key in keys:
            self.start(key, target, options)

    def _check(
        self,
        keys: list[DomainKey],
        target: str,
        options: MigrationOptions,
        go: Callable[[list[DomainKey], str, MigrationOptions], None],
    ) -> None:
        ports = self.app.ports

        def run() -> list[tuple[DomainKey, MigrationSource, list[Precheck]]]:
            found = []
            destination = ports.migration(target)
            for key in keys:
                source = ports.migration(key.host).migration_source(key.uuid)
                found.append((key, source, destination.migration_checks(source, options)))
            return found

        self.app.calls(
            f"migration-checks:{target}",
            run,
            lambda found: self._confirm(self._planned(found, target, options), target, options, go),
            lambda failure: self.app.notify(
                f"the checks could not run: {failure.message}", severity="error", timeout=10
            ),
        )

    def _planned(
        self,
        found: list[tuple[DomainKey, MigrationSource, list[Precheck]]],
        target: str,
        options: MigrationOptions,
    ) -> list[tuple[DomainKey, list[Precheck]]]:
        """Each guest's checks, and for live moves the batch's memory as a whole: what
        the guests before it and the moves under way to ``target`` take of its free
        memory (as its last poll read it)."""
        update = self.app.store.hosts.get(target)
        free_kib = update.free_memory_kib if update is not None else 0
        needs = [
            (key, source.memory_kib)
            for key, source, checks in found
            if options.live and source.active and all(c.ok for c in checks)
        ]
        under_way = self._under_way(target)
        if not free_kib or len(needs) + len(under_way) < 2:
            return [(key, checks) for key, _source, checks in found]
        reserved = sum(
            stats.sample.mem_kib
            for migration in under_way
            if (stats := self.app.store.get(migration.key)) is not None
        )
        together = fit_together(needs, free_kib, reserved)
        return [
            (key, [*checks, together[key]] if key in together else checks)
            for key, _source, checks in found
        ]

    def _vcpus_after(self, keys: list[DomainKey], target: str) -> str:
        """The target's vCPUs against its CPUs once the running guests among ``keys``
        are there (overcommit is allowed, so it is said, not refused)."""
        info = self._info(target)
        cpus = info.cpus if info is not None else 0
        coming = [s for k in keys if (s := self.app.store.get(k)) and s.sample.state.is_active]
        if not cpus or not coming:
            return ""
        there = sum(
            stats.sample.vcpus
            for stats in self.app.store.all()
            if stats.sample.key.host == target and stats.sample.state.is_active
        )
        after = there + sum(stats.sample.vcpus for stats in coming)
        ratio = f"{after / cpus:.1f}x"
        return f" After the moves: {plural(after, 'vCPU')} on {target}'s {cpus} CPUs ({ratio})."

    def _under_way(self, target: str) -> list[Migration]:
        """The migrations in flight to ``target``."""
        return [m for m in self.migrations.values() if m.target == target and m.outcome is None]

    def _info(self, host: str) -> HostInfo | None:
        """What ``host`` said of itself when it connected (None before)."""
        update = self.app.store.hosts.get(host)
        return update.info if update is not None else None

    def _confirm(
        self,
        found: list[tuple[DomainKey, list[Precheck]]],
        target: str,
        options: MigrationOptions,
        go: Callable[[list[DomainKey], str, MigrationOptions], None],
    ) -> None:
        ready = [key for key, checks in found if all(c.ok for c in checks)]
        lines = []
        for key, checks in found:
            # Every check on one line (✓ or ✗ and its name); a failed one again below,
            # with its reason: a dialog for ten domains stays readable.
            glyphs = " ".join(f"{'✓' if c.ok else '✗'} {c.name}" for c in checks)
            lines.append(f"{self.app.store.label(key)} → {target}: {glyphs}")
            lines += [f"   {check.line}" for check in checks if not check.ok]
        options_text = "Options: " + ", ".join(options.describe()) + "."
        if not ready:
            self.app.push_screen(
                ConfirmScreen(
                    "Nothing can move",
                    lines,
                    "Every domain failed a check (✗). " + options_text,
                    [Choice("close", "Close", "y")],
                )
            )
            return
        skipped = len(found) - len(ready)
        warning = (
            f"Moves {plural(len(ready), 'domain')} from "
            f"{', '.join(sorted({k.host for k in ready}))} to {target}. {options_text}"
            + (
                f" {plural(skipped, 'domain')} failing a check stay where they are."
                if skipped
                else ""
            )
            + self._vcpus_after(ready, target)
        )

        def chosen(result: str | None) -> None:
            if result == "go":
                go(ready, target, options)

        self.app.push_screen(
            ConfirmScreen(
                f"Migrate {plural(len(ready), 'domain')} to {target}?",
                lines,
                warning,
                [Choice("go", f"Migrate {len(ready)}", "y")],
            ),
            chosen,
        )

    # -- moving ---------------------------------------------------------------------------

    def start(
        self,
        key: DomainKey,
        target: str,
        options: MigrationOptions,
        then: Any = None,
    ) -> None:
        """Migrate one domain now (checked and confirmed already)."""
        name = self.app.store.name(key)
        migration = Migration(key, name, key.host, target, options)
        self.migrations[key] = migration
        self.peak = max(self.peak, len(self.migrations))
        self.app.set_busy(key, busy_text(None))
        ports = self.app.ports
        self.app.record(
            LogEntry.now(
                key.host, name, "migration", f"to {target}: {', '.join(options.describe())}"
            )
        )

        def job_read(job: MigrationJob) -> None:  # on the migration's thread
            hand_to_ui(self.app, self._progress, migration, job)

        def run() -> MigrationOutcome:
            with Cancellable(migration.cancel):  # a console that leaves aborts it
                return ports.migration(key.host).migrate(
                    key.uuid,
                    ports.migration(target),
                    options,
                    job_read,
                    migration.cancel,
                    migration.postcopy_now,
                )

        def done(outcome: MigrationOutcome) -> None:
            self._finished(migration, outcome)
            if then is not None:
                then(outcome)

        def failed(failure: Any) -> None:
            outcome = MigrationOutcome(
                name, key.host, target, False, f"{name} did not move: {failure.message}"
            )
            done(outcome)

        self.app.calls(f"migrate:{key}", run, done, failed)

    def _progress(self, migration: Migration, job: MigrationJob) -> None:
        limit = migration.options.bandwidth_mib * (1 << 20)
        stats = self.app.store.get(migration.key)
        memory = stats.sample.mem_kib * 1024 if stats is not None else 0
        shown = progress(
            migration.name,
            migration.source,
            migration.target,
            job,
            migration.readings,
            limit,
            memory,
        )
        migration.job, migration.shown = job, shown
        migration.readings = window(migration.readings, job)
        if shown.percent is not None:
            # libvirt's total grows at the switch from disks to memory, and the share
            # sent drops with it: the row shows the most it has shown, never less.
            migration.most_percent = max(migration.most_percent or 0.0, shown.percent)
        text = busy_text(migration.most_percent)
        if migration.outcome is None and text != migration.busy:
            migration.busy = text  # the row is redrawn only when its text changes
            self.app.set_busy(migration.key, text)
        self._refresh_panel_soon()

    def _refresh_panel_soon(self) -> None:
        """One panel refresh for the readings of every migration that arrive within
        PANEL_EVERY_S (ten migrations read twice a second each: twenty readings)."""
        if not self._panel_due:
            self._panel_due = True
            self.app.set_timer(PANEL_EVERY_S, self._refresh_panel)

    def _finished(self, migration: Migration, outcome: MigrationOutcome) -> None:
        migration.outcome = outcome
        self.migrations.pop(migration.key, None)
        self.done.append(migration)
        self.app.set_busy(migration.key, None)
        severity = Severity.INFO if outcome.ok else Severity.ERROR
        self.app.record(
            LogEntry.now(migration.source, migration.name, "migration", outcome.message, severity)
        )
        self.app.notify(
            outcome.message, severity="information" if outcome.ok else "error", timeout=10
        )
        # No event says the source undefined it: both hosts are read again now.
        self.app.poll_host(migration.source)
        self.app.poll_host(migration.target)
        self._refresh_panel()

    def cancel(self, key: DomainKey) -> bool:
        """Ask a running migration to stop (libvirt aborts the job); False when none."""
        migration = self.migrations.get(key)
        if migration is None:
            return False
        migration.cancel.set()
        self._refresh_panel()
        return True

    def _refresh_panel(self) -> None:
        self._panel_due = False
        self.app.broadcasts.migrations_changed.publish(None)

    # -- the panel ------------------------------------------------------------------------

    def panel_rows(self) -> dict[str, MigrationRow]:
        """Row key -> row: in flight first, then finished, newest first."""
        every = list(self.migrations.values()) + list(reversed(self.done))
        return {
            _row_key(m): MigrationRow(m.name, m.source, m.target, m.state, m.shown, m.outcome)
            for m in every
        }

    def _in_flight(self, row_key: str) -> Migration | None:
        """The migration in flight of a panel row (None: it has ended)."""
        return next((m for m in self.migrations.values() if _row_key(m) == row_key), None)

    def cancel_row(self, row_key: str) -> str:
        """Cancel the migration of a panel row; what to say."""
        migration = self._in_flight(row_key)
        if migration is None:
            return "that migration is not running"
        self.cancel(migration.key)
        return f"cancelling the migration of {migration.name}: libvirt aborts the job"

    def postcopy_row(self, row_key: str) -> str:
        """Switch the migration of a panel row to post-copy now; what to say."""
        migration = self._in_flight(row_key)
        if migration is None:
            return "that migration is not running"
        if not migration.options.postcopy:
            return (
                f"{migration.name}: post-copy needs the post-copy option when the "
                "migration starts (libvirt cannot switch without it)"
            )
        migration.postcopy_now.set()
        return f"switching the migration of {migration.name} to post-copy"

    def outcome_of(self, row_key: str) -> str:
        """What happened to a finished migration of a panel row."""
        for migration in self.done:
            if _row_key(migration) == row_key and migration.outcome is not None:
                return migration.outcome.message
        return ""

    # -- evacuation -----------------------------------------------------------------------

    def evacuate(self, host: str) -> None:
        """Migrate every running guest of ``host``, a few at a time; one report."""
        keys = [
            stats.sample.key
            for stats in self.app.store.all()
            if stats.sample.key.host == host and stats.sample.state is DomainState.RUNNING
        ]
        if not keys:
            self.app.notify(f"{host} has no running domain to move")
            return
        evacuation = _Evacuation(self, host)
        self.request(
            keys,
            title=f"Evacuate {host}: {plural(len(keys), 'running domain')}",
            go=evacuation.begin,
        )

    def report(self, host: str, outcomes: list[MigrationOutcome]) -> None:
        """One line for an evacuation: how many moved, and why the others did not."""
        moved = sum(1 for o in outcomes if o.ok)
        failures = "; ".join(o.message for o in outcomes if not o.ok)
        text = f"evacuate {host}: {moved} moved, {len(outcomes) - moved} failed" + (
            f" ({failures})" if failures else ""
        )
        self.app.record(
            LogEntry.now(
                host, "", "migration", text, Severity.INFO if not failures else Severity.ERROR
            )
        )
        self.app.notify(text, timeout=15, severity="information" if not failures else "error")


class _Evacuation:
    """Keeps EVACUATE_AT_ONCE migrations of one host in flight until all are done."""

    def __init__(self, controller: MigrationsController, host: str) -> None:
        self.controller = controller
        self.host = host
        self.queue: deque[DomainKey] = deque()
        self.outcomes: list[MigrationOutcome] = []
        self.running = 0
        self.target = ""
        self.options = MigrationOptions()

    def begin(self, keys: list[DomainKey], target: str, options: MigrationOptions) -> None:
        self.queue.extend(keys)
        self.target, self.options = target, options
        self._next()

    def _next(self) -> None:
        while self.queue and self.running < EVACUATE_AT_ONCE:
            key = self.queue.popleft()
            self.running += 1
            self.controller.start(key, self.target, self.options, then=self._one_done)
        if not self.queue and not self.running:
            self.controller.report(self.host, self.outcomes)

    def _one_done(self, outcome: MigrationOutcome) -> None:
        self.running -= 1
        self.outcomes.append(outcome)
        self._next()


def _row_key(migration: Migration) -> str:
    return f"{migration.key.host}\t{migration.key.uuid}\t{migration.started}"
