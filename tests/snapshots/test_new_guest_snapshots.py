"""The new-guest form at 80x24: its first step, and its cloud-init step with a refusal."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual.pilot import Pilot
from textual.widgets import Input

from tests.fixtures.nodes import AT_REST, STORAGE_POOLS, write_node
from tests.tui.helpers import wait_for
from virtui.config.settings import Settings
from virtui.monitor.sessions import open_sessions
from virtui.screens.form import FormScreen
from virtui.tui.app import VirtuiApp


def _app(tmp_path: Path) -> VirtuiApp:
    # At rest: the domain table shows behind the form, and a running test-driver domain's
    # TIME is the wall clock.
    uri = f"test://{write_node(tmp_path / 'node.xml', AT_REST, pools=STORAGE_POOLS)}"
    return VirtuiApp(Settings(uris=[uri]), sessions=open_sessions([uri]), auto_poll=False)


async def _step(pilot: Pilot[Any], title: str, values: dict[str, str], submit: bool) -> None:
    await wait_for(
        lambda: isinstance(pilot.app.screen, FormScreen) and title in pilot.app.screen._title
    )
    form = pilot.app.screen
    for key, value in values.items():
        form.query_one(f"#{key}", Input).value = value
    if submit:
        form.set_focus(list(form.query(Input))[-1])
        await pilot.press("enter")


def test_new_guest_first_step(snap_compare: Any, tmp_path: Path) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        assert isinstance(pilot.app, VirtuiApp)
        await pilot.app.poll_now()
        await pilot.press("ctrl+n")
        await _step(pilot, "(1/4)", {"name": "web03"}, submit=False)
        await pilot.pause()

    assert snap_compare(_app(tmp_path), run_before=run_before, terminal_size=(80, 24))


def test_new_guest_cloud_init_step_refuses_a_missing_key(snap_compare: Any, tmp_path: Path) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        assert isinstance(pilot.app, VirtuiApp)
        await pilot.app.poll_now()
        await pilot.press("ctrl+n")
        image = "/var/lib/libvirt/images/web01.qcow2"
        await _step(pilot, "(1/4)", {"name": "web03", "image": image}, submit=True)
        await _step(pilot, "(2/4)", {}, submit=True)
        await _step(pilot, "(3/4)", {"pool": "images"}, submit=True)
        await _step(pilot, "(4/4)", {"key": "/nowhere/id_ed25519.pub"}, submit=True)
        form = pilot.app.screen
        await wait_for(lambda: "cannot read" in str(form.query_one("#error").render()))
        await pilot.pause()

    assert snap_compare(_app(tmp_path), run_before=run_before, terminal_size=(80, 24))
