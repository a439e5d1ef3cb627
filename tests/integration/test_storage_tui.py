"""Uploads and downloads through the storage screen, against a real libvirtd."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import libvirt
import pytest
from textual.widgets import Input, ProgressBar, Static

from tests.integration.daemons import Daemon
from tests.tui.helpers import RecordingApp, start_upload, wait_for
from virtui.config.settings import Settings
from virtui.monitor.sessions import open_sessions
from virtui.screens.form import FormScreen
from virtui.screens.prompt import PromptScreen
from virtui.screens.storage import StorageScreen
from virtui.screens.transfer import TransferScreen

MIB = 1024 * 1024


@pytest.fixture
def pool_dir(storage_check: libvirt.virConnect, tmp_path: Path) -> Iterator[Path]:
    directory = tmp_path / "tui-pool"
    directory.mkdir()
    pool = storage_check.storagePoolDefineXML(
        f"<pool type='dir'><name>tui</name><target><path>{directory}</path></target></pool>"
    )
    pool.create(0)
    yield directory
    pool.refresh(0)
    for volume in pool.listAllVolumes(0):
        volume.delete(0)
    pool.destroy()
    pool.undefine()


async def _storage(app: RecordingApp, pilot: object) -> StorageScreen:
    await app.poll_now()
    await pilot.press("3")  # type: ignore[attr-defined]
    await wait_for(lambda: isinstance(app.screen, StorageScreen))
    screen = app.screen
    assert isinstance(screen, StorageScreen)
    await wait_for(lambda: "store\ttui" in screen.pools)
    while screen.selected_pool_key() != "store\ttui":
        await pilot.press("down")  # type: ignore[attr-defined]
    return screen


def _app(daemon: Daemon) -> RecordingApp:
    uris = [daemon.qemu_uri]
    return RecordingApp(
        Settings(uris=uris, names={daemon.qemu_uri: "store"}),
        sessions=open_sessions(uris, names={daemon.qemu_uri: "store"}),
        auto_poll=False,
    )


async def test_upload_then_download_with_progress(
    storage_daemon: Daemon, pool_dir: Path, tmp_path: Path
) -> None:
    source = tmp_path / "disk.img"
    source.write_bytes(os.urandom(24 * MIB))
    app = _app(storage_daemon)
    async with app.run_test(size=(150, 40)) as pilot:
        screen = await _storage(app, pilot)
        await pilot.press("u")
        await wait_for(lambda: isinstance(app.screen, FormScreen))
        app.screen.query_one("#path", Input).value = str(source)
        app.screen.query_one("#name", Input).focus()
        await pilot.press("enter")  # the volume is named after the file
        await wait_for(lambda: any("uploaded 24MiB (raw)" in told for told in app.told))
        transfer = app.pushed[-1]
        assert isinstance(transfer, TransferScreen)
        assert transfer.last is not None and transfer.last.done == transfer.last.total
        assert (pool_dir / "disk.img").read_bytes() == source.read_bytes()
        await wait_for(lambda: "disk.img" in {v.name for v in screen.volumes})

        await pilot.press("tab")
        back = tmp_path / "back.img"
        await pilot.press("d")
        await wait_for(lambda: isinstance(app.screen, PromptScreen))
        app.screen.query_one(Input).value = str(source)  # exists: refused
        await pilot.press("enter")
        error = str(app.screen.query_one("#error", Static).render())
        assert "already exists: choose a new name (nothing is overwritten)" in error
        app.screen.query_one(Input).value = str(back)
        await pilot.press("enter")
        await wait_for(lambda: any("downloaded 24MiB" in told for told in app.told))
        assert back.read_bytes() == source.read_bytes()


async def test_cancel_stops_an_upload_and_keeps_nothing(
    storage_daemon: Daemon, storage_check: libvirt.virConnect, pool_dir: Path, tmp_path: Path
) -> None:
    source = tmp_path / "huge.img"
    with source.open("wb") as sparse:  # 4 GiB of holes: read fast, sent byte by byte
        sparse.truncate(4096 * MIB)
    app = _app(storage_daemon)
    async with app.run_test(size=(150, 40)) as pilot:
        await _storage(app, pilot)
        transfer = await start_upload(app, pilot, source)
        assert transfer.query_one(ProgressBar).total == 4096 * MIB
        await pilot.press("c")
        await wait_for(lambda: any("cancelled: nothing kept" in told for told in app.told))
        assert not isinstance(app.screen, TransferScreen)
    pool = storage_check.storagePoolLookupByName("tui")
    pool.refresh(0)
    assert pool.listVolumes() == []
    assert list(pool_dir.iterdir()) == []


async def test_a_console_that_leaves_cancels_its_upload_and_keeps_nothing(
    storage_daemon: Daemon, storage_check: libvirt.virConnect, pool_dir: Path, tmp_path: Path
) -> None:
    """Leaving (q, a closed terminal, SIGTERM: each asks the app to exit) with an upload
    running cancels it: the volume it made is deleted before the process ends, not left
    half-written for the next start to find."""
    source = tmp_path / "huge.img"
    with source.open("wb") as sparse:
        sparse.truncate(4096 * MIB)
    app = _app(storage_daemon)
    async with app.run_test(size=(150, 40)) as pilot:
        await _storage(app, pilot)
        transfer = await start_upload(app, pilot, source)
        assert (pool_dir / "huge.img").exists()
        app.exit()
    app.shutdown()  # as `virtui` does once the app has left
    assert transfer.cancelled.is_set()
    pool = storage_check.storagePoolLookupByName("tui")
    pool.refresh(0)
    assert pool.listVolumes() == []
    assert list(pool_dir.iterdir()) == []
