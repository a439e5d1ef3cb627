"""SVG snapshots of the review desk: the list with the diff and a comment thread, and the
merge confirmation. Changes are drafted on the test driver through the desk itself."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual.pilot import Pilot

from tests.fixtures.nodes import SMALL_FLEET, write_node
from tests.tui.helpers import wait_for
from virtui import background
from virtui.config.settings import Settings
from virtui.monitor.hostports import HostPorts
from virtui.monitor.sessions import open_sessions
from virtui.review.desk import ReviewDesk, ReviewRules
from virtui.review.ops import AttachDevice, SetMemory, SetVcpus
from virtui.review.store import ReviewStore
from virtui.screens.confirm import ConfirmScreen
from virtui.screens.review import ReviewScreen
from virtui.tui.app import VirtuiApp

WEB01 = "00000000-0000-4000-8000-000000000001"
DB01 = "00000000-0000-4000-8000-000000000003"
BUILD01 = "00000000-0000-4000-8000-000000000005"


def _app(tmp_path: Path) -> VirtuiApp:
    uri = f"test://{write_node(tmp_path / 'fleet.xml', SMALL_FLEET)}"
    return VirtuiApp(
        Settings(uris=[uri], required_approvals=1), sessions=open_sessions([uri]), auto_poll=False
    )


async def _desk_with_changes(pilot: Pilot[Any], tmp_path: Path) -> ReviewScreen:
    app = pilot.app
    assert isinstance(app, VirtuiApp)
    await app.poll_now()
    port = HostPorts(lambda: app.sessions, app.store)
    store = ReviewStore(tmp_path / "reviews.db")
    alice = ReviewDesk(store, port, ReviewRules(1), user="alice@h1")
    bob = ReviewDesk(store, port, ReviewRules(1), user="bob@h2")
    app.desk_watch.desk = alice
    merged = alice.draft(
        "test",
        BUILD01,
        "build01: add scratch disk",
        [
            AttachDevice(
                "<disk type='file' device='disk'><source file='/srv/scratch.img'/>"
                "<target dev='vdb' bus='virtio'/></disk>"
            )
        ],
    )
    alice.publish(merged.id)
    bob.approve(merged.id)
    # The disk is outside the host's pools: merged as one who read the flag and took it.
    alice.merge(merged.id, accepted=alice.warnings(store.get(merged.id) or merged))
    # The merge's DEFINED event makes the app poll and re-check drift: let that settle
    # before the screen is drawn, so the picture never depends on when it lands.
    await wait_for(lambda: any(e.kind == "defined" for e in app.timeline.entries), 10)
    await wait_for(lambda: not background.in_flight("drift:") and not background.in_flight("poll:"))
    await pilot.pause()
    alice.draft("test", DB01, "db01: memory 8GiB→12GiB", [SetMemory(12 * 1024**2, 16 * 1024**2)])
    change = alice.draft("test", WEB01, "web01: vcpu 2→4", [SetVcpus(4, 8)], "Peak traffic.")
    alice.publish(change.id)
    bob.comment(change.id, 5, '-  <vcpu placement="static">2</vcpu>', "why not 6?")
    alice.comment(change.id, 5, '-  <vcpu placement="static">2</vcpu>', "4 measured enough")
    await pilot.press("5")
    await wait_for(lambda: isinstance(app.screen, ReviewScreen) and len(app.screen.changes) == 3)
    screen = app.screen
    assert isinstance(screen, ReviewScreen)
    await wait_for(lambda: screen.live_matches.get(3) is True)
    await pilot.pause()
    return screen


def test_review_list_diff_and_thread(snap_compare: Any, tmp_path: Path) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        await _desk_with_changes(pilot, tmp_path)

    assert snap_compare(_app(tmp_path), run_before=run_before, terminal_size=(150, 34))


def test_merge_confirmation(snap_compare: Any, tmp_path: Path) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        await _desk_with_changes(pilot, tmp_path)
        desk = pilot.app.desk_watch.desk  # type: ignore[attr-defined]
        ReviewDesk(desk.store, desk.hosts, desk.rules, user="bob@h2").approve(3)
        screen = pilot.app.screen
        assert isinstance(screen, ReviewScreen)
        screen.reload()
        await wait_for(lambda: len(screen.changes[3].valid_approvals) == 1)
        await pilot.press("m")
        await wait_for(lambda: isinstance(pilot.app.screen, ConfirmScreen))
        await pilot.pause()

    assert snap_compare(_app(tmp_path), run_before=run_before, terminal_size=(150, 34))
