"""Snapshots screen and clone prompt through the keys, on libvirt's test driver."""

from __future__ import annotations

from textual.widgets import DataTable, Static

from tests.tui.helpers import RecordingApp, action_log, app_on, column, showing, wait_for
from virtui import background
from virtui.config.settings import Settings
from virtui.monitor.sessions import open_sessions
from virtui.screens.confirm import ConfirmScreen
from virtui.screens.prompt import PromptScreen
from virtui.screens.snapshots import SnapshotsScreen
from virtui.tui.app import VirtuiApp


def _snapshot_names(app: VirtuiApp) -> list[str]:
    table = app.screen.query_one(DataTable)
    return [str(table.get_row(row.key)[1]) for row in table.ordered_rows]


async def test_take_revert_and_delete_a_snapshot(fleet_uri: str) -> None:
    app = app_on(fleet_uri)
    async with app.run_test(size=(120, 30)) as pilot:
        await app.poll_now()
        await pilot.press("slash", *"web01", "enter", "z")
        await wait_for(lambda: isinstance(app.screen, SnapshotsScreen))
        snapshots = app.screen
        await pilot.press("n")
        await wait_for(lambda: isinstance(app.screen, PromptScreen))
        await pilot.press(*"bad name", "enter")
        error = str(app.screen.query_one("#error", Static).render())
        assert "not a valid snapshot name" in error  # refused before libvirt sees it
        await pilot.press(*["backspace"] * 8, *"before-upgrade", "enter")
        await wait_for(
            lambda: app.screen is snapshots and _snapshot_names(app) == ["before-upgrade"]
        )

        await pilot.press("r")
        await wait_for(lambda: showing(app, ConfirmScreen))
        assert "web01 on test" in str(app.screen.query_one("#targets").render())
        await pilot.press("y")
        await wait_for(lambda: not background.in_flight("snapshot-op:"))  # the revert's answer
        await pilot.press("ctrl+d")
        await wait_for(lambda: showing(app, ConfirmScreen))
        await pilot.press("y")
        await wait_for(lambda: app.screen is snapshots and _snapshot_names(app) == [])


async def test_clone_prompt_refuses_bad_and_taken_names(fleet_uri: str) -> None:
    app = app_on(fleet_uri)
    async with app.run_test(size=(120, 30)) as pilot:
        await app.poll_now()
        await pilot.press("slash", *"build01", "enter", "C")  # build01 is shut off
        await wait_for(lambda: isinstance(app.screen, PromptScreen))
        prompt = app.screen
        await pilot.press(*["backspace"] * 20, *"a/b", "enter")
        assert "not a valid domain name" in str(prompt.query_one("#error", Static).render())
        await pilot.press(*["backspace"] * 3, *"web01", "enter")
        assert "already exists" in str(prompt.query_one("#error", Static).render())
        await pilot.press(*["backspace"] * 5, *"build02", "enter")
        await wait_for(lambda: any(line.startswith("clone: ok") for line in action_log(app)))
        await pilot.press("escape")  # clear the filter
        await app.poll_now()
        await pilot.pause()
        assert "build02" in column(app, "name")


async def test_cloning_a_running_domain_is_refused_before_any_prompt(fleet_uri: str) -> None:
    app = RecordingApp(
        Settings(uris=[fleet_uri]), sessions=open_sessions([fleet_uri]), auto_poll=False
    )
    async with app.run_test(size=(120, 30)) as pilot:
        await app.poll_now()
        await pilot.press("slash", *"web01", "enter", "C")  # web01 runs
        await wait_for(lambda: any("shut it down before cloning" in t for t in app.told))
        assert not isinstance(app.screen, PromptScreen)
