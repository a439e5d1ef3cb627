"""BackupsController: K on the domains screen backs the selected (or marked) domains up
to the configured place, one after another, with progress in each row and the outcome
said and put on the timeline; the backups screen (7) lists them and verifies one."""

from __future__ import annotations

import logging
import threading
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from textual.screen import Screen

from virtui.backends.backups import (
    backup_rows,
    find_by_key,
    last_backups,
    record_verified,
    verify,
)
from virtui.backends.naming import is_local
from virtui.config.settings import Settings
from virtui.formatting import format_kib, plural
from virtui.model import DomainKey, LogEntry, Severity
from virtui.model.backup import BackupManifest, BackupRow
from virtui.monitor.hostports import HostPorts
from virtui.monitor.session import HostSession
from virtui.monitor.store import DomainStore
from virtui.screens.confirm import Choice, ConfirmScreen
from virtui.screens.domains import DomainsScreen
from virtui.screens.migrations import busy_text
from virtui.tui.operations import OperationsController
from virtui.ui.broadcast import Broadcasts
from virtui.ui.calls import Calls, Failure, hand_to_ui

log = logging.getLogger("virtui.tui.backups")
RESCAN_S = 60.0  # the BACKUP column's ages are read again this often (and after a backup)


class BackupsApp(Protocol):
    """The little of the app this controller uses."""

    settings: Settings
    store: DomainStore
    ports: HostPorts
    calls: Calls
    sessions: list[HostSession]
    operations: OperationsController
    domains: DomainsScreen

    @property
    def broadcasts(self) -> Broadcasts:
        """What the app announces."""

    def push_screen(self, screen: Screen[Any], callback: Any = None) -> Any:
        """Show a screen."""

    def notify(self, message: str, *, title: str = "", **kwargs: Any) -> None:
        """Show a notification."""

    def record(self, entry: LogEntry) -> None:
        """Add to the logs timeline."""

    def set_busy(self, key: DomainKey, text: str | None) -> None:
        """Show progress in a domain's row (None: clear it)."""

    def call_later(self, callback: Any, *args: Any, **kwargs: Any) -> bool:
        """Run on the UI thread soon (thread-safe)."""

    def set_interval(self, interval: float, callback: Any) -> Any:
        """Call back every ``interval`` seconds."""


