"""Forms at 80x24, as a new user on a small terminal meets them: every field reachable
and visible as Tab reaches it, Enter going field by field, the keys said once."""

from __future__ import annotations

from textual.geometry import Region
from textual.widgets import Input

from tests.tui.helpers import RecordingApp, screen_text, wait_for
from virtui.config.settings import Settings
from virtui.monitor.sessions import open_sessions
from virtui.screens.form import Field, FormScreen
from virtui.screens.networks import NetworksScreen


def _app(uri: str) -> RecordingApp:
    return RecordingApp(Settings(uris=[uri]), sessions=open_sessions([uri]), auto_poll=False)


async def test_every_field_of_the_nat_network_form_is_visible_as_tab_reaches_it(
    network_uri: str,
) -> None:
    """Its DHCP and DNS fields were below the edge at 80x24, and Tab moved into them
    without scrolling."""
    app = _app(network_uri)
    async with app.run_test(size=(80, 24)) as pilot:
        await app.poll_now()
        await pilot.press("6")
        await wait_for(lambda: isinstance(app.screen, NetworksScreen))
        await pilot.press("n")
        await wait_for(lambda: isinstance(app.screen, FormScreen))
        form = app.screen
        assert isinstance(form, FormScreen)
        fields = list(form.query(Input))
        assert len(fields) > 5  # a long form: it cannot all fit
        assert "Enter next field (sends on the last) · Tab moves · Esc cancels" in screen_text(app)
        screen = Region(0, 0, 80, 24)
        for field in fields:
            await wait_for(lambda field=field: form.focused is field)  # type: ignore[misc]
            await pilot.pause()
            assert screen.contains_region(field.region), f"{field.id} is off-screen"
            await pilot.press("tab")


async def test_enter_goes_field_by_field_and_sends_only_from_the_last(
    network_uri: str,
) -> None:
    """The first Enter in the add-disk form sent it, its other fields unread."""
    app = _app(network_uri)
    async with app.run_test(size=(80, 24)) as pilot:
        await app.poll_now()
        await pilot.press("slash", *"web01", "enter", "b")
        await wait_for(lambda: isinstance(app.screen, FormScreen))
        form = app.screen
        assert isinstance(form, FormScreen)
        fields = list(form.query(Input))
        for field in fields[1:]:
            await pilot.press("enter")
            await wait_for(lambda field=field: form.focused is field)  # type: ignore[misc]
        assert app.screen is form  # not sent: the last field was reached only now


async def test_a_form_shows_the_control_characters_of_a_hosts_words(network_uri: str) -> None:
    """Step 3 of the wizard names the host's pools and networks in its hint and its
    refusals: a name holding an escape must not reach the terminal as one."""
    from textual.app import App

    from virtui.screens.form import Field

    app: App[None] = App()
    async with app.run_test(size=(80, 24)) as pilot:
        form = FormScreen(
            "t", "pools on h: ev\x1b[2Jil", [Field("x", "X", "a")], lambda _v: "no pool \x1b]0;x"
        )
        await app.push_screen(form)
        await pilot.press("enter")
        await wait_for(lambda: "\\x1b]0;x" in str(form.query_one("#error").render()))
        assert "ev\\x1b[2Jil" in str(form.query_one("#hint").render())


async def test_a_first_value_with_an_escape_is_shown_visible_and_sent_as_it_was() -> None:
    """A host's name from a config file pre-fills the Host field: raw, its ESC went to
    the terminal; made visible and left as shown, it must still name that host."""
    from textual.app import App

    name = "lab\x1b[2Jhost"
    answers: list[dict[str, str] | None] = []

    class FormApp(App[None]):
        def on_mount(self) -> None:
            fields = [Field("host", "Host", name), Field("name", "Name")]
            self.push_screen(FormScreen("New", "", fields, lambda _v: ""), answers.append)

    app = FormApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(lambda: isinstance(app.screen, FormScreen))
        shown = app.screen.query_one("#host", Input).value
        assert "\x1b" not in shown and "lab" in shown and "host" in shown
        await pilot.press("enter", *"vm1", "enter")
        await wait_for(lambda: bool(answers))
    assert answers == [{"host": name, "name": "vm1"}]
