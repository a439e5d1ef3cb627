"""An operator's worst day, on real libvirtd daemons: frozen, killed and hostile.

Each daemon here is the test's own (they are frozen and killed), in a private mount
namespace as tests/integration/daemons.py starts them.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import libvirt
import pytest

from tests.integration.daemons import Daemon, daemons_available
from tests.integration.guests import define_dir_pool, define_guest
from tests.integration.tmux import require_tmux
from tests.requirements import require
from virtui.backends.base import BackendError
from virtui.backends.libvirt.backend import LibvirtBackend, keepalive_window
from virtui.model.storage import TransferProgress

MIB = 1024 * 1024


def _daemon(*, keep_config: bool = False, network: bool = False) -> Daemon:
    require(daemons_available(), "start libvirtd")
    daemon = Daemon(keep_config=keep_config, network=network)
    daemon.start()
    return daemon


@pytest.fixture
def daemon() -> Iterator[Daemon]:
    daemon = _daemon(keep_config=True)
    yield daemon
    daemon.thaw()
    daemon.remove()


# Storage reads in flight on a frozen daemon while the connection is replaced (what the
# poll thread does when it reconnects): before, libvirt freed the connection under the
# six calls and the process died with SIGSEGV. In a child, so a crash is an exit status.
_FROZEN = textwrap.dedent(
    """
    import os, signal, sys, threading, time
    from virtui.backends.base import BackendError
    from virtui.backends.libvirt.backend import LibvirtBackend

    uri, pid = sys.argv[1], int(sys.argv[2])
    backend = LibvirtBackend(uri, "h")
    backend.connect()
    for round_ in range(5):
        os.kill(pid, signal.SIGSTOP)
        owner = backend._link.owner
        def read():
            try:
                backend.storage_port().pools(); backend.poll()
            except BackendError:
                pass
        threads = [threading.Thread(target=read) for _ in range(6)]
        for thread in threads:
            thread.start()
        while owner.calls_in_flight < 6:
            time.sleep(0.01)
        backend.close()  # a reconnect closes the old connection...
        assert not owner.closed  # ...but not while six calls use it
        os.kill(pid, signal.SIGCONT)
        for thread in threads:
            thread.join(30)
        assert owner.closed and owner.calls_in_flight == 0
        backend.connect()
        assert backend.storage_port().pools() is not None
    print("survived 5 rounds")
    """
)


def test_a_frozen_daemon_never_has_its_connection_closed_under_a_call(daemon: Daemon) -> None:
    assert daemon.process is not None
    done = subprocess.run(
        [sys.executable, "-c", _FROZEN, daemon.qemu_uri, str(daemon.process.pid)],
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, (done.returncode, done.stderr[-2000:])
    assert "survived 5 rounds" in done.stdout


def test_an_upload_cut_by_a_killed_daemon_is_named_and_its_volume_deleted_when_back(
    daemon: Daemon, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    directory = tmp_path / "pool"
    directory.mkdir()
    define_dir_pool(daemon.qemu_uri, "cut", directory)
    source = tmp_path / "big.img"
    with source.open("wb") as file:
        file.truncate(200 * MIB)
    backend = LibvirtBackend(daemon.qemu_uri, "h")
    backend.connect()

    def progress(done: TransferProgress) -> None:
        if done.done >= 77 * MIB and daemon.process is not None:
            daemon.kill()  # kill -9 of libvirtd at ~77 MiB

    with pytest.raises(BackendError) as refused:
        backend.storage_port().upload_volume(
            "cut", "big.img", str(source), progress, threading.Event()
        )
    message = refused.value.message
    assert "upload of big.img did not finish" in message
    assert "cut/big.img could not be deleted now and is deleted when h answers again" in message
    assert (directory / "big.img").exists()  # left by the dead daemon
    backend.close()

    daemon.start()
    readonly = LibvirtBackend(daemon.qemu_uri, "ro", readonly=True)
    readonly.connect()
    try:
        listed = {v.name: v for v in readonly.storage_port().volumes("cut")}
        assert listed["big.img"].incomplete  # "incomplete upload" on the storage screen
    finally:
        readonly.close()
    with caplog.at_level(logging.WARNING, logger="virtui"):
        backend.connect()
    try:
        assert not (directory / "big.img").exists()
        assert "deleted cut/big.img: an upload that did not finish" in caplog.text
        assert [v.name for v in backend.storage_port().volumes("cut")] == []
    finally:
        backend.close()


def test_a_clone_cut_by_a_killed_daemon_names_its_orphans_and_copies_nothing_locally(
    daemon: Daemon, tmp_path: Path
) -> None:
    directory = tmp_path / "pool"
    directory.mkdir()
    define_dir_pool(daemon.qemu_uri, "images", directory)
    conn = libvirt.open(daemon.qemu_uri)
    try:
        dom = define_guest(conn, directory)
        disk = Path(dom.XMLDesc(0).split("<source file='")[1].split("'")[0])
        with disk.open("r+b") as image:  # data, so the copy takes a moment
            image.seek(0, 2)
            image.write(os.urandom(64 * MIB) * 6)
        conn.storagePoolLookupByName("images").refresh(0)
        uuid = dom.UUIDString()
    finally:
        conn.close()
    backend = LibvirtBackend(daemon.qemu_uri, "h")
    backend.connect()
    target = directory / f"copy{disk.suffix}"

    def kill_when_copying() -> None:
        deadline = time.monotonic() + 30
        while not target.exists() and time.monotonic() < deadline:
            time.sleep(0.005)
        daemon.kill()

    killer = threading.Thread(target=kill_when_copying)
    killer.start()
    with pytest.raises(BackendError) as refused:
        backend.domain_port().clone(uuid, "copy")
    killer.join()
    message = refused.value.message
    assert "clone" in message and "copy" in message
    if target.exists():  # the daemon died before it could remove its half-made copy
        assert str(target) in message and "delete it by hand" in message
    assert not any(p.name.startswith("copy") and p != target for p in directory.iterdir())
    backend.close()


ESCAPES = "a\x1b]0;pwned\x07\x1b[2J"


def test_an_escape_named_domain_reaches_no_terminal_raw(daemon: Daemon, tmp_path: Path) -> None:
    conn = libvirt.open(daemon.qemu_uri)
    try:
        dom = define_guest(conn, tmp_path)
        # As virsh domrename x $'a\e]0;pwned\a\e[2J' (shut off: libvirt cannot start
        # it any more, as its XML cannot hold the character; it is listed all the same).
        dom.rename(ESCAPES, 0)
    finally:
        conn.close()
    env = {
        **os.environ,
        "XDG_STATE_HOME": str(tmp_path / "state"),
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
    }
    batch = subprocess.run(
        [
            sys.executable,
            "-m",
            "virtui",
            "top",
            "--batch",
            "-n",
            "1",
            "-d",
            "0.5",
            "-c",
            daemon.qemu_uri,
        ],
        capture_output=True,
        env=env,
        timeout=60,
    )
    assert batch.returncode == 0, batch.stderr
    assert b"\x1b" not in batch.stdout and b"\x07" not in batch.stdout
    assert b"a\\x1b]0;pwned\\x07\\x1b[2J" in batch.stdout
    require_tmux()
    server = f"vt-esc-{os.getpid()}"
    command = f"{sys.executable} -m virtui -c '{daemon.qemu_uri}'"
    tmux = ["tmux", "-L", server]
    subprocess.run(
        [
            *tmux,
            "new-session",
            "-d",
            "-x",
            "120",
            "-y",
            "30",
            "-e",
            f"XDG_STATE_HOME={env['XDG_STATE_HOME']}",
            "-e",
            f"XDG_CONFIG_HOME={env['XDG_CONFIG_HOME']}",
            command,
        ],
        check=True,
    )
    try:
        title = subprocess.run(
            [*tmux, "display", "-p", "#{pane_title}"], capture_output=True, text=True
        ).stdout
        deadline = time.monotonic() + 30
        pane = ""
        while "a\\x1b]0;pwned" not in pane and time.monotonic() < deadline:
            pane = subprocess.run(
                [*tmux, "capture-pane", "-p"], capture_output=True, text=True
            ).stdout
            time.sleep(0.2)
        assert "a\\x1b]0;pwned\\x07\\x1b[2J" in pane  # shown, made visible
        assert "virtui" in pane  # the header was not blanked
        after = subprocess.run(
            [*tmux, "display", "-p", "#{pane_title}"], capture_output=True, text=True
        ).stdout
        assert "pwned" not in after and after == title
    finally:
        subprocess.run([*tmux, "kill-server"], capture_output=True)


async def test_cancel_answers_without_waiting_for_a_frozen_daemon(
    daemon: Daemon, tmp_path: Path
) -> None:

    from tests.tui.helpers import RecordingApp, start_upload, wait_for
    from virtui.config.settings import Settings
    from virtui.monitor.sessions import open_sessions
    from virtui.screens.storage import StorageScreen
    from virtui.screens.transfer import TransferScreen

    directory = tmp_path / "pool"
    directory.mkdir()
    define_dir_pool(daemon.qemu_uri, "frozen", directory)
    source = tmp_path / "huge.img"
    with source.open("wb") as sparse:
        sparse.truncate(4096 * MIB)
    names = {daemon.qemu_uri: "h"}
    app = RecordingApp(
        Settings(uris=[daemon.qemu_uri], names=names),
        sessions=open_sessions([daemon.qemu_uri], names=names),
        auto_poll=False,
    )
    async with app.run_test(size=(150, 40)) as pilot:
        await app.poll_now()
        await pilot.press("3")
        await wait_for(lambda: isinstance(app.screen, StorageScreen))
        screen = app.screen
        assert isinstance(screen, StorageScreen)
        await wait_for(lambda: "h\tfrozen" in screen.pools)
        while screen.selected_pool_key() != "h\tfrozen":
            await pilot.press("down")
        await start_upload(app, pilot, source)
        daemon.freeze()
        await pilot.press("c")
        # Answered without the daemon: a call waiting on a frozen daemon ends only when
        # keepalive gives up on the connection, and then says the connection was lost.
        window = keepalive_window()
        await wait_for(lambda: not isinstance(app.screen, TransferScreen), timeout=window / 2)
        assert any("does not answer" in told for told in app.told)
        daemon.thaw()  # the transfer ends now, and deletes what it made
        await wait_for(lambda: any("cancelled: nothing kept" in t for t in app.told), 60)
    assert list(directory.iterdir()) == []


async def test_screens_that_poll_keep_one_read_in_flight_on_a_frozen_daemon(
    daemon: Daemon, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.tui.helpers import RecordingApp, wait_for
    from virtui import background
    from virtui.config.settings import Settings
    from virtui.monitor.sessions import open_sessions
    from virtui.screens.storage import StorageScreen
    from virtui.screens.storage import view as storage_view

    monkeypatch.setattr(storage_view, "RELOAD_EVERY_S", 0.1)  # ask often: a read must not pile up
    directory = tmp_path / "pool"
    directory.mkdir()
    define_dir_pool(daemon.qemu_uri, "p", directory)
    names = {daemon.qemu_uri: "h"}
    app = RecordingApp(
        Settings(uris=[daemon.qemu_uri], names=names, delay=0.5),
        sessions=open_sessions([daemon.qemu_uri], names=names),
    )
    async with app.run_test(size=(150, 40)) as pilot:
        await app.poll_now()
        await pilot.press("3")
        await wait_for(lambda: isinstance(app.screen, StorageScreen))
        screen = app.screen
        assert isinstance(screen, StorageScreen)
        for _round in range(5):
            await wait_for(lambda: "h\tp" in screen.pools)
            daemon.freeze()
            deadline = time.monotonic() + 1.5
            while time.monotonic() < deadline:
                assert background.running("storage:pools:h") <= 1
                assert background.running("poll:h") <= 1
                await pilot.pause(0.1)
            daemon.thaw()
            await wait_for(lambda: background.idle("storage:pools:h", timeout=0), 30)
        assert app.is_running


def test_a_snapshot_cut_off_mid_request_is_reported_unknown_not_failed(
    daemon: Daemon, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    conn = libvirt.open(daemon.qemu_uri)
    try:
        uuid = define_guest(conn, tmp_path).UUIDString()
    finally:
        conn.close()
    backend = LibvirtBackend(daemon.qemu_uri, "h")
    backend.connect()
    frozen = threading.Event()
    lookup = backend._domains._domain

    def lookup_then_freeze(wanted: str) -> libvirt.virDomain:
        dom = lookup(wanted)
        daemon.freeze()  # the snapshot request that follows gets no answer...
        frozen.set()
        return dom

    monkeypatch.setattr(backend._domains, "_domain", lookup_then_freeze)
    outcome: list[BaseException] = []

    def take() -> None:
        try:
            backend.domain_port().create_snapshot(uuid, "s1")
        except BackendError as error:
            outcome.append(error)

    taker = threading.Thread(target=take)
    taker.start()
    assert frozen.wait(10)
    daemon.kill()  # ...and the daemon dies: libvirt may or may not have taken it
    taker.join(30)
    assert outcome, "the snapshot call did not come back"
    message = str(getattr(outcome[0], "message", outcome[0]))
    assert "outcome unknown" in message and "check the list when it is back" in message
    backend.close()
