"""A backup restored through the review desk, on a real libvirtd with a dir pool: full
and incremental backups of a running guest the BIOS writes to, `virtui backup restore`
drafts a new domain, the merge builds its disk from the chain (identical to the source
disk, which is paused), and the restored guest boots from it and writes. A flipped byte
in the chain stops the merge before any volume is made."""

from __future__ import annotations

import itertools
import os
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import libvirt
import pytest

from tests.integration.backup_guests import backup_guest, run_backup, writes_past
from tests.integration.daemons import Daemon, OneHost, daemons_available
from tests.integration.guests import define_dir_pool, remove_dir_pool
from tests.requirements import require
from tests.tui.helpers import RecordingApp, status_text, wait_for
from virtui.backends.backups import BackupError, all_backups
from virtui.backends.libvirt.backend import LibvirtBackend
from virtui.backends.libvirt.backup import back_up
from virtui.config.settings import Settings
from virtui.monitor.sessions import open_sessions
from virtui.review.desk import ReviewDesk, ReviewError, ReviewRules
from virtui.review.model import State
from virtui.review.store import ReviewStore
from virtui.screens.backups import BackupsScreen

_pools = itertools.count(1)


@pytest.fixture
def restore_pool(storage_daemon: Daemon, tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A started dir pool for restored disks: (name, directory); its guests removed."""
    name = f"restored{next(_pools)}"
    folder = tmp_path / name
    folder.mkdir()
    os.chmod(tmp_path, 0o755)  # QEMU reaches the images through it
    define_dir_pool(storage_daemon.qemu_uri, name, folder)
    yield name, folder
    remove_dir_pool(storage_daemon.qemu_uri, name, "newvm")


def _blocks_written(dom: libvirt.virDomain, target: str, count: int, timeout: float) -> bool:
    """Whether the guest writes ``count`` times to ``target`` within ``timeout``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if dom.isActive() and dom.blockStats(target)[2] >= count:
            return True
        time.sleep(0.05)
    return False


def test_a_restore_is_drafted_merged_from_the_chain_and_boots(
    storage_daemon: Daemon, restore_pool: tuple[str, Path], tmp_path: Path
) -> None:
    pool, folder = restore_pool
    uri, store = storage_daemon.qemu_uri, tmp_path / "backups"
    conn = libvirt.open(uri)
    (tmp_path / "guest").mkdir(mode=0o755)
    dom = backup_guest(conn, tmp_path / "guest", prefix="newvm-src-")
    try:
        writes_past(dom, 100)
        status, said = run_backup("create", "-c", uri, dom.name(), "--to", str(store))
        assert status == 0 and "ok full" in said, said
        writes_past(dom, 1000)
        dom.suspend()  # the disk as it is now is what the restore must give back
        status, said = run_backup("create", "-c", uri, dom.name(), "--to", str(store))
        assert status == 0 and "ok incremental" in said, said
        ((_domain_folder, (full, incremental)),) = all_backups(store).items()

        reviews = str(tmp_path / "r.db")
        status, said = run_backup(
            "restore", "-c", uri, dom.name(), "--as", "newvm-back", "--pool", pool,
            "--to", str(store), "--store", reviews,
        )  # fmt: skip
        assert status == 0, said
        head, *summary, tail = said.splitlines()
        assert head.startswith("#1 drafted: newvm-back: restored from ")
        assert head.endswith(f" {incremental.name}")
        assert summary == [
            "  define new domain newvm-back",
            f"  create volume {pool}/newvm-back-vda.qcow2: 16MiB qcow2 restored from backup "
            f"{incremental.folder.parent.name}/{incremental.name}/vda",
        ]
        assert tail == "review and merge it: virtui review open 1; virtui review merge 1"
        assert os.listdir(folder) == []  # a draft makes nothing

        backend = LibvirtBackend(uri, "h1")
        backend.connect()
        desk = ReviewDesk(ReviewStore(Path(reviews)), OneHost(backend), ReviewRules(), user="a@b")
        desk.backup_root = store
        try:
            desk.publish(1)
            result = desk.merge(1)
            assert result.change.state is State.MERGED
            restored = conn.lookupByName("newvm-back")
            assert restored.UUIDString() != dom.UUIDString()
            image = folder / "newvm-back-vda.qcow2"
            compared = subprocess.run(
                ["qemu-img", "compare", "-U", str(image), str(tmp_path / "guest" / "disk.qcow2")],
                capture_output=True,
                text=True,
            )
            assert compared.returncode == 0, compared.stdout + compared.stderr
            restored.create()  # its BIOS reads the restored boot sector, and writes
            assert _blocks_written(restored, "vda", 50, timeout=60), "it did not boot"

            # One flipped byte in the chain: the merge verifies it and makes nothing.
            status, said = run_backup(
                "restore", "-c", uri, dom.name(), "--as", "newvm-bad", "--pool", pool,
                "--to", str(store), "--store", reviews,
            )  # fmt: skip
            assert status == 0, said
            data = bytearray((full.folder / "vda.qcow2").read_bytes())
            data[-1] ^= 0xFF
            (full.folder / "vda.qcow2").write_bytes(bytes(data))
            desk.publish(2)
            with pytest.raises(ReviewError, match=r"is damaged: vda.qcow2: its SHA-256"):
                desk.merge(2)
            assert sorted(os.listdir(folder)) == ["newvm-back-vda.qcow2"]
            assert desk.get(2).state is not State.MERGED
        finally:
            desk.close()
            backend.close()
    finally:
        if dom.isActive():
            dom.destroy()
        dom.undefineFlags(libvirt.VIR_DOMAIN_UNDEFINE_CHECKPOINTS_METADATA)
        conn.close()


def test_a_restore_names_only_backups_under_the_desks_own_folder(
    storage_daemon: Daemon, restore_pool: tuple[str, Path], tmp_path: Path
) -> None:
    """A volume's ``restore`` is data from whoever drafted it: a path out of the desk's
    backups, or a folder that is not a backup, is refused at draft."""
    from virtui.model.newguest import NewVolume
    from virtui.review.newguest import GuestSpec, domain_xml

    pool, _folder = restore_pool
    backend = LibvirtBackend(storage_daemon.qemu_uri, "h1")
    backend.connect()
    desk = ReviewDesk(ReviewStore(tmp_path / "r.db"), OneHost(backend), ReviewRules(), user="a@b")
    desk.backup_root = tmp_path / "backups"
    (tmp_path / "backups").mkdir()
    xml = domain_xml(GuestSpec("newvm-evil", 1, 64, "generic"))
    try:
        for ref, why in (
            ("../etc/vda", "'..' is not a plain name"),
            ("web-1/../vda", "'..' is not a plain name"),
            ("/etc/shadow", "domain folder '' is not a plain name"),
            ("etc/shadow", "does not name DOMAIN-FOLDER/BACKUP/DISK"),
            ("web-1/20261207T031500Z-full/vda", "no readable manifest"),
        ):
            volume = NewVolume(pool, "newvm-evil.qcow2", 1 << 20, "qcow2", restore=ref)
            with pytest.raises(ReviewError, match=why):
                desk.draft_new("h1", xml, [volume])
        desk.backup_root = None  # and no [backup] dir where the desk runs: no restore
        with pytest.raises(ReviewError, match=r"no restore: \[backup\] dir is not set"):
            desk.draft_new("h1", xml, [volume])
    finally:
        desk.close()
        backend.close()


def test_a_daemon_killed_mid_backup_is_one_line_and_the_next_backup_is_full(
    tmp_path: Path,
) -> None:
    """libvirtd SIGKILLed while the job copies: one line says so, nothing of the backup
    stays, what could not be cleaned up is named; once the daemon is back the next
    backup is full and says why."""
    require(daemons_available(), "start libvirtd")
    daemon = Daemon(keep_state=True)
    daemon.start()
    os.chmod(tmp_path, 0o755)
    (tmp_path / "guest").mkdir(mode=0o755)
    conn = libvirt.open(daemon.qemu_uri)
    dom = backup_guest(conn, tmp_path / "guest", prefix="newvm-", noise_mib=200, disk_mib=256)
    name, store = dom.name(), tmp_path / "backups"
    killed: list[tuple[int, int]] = []

    def kill_at_first_progress(done: int, total: int) -> None:
        if not killed:
            killed.append((done, total))
            daemon.kill()

    try:
        with pytest.raises(BackupError) as failed:
            back_up(dom, store, progress=kill_at_first_progress, cancel=threading.Event())
        assert killed and killed[0][0] < killed[0][1], killed  # killed while it copied
        said = str(failed.value)
        assert "\n" not in said
        assert said.startswith("the connection to the host was lost: "), said
        assert "what it wrote is removed" in said and "checkpoint virtui-" in said, said
        assert [p for p in store.rglob("*") if p.is_file()] == []
        daemon.start()
        status, said = run_backup("create", "-c", daemon.qemu_uri, name, "--to", str(store))
        assert status == 0, said
        assert "ok full" in said and "(no earlier backup with its checkpoint" in said, said
        again = libvirt.open(daemon.qemu_uri)
        names = [c.getName() for c in again.lookupByName(name).listAllCheckpoints()]
        ((_folder, (backup,)),) = all_backups(store).items()
        assert names == [backup.manifest.checkpoint]  # the orphan is gone too
        again.close()
    finally:
        daemon.remove()
        subprocess.run(["pkill", "-f", f"guest={name}"], check=False)


def test_backups_go_into_a_dir_pool_named_by_config(
    storage_daemon: Daemon, restore_pool: tuple[str, Path], tmp_path: Path
) -> None:
    """``[backup] pool``: the pool's folder on the host holds the backups; a pool that is
    not started is one line."""
    pool, folder = restore_pool
    uri = storage_daemon.qemu_uri
    conn = libvirt.open(uri)
    (tmp_path / "guest").mkdir(mode=0o755)
    dom = backup_guest(conn, tmp_path / "guest", prefix="newvm-", running=False)
    config = Path(os.environ["XDG_CONFIG_HOME"]) / "virtui" / "config.toml"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text(f'[backup]\npool = "{pool}"\n')
    try:
        status, said = run_backup("create", "-c", uri, dom.name())
        assert status == 0 and "ok full" in said, said
        ((where, (backup,)),) = all_backups(folder).items()
        assert where.parent == folder and backup.manifest.domain == dom.name()
        conn.storagePoolLookupByName(pool).destroy()
        status, said = run_backup("create", "-c", uri, dom.name())
        assert (status, said) == (2, f"virtui backup: pool {pool} is not started\n")
        conn.storagePoolLookupByName(pool).create(0)
    finally:
        dom.undefine()
        for made in folder.iterdir():
            shutil.rmtree(made)  # a folder there is a volume the pool cannot delete
        conn.storagePoolLookupByName(pool).refresh(0)
        conn.close()


async def test_the_console_finds_the_pool_backups_go_to(
    storage_daemon: Daemon, restore_pool: tuple[str, Path]
) -> None:
    """``[backup] pool`` in the console: the local host names the pool's folder, and
    the backups screen reads it."""
    pool, folder = restore_pool
    uri = storage_daemon.qemu_uri
    settings = Settings(uris=[uri], backup_pool=pool)
    app = RecordingApp(settings, sessions=open_sessions([uri]), auto_poll=False)
    async with app.run_test(size=(150, 30)) as pilot:
        await app.poll_now()
        await pilot.press("7")
        await wait_for(lambda: isinstance(app.screen, BackupsScreen))
        await wait_for(lambda: f"0 backups of 0 domains in {folder}" in status_text(app))
    assert app.backups.root == str(folder)
