"""The logs screen: filters, pause and follow, and what virtui itself adds to it."""

from __future__ import annotations

import logging

from textual.widgets import Input, Static

from tests.tui.helpers import RecordingApp, status_text, text_screen_shown, wait_for
from virtui.config.settings import Settings
from virtui.model import LogEntry, Severity
from virtui.monitor.sessions import open_sessions
from virtui.screens.logs import LogsScreen
from virtui.screens.prompt import PromptScreen
from virtui.screens.tail import TailScreen


def _app(*uris: str) -> RecordingApp:
    return RecordingApp(
        Settings(uris=list(uris)), sessions=open_sessions(list(uris)), auto_poll=False
    )


async def _logs(app: RecordingApp, pilot: object) -> LogsScreen:
    await pilot.press("4")  # type: ignore[attr-defined]
    await wait_for(lambda: isinstance(app.screen, LogsScreen))
    assert isinstance(app.screen, LogsScreen)
    return app.screen


async def test_actions_connections_and_warnings_are_on_the_timeline(fleet_uri: str) -> None:
    app = _app(fleet_uri, "qemu+tcp://127.0.0.1:1/system")
    async with app.run_test(size=(150, 30)) as pilot:
        await app.poll_now()
        await pilot.press("slash", *"web01", "enter", "s")  # web01 runs: start fails
        await wait_for(lambda: any(e.kind == "action" for e in app.timeline.entries))
        logging.getLogger("virtui.test").warning("disk %s is full", "/var")
        screen = await _logs(app, pilot)
        await wait_for(lambda: any(e.kind == "virtui" for e in screen.view.entries))
        kinds = {(e.host, e.kind, e.severity) for e in screen.view.entries}
        assert ("test", "connection", Severity.INFO) in kinds  # connected
        assert ("127.0.0.1", "connection", Severity.ERROR) in kinds  # refused
        action = next(e for e in screen.view.entries if e.kind == "action")
        assert (action.domain, action.severity) == ("web01", Severity.ERROR)
        assert action.detail.startswith("start: failed: ")
        warning = next(e for e in screen.view.entries if e.kind == "virtui")
        assert (warning.detail, warning.severity) == ("disk /var is full", Severity.WARNING)


async def test_filter_pause_and_follow(fleet_uri: str) -> None:
    app = _app(fleet_uri)
    async with app.run_test(size=(150, 30)) as pilot:
        for n in range(40):
            host = "h1" if n % 2 else "h2"
            app.record(LogEntry.now(host, f"vm{n}", "started", "booted"))
        screen = await _logs(app, pilot)
        assert len(screen.view.entries) == 40
        assert "following" in status_text(app)

        await pilot.press("slash")
        await wait_for(lambda: isinstance(app.screen, PromptScreen))
        app.screen.query_one(Input).value = "sev:loud"
        await pilot.press("enter")
        assert "severity 'loud'" in str(app.screen.query_one("#error", Static).render())
        app.screen.query_one(Input).value = "host:h1 vm3"
        await pilot.press("enter")
        await wait_for(lambda: app.screen is screen)
        assert [e.domain for e in screen.view.entries] == [
            "vm3",
            "vm31",
            "vm33",
            "vm35",
            "vm37",
            "vm39",
        ]
        assert "filter: host:h1 vm3" in status_text(app)
        assert "6 lines of 40" in status_text(app)

        await pilot.press("p")  # paused: new lines wait
        app.record(LogEntry.now("h1", "vm3x", "stopped", "destroyed"))
        app.record(LogEntry.now("h2", "vm3y", "stopped", "destroyed"))  # filtered out
        assert "PAUSED (1 new)" in status_text(app)
        assert screen.view.entries[-1].domain == "vm39"
        await pilot.press("p")
        assert screen.view.entries[-1].domain == "vm3x"

        await pilot.press("escape")  # clears the filter, stays
        assert app.screen is screen and len(screen.view.entries) == 42
        await pilot.press("up", "up")
        assert "scrolled back" in status_text(app)
        app.record(LogEntry.now("h1", "late", "started", "booted"))
        assert screen.view.selected is not None and screen.view.selected.domain != "late"
        await pilot.press("end")
        assert "following" in status_text(app)
        app.record(LogEntry.now("h1", "later", "started", "booted", Severity.ERROR))
        assert screen.view.selected is not None and screen.view.selected.domain == "later"


async def test_qemu_log_of_a_test_driver_domain_says_why_there_is_none(fleet_uri: str) -> None:
    app = _app(fleet_uri)
    async with app.run_test(size=(150, 30)) as pilot:
        await app.poll_now()
        await pilot.press("slash", *"web01", "enter", "L")
        await wait_for(lambda: isinstance(app.screen, TailScreen))
        note = str(app.screen.query_one("#note", Static).render())
        assert note == "the test driver runs no QEMU, so there is no QEMU log"


async def test_virtuis_own_log_opens_followed(fleet_uri: str) -> None:
    from virtui.config.settings import state_dir

    app = _app(fleet_uri)
    async with app.run_test(size=(150, 30)) as pilot:
        await _logs(app, pilot)
        await pilot.press("V")
        await wait_for(lambda: isinstance(app.screen, TailScreen))
        assert app.screen.location.path == str(state_dir() / "virtui.log")  # type: ignore[attr-defined]
        assert "virtui's own log" in status_text(app)


async def test_at_80_columns_the_detail_has_room_and_enter_shows_a_line_whole(
    fleet_uri: str,
) -> None:
    app = _app(fleet_uri)
    long_detail = "connection refused: " + "a very long libvirt message " * 6 + "END"
    async with app.run_test(size=(80, 24)) as pilot:
        await app.poll_now()
        app.record(LogEntry.now("h1", "web01", "action", long_detail, Severity.ERROR))
        screen = await _logs(app, pilot)
        await wait_for(lambda: bool(screen.view.entries))
        screen.view.focus()
        await pilot.press("end")
        view = screen.view
        row = view.render_line(view.cursor - round(view.scroll_offset.y) + 1).text
        assert "connection refused: a very long" in row  # DETAIL is not squeezed out
        await pilot.press("enter")
        shown = await text_screen_shown(app)
        assert "END" in shown.replace("\n", " ")
        await pilot.press("escape")
        await wait_for(lambda: isinstance(app.screen, LogsScreen))


async def test_an_entry_arriving_as_the_logs_screen_opens_is_shown(fleet_uri: str) -> None:
    """An event between key 4 and the screen's first frame: on the screen, no crash."""
    app = _app(fleet_uri)
    async with app.run_test(size=(150, 30)):
        app.action_show("logs")  # pushed: in front, children not yet composed
        app.record(LogEntry.now("test", "web01", "started", "booted", Severity.INFO))
        await wait_for(lambda: isinstance(app.screen, LogsScreen) and app.screen.is_mounted)
        assert isinstance(app.screen, LogsScreen)
        assert any(e.detail == "booted" for e in app.screen.view.entries)
