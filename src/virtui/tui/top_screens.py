"""What opens each top screen of the registry (``ui.top_screens``), keyed by its name.

A new top screen is its screen module, its entry in ``ui.top_screens`` and its opening
here; the digit keys, the ``:`` command, the palette, help and docs/keymap.md follow.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from textual.screen import Screen

from virtui.config.settings import state_dir
from virtui.model import CpuMode
from virtui.monitor.cpu_history import CpuHistory
from virtui.monitor.hostports import HostPorts
from virtui.monitor.session import HostSession
from virtui.monitor.store import DomainStore
from virtui.monitor.timeline import Timeline
from virtui.screens.backups import BackupsScreen
from virtui.screens.domains import DomainsScreen
from virtui.screens.hosts import HostsScreen
from virtui.screens.logs import LogsScreen
from virtui.screens.networks import NetworksScreen
from virtui.screens.review import ReviewScreen
from virtui.screens.storage import StorageScreen
from virtui.tui.backups import BackupsController
from virtui.tui.desk_watch import UNAVAILABLE, DeskWatch
from virtui.tui.network_changes import NetworkChanges
from virtui.ui.calls import Calls


class OpeningApp(Protocol):
    """What the openings read of the app."""

    domains: DomainsScreen
    store: DomainStore
    cpu_history: CpuHistory
    cpu_mode: CpuMode
    sessions: list[HostSession]
    ports: HostPorts
    calls: Calls
    timeline: Timeline
    desk_watch: DeskWatch
    network_changes: NetworkChanges
    backups: BackupsController

    def notify(self, message: str, *, title: str = "", **kwargs: Any) -> None:
        """Show a notification."""


@dataclass(frozen=True, slots=True)
class Opening:
    """How one top screen is made, and whether the one in front is it already."""

    kind: type[Screen[Any]]
    """Its class: a screen of this kind in front is this top screen (and the class whose
    keys are its section in help and docs/keymap.md)."""
    build: Callable[[OpeningApp, str], Screen[Any] | None]
    """A new one for this ``@host`` scope (most ignore it); None when it cannot open now,
    having said why."""
    same_scope: Callable[[Screen[Any], str], bool] = lambda _screen, _host: True
    """Whether the one in front already shows this ``@host`` scope."""
    scope: Callable[[Any, str, str], None] | None = None
    """What a ``:`` command's ``@host`` and text do to it once shown (a filter)."""


def _hosts(app: OpeningApp, _host: str) -> Screen[Any]:
    tags = {session.name: session.tags for session in app.sessions}
    return HostsScreen(app.store, app.cpu_history, app.cpu_mode, tags)


def _logs(app: OpeningApp, _host: str) -> Screen[Any]:
    return LogsScreen(app.timeline, app.ports, app.calls, state_dir() / "virtui.log")


def _review(app: OpeningApp, _host: str) -> Screen[Any] | None:
    desk = app.desk_watch.desk
    if desk is None:
        app.notify(UNAVAILABLE, severity="error")
        return None
    return ReviewScreen(desk, app.calls)


def _networks(app: OpeningApp, host: str) -> Screen[Any]:
    return NetworksScreen(app.ports, app.calls, app.network_changes, host)


def _filter_logs(screen: LogsScreen, host: str, text: str) -> None:
    words = ([f"host:{host}"] if host else []) + [text]
    screen.set_filter(" ".join(word for word in words if word))


def _networks_of(screen: Screen[Any], host: str) -> bool:
    return isinstance(screen, NetworksScreen) and screen.only_host == host


OPENINGS: dict[str, Opening] = {
    # The domains screen is the app's own, made once: it is shown, never built again.
    "domains": Opening(
        DomainsScreen, lambda app, _host: app.domains, scope=DomainsScreen.show_host
    ),
    "hosts": Opening(HostsScreen, _hosts),
    "storage": Opening(StorageScreen, lambda app, _host: StorageScreen(app.ports, app.calls)),
    "logs": Opening(LogsScreen, _logs, scope=_filter_logs),
    "review": Opening(ReviewScreen, _review),
    "networks": Opening(NetworksScreen, _networks, _networks_of),
    "backups": Opening(BackupsScreen, lambda app, _host: BackupsScreen(app.backups)),
}
