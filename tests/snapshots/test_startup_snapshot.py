"""SVG snapshot of the progress shown while the demo boots."""

from __future__ import annotations

from typing import Any

from textual.app import App
from textual.pilot import Pilot

from virtui.screens.startup import StartupScreen


class _StartupApp(App[None]):
    def on_mount(self) -> None:
        self.push_screen(StartupScreen(clock=lambda: 100.0))


def test_startup_progress(snap_compare: Any) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        screen = pilot.app.screen
        assert isinstance(screen, StartupScreen)
        screen.advance(
            "Probing QEMU's capabilities (first start only, then cached in ~/.cache)", 2, 6
        )
        await pilot.pause()

    assert snap_compare(_StartupApp(), run_before=run_before, terminal_size=(90, 20))
