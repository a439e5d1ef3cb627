"""SVG snapshots of a network's detail and of the new-network form with refused input."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual.pilot import Pilot
from textual.widgets import Input

from tests.fixtures.nodes import NETWORKS, SMALL_FLEET, write_node
from tests.tui.helpers import wait_for
from virtui.config.settings import Settings
from virtui.monitor.sessions import open_sessions
from virtui.screens.form import FormScreen
from virtui.screens.networks import NetworksScreen
from virtui.screens.networks.detail import NetworkDetailScreen
from virtui.tui.app import VirtuiApp


def _app(tmp_path: Path) -> VirtuiApp:
    node = write_node(tmp_path / "networks.xml", SMALL_FLEET, networks=NETWORKS)
    uri = f"test://{node}"
    return VirtuiApp(Settings(uris=[uri]), sessions=open_sessions([uri]), auto_poll=False)


async def _open_default(pilot: Pilot[Any]) -> NetworksScreen:
    app = pilot.app
    assert isinstance(app, VirtuiApp)
    await app.poll_now()
    await pilot.press("6")
    await wait_for(lambda: isinstance(app.screen, NetworksScreen))
    screen = app.screen
    assert isinstance(screen, NetworksScreen)
    await wait_for(lambda: len(screen.networks) == 2)
    await pilot.press("down")
    return screen


def test_network_detail(snap_compare: Any, tmp_path: Path) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        await _open_default(pilot)
        await pilot.press("enter")
        await wait_for(lambda: isinstance(pilot.app.screen, NetworkDetailScreen))
        detail = pilot.app.screen
        assert isinstance(detail, NetworkDetailScreen)
        await wait_for(lambda: detail.detail is not None)
        await pilot.pause()

    assert snap_compare(_app(tmp_path), run_before=run_before, terminal_size=(100, 30))


def test_new_network_form_refuses_an_overlapping_subnet(snap_compare: Any, tmp_path: Path) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        await _open_default(pilot)
        await pilot.press("n")
        await wait_for(lambda: isinstance(pilot.app.screen, FormScreen))
        form = pilot.app.screen
        form.query_one("#name", Input).value = "lab"
        form.query_one("#subnet", Input).value = "192.168.122.0/25"
        form.query_one("#domain", Input).value = "lab.example"
        form.query_one("#domain", Input).focus()
        await pilot.press("enter")
        await wait_for(lambda: "overlaps" in str(form.query_one("#error").render()))
        await pilot.pause()

    assert snap_compare(_app(tmp_path), run_before=run_before, terminal_size=(100, 44))
