"""DomainIntents: what the domain screens ask for, one message per intent, turned into
the detail, snapshots, console and QEMU log screens or handed to the controller that
acts (operations for actions, snapshots and clones; changes for drafts)."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any, Protocol
from urllib.parse import urlsplit

from textual.app import SuspendNotSupported
from textual.screen import Screen

from virtui.config.settings import Settings, private_dir, state_dir, write_private
from virtui.model import CpuMode, DomainKey
from virtui.model.detail import GraphicsInfo
from virtui.monitor.cpu_history import CpuHistory
from virtui.monitor.handoff import PERSIST_S, handoff
from virtui.monitor.hostports import HostPorts
from virtui.monitor.store import DomainStore
from virtui.ports.domains import ConsoleStream
from virtui.screens.detail import DetailScreen, DetailSource
from virtui.screens.domain_keys import (
    CloneDomain,
    DomainIntent,
    DraftChange,
    OpenConsole,
    OpenDetail,
    OpenGraphics,
    OpenQemuLog,
    OpenSnapshots,
    TakeSnapshot,
)
from virtui.screens.snapshots import SnapshotSource, SnapshotsScreen
from virtui.screens.tail import TailScreen
from virtui.screens.text_view import TextScreen
from virtui.tui.changes import ChangesController
from virtui.tui.console import run_console
from virtui.tui.operations import OperationsController, valid_name
from virtui.ui.calls import Calls


class DomainIntentsApp(Protocol):
    """The little of the app this controller uses."""

    store: DomainStore
    cpu_history: CpuHistory
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


class DomainIntents:
    """Carries out what a screen asks for one domain: its detail, snapshots, console,
    QEMU log and graphics handoff here; actions and drafts go to their controllers.
    UI thread only."""

    def __init__(
        self,
        app: DomainIntentsApp,
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
            OpenGraphics: lambda m: self.open_graphics(m.key),
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
            DetailScreen(key, source, app.store, app.cpu_history, app.cpu_mode, app.calls)
        )

    def open_graphics(self, key: DomainKey) -> None:
        """The graphical console's handoff: read the domain's consoles, then show the
        tunnel command (copied to the clipboard through the terminal, OSC 52), write a
        remote-viewer file, and start remote-viewer when this machine has a display."""
        app = self.app
        backend = app.ports.acting_backend(key.host)
        if backend is None:
            return
        uri = backend.uri
        self.app.calls(
            f"graphics:{key}",
            lambda: app.ports.domains(key.host).detail(key.uuid),
            lambda detail: self._hand_over(key, uri, detail.graphics),
            lambda failure: app.notify(failure.message, severity="error"),
        )

    def _hand_over(self, key: DomainKey, uri: str, graphics: tuple[GraphicsInfo, ...]) -> None:
        app = self.app
        name = app.store.name(key)
        usable = [g for g in graphics if g.port > 0]
        if not usable:
            app.notify(
                f"{name} has no graphical console (or it is not running)", severity="warning"
            )
            return
        found = handoff(uri, usable[0])
        folder = private_dir(state_dir() / "consoles")
        vv = folder / f"{''.join(c if c.isalnum() or c in '-_.' else '_' for c in name)[:60]}.vv"
        vv.unlink(missing_ok=True)  # a new one each time: the port may have changed
        write_private(vv, found.vv)
        lines = [f"{found.kind.upper()} console of {name} on {key.host}"]
        if found.on_workstation:
            lines += [
                "",
                "virtui runs inside SSH: your viewer is on your own machine. There:",
                "",
                "1. Open the tunnel (copied to your clipboard):",
                "",
                f"   {found.tunnel}",
                "",
                f"2. Then: remote-viewer {found.viewer_uri}",
            ]
        elif found.tunnel:
            lines += [
                "",
                "1. Open the tunnel (copied to your clipboard):",
                "",
                f"   {found.tunnel}",
                "",
            ]
            lines += [f"2. Then: remote-viewer {vv}", f"   (or any viewer at {found.viewer_uri})"]
        else:
            lines += ["", f"remote-viewer {vv}", f"(or any viewer at {found.viewer_uri})"]
        if found.tunnel:
            copy = getattr(app, "copy_to_clipboard", None)
            if copy is not None:
                copy(found.tunnel)
            lines += ["", f"The port {found.port} is this console's alone (another host's gets"]
            lines += ["another); if it is taken, ssh says so and stops (ExitOnForwardFailure)."]
        if found.close:
            lines += [
                f"The tunnel stays {PERSIST_S // 60} minutes after its last use; close it now:",
                f"   {found.close}",
            ]
        if not found.tunnel:
            viewer = shutil.which("remote-viewer")
            if viewer and (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
                subprocess.Popen(
                    [viewer, str(vv)],
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                    start_new_session=True,
                )
                lines.append("remote-viewer started.")
        app.push_screen(TextScreen(f"graphical console: {name}", "\n".join(lines)))

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
