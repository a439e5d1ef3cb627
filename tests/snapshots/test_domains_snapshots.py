"""SVG snapshots of the domains and help screens, from recorded real polls.

The recordings (tests/snapshots/recordings, made by scripts/record_snapshot_fixtures.py
from the embedded QEMU demo and a test-driver fleet) are replayed with polling driven by
the test, so every run draws the same screen.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual.pilot import Pilot

from tests.fixtures.files import write_atomically
from tests.snapshots.conftest import fixed_folder
from virtui.config.settings import Settings
from virtui.model import CpuMode
from virtui.monitor.sessions import open_sessions
from virtui.tui.app import VirtuiApp

# Replayed from a fixed place: the hosts screen shows URIs, and a snapshot must not
# depend on where the repository happens to be checked out.
RECORDINGS = Path("/tmp/virtui-recordings")
SOURCE = Path(__file__).parent / "recordings"
POLLS = 5  # every recorded poll: four points of history per domain


def make_app(mode: CpuMode = CpuMode.IRIX) -> VirtuiApp:
    fixed_folder(RECORDINGS)
    for recording in SOURCE.glob("*.json"):
        write_atomically(RECORDINGS / recording.name, recording.read_bytes())
    uris = [f"replay://{RECORDINGS / 'embed.json'}", f"replay://{RECORDINGS / 'fleet.json'}"]
    return VirtuiApp(
        Settings(uris=uris, delay=2.0, cpu_mode=mode),
        sessions=open_sessions(uris),
        auto_poll=False,
    )


async def _poll_recordings(pilot: Pilot[Any]) -> None:
    app = pilot.app
    assert isinstance(app, VirtuiApp)
    app.domains.set_delay(app.settings.delay)
    for _ in range(POLLS):
        await app.poll_now()
    await pilot.pause()


def test_domains_irix(snap_compare: Any) -> None:
    assert snap_compare(make_app(), run_before=_poll_recordings, terminal_size=(110, 30))


def test_domains_solaris(snap_compare: Any) -> None:
    assert snap_compare(
        make_app(CpuMode.SOLARIS), run_before=_poll_recordings, terminal_size=(110, 30)
    )


def test_domains_small_terminal(snap_compare: Any) -> None:
    assert snap_compare(make_app(), run_before=_poll_recordings, terminal_size=(80, 24))


def test_domains_filtered_and_sorted_by_memory(snap_compare: Any) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        await _poll_recordings(pilot)
        await pilot.press("M", "slash", "w", "e", "b", "enter")

    assert snap_compare(make_app(), run_before=run_before, terminal_size=(110, 30))


def test_help_screen(snap_compare: Any) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        await _poll_recordings(pilot)
        await pilot.press("question_mark")

    assert snap_compare(make_app(), run_before=run_before, terminal_size=(110, 40))


def test_hosts_screen(snap_compare: Any) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        await _poll_recordings(pilot)
        await pilot.press("2")

    assert snap_compare(make_app(), run_before=run_before, terminal_size=(150, 24))