class BackupsController:
    """The console's backups. UI thread only (each backup runs off the loop)."""

    def __init__(self, app: BackupsApp) -> None:
        self.app = app
        self.cancels: dict[DomainKey, threading.Event] = {}  # backups under way
        self.rows: list[BackupRow] | None = None  # the backups screen's, once read
        self.checking: set[str] = set()  # backups being verified
        self.progress: dict[DomainKey, float | None] = {}  # backups under way: percent
        # Where backups go: [backup] dir, or the folder of [backup] pool once a local
        # host has named it (and why it has not, meanwhile).
        self.root = app.settings.backup_dir
        self.root_problem = "its folder is not known yet: the host has not answered"

    # -- the backups screen -----------------------------------------------------------------

    @property
    def place(self) -> str:
        """Where backups go ("" when nowhere is set, or the [backup] table is unreadable)."""
        return "" if self.app.settings.backup_problem else self.root

    def backup_rows(self) -> list[BackupRow]:
        """Every backup as last read (by domain, newest first)."""
        return self.rows or []

    def backups_read(self) -> bool:
        """Whether the backups were read at least once."""
        return self.rows is not None

    def verifying(self) -> set[str]:
        """The backups being verified now."""
        return self.checking

    def running_rows(self) -> dict[str, tuple[str, float | None, bool]]:
        """Row key -> (domain, percent done, cancelling) of each backup under way."""
        return {
            f"run:{key}": (self.app.store.name(key), percent, self.cancels[key].is_set())
            for key, percent in self.progress.items()
            if key in self.cancels
        }

    def cancel_backup(self, row_key: str) -> str:
        """Cancel the backup under way of that row; what to tell the user."""
        for key, cancel in self.cancels.items():
            if f"run:{key}" == row_key:
                cancel.set()
                self.app.set_busy(key, "cancelling")
                self._changed()
                return f"{self.app.store.name(key)}: cancelling the backup"
        return "no backup under way there"

    def _changed(self) -> None:
        self.app.broadcasts.backups_changed.publish(None)

    def reload_backups(self) -> None:
        """Read every backup's manifest (and last verify) again, off the loop."""
        if not self.place:
            self._find_pool()
            return
        root = Path(self.place)

        def read(rows: list[BackupRow]) -> None:
            self.rows = rows
            self._changed()

        def failed(failure: Failure) -> None:
            self.app.notify(f"reading {root}: {failure.message}", severity="error")

        self.app.calls("backups:rows", lambda: backup_rows(root), read, failed)

    def verify_backup(self, key: str) -> str:
        """Verify one backup off the loop (its hashes, qemu-img check, its chain); what to
        say now. The outcome is said, kept beside the backup and shown in its row."""
        if not self.place:
            return "backups are off: no [backup] dir"
        if key in self.checking:
            return "being verified already"
        root = Path(self.place)
        self.checking.add(key)

        def run() -> list[str]:
            backup = find_by_key(root, key)
            problems = verify(backup)
            record_verified(backup, problems)
            return problems

        def done(problems: list[str]) -> None:
            self.checking.discard(key)
            if problems:
                self.app.notify(f"{key}: BAD: {'; '.join(problems)}", severity="error")
            else:
                self.app.notify(f"{key}: ok")
            self.reload_backups()

        def failed(failure: Failure) -> None:
            self.checking.discard(key)
            self.app.notify(f"{key}: verify failed: {failure.message}", severity="error")
            self.reload_backups()

        self.app.calls(f"backups:verify:{key}", run, done, failed)
        return f"verifying {key}…"

    # -- the BACKUP column ----------------------------------------------------------------

    def start(self) -> None:
        """Read the backups' ages now and every RESCAN_S (with [backup] dir or pool)."""
        settings = self.app.settings
        if (settings.backup_dir or settings.backup_pool) and not settings.backup_problem:
            self.rescan()
            self.app.set_interval(RESCAN_S, self.rescan)

    def _find_pool(self) -> None:
        """Ask the first local host for the folder of [backup] pool (off the loop); the
        backups' ages and rows are read once it answers."""
        pool = self.app.settings.backup_pool
        hosts = [s.name for s in self.app.sessions if is_local(s.backend.uri)]
        if not pool or self.root or self.app.settings.backup_problem:
            return
        if not hosts:
            self.root_problem = "no host of this machine is open"
            return

        def found(folder: Path) -> None:
            self.root, self.root_problem = str(folder), ""
            self.rescan()
            self.reload_backups()

        def failed(failure: Failure) -> None:
            self.root_problem = failure.message

        self.app.calls(
            "backups:pool",
            lambda: self.app.ports.backups(hosts[0]).pool_folder(pool),
            found,
            failed,
        )

    def rescan(self) -> None:
        """Read when each domain was last backed up, off the loop."""
        if not self.root:
            self._find_pool()
            return
        root = Path(self.root)

        def failed(failure: Failure) -> None:
            log.warning("reading the backups in %s: %s", root, failure.message)

        self.app.calls("backups:scan", lambda: last_backups(root), self._scanned, failed)

    def _scanned(self, last: dict[str, datetime]) -> None:
        self.app.domains.table.set_backups(
            {uuid: when.timestamp() for uuid, when in last.items()},
            self.app.settings.backup_too_old_hours,
        )

    def request(self, keys: list[DomainKey]) -> None:
        """Ask, then back ``keys`` up (what cannot be backed up is said, not asked)."""
        app = self.app
        settings = app.settings
        if settings.backup_problem:
            app.notify(f"backups are off: {settings.backup_problem}", severity="error")
            return
        if not self.root and settings.backup_pool:
            app.notify(f"backups are off: pool {settings.backup_pool}: {self.root_problem}")
            self._find_pool()
            return
        if not self.root:
            app.notify(
                "say where backups go: [backup] dir in config.toml (see docs/backup.md)",
                severity="error",
                timeout=10,
            )
            return
        keys = [k for k in keys if app.operations.may_change(k, "back a domain up")]
        under_way = [k for k in keys if k in self.cancels]
        if under_way:  # K again on a domain being backed up: cancel it
            self._ask_to_cancel(under_way)
            return
        if not keys:
            return

        def chosen(answer: str | None) -> None:
            if answer in ("go", "full"):
                self._next(list(keys), incremental=answer == "go")

        app.push_screen(
            ConfirmScreen(
                f"Back up {plural(len(keys), 'domain')} to {self.root}?",
                [app.store.label(key) for key in keys],
                "Running guests: through libvirt's backup API, incremental when the last "
                "backup's checkpoint is there (else full), frozen when the guest agent "
                "answers. Shut-off guests: their disks copied.",
                [
                    Choice("go", "Back up", "y", destructive=False),
                    Choice("full", "Full backup", "f", destructive=False),
                ],
            ),
            chosen,
        )

    def _ask_to_cancel(self, keys: list[DomainKey]) -> None:
        def chosen(answer: str | None) -> None:
            if answer == "cancel":
                for key in keys:
                    if key in self.cancels:
                        self.cancels[key].set()
                        self.app.set_busy(key, "cancelling")

        self.app.push_screen(
            ConfirmScreen(
                f"Cancel the backup of {plural(len(keys), 'domain')}?",
                [self.app.store.label(key) for key in keys],
                "The backup job is aborted; what it wrote and its checkpoint are removed.",
                [Choice("cancel", "Cancel the backup", "y")],
            ),
            chosen,
        )

    def _next(self, keys: list[DomainKey], *, incremental: bool) -> None:
        """Back the first of ``keys`` up, then the others, one at a time."""
        if not keys:
            return
        key, rest = keys[0], keys[1:]
        app = self.app
        cancel = self.cancels[key] = threading.Event()
        name = app.store.name(key)
        app.set_busy(key, "backup")
        self.progress[key] = None
        self._changed()
        root = Path(self.root)

        def progress(done: int, total: int) -> None:  # on the backup's thread
            hand_to_ui(app, self._progress, key, done, total)

        def run() -> BackupManifest:
            return app.ports.backups(key.host).back_up(
                key.uuid, root, incremental, progress, cancel
            )

        def finished(line: str, severity: Severity) -> None:
            self.cancels.pop(key, None)
            self.progress.pop(key, None)
            self._changed()
            self.rescan()  # its BACKUP cell
            if self.rows is not None:
                self.reload_backups()  # the backups screen's rows
            app.set_busy(key, None)
            app.notify(line, severity="error" if severity is Severity.ERROR else "information")
            app.record(LogEntry.now(key.host, name, "backup", line, severity))
            self._next(rest, incremental=incremental)

        def done(made: BackupManifest) -> None:
            size = sum(disk.size for disk in made.disks)
            note = f" ({made.note})" if made.note else ""
            finished(
                f"{name}: backed up, {made.kind}, {made.consistency}, "
                f"{format_kib(size // 1024)}{note}",
                Severity.INFO,
            )

        def failed(failure: Failure) -> None:
            finished(f"{name}: backup failed: {failure.message}", Severity.ERROR)

        app.calls(f"backup:{key}", run, done, failed)

    def _progress(self, key: DomainKey, done: int, total: int) -> None:
        if key in self.cancels and total and not self.cancels[key].is_set():
            self.app.set_busy(key, busy_text(100.0 * done / total, "bak"))
            self.progress[key] = 100.0 * done / total
            self._changed()
