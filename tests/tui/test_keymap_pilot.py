"""A person's own keys: settings.toml's [keys] remaps a binding by its id (listed in
docs/keymap.md); the screen, its help and its footer use the new key, the old one does
nothing, and an id that names no binding is said, not ignored in silence."""

from __future__ import annotations

from pathlib import Path

from tests.tui.helpers import RecordingApp, screen_text, wait_for
from virtui.config.settings import Settings
from virtui.config.usersettings import UserSettings, load_user_settings, save_user_settings
from virtui.model import CpuMode
from virtui.monitor.sessions import open_sessions
from virtui.screens.help import HelpScreen, screen_keys
from virtui.screens.hosts import HostsScreen


def _app(uri: str, keys: dict[str, str]) -> RecordingApp:
    return RecordingApp(
        Settings(uris=[uri], keys=keys), sessions=open_sessions([uri]), auto_poll=False
    )


async def test_a_remapped_key_does_the_action_and_help_shows_it(fleet_uri: str) -> None:
    app = _app(fleet_uri, {"domains.toggle_mode": "F", "nav.show_hosts": "9"})
    async with app.run_test(size=(120, 35)) as pilot:
        await app.poll_now()
        assert app.cpu_mode is CpuMode.IRIX
        await pilot.press("I")  # the default key: not any more
        await pilot.pause()
        assert app.cpu_mode is CpuMode.IRIX
        await pilot.press("F")
        await wait_for(lambda: app.cpu_mode is CpuMode.SOLARIS)
        assert ("F", "Irix/Solaris") in screen_keys(app.domains)
        await pilot.press("question_mark")
        await wait_for(lambda: isinstance(app.screen, HelpScreen))
        await wait_for(lambda: "Irix/Solaris" in screen_text(app))
        line = next(t for t in screen_text(app).splitlines() if "Irix/Solaris" in t)
        assert " F " in f" {line} " and " I " not in f" {line} "
        await pilot.press("escape")
        await pilot.press("9")  # a digit of one's own for the hosts screen
        await wait_for(lambda: isinstance(app.screen, HostsScreen))


async def test_an_id_that_names_no_binding_is_said(fleet_uri: str) -> None:
    app = _app(fleet_uri, {"domains.toggel_mode": "F"})
    async with app.run_test(size=(120, 35)):
        await wait_for(lambda: any("no binding domains.toggel_mode" in t for t in app.told))


def test_keys_are_read_from_settings_and_kept_when_virtui_writes_them(tmp_path: Path) -> None:
    path = tmp_path / "settings.toml"
    path.write_text('delay = 2.0\n\n[keys]\n"domains.toggle_mode" = "F"\n"nav.quit" = "x"\n')
    saved, problem = load_user_settings(path)
    assert problem == "" and saved.keys == {"domains.toggle_mode": "F", "nav.quit": "x"}
    save_user_settings(UserSettings(delay=3.0, keys=saved.keys), path)
    again, _ = load_user_settings(path)
    assert again.delay == 3.0 and again.keys == saved.keys
    path.write_text('[keys]\n"nav.quit" = "[bold]"\n')
    bad, problem = load_user_settings(path)
    assert bad.keys == {} and "[keys] nav.quit: '[bold]' is not a key" in problem
