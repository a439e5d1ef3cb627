"""SVG snapshots of the confirmation dialog and the detail screen."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual.app import App
from textual.pilot import Pilot

from tests.fixtures.nodes import SMALL_FLEET, write_node
from tests.tui.helpers import wait_for
from virtui.config.settings import Settings
from virtui.monitor.sessions import open_sessions
from virtui.screens.confirm import Choice, ConfirmScreen
from virtui.screens.detail import DetailScreen
from virtui.tui.app import VirtuiApp


class _ConfirmApp(App[None]):
    def on_mount(self) -> None:
        self.push_screen(
            ConfirmScreen(
                "Undefine 2 domain(s)?",
                ["web01 on h1", "db01 on h2"],
                "The definition goes (a running domain keeps running until it stops). "
                "Deleting storage removes its disk images for good.",
                [
                    Choice("keep", "Keep storage", "k"),
                    Choice("delete", "DELETE storage", "d"),
                ],
            )
        )


def test_undefine_confirmation(snap_compare: Any) -> None:
    assert snap_compare(_ConfirmApp(), terminal_size=(90, 20))


def test_detail_screen(snap_compare: Any, tmp_path: Path) -> None:
    uri = f"test://{write_node(tmp_path / 'fleet.xml', SMALL_FLEET)}"
    app = VirtuiApp(Settings(uris=[uri]), sessions=open_sessions([uri]), auto_poll=False)

    async def run_before(pilot: Pilot[Any]) -> None:
        await app.poll_now()
        await pilot.press("slash", *"web01", "enter", "enter")
        await wait_for(
            lambda: isinstance(app.screen, DetailScreen) and app.screen.detail is not None
        )
        await pilot.pause()

    assert snap_compare(app, run_before=run_before, terminal_size=(110, 40))
