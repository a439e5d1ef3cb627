"""The hosts screen against the test driver and a host that refuses connections."""

from __future__ import annotations

from textual.widgets import DataTable

from tests.tui.helpers import column, showing, status_text, wait_for
from virtui.config.settings import Settings
from virtui.model import HostStatus
from virtui.monitor.sessions import open_sessions
from virtui.screens.hosts import HostsScreen
from virtui.tui.app import VirtuiApp

REFUSED = "qemu+tcp://127.0.0.1:1/system"


def _rows(app: VirtuiApp) -> dict[str, tuple[str, ...]]:
    table = app.screen.query_one(DataTable)
    return {
        str(row.key.value): tuple(map(str, table.get_row(row.key))) for row in table.ordered_rows
    }


async def test_hosts_list_facts_states_and_scope_the_domains(fleet_uri: str) -> None:
    uris = [fleet_uri, REFUSED]
    app = VirtuiApp(Settings(uris=uris), sessions=open_sessions(uris), auto_poll=False)
    async with app.run_test(size=(160, 30)) as pilot:
        await app.poll_now()
        await pilot.press("2")
        await wait_for(lambda: isinstance(app.screen, HostsScreen))
        rows = _rows(app)
        assert set(rows) == {"test", "127.0.0.1"}
        _name, state, pct, domains, cpu, _memory, hypervisor, version, _tags, uri = rows["test"]
        assert (uri, state) == (fleet_uri, "connected")
        assert hypervisor.startswith("TEST ") and version.count(".") == 2
        assert cpu.startswith("4 x x86_64") and "4 cores" in cpu
        assert domains == "3 running / 5"
        assert pct == "-"  # the test driver's host counters never move
        assert rows["127.0.0.1"][1].startswith("refused: cannot connect")
        assert "Connection refused" in rows["127.0.0.1"][1]
        assert "hosts 1/2 connected" in status_text(app)

        await pilot.press("I")
        assert "CPU Solaris (100% = the whole host)" in status_text(app)
        assert app.domains.mode.label == "Solaris"  # one mode for every screen

        await pilot.press("ctrl+home", "enter")  # the first host: its domains only
        await wait_for(lambda: app.screen is app.domains)
        assert set(column(app, "host")) == {"test"}
        assert len(column(app, "name")) == 5


async def test_reconnect_key_retries_a_failed_host_at_once(fleet_uri: str) -> None:
    uris = [REFUSED]
    app = VirtuiApp(Settings(uris=uris), sessions=open_sessions(uris), auto_poll=False)
    async with app.run_test(size=(160, 30)) as pilot:
        await app.poll_now()
        await app.poll_now()  # within the backoff: not even tried
        assert "retry in" in app.store.hosts["127.0.0.1"].message
        assert app.store.hosts["127.0.0.1"].status is HostStatus.REFUSED
        await pilot.press("2", "ctrl+r")
        await wait_for(lambda: "retry in" not in app.store.hosts["127.0.0.1"].message)
        assert "Connection refused" in app.store.hosts["127.0.0.1"].message


async def test_ctrl_d_disconnects_and_forgets_a_host_after_asking(fleet_uri: str) -> None:
    from virtui.screens.confirm import ConfirmScreen

    uris = [fleet_uri, REFUSED]
    settings = Settings(uris=uris, added_hosts=[REFUSED])
    app = VirtuiApp(settings, sessions=open_sessions(uris), auto_poll=False)
    async with app.run_test(size=(160, 30)) as pilot:
        await app.poll_now()
        await pilot.press("2")
        await wait_for(lambda: isinstance(app.screen, HostsScreen))
        table = app.screen.query_one(DataTable)
        for _ in range(table.row_count):  # bounded: a missing row fails, never hangs
            if str(table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value) == (
                "127.0.0.1"
            ):
                break
            await pilot.press("down")
        await pilot.press("ctrl+d")
        await wait_for(lambda: showing(app, ConfirmScreen))
        await pilot.press("y")
        await wait_for(lambda: "127.0.0.1" not in app.store.hosts)
        await wait_for(lambda: set(_rows(app)) == {"test"})
        assert settings.added_hosts == []  # not saved for the next start
        assert [s.name for s in app.sessions] == ["test"]


async def test_a_connection_error_is_readable_in_full_at_80_columns(fleet_uri: str) -> None:
    from textual.widgets import Static

    uris = [fleet_uri, REFUSED]
    app = VirtuiApp(Settings(uris=uris), sessions=open_sessions(uris), auto_poll=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await app.poll_now()
        await pilot.press("2")
        await wait_for(lambda: isinstance(app.screen, HostsScreen))
        await pilot.press("down")
        message = app.store.hosts["127.0.0.1"].message
        detail = app.screen.query_one("#host-detail", Static)
        await wait_for(lambda: message in str(detail.render()).replace("\n", " "))


async def test_a_redraw_before_the_hosts_screen_is_composed_waits_for_it(
    fleet_uri: str,
) -> None:
    """A poll that lands between key 2 and the screen's first frame: drawn on mount."""
    uris = [fleet_uri]
    app = VirtuiApp(Settings(uris=uris), sessions=open_sessions(uris), auto_poll=False)
    async with app.run_test(size=(160, 30)):
        await app.poll_now()
        app.action_show("hosts")  # pushed: in front, children not yet composed
        app.redraw()
        await wait_for(lambda: isinstance(app.screen, HostsScreen) and app.screen.is_mounted)
        assert set(_rows(app)) == {"test"}


class _RedrawsWhileClosing(HostsScreen):
    """A hosts screen that asks for a redraw as the app takes it down: the moment a late
    poll can land, after its children are gone and before it leaves the stack."""

    def on_unmount(self) -> None:
        assert isinstance(self.app, VirtuiApp)
        self.app.redraw()


async def test_a_redraw_while_the_app_closes_is_dropped(fleet_uri: str) -> None:
    uris = [fleet_uri]
    app = VirtuiApp(Settings(uris=uris), sessions=open_sessions(uris), auto_poll=False)
    async with app.run_test(size=(160, 30)):
        await app.poll_now()
        app.push_screen(_RedrawsWhileClosing(app.store, app.cpu_history, app.cpu_mode, {}))
        await wait_for(lambda: isinstance(app.screen, HostsScreen) and app.screen.is_mounted)
    # run_test re-raises what the app raised while closing
