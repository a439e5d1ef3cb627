"""The git history of a configuration through its keys: ``:history``, the diff, and a
change drafted back to an earlier version; on the test driver, with real git."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from textual.widgets import Input

from tests.tui.helpers import RecordingApp, showing, wait_for
from virtui.config.settings import Settings
from virtui.monitor.hostports import HostPorts
from virtui.monitor.sessions import open_sessions
from virtui.review.desk import ReviewDesk, ReviewRules
from virtui.review.history import ConfigHistory
from virtui.review.ops import SetVcpus
from virtui.review.store import ReviewStore
from virtui.screens.confirm import ConfirmScreen
from virtui.screens.history import HistoryScreen
from virtui.screens.text_view import TextScreen

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")

WEB01 = "00000000-0000-4000-8000-000000000001"


def _app(uri: str) -> RecordingApp:
    return RecordingApp(Settings(uris=[uri]), sessions=open_sessions([uri]), auto_poll=False)


async def test_history_shows_merges_and_drafts_a_revert(fleet_uri: str, tmp_path: Path) -> None:
    app = RecordingApp(
        Settings(uris=[fleet_uri]), sessions=open_sessions([fleet_uri]), auto_poll=False
    )
    async with app.run_test(size=(160, 40)) as pilot:
        history = ConfigHistory.init(tmp_path / "config.git")
        desk = ReviewDesk(
            ReviewStore(tmp_path / "reviews.db"),
            HostPorts(lambda: app.sessions, app.store),
            ReviewRules(),
            user="alice@desk",
            history=history,
        )
        app.desk_watch.desk = desk
        await app.poll_now()
        change = desk.draft("test", WEB01, "web01: one vCPU", [SetVcpus(1)])
        desk.publish(change.id)
        result = desk.merge(change.id)
        assert any(line.startswith("history: commit") for line in result.change.outcome)

        await pilot.press("colon")
        app.screen.query_one(Input).value = "history web01"
        await pilot.press("enter")
        await wait_for(lambda: isinstance(app.screen, HistoryScreen) and bool(app.screen.versions))
        screen = app.screen
        assert isinstance(screen, HistoryScreen)
        (version,) = screen.versions
        assert version.subject == "test/web01: web01: one vCPU" and version.author == "alice"

        await pilot.press("enter")
        await wait_for(lambda: isinstance(app.screen, TextScreen))
        shown = app.screen
        assert isinstance(shown, TextScreen)
        text = shown._text  # what the screen shows
        assert "Merged-by: alice@desk" in text and "+  <vcpu" in text
        await pilot.press("escape")

        # Changed behind the desk's back, then drafted back to the merged version.
        port = app.ports.domain_config("test")
        merged = port.read_config(WEB01).xml
        port.define_config(re.sub(r"current=(['\"])1\1", "current='2'", merged))
        await pilot.press("r")
        await wait_for(lambda: showing(app, ConfirmScreen))
        await pilot.press("y")
        await wait_for(lambda: any("drafted: revert to" in text for text in app.told))
        revert = desk.changes()[0]
        assert revert.title == f"revert to {version.commit[:12]}"
        assert re.search(r"current=.1.", revert.proposed_xml)
        assert not re.search(r"current=.1.", revert.base_xml)  # all vCPUs on, outside the desk


async def test_without_a_history_the_command_says_how_to_keep_one(fleet_uri: str) -> None:
    app = RecordingApp(
        Settings(uris=[fleet_uri]), sessions=open_sessions([fleet_uri]), auto_poll=False
    )
    async with app.run_test(size=(120, 30)) as pilot:
        await app.poll_now()
        await pilot.press("colon")
        app.screen.query_one(Input).value = "history web01"
        await pilot.press("enter")
        await wait_for(lambda: any("set [review] history" in text for text in app.told))
