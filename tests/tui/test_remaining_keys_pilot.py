"""Keys not covered elsewhere: XML in the detail view, sort column moves, unmark, back."""

from __future__ import annotations

from rich.syntax import Syntax
from textual.widgets import Static

from tests.tui.helpers import app_on, status_text, wait_for
from virtui.config.settings import Settings
from virtui.monitor.sessions import open_sessions
from virtui.screens.detail import DetailScreen
from virtui.screens.hosts import HostsScreen


def _xml_text(xml: Static) -> str:
    content = xml.content
    return content.code if isinstance(content, Syntax) else str(content)


async def test_x_shows_the_xml_and_s_asks_for_the_secure_one(fleet_uri: str) -> None:
    app = app_on(fleet_uri)
    async with app.run_test(size=(120, 40)) as pilot:
        await app.poll_now()
        await pilot.press("slash", *"web01", "enter", "enter")
        await wait_for(lambda: isinstance(app.screen, DetailScreen))
        xml = app.screen.query_one("#xml", Static)
        assert not xml.has_class("-shown")
        await pilot.press("x")
        await wait_for(lambda: "<name>web01</name>" in _xml_text(xml))
        assert xml.has_class("-shown")
        await pilot.press("S")
        await wait_for(lambda: app.screen.query_one("#xml", Static).has_class("-shown"))
        await pilot.press("x")
        assert not xml.has_class("-shown")


async def test_sort_column_moves_and_unmark_and_back(fleet_uri: str) -> None:
    app = app_on(fleet_uri)
    async with app.run_test(size=(140, 30)) as pilot:
        await app.poll_now()
        await pilot.pause()
        assert "sort %CPU▼" in status_text(app)
        await pilot.press("greater_than_sign")
        assert "sort MEM▼" in status_text(app)
        await pilot.press("less_than_sign", "less_than_sign")
        assert "sort VCPU▼" in status_text(app)
        await pilot.press("space", "space")
        assert "2 marked" in status_text(app)
        await pilot.press("U")
        assert not app.domains.table.marked and "marked" not in status_text(app)
        await pilot.press("2")
        await wait_for(lambda: isinstance(app.screen, HostsScreen))
        await pilot.press("1")
        await wait_for(lambda: app.screen is app.domains)


async def test_question_mark_opens_help_on_detail_snapshots_and_qemu_log(fleet_uri: str) -> None:
    from tests.tui.helpers import RecordingApp, wait_for
    from virtui.screens.detail import DetailScreen
    from virtui.screens.help import HelpScreen
    from virtui.screens.snapshots import SnapshotsScreen
    from virtui.screens.tail import TailScreen

    app = RecordingApp(
        Settings(uris=[fleet_uri]), sessions=open_sessions([fleet_uri]), auto_poll=False
    )
    async with app.run_test(size=(120, 30)) as pilot:
        await app.poll_now()
        kinds: list[tuple[str, type[object]]] = [
            ("enter", DetailScreen),
            ("z", SnapshotsScreen),
            ("L", TailScreen),
        ]
        for key, kind in kinds:

            def shown(kind: type[object] = kind) -> bool:
                return isinstance(app.screen, kind)

            await pilot.press(key)
            await wait_for(shown)
            await pilot.press("question_mark")
            await wait_for(lambda: isinstance(app.screen, HelpScreen))
            await pilot.press("escape")
            await wait_for(shown)
            await pilot.press("escape")
            await wait_for(lambda: app.screen is app.domains)
