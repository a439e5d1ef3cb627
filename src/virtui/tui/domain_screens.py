"""DomainScreens: what the domain screens ask for, one message per intent, turned into
the detail, snapshots, console and QEMU log screens or handed to the controller that
acts (operations for actions, snapshots and clones; changes for drafts)."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any, Protocol
from urllib.parse import urlsplit

from textual.app import SuspendNotSupported
from textual.screen import Screen

from virtui.config.settings import Settings
from virtui.model import CpuMode, DomainKey
from virtui.monitor.history import HistoryStore
from virtui.monitor.hostports import HostPorts
from virtui.monitor.store import DomainStore
from virtui.ports.domains import ConsoleStream
from virtui.screens.detail import DetailScreen, DetailSource
from virtui.screens.snapshots import SnapshotSource, SnapshotsScreen
from virtui.screens.tail import TailScreen
from virtui.tui.calls import Calls
from virtui.tui.changes import ChangesController
from virtui.tui.console import run_console
from virtui.tui.messages import (
    CloneDomain,
    DomainIntent,
    DraftChange,
    OpenConsole,
    OpenDetail,
    OpenQemuLog,
    OpenSnapshots,
    TakeSnapshot,
)
from virtui.tui.operations import OperationsController, valid_name


class DomainScreensApp(Protocol):
    """The little of the app this controller uses."""

    store: DomainStore
    history: HistoryStore
    ports: HostPorts
    calls: Calls
    settings: Settings
    cpu_mode: CpuMode

    def push_screen(self, screen: Screen[Any], callback: Any = None) -> Any:
        """Show a screen."""

    def notify(self, message: str, *, title: str = "", **kwargs: Any) -> None:
        """Show a notification."""

    def suspend(self) -> AbstractContextManager[None]:
        """Hand the terminal over (to a console) for the duration."""


class DomainScreens:
    """Opens the screens of one domain. UI thread only."""

    def __init__(
        self,
        app: DomainScreensApp,
        operations: OperationsController,
        changes: ChangesController,
    ) -> None:
        self.app = app
        self.operations = operations
        self.changes = changes
        self._handlers: dict[type[DomainIntent], Callable[[Any], None]] = {
            OpenDetail: lambda m: self.open_detail(m.key),
            OpenSnapshots: lambda m: self.open_snapshots(m.key),
            OpenQemuLog: lambda m: self.open_qemu_log(m.key),
            OpenConsole: self._console,
            TakeSnapshot: lambda m: operations.ask_snapshot_name(m.key),
            CloneDomain: lambda m: operations.ask_clone_name(m.key),
            DraftChange: self._draft,
        }

    def handle(self, intent: DomainIntent) -> None:
        """Carry out what a screen asked for one domain (nothing for an unknown host)."""
        if self.operations.known(intent.key):
            self._handlers[type(intent)](intent)

    def _console(self, intent: OpenConsole) -> None:
        # typing into a guest is a change like any other
        if self.operations.may_change(intent.key, "attach to the console"):
            self.open_console(intent.key)

    def _draft(self, intent: DraftChange) -> None:
        # refused before libvirt says "virDomainGetXMLDesc with secure flag"
        if self.operations.may_change(intent.key, "draft a configuration change"):
            self.changes.handle(intent.kind, intent.key)

    def open_detail(self, key: DomainKey) -> None:
        """Push the detail screen of a domain."""
        app = self.app
        backend = app.ports.acting_backend(key.host)
        if backend is None:
            return
        if backend.domain_port() is None:
            app.notify(
                f"{key.host}: the detail view is not possible through this backend",
                severity="error",
                timeout=10,
            )
            return
        port = app.ports.domains
        source = DetailSource(
            detail=lambda: port(key.host).detail(key.uuid),
            xml=lambda secure: port(key.host).xml(key.uuid, secure=secure),
            remote_host=urlsplit(backend.uri).hostname,
        )
        app.push_screen(
            DetailScreen(
                key, source, app.store, app.history, app.cpu_mode, app.settings.delay, app.calls
            )
        )

    def open_snapshots(self, key: DomainKey) -> None:
        """Push the snapshots screen of a domain."""
        port = self.app.ports.domains
        source = SnapshotSource(
            list=lambda: port(key.host).snapshots(key.uuid),
            create=lambda name: port(key.host).create_snapshot(key.uuid, name),
            revert=lambda name: port(key.host).revert_snapshot(key.uuid, name),
            delete=lambda name: port(key.host).delete_snapshot(key.uuid, name),
        )
        validate = valid_name("snapshot", lambda _: False)
        self.app.push_screen(
            SnapshotsScreen(self.app.store.label(key), source, validate, self.app.calls)
        )

    def open_qemu_log(self, key: DomainKey) -> None:
        """Follow a domain's QEMU log (or say where it is when it cannot be read here)."""
        name = self.app.store.name(key)
        location = self.app.ports.logs(key.host).qemu_log(name)
        title = f"QEMU log of {name} on {key.host}"
        self.app.push_screen(TailScreen(title, location, self.app.calls))

    def open_console(self, key: DomainKey) -> None:
        """Suspend the TUI and attach the terminal to the domain's text console."""
        label = self.app.store.label(key)
        port = self.app.ports.domains
        self.app.calls(
            f"console:{key}",
            lambda: port(key.host).open_console(key.uuid),
            lambda stream: self._attach(stream, label),
            lambda failure: self.app.notify(failure.message, severity="error", timeout=10),
        )

    def _attach(self, stream: ConsoleStream, label: str) -> None:
        try:
            with self.app.suspend():
                how = run_console(stream, label)
        except SuspendNotSupported:
            stream.close()
            self.app.notify("this terminal cannot be suspended for a console", severity="error")
            return
        self.app.notify(f"console of {label}: {how}")
