"""The storage screen on the test driver: what it shows, and what it refuses to send."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import DataTable, Input, Static

from tests.tui.helpers import RecordingApp, showing, status_text, wait_for
from virtui.config.settings import Settings
from virtui.monitor.sessions import open_sessions
from virtui.screens.confirm import ConfirmScreen
from virtui.screens.form import FormScreen
from virtui.screens.prompt import PromptScreen
from virtui.screens.storage import StorageScreen

RECORDING = Path(__file__).parents[1] / "snapshots" / "recordings" / "fleet.json"


def _rows(table: DataTable[object]) -> dict[str, tuple[str, ...]]:
    return {
        str(row.key.value): tuple(str(cell) for cell in table.get_row(row.key))
        for row in table.ordered_rows
    }


async def _open_storage(app: RecordingApp, pilot: object) -> StorageScreen:
    await app.poll_now()
    await pilot.press("3")  # type: ignore[attr-defined]
    await wait_for(lambda: isinstance(app.screen, StorageScreen))
    screen = app.screen
    assert isinstance(screen, StorageScreen)
    await wait_for(lambda: len(screen.pools) == 2)
    assert list(screen.pools) == ["test\tbackups", "test\timages"]  # by host, then name
    await pilot.press("down")  # type: ignore[attr-defined]
    await wait_for(lambda: len(screen.volumes) == 2)
    return screen


def _app(*uris: str) -> RecordingApp:
    return RecordingApp(
        Settings(uris=list(uris)), sessions=open_sessions(list(uris)), auto_poll=False
    )


async def test_pools_volumes_and_their_users_are_listed(storage_uri: str) -> None:
    replay = f"replay://{RECORDING}"
    app = _app(storage_uri, replay)
    async with app.run_test(size=(150, 30)) as pilot:
        screen = await _open_storage(app, pilot)
        pools = _rows(screen.pool_table)
        _host, name, kind, state, auto, size, used, free, usage, path = pools["test\tbackups"]
        assert (name, kind, state, auto, path) == (
            "backups",
            "dir",
            "running",
            "no",
            "/srv/backups",
        )
        assert (size, used, free) == ("100GiB", "92GiB", "8GiB")
        assert usage.strip().endswith("92%")
        assert _rows(screen.pool_table)["test\timages"][8].strip().endswith("20%")
        volumes = _rows(screen.volume_table)
        assert volumes["web01.qcow2"][1:5] == ("qcow2", "20GiB", "12GiB", "web01")
        assert volumes["scratch.raw"][4] == "-"
        assert "storage: 2 pools on 1 host" in status_text(app)
        # A host whose backend has no storage is named, with the reason.
        problems = str(screen.query_one("#problems", Static).render())
        assert "no storage through this backend" in problems


async def test_bad_volume_input_is_refused_before_anything_is_sent(storage_uri: str) -> None:
    app = _app(storage_uri)
    async with app.run_test(size=(150, 40)) as pilot:
        screen = await _open_storage(app, pilot)
        await pilot.press("tab", "n")
        await wait_for(lambda: isinstance(app.screen, FormScreen))
        form = app.screen

        async def submit(name: str, size: str, fmt: str = "qcow2") -> str:
            form.query_one("#name", Input).value = name
            form.query_one("#size", Input).value = size
            form.query_one("#format", Input).value = fmt
            form.query_one("#format", Input).focus()
            await pilot.press("enter")
            return str(form.query_one("#error", Static).render()) if form.is_attached else ""

        assert "'parsecs' is not a size unit" in await submit("new.qcow2", "12 parsecs")
        assert "cannot contain a slash" in await submit("../new.qcow2", "1G")
        assert "already exists" in await submit("web01.qcow2", "1G")
        assert "does not fit: pool images has 80GiB available" in await submit("big", "81G")
        assert "use qcow2 or raw" in await submit("new.vmdk", "1G", "vmdk")
        assert app.screen is form  # still asking
        backend = app.ports.storage("test")
        assert backend is not None
        assert len(backend.volumes("images")) == 2  # nothing reached libvirt

        await submit("new.qcow2", "2G")
        await wait_for(lambda: "new.qcow2" in _rows(screen.volume_table))
        assert _rows(screen.volume_table)["new.qcow2"][1:3] == ("qcow2", "2GiB")
        assert any("volume new.qcow2: created in images" in told for told in app.told)


async def test_deleting_a_volume_in_use_needs_a_second_confirmation(storage_uri: str) -> None:
    app = _app(storage_uri)
    async with app.run_test(size=(150, 40)) as pilot:
        screen = await _open_storage(app, pilot)
        await pilot.press("tab", "ctrl+end")  # web01.qcow2, the last volume
        assert screen.selected_volume() is not None
        assert screen.selected_volume().name == "web01.qcow2"  # type: ignore[union-attr]
        await pilot.press("ctrl+d")
        await wait_for(lambda: showing(app, ConfirmScreen))
        await pilot.press("y")
        await wait_for(
            lambda: (
                isinstance(app.screen, ConfirmScreen)
                and "in use" in str(app.screen.query_one("Vertical").border_title or "")
            )
        )
        assert "volume web01.qcow2 is used by web01: not deleted" in str(
            app.screen.query_one("#targets", Static).render()
        )
        await pilot.press("n")  # not this time: it stays
        await pilot.pause()
        assert "web01.qcow2" in _rows(screen.volume_table)

        await pilot.press("ctrl+d", "y")
        await wait_for(
            lambda: (
                isinstance(app.screen, ConfirmScreen)
                and "in use" in str(app.screen.query_one("Vertical").border_title or "")
            )
        )
        await pilot.press("D")
        await wait_for(lambda: "web01.qcow2" not in _rows(screen.volume_table))
        assert any("volume web01.qcow2: deleted" in told for told in app.told)


async def test_new_pool_needs_an_existing_directory(storage_uri: str, tmp_path: Path) -> None:
    app = _app(storage_uri)
    async with app.run_test(size=(150, 40)) as pilot:
        screen = await _open_storage(app, pilot)
        await pilot.press("n")
        await wait_for(lambda: isinstance(app.screen, FormScreen))
        form = app.screen
        form.query_one("#name", Input).value = "archive"
        form.query_one("#path", Input).value = str(tmp_path / "not-there")
        form.query_one("#path", Input).focus()
        await pilot.press("enter")
        assert "not-there does not exist" in str(form.query_one("#error", Static).render())
        form.query_one("#path", Input).value = str(tmp_path)
        await pilot.press("enter")
        await wait_for(lambda: "test\tarchive" in screen.pools)
        assert screen.pools["test\tarchive"].path == str(tmp_path)


async def test_resize_refuses_shrinking_and_the_test_driver_says_it_cannot(
    storage_uri: str,
) -> None:
    app = _app(storage_uri)
    async with app.run_test(size=(150, 40)) as pilot:
        await _open_storage(app, pilot)
        await pilot.press("tab", "R")
        await wait_for(lambda: isinstance(app.screen, PromptScreen))
        prompt = app.screen
        prompt.query_one(Input).value = "1G"
        await pilot.press("enter")
        assert "shrinking loses data" in str(prompt.query_one("#error", Static).render())
        prompt.query_one(Input).value = "10G"
        await pilot.press("enter")
        # libvirt's own refusal, readable: the test driver cannot resize.
        await wait_for(lambda: any("resize volume scratch.raw" in told for told in app.told))
        assert any("not supported" in told for told in app.told)


async def test_pool_keys_stop_start_autostart_refresh_clone_and_delete(storage_uri: str) -> None:
    app = _app(storage_uri)
    async with app.run_test(size=(150, 40)) as pilot:
        screen = await _open_storage(app, pilot)
        backend = app.ports.storage("test")
        assert backend is not None

        def images() -> object:
            return next(p for p in backend.pools() if p.name == "images")

        await pilot.press("ctrl+k")  # stop: asks first
        await wait_for(lambda: showing(app, ConfirmScreen))
        await pilot.press("y")
        await wait_for(lambda: images().state == "inactive")  # type: ignore[attr-defined]
        await wait_for(lambda: screen.pools["test\timages"].state == "inactive")
        await pilot.press("s")
        await wait_for(lambda: images().state == "running")  # type: ignore[attr-defined]
        await pilot.press("a")
        await wait_for(lambda: images().autostart)  # type: ignore[attr-defined]
        await pilot.press("r")
        await wait_for(lambda: any("pool images: refreshed" in t for t in app.told))

        await wait_for(lambda: len(screen.volumes) == 2)
        await pilot.press("tab", "C")  # clone the highlighted volume
        await wait_for(lambda: isinstance(app.screen, PromptScreen))
        assert app.screen.query_one(Input).value == "scratch-copy.raw"
        await pilot.press("enter")
        await wait_for(lambda: "scratch-copy.raw" in {v.name for v in backend.volumes("images")})

        await pilot.press("shift+tab", "up", "ctrl+d")  # backups, delete: keep files
        await wait_for(lambda: showing(app, ConfirmScreen))
        await pilot.press("y")
        await wait_for(lambda: "backups" not in {p.name for p in backend.pools()})
        await wait_for(lambda: "test\tbackups" not in screen.pools)
        await wait_for(lambda: any("pool backups" in t and "deleted" in t for t in app.told))
        from virtui import background

        # Every storage call has answered (awaited, so the loop takes their results in).
        await wait_for(lambda: background.idle("storage:", timeout=0))
        await pilot.pause()
        assert not any("no pool backups" in t for t in app.told)  # no spurious error


async def test_upload_and_download_are_refused_before_the_form_without_streams(
    storage_uri: str,
) -> None:
    app = _app(storage_uri)
    async with app.run_test(size=(150, 40)) as pilot:
        screen = await _open_storage(app, pilot)
        await pilot.press("u")
        await wait_for(lambda: any("cannot upload on test" in t for t in app.told))
        assert app.screen is screen  # no form was shown
        await wait_for(lambda: len(screen.volumes) == 2)
        await pilot.press("tab", "d")
        await wait_for(lambda: any("cannot download on test" in t for t in app.told))
        assert app.screen is screen
