"""The ``:`` command line and themes, as a user drives them."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import Input, Static

from tests.tui.helpers import (
    RecordingApp,
    column,
    host_status,
    screen_text,
    status_text,
    wait_for,
)
from virtui.config.settings import Settings
from virtui.config.usersettings import load_user_settings
from virtui.model import HostStatus
from virtui.monitor.sessions import open_sessions
from virtui.screens.command import CommandLine
from virtui.screens.hosts import HostsScreen
from virtui.screens.logs import LogsScreen
from virtui.screens.review import ReviewScreen
from virtui.screens.storage import StorageScreen

RECORDING = f"replay://{Path(__file__).parents[1] / 'snapshots' / 'recordings' / 'fleet.json'}"


def _app(uri: str, **settings: object) -> RecordingApp:
    return RecordingApp(
        Settings(uris=[uri], **settings),  # type: ignore[arg-type]
        sessions=open_sessions([uri]),
        auto_poll=False,
    )


async def _command(app: RecordingApp, pilot: object, line: str) -> None:
    await pilot.press("colon")  # type: ignore[attr-defined]
    await wait_for(lambda: isinstance(app.screen, CommandLine))
    app.screen.query_one(Input).value = line
    await pilot.press("enter")  # type: ignore[attr-defined]


async def test_every_screen_by_command_and_back(fleet_uri: str) -> None:
    app = _app(fleet_uri)
    async with app.run_test(size=(120, 30)) as pilot:
        await app.poll_now()
        await _command(app, pilot, ":dom @test web")
        await wait_for(lambda: app.screen is app.domains)
        assert sorted(column(app, "name")) == ["web01", "web02"]
        assert "filter 'test/web'" in status_text(app)
        for line, screen in (
            (":host", HostsScreen),
            (":pool", StorageScreen),
            (":log sev:error", LogsScreen),
            (":review", ReviewScreen),
        ):
            await _command(app, pilot, line)
            await wait_for(lambda screen=screen: isinstance(app.screen, screen))  # type: ignore[misc]
            assert len(app.screen_stack) == 3  # default, domains, this one: no pile
        await _command(app, pilot, ":log host:test")
        await wait_for(lambda: isinstance(app.screen, LogsScreen))
        await wait_for(lambda: app.screen.filter.text == "host:test")  # type: ignore[attr-defined]
        await _command(app, pilot, ":dom")
        await wait_for(lambda: app.screen is app.domains)
        assert len(column(app, "name")) == 5  # the filter is gone


async def test_history_errors_and_cancel(fleet_uri: str) -> None:
    app = _app(fleet_uri)
    async with app.run_test(size=(120, 30)) as pilot:
        await _command(app, pilot, ":host")
        await wait_for(lambda: isinstance(app.screen, HostsScreen))
        await _command(app, pilot, ":frobnicate")
        assert isinstance(app.screen, CommandLine)  # still asking, with the reason
        assert "unknown command 'frobnicate'" in str(
            app.screen.query_one("#error", Static).render()
        )
        await pilot.press("up")
        assert app.screen.query_one(Input).value == ":host"
        await pilot.press("down")
        assert app.screen.query_one(Input).value == ":"
        await pilot.press("escape")
        assert isinstance(app.screen, HostsScreen)


async def test_theme_switch_and_connect_are_saved_for_next_start(
    fleet_uri: str, tmp_path: Path
) -> None:
    app = _app(fleet_uri, theme="virtui-console")
    async with app.run_test(size=(120, 30)) as pilot:
        assert app.theme == "virtui-console"
        await _command(app, pilot, ":theme virtui-light")
        assert app.theme == "virtui-light"
        await _command(app, pilot, ":theme nope")
        await wait_for(lambda: any("no theme 'nope'" in t for t in app.told))
        await _command(app, pilot, ":connect test:///default")  # also named "test": refused
        await wait_for(lambda: any("a host is named test already" in t for t in app.told))
        await _command(app, pilot, f":connect {RECORDING}")
        await wait_for(lambda: host_status(app, "fleet") is HostStatus.CONNECTED)
        await pilot.press("I", "M")  # Solaris, sort by memory
    app.shutdown()
    saved, problem = load_user_settings()
    assert problem == ""
    assert (saved.theme, saved.cpu_mode, saved.sort) == ("virtui-light", "solaris", "mem")
    assert saved.hosts == [RECORDING]


async def test_an_unknown_theme_falls_back_with_a_message(fleet_uri: str) -> None:
    app = _app(fleet_uri, theme="no-such-theme")
    async with app.run_test(size=(120, 30)):
        assert app.theme == "virtui-dark"
        assert any("no theme 'no-such-theme'" in t for t in app.told)


async def test_columns_hidden_and_shown_again_are_kept(fleet_uri: str) -> None:
    app = _app(fleet_uri)
    async with app.run_test(size=(120, 30)) as pilot:
        await app.poll_now()
        header = app.domains.table.render_line(0).text
        assert "TIME" in header and "%MEM" in header
        await _command(app, pilot, ":cols -time -memp")
        header = app.domains.table.render_line(0).text
        assert "TIME" not in header and "%MEM" not in header and "NAME" in header
        await _command(app, pilot, ":cols +memp")
        assert "%MEM" in app.domains.table.render_line(0).text
        await _command(app, pilot, ":cols -name")
        await wait_for(lambda: any("the name column always shows" in t for t in app.told))
    app.shutdown()
    saved, _problem = load_user_settings()
    assert saved.hidden_columns == ["rdrq", "time", "wrrq"]  # disk requests: hidden by default


async def test_the_command_palette_offers_the_themes(fleet_uri: str) -> None:
    from textual.command import CommandPalette

    app = _app(fleet_uri)
    async with app.run_test(size=(120, 30)) as pilot:
        await pilot.press("ctrl+p")
        await wait_for(lambda: isinstance(app.screen, CommandPalette))
        await pilot.press(*"theme")
        await pilot.press("enter")  # "Theme": the list of themes
        await pilot.pause(0.5)
        await pilot.press(*"virtui-light")
        await pilot.pause(0.5)
        await pilot.press("enter")
        await wait_for(lambda: app.theme == "virtui-light", 10)


async def test_connect_never_runs_a_program_nor_saves_a_host_that_never_connected(
    fleet_uri: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    marker = tmp_path / "ran"
    script = tmp_path / "script.sh"
    script.write_text(f"#!/bin/sh\ntouch {marker}\n")
    script.chmod(0o755)
    app = _app(fleet_uri)
    async with app.run_test(size=(120, 30)) as pilot:
        for uri in (
            f"qemu+ext:///system?command={script}",
            f"qemu+ssh://localhost/system?command={script}",
            f"qemu+ssh://localhost/system?netcat={script}",
            # libvirt unescapes a parameter's name to a C string that ends at the NUL
            f"qemu+ssh://127.0.0.1/system?command%00x={script}",
            f"qemu+ssh://127.0.0.1/system?netcat%00={script}",
            f"qemu+ssh://127.0.0.1/system?no_verify=1;%63ommand={script}",
            f"qemu+ssh://-oProxyCommand={script}/system",
            # another user's driver root, whose domain XML names the emulator to run
            f"qemu:///embed?root={tmp_path}/evil",
        ):
            await _command(app, pilot, f":connect {uri}")
            await wait_for(lambda: any("only with -c on the command line" in t for t in app.told))
            app.told.clear()
        assert [s.backend.uri for s in app.sessions] == [fleet_uri]
        await _command(app, pilot, f":connect replay://{tmp_path}/missing.json")  # never will
        added = app.sessions[-1].name
        await wait_for(lambda: host_status(app, added) not in (None, HostStatus.CONNECTING))
        # A missing file does not heal by waiting: failed, and not retried.
        assert host_status(app, added) is HostStatus.FAILED
        assert "not retried" in app.store.hosts[added].message
        again = app.sessions[-1].poll_once()
        assert again.status is HostStatus.FAILED and "not retried" in again.message
        await _command(app, pilot, f":disconnect {added}")
        await wait_for(lambda: added not in app.store.hosts)
        assert [s.backend.uri for s in app.sessions] == [fleet_uri]
        await _command(app, pilot, ":disconnect nosuchhost")
        await wait_for(lambda: any("no host named nosuchhost" in t for t in app.told))
    app.shutdown()
    assert not marker.exists()
    saved, _problem = load_user_settings()
    assert saved.hosts == []


def test_a_program_running_uri_in_settings_toml_is_ignored_with_a_warning(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    from virtui.cli.main import build_parser, settings_from
    from virtui.config.usersettings import settings_path

    settings_path().parent.mkdir(parents=True, exist_ok=True)
    settings_path().write_text(
        'hosts = ["qemu+ext:///system?command=/bin/true", "test:///default"]\n'
    )
    settings = settings_from(build_parser().parse_args([]))
    assert settings.uris == ["test:///default"]
    assert "settings.toml host ignored" in settings.config_problem
    readonly = settings_from(build_parser().parse_args(["--readonly", "-c", "qemu+ext:///x"]))
    assert (
        "qemu+ext:///x" not in readonly.uris and "--readonly refuses it" in readonly.config_problem
    )


def _burst(app: RecordingApp, text: str) -> None:
    """Keys as a paste or a slow SSH link delivers them: all queued before any is handled."""
    from textual import events

    names = {"\t": "tab", "\r": "enter", ":": "colon", "/": "slash", " ": "space"}
    for char in text:
        app.post_message(events.Key(names.get(char, char), char))


async def test_keys_typed_in_one_burst_land_where_they_were_meant(fleet_uri: str) -> None:
    from virtui.screens.form import FormScreen

    app = _app(fleet_uri)
    async with app.run_test(size=(120, 30)) as pilot:
        await app.poll_now()
        _burst(app, ":host\r")  # ':' then the command at once
        await wait_for(lambda: isinstance(app.screen, HostsScreen))
        await pilot.press("escape")
        await wait_for(lambda: app.screen is app.domains)
        await pilot.press("b")  # the add-disk form
        await wait_for(lambda: isinstance(app.screen, FormScreen))
        form = app.screen
        assert isinstance(form, FormScreen)
        form.query_one("#target", Input).value = ""
        form.query_one("#bus", Input).value = ""
        _burst(app, "/tmp/a:b.img\tvdc\tsata")
        await wait_for(lambda: form.values()["bus"] == "sata")
        values = form.values()
        assert (values["path"], values["target"], values["bus"]) == ("/tmp/a:b.img", "vdc", "sata")


async def test_the_command_palette_opens_every_top_screen(fleet_uri: str) -> None:
    """The palette's entries come from the registry of top screens, like the digits."""
    from textual.command import CommandPalette

    app = _app(fleet_uri)
    async with app.run_test(size=(120, 30)) as pilot:
        for title, said, screen in (
            ("Show Storage", "key 3 · :pool", StorageScreen),
            ("Show Hosts", "key 2 · :host", HostsScreen),
        ):
            await pilot.press("ctrl+p")
            await wait_for(lambda: isinstance(app.screen, CommandPalette))
            await pilot.press(*title.lower())
            await wait_for(lambda said=said: said in screen_text(app))  # type: ignore[misc]
            await pilot.press("enter")
            await wait_for(lambda screen=screen: isinstance(app.screen, screen))  # type: ignore[misc]
            assert len(app.screen_stack) == 3  # default, domains, this one: no pile


async def test_the_command_palette_finds_the_actions_of_the_screen_by_name(fleet_uri: str) -> None:
    """Ctrl+P finds what `?` lists, by its name, with its key, and runs it as the key does."""
    from textual.command import CommandPalette

    from virtui.screens.snapshots import SnapshotsScreen

    app = _app(fleet_uri)
    async with app.run_test(size=(120, 30)) as pilot:
        await app.poll_now()
        await pilot.press("ctrl+p")
        await wait_for(lambda: isinstance(app.screen, CommandPalette))
        await pilot.press(*"snapshots")
        await wait_for(lambda: "key z" in screen_text(app))
        await pilot.press("enter")
        await wait_for(lambda: isinstance(app.screen, SnapshotsScreen))
