"""? shows every key of the screen: side by side where the terminal is wide, and the
rest a keypress away (the list stopped at "n New snapshot" until Tab was pressed)."""

from __future__ import annotations

from textual.containers import VerticalScroll
from textual.pilot import Pilot

from tests.tui.helpers import app_on, screen_text, wait_for
from virtui.screens.help import HelpScreen, screen_keys
from virtui.tui.app import VirtuiApp


async def _open_help(app: VirtuiApp, pilot: Pilot[None]) -> list[tuple[str, str]]:
    """Poll, press ? on the domains screen; the keys the help must show."""
    await app.poll_now()
    keys = screen_keys(app.domains)
    await pilot.press("question_mark")
    await wait_for(lambda: isinstance(app.screen, HelpScreen))
    await pilot.pause()
    return keys


async def test_every_key_is_on_screen_or_one_scroll_away(fleet_uri: str) -> None:
    app = app_on(fleet_uri)
    async with app.run_test(size=(120, 35)) as pilot:
        keys = await _open_help(app, pilot)
        first = screen_text(app)
        assert "PgUp PgDn Home End scroll" in first
        box = app.screen.query_one(VerticalScroll)
        assert box.max_scroll_y > 0
        await pilot.press("end")  # no Tab first
        await wait_for(lambda: box.scroll_y == box.max_scroll_y)  # it glides there
        await pilot.pause()
        last = screen_text(app)
        shown = first + last
        assert [action for _key, action in keys if action not in shown] == []


async def test_a_tall_terminal_shows_every_key_at_once(fleet_uri: str) -> None:
    app = app_on(fleet_uri)
    async with app.run_test(size=(160, 60)) as pilot:
        keys = await _open_help(app, pilot)
        text = screen_text(app)
        assert [action for _key, action in keys if action not in text] == []
        assert "scroll" not in text


async def test_every_top_screen_shows_help_in_its_footer_at_80x24() -> None:
    """A footer longer than the terminal is cut at its end: `? Help` comes first (as
    htop's F1 does), so the review desk's and the networks screen's did not lose it."""
    from tests.tui.helpers import RecordingApp, screen_text
    from virtui.config.settings import Settings
    from virtui.monitor.sessions import open_sessions

    uri = "test:///default"
    app = RecordingApp(Settings(uris=[uri]), sessions=open_sessions([uri]), auto_poll=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await app.poll_now()
        for key in "1234561":
            await pilot.press(key)
            await pilot.pause()
            footer = screen_text(app).splitlines()[-1]
            assert footer.lstrip().startswith("? Help"), (key, footer)


def test_the_key_list_fills_down_then_across_and_shows_no_control_character() -> None:
    from virtui.widgets.key_list import KeyList

    keys = [("a", "One"), ("b", "Two"), ("c", "Three\x1b[2J")]
    header, *lines = KeyList(keys, pairs=2).rows()
    assert header == ("Key", "Action", " Key", "Action")
    assert lines == [("a", "One", "c", "Three\\x1b[2J"), ("b", "Two", "", "")]
    assert KeyList([], pairs=2).rows()[1:] == [("", "", "", "")]
