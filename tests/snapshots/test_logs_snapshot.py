"""SVG snapshot of the logs screen: every severity's colour, a filter-free timeline."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from textual.pilot import Pilot

from tests.fixtures.nodes import SMALL_FLEET, write_node
from tests.tui.helpers import wait_for
from virtui.config.settings import Settings
from virtui.model import LogEntry, Severity
from virtui.monitor.sessions import open_sessions
from virtui.screens.logs import LogsScreen
from virtui.tui.app import VirtuiApp

# Local times, so the clock column reads the same in every time zone.
START = time.mktime((2026, 11, 22, 14, 3, 7, 0, 0, -1))
LINES = [
    ("h1", "", "connection", "connected", Severity.INFO),
    ("h1", "web01", "started", "booted", Severity.INFO),
    ("h1", "web01", "action", "pause: ok: web01: paused", Severity.INFO),
    (
        "h2",
        "db01",
        "io-error",
        "virtio-disk0: No space left on device, action: pause",
        Severity.ERROR,
    ),
    ("h2", "db01", "suspended", "I/O error", Severity.WARNING),
    ("h2", "", "connection", "lost: keepalive timeout", Severity.ERROR),
    ("", "", "virtui", "timeline file: disk full", Severity.WARNING),
    (
        "h1",
        "build01",
        "crashed",
        "stopped unexpectedly (failed): the QEMU process ended",
        Severity.ERROR,
    ),
    ("h1", "cache01", "agent", "guest agent connected (channel event)", Severity.INFO),
]


def test_logs_screen(snap_compare: Any, tmp_path: Path) -> None:
    uri = f"test://{write_node(tmp_path / 'fleet.xml', SMALL_FLEET)}"
    app = VirtuiApp(Settings(uris=[uri]), sessions=open_sessions([uri]), auto_poll=False)

    async def run_before(pilot: Pilot[Any]) -> None:
        for n, (host, domain, kind, detail, severity) in enumerate(LINES):
            app.record(LogEntry(START + n * 1.25, host, domain, kind, detail, severity))
        await pilot.press("4")
        await wait_for(lambda: isinstance(app.screen, LogsScreen))
        await pilot.press("up", "up")
        await pilot.pause()

    assert snap_compare(app, run_before=run_before, terminal_size=(120, 20))
