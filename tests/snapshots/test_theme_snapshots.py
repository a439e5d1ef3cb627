"""Every screen in every shipped theme, at 80x24 and at 250x70.

Test-driver hosts with pools and networks, logs with fixed lines, and review changes drafted on a
fresh store, so each run draws the same screens.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot

from tests.fixtures.nodes import NETWORKS, SMALL_FLEET, STORAGE_POOLS, write_node
from tests.snapshots.conftest import fixed_folder
from tests.snapshots.test_domains_snapshots import POLLS, make_app
from tests.tui.helpers import wait_for
from virtui import background
from virtui.config.settings import Settings
from virtui.model import LogEntry, Severity
from virtui.monitor.hostports import HostPorts
from virtui.monitor.sessions import open_sessions
from virtui.review.desk import ReviewDesk, ReviewRules
from virtui.review.ops import SetVcpus
from virtui.review.store import ReviewStore
from virtui.screens.hosts import HostsScreen
from virtui.screens.logs import LogsScreen
from virtui.screens.networks import NetworksScreen
from virtui.screens.review import ReviewScreen
from virtui.screens.storage import StorageScreen
from virtui.tui.app import VirtuiApp

THEMES = ("virtui-dark", "virtui-light", "virtui-console")
SIZES = {"small": (80, 24), "large": (250, 70)}
START = time.mktime((2026, 11, 22, 14, 3, 7, 0, 0, -1))
WEB01 = "00000000-0000-4000-8000-000000000001"


def _app(tmp_path: Path, theme: str) -> VirtuiApp:
    # A fixed path: the hosts screen shows the URI.
    folder = fixed_folder(Path("/tmp/virtui-theme-snapshots"))
    node = write_node(folder / "fleet.xml", SMALL_FLEET, pools=STORAGE_POOLS, networks=NETWORKS)
    uri = f"test://{node}"
    return VirtuiApp(
        Settings(uris=[uri], theme=theme), sessions=open_sessions([uri]), auto_poll=False
    )


def _replay_app(theme: str) -> VirtuiApp:
    """The domains screen from recorded real polls (live CPU times would differ)."""
    app = make_app()
    app.settings.theme = theme
    return app


async def _domains(pilot: Pilot[Any], tmp_path: Path) -> None:
    app = pilot.app
    assert isinstance(app, VirtuiApp)
    for _ in range(POLLS):
        await app.poll_now()
    app.domains.set_delay(app.settings.delay)
    await pilot.pause()


async def _connected(pilot: Pilot[Any]) -> None:
    app = pilot.app
    assert isinstance(app, VirtuiApp)
    await app.poll_now()


async def _hosts(pilot: Pilot[Any], tmp_path: Path) -> None:
    await _connected(pilot)
    await pilot.press("2")
    await wait_for(lambda: isinstance(pilot.app.screen, HostsScreen))
    await pilot.pause()


async def _storage(pilot: Pilot[Any], tmp_path: Path) -> None:
    await _connected(pilot)
    await pilot.press("3")
    await wait_for(lambda: isinstance(pilot.app.screen, StorageScreen))
    screen = pilot.app.screen
    assert isinstance(screen, StorageScreen)
    await wait_for(lambda: len(screen.pools) == 2)
    await pilot.press("down")
    await wait_for(lambda: len(screen.volumes) == 2)
    await pilot.pause()


async def _networks(pilot: Pilot[Any], tmp_path: Path) -> None:
    await _connected(pilot)
    await pilot.press("6")
    await wait_for(lambda: isinstance(pilot.app.screen, NetworksScreen))
    screen = pilot.app.screen
    assert isinstance(screen, NetworksScreen)
    await wait_for(lambda: len(screen.networks) == 2)
    await pilot.press("down")  # default: web01's NAT network
    await pilot.pause()


async def _logs(pilot: Pilot[Any], tmp_path: Path) -> None:
    app = pilot.app
    assert isinstance(app, VirtuiApp)
    lines = [
        ("test", "web01", "started", "booted", Severity.INFO),
        ("test", "db01", "io-error", "vda: No space left on device", Severity.ERROR),
        ("test", "db01", "suspended", "I/O error", Severity.WARNING),
        ("", "", "virtui", "timeline file: disk full", Severity.WARNING),
        ("test", "web02", "action", "reboot: ok: web02: asked to reboot", Severity.INFO),
    ]
    for n, (host, domain, kind, detail, severity) in enumerate(lines):
        app.record(LogEntry(START + n, host, domain, kind, detail, severity))
    await pilot.press("4")
    await wait_for(lambda: isinstance(app.screen, LogsScreen))
    await pilot.pause()


async def _review(pilot: Pilot[Any], tmp_path: Path) -> None:
    app = pilot.app
    assert isinstance(app, VirtuiApp)
    await app.poll_now()
    store = ReviewStore(tmp_path / "reviews.db")
    port = HostPorts(lambda: app.sessions, app.store)
    app.desk_watch.desk = ReviewDesk(store, port, ReviewRules(), user="alice@h1")
    change = app.desk_watch.desk.draft("test", WEB01, "web01: vcpu 2→1", [SetVcpus(1)])
    app.desk_watch.desk.comment(change.id, 5, '-  <vcpu placement="static">2</vcpu>', "enough?")
    await pilot.press("5")
    await wait_for(lambda: isinstance(app.screen, ReviewScreen) and bool(app.screen.changes))
    screen = app.screen
    assert isinstance(screen, ReviewScreen)
    await wait_for(lambda: screen.live_matches.get(1) is True)
    await wait_for(lambda: background.idle("review:", timeout=0))  # every read answered
    await pilot.pause()


SCREENS = {
    "domains": _domains,
    "hosts": _hosts,
    "storage": _storage,
    "logs": _logs,
    "review": _review,
    "networks": _networks,
}


@pytest.mark.parametrize("size", list(SIZES))
@pytest.mark.parametrize("screen", list(SCREENS))
@pytest.mark.parametrize("theme", THEMES)
def test_screen_in_theme(
    snap_compare: Any, tmp_path: Path, theme: str, screen: str, size: str
) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        await SCREENS[screen](pilot, tmp_path)

    app = _replay_app(theme) if screen == "domains" else _app(tmp_path, theme)
    assert snap_compare(app, run_before=run_before, terminal_size=SIZES[size])
