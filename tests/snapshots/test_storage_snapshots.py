"""SVG snapshots of the storage screen and its new-volume form, on a test-driver node."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual.pilot import Pilot
from textual.widgets import Input

from tests.fixtures.nodes import SMALL_FLEET, STORAGE_POOLS, write_node
from tests.tui.helpers import wait_for
from virtui.config.settings import Settings
from virtui.monitor.sessions import open_sessions
from virtui.screens.form import FormScreen
from virtui.screens.storage import StorageScreen
from virtui.tui.app import VirtuiApp


def _app(tmp_path: Path) -> VirtuiApp:
    uri = f"test://{write_node(tmp_path / 'storage.xml', SMALL_FLEET, pools=STORAGE_POOLS)}"
    return VirtuiApp(Settings(uris=[uri]), sessions=open_sessions([uri]), auto_poll=False)


async def _open_images_pool(pilot: Pilot[Any]) -> StorageScreen:
    app = pilot.app
    assert isinstance(app, VirtuiApp)
    await app.poll_now()
    await pilot.press("3")
    await wait_for(lambda: isinstance(app.screen, StorageScreen))
    screen = app.screen
    assert isinstance(screen, StorageScreen)
    await wait_for(lambda: len(screen.pools) == 2)
    await pilot.press("down")
    await wait_for(lambda: len(screen.volumes) == 2)
    await pilot.pause()
    return screen


def test_storage_screen(snap_compare: Any, tmp_path: Path) -> None:
    assert snap_compare(_app(tmp_path), run_before=_open_images_pool, terminal_size=(120, 24))


def test_new_volume_form_with_a_refused_size(snap_compare: Any, tmp_path: Path) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        await _open_images_pool(pilot)
        await pilot.press("tab", "n")
        await wait_for(lambda: isinstance(pilot.app.screen, FormScreen))
        form = pilot.app.screen
        form.query_one("#name", Input).value = "data.qcow2"
        form.query_one("#size", Input).value = "12 parsecs"
        form.query_one("#format", Input).focus()
        await pilot.press("enter")
        await pilot.pause()

    assert snap_compare(_app(tmp_path), run_before=run_before, terminal_size=(120, 30))
