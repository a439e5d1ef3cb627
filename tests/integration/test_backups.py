"""Backups of a real TCG guest through libvirt's backup API, driven by `virtui backup`
as a timer would run it: full, then incremental after more writes, restored from the
chain and compared with the source disk; verify catches a flipped byte; a checkpoint
deleted by hand makes the next backup full, and says so."""

from __future__ import annotations

import os
import subprocess
import threading
from pathlib import Path

import libvirt
import pytest
from textual.pilot import Pilot

from tests.integration.backup_guests import DISK_MIB, backup_guest, run_backup, writes_past
from tests.tui.helpers import RecordingApp, screen_text, showing, status_text, wait_for
from virtui.backends.backups import all_backups, restore_image
from virtui.backends.libvirt.demo import EmbeddedDemo
from virtui.config.settings import Settings
from virtui.monitor.sessions import open_sessions
from virtui.screens.backups import BackupsScreen
from virtui.screens.confirm import ConfirmScreen

pytestmark = pytest.mark.embed


def test_full_then_incremental_restores_the_disk_as_it_is(
    embed_conn: libvirt.virConnect, embedded_demo: EmbeddedDemo, tmp_path: Path
) -> None:
    os.chmod(tmp_path, 0o755)  # QEMU reaches the image through it
    dom = backup_guest(embed_conn, tmp_path)
    name, uri, store = dom.name(), embedded_demo.uri, tmp_path / "backups"
    writes_past(dom, 100)
    status, said = run_backup("create", "-c", uri, name, "--to", str(store))
    assert status == 0 and said.startswith(f"{name}: ok full crash-consistent, "), said
    writes_past(dom, 1000)  # more writes: the counter byte moves on
    dom.suspend()  # the disk as it is now is what the chain must give back
    status, said = run_backup("create", "-c", uri, name, "--to", str(store))
    assert status == 0 and said.startswith(f"{name}: ok incremental crash-consistent, "), said
    ((_folder, (full, incremental)),) = all_backups(store).items()
    assert incremental.manifest.parent == full.name
    written = incremental.manifest.disks[0]
    print(f"incremental image {written.size} B of a {written.virtual_size} B disk")
    assert written.virtual_size == DISK_MIB << 20
    assert written.size < written.virtual_size // 8  # what changed, not the disk
    restored = tmp_path / "restored.qcow2"
    restore_image(incremental, "vda", restored)
    source = tmp_path / "disk.qcow2"
    compared = subprocess.run(
        ["qemu-img", "compare", "-U", str(restored), str(source)], capture_output=True, text=True
    )
    assert compared.returncode == 0, compared.stdout + compared.stderr
    full_only = subprocess.run(
        ["qemu-img", "compare", "-U", str(full.folder / "vda.qcow2"), str(source)],
        capture_output=True,
        text=True,
    )
    assert full_only.returncode == 1  # the full one alone is older: the chain was needed
    assert (full.folder / "domain.xml").stat().st_mode & 0o777 == 0o600
    assert full.folder.stat().st_mode & 0o777 == 0o700

    assert run_backup("verify", "--to", str(store)) == (
        0,
        f"{name} {full.name}: ok\n{name} {incremental.name}: ok\n",
    )
    image = full.folder / "vda.qcow2"
    data = bytearray(image.read_bytes())
    data[-1] ^= 0xFF  # one flipped byte, past qcow2's tables
    image.write_bytes(bytes(data))
    status, said = run_backup("verify", "--to", str(store))
    assert status == 1
    assert f"{name} {full.name}: BAD: vda.qcow2: its SHA-256 is not the manifest's" in said


def test_a_checkpoint_deleted_by_hand_makes_the_next_backup_full_and_says_so(
    embed_conn: libvirt.virConnect, embedded_demo: EmbeddedDemo, tmp_path: Path
) -> None:
    os.chmod(tmp_path, 0o755)
    dom = backup_guest(embed_conn, tmp_path)
    name, uri, store = dom.name(), embedded_demo.uri, tmp_path / "backups"
    assert run_backup("create", "-c", uri, name, "--to", str(store))[0] == 0
    for checkpoint in dom.listAllCheckpoints():
        checkpoint.delete(0)
    status, said = run_backup("create", "-c", uri, name, "--to", str(store))
    assert status == 0
    assert (
        "ok full" in said and "(no earlier backup with its checkpoint on the domain: full)" in said
    )
    status, said = run_backup("create", "-c", uri, "no-such-domain", "--to", str(store))
    assert status == 1 and said.startswith("no-such-domain: failed: ")


def test_no_space_left_fails_in_a_line_and_leaves_nothing_half_made(
    embed_conn: libvirt.virConnect, embedded_demo: EmbeddedDemo, tmp_path: Path
) -> None:
    os.chmod(tmp_path, 0o755)
    small = tmp_path / "small"
    small.mkdir()
    # Mounted before the guest starts: QEMU runs in a mount namespace of its own, a copy
    # of this one made then.
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(small)], check=True)
    try:
        dom = backup_guest(embed_conn, tmp_path, noise_mib=4)
        name, uri = dom.name(), embedded_demo.uri
        status, said = run_backup("create", "-c", uri, name, "--to", str(small))
        assert status == 1, said
        assert said.startswith(f"{name}: failed: ") and said.count("\n") == 1, said
        assert "No space left on device" in said, said
        assert [p for p in small.rglob("*") if p.is_file()] == []  # nothing half-made
        assert dom.listAllCheckpoints() == []  # nor a checkpoint the next one would trust
        dom.destroy()
    finally:
        subprocess.run(["umount", "-l", str(small)], check=True)
    dom.create()
    status, said = run_backup("create", "-c", uri, name, "--to", str(tmp_path / "roomy"))
    assert status == 0 and f"{name}: ok full" in said, said


def test_a_shut_off_guest_is_copied_whole(
    embed_conn: libvirt.virConnect, embedded_demo: EmbeddedDemo, tmp_path: Path
) -> None:
    os.chmod(tmp_path, 0o755)
    dom = backup_guest(embed_conn, tmp_path, noise_mib=1, running=False)
    status, said = run_backup(
        "create", "-c", embedded_demo.uri, dom.name(), "--to", str(tmp_path / "b")
    )
    assert status == 0
    assert said.startswith(f"{dom.name()}: ok full crash-consistent, ")
    assert "(a shut-off guest's disks are copied whole)" in said
    ((_folder, (backup,)),) = all_backups(tmp_path / "b").items()
    compared = subprocess.run(
        ["qemu-img", "compare", str(backup.folder / "vda.qcow2"), str(tmp_path / "disk.qcow2")],
        capture_output=True,
        text=True,
    )
    assert compared.returncode == 0, compared.stdout


def _console(uri: str, store: Path) -> RecordingApp:
    """The console on the demo's host, backing up to ``store``, polled when asked."""
    settings = Settings(uris=[uri], backup_dir=str(store))
    return RecordingApp(settings, sessions=open_sessions([uri]), auto_poll=False)


async def _ask_to_back_up(app: RecordingApp, pilot: Pilot[None], name: str) -> None:
    """Poll, select the domain called ``name``, press K: its confirmation is in front."""
    await app.poll_now()
    await pilot.press("slash", *name, "enter", "K")
    await wait_for(lambda: showing(app, ConfirmScreen))


async def test_k_backs_the_selected_domain_up_and_says_so(
    embed_conn: libvirt.virConnect, embedded_demo: EmbeddedDemo, tmp_path: Path
) -> None:
    os.chmod(tmp_path, 0o755)
    dom = backup_guest(embed_conn, tmp_path)
    uri, store = embedded_demo.uri, tmp_path / "b"
    app = _console(uri, store)
    async with app.run_test(size=(160, 40)) as pilot:
        await _ask_to_back_up(app, pilot, dom.name())
        await pilot.pause()
        assert "Back up 1 domain to /tmp/" in screen_text(app)
        row = next(
            line
            for line in screen_text(app).splitlines()
            if dom.name() in line and "filter" not in line
        )
        assert row.rstrip().endswith("never"), row  # its BACKUP cell, before
        await pilot.press("y")
        await wait_for(lambda: any("backed up" in t or "failed" in t for t in app.told))

        def row_says_just_now() -> bool:
            app.redraw()
            lines = screen_text(app).splitlines()
            return any(
                dom.name() in line and "filter" not in line and line.rstrip().endswith(" 0m")
                for line in lines
            )

        await wait_for(row_says_just_now)  # the ages are read again after a backup
        # The demo's guests were never backed up: the header says how many.
        assert "backups: 0 older than 26h, " in screen_text(app)
    assert any(t.startswith(f"{dom.name()}: backed up, full, crash-consistent, ") for t in app.told)
    (entry,) = [e for e in app.timeline.entries if e.kind == "backup"]
    assert entry.domain == dom.name() and entry.detail.startswith(f"{dom.name()}: backed up")
    ((_folder, (backup,)),) = all_backups(store).items()
    assert backup.manifest.uuid == dom.UUIDString()


async def test_k_without_a_place_for_backups_says_where_to_set_one(
    embedded_demo: EmbeddedDemo,
) -> None:
    uri = embedded_demo.uri
    app = RecordingApp(Settings(uris=[uri]), sessions=open_sessions([uri]), auto_poll=False)
    async with app.run_test(size=(160, 40)) as pilot:
        await app.poll_now()
        await pilot.press("K")
        await wait_for(lambda: bool(app.told))
    assert app.told == ["say where backups go: [backup] dir in config.toml (see docs/backup.md)"]


def test_a_cancelled_backup_leaves_nothing_and_the_next_one_is_full(
    embed_conn: libvirt.virConnect, embedded_demo: EmbeddedDemo, tmp_path: Path
) -> None:
    """Cancelled (K again in the console) as its job runs: the job is aborted, its
    folder and its checkpoint are gone, and the next backup is full."""
    from virtui.backends.backups import BackupError
    from virtui.backends.libvirt.backup import back_up

    os.chmod(tmp_path, 0o755)
    dom = backup_guest(embed_conn, tmp_path, noise_mib=4)
    store = tmp_path / "b"
    cancel = threading.Event()
    cancel.set()  # seen at the job's first reading
    with pytest.raises(BackupError, match=r"^cancelled: what it wrote is removed$"):
        back_up(dom, store, cancel=cancel)
    assert [p for p in store.rglob("*") if p.is_file()] == []
    assert dom.listAllCheckpoints() == []
    status, said = run_backup("create", "-c", embedded_demo.uri, dom.name(), "--to", str(store))
    assert status == 0 and "ok full" in said, said


async def test_the_backups_screen_shows_a_backup_under_way_and_c_cancels_it(
    embed_conn: libvirt.virConnect, embedded_demo: EmbeddedDemo, tmp_path: Path
) -> None:
    """K, then 7: the backup under way is a row of the backups screen with its progress;
    c there cancels it, as K again would (nothing of it stays)."""
    os.chmod(tmp_path, 0o755)
    dom = backup_guest(embed_conn, tmp_path, noise_mib=500, disk_mib=512)  # seconds to copy
    uri, store = embedded_demo.uri, tmp_path / "b"
    app = _console(uri, store)
    async with app.run_test(size=(160, 40)) as pilot:
        await _ask_to_back_up(app, pilot, dom.name())
        await pilot.press("y", "7")
        await wait_for(lambda: isinstance(app.screen, BackupsScreen))
        await wait_for(lambda: "⟳ under way" in screen_text(app))
        assert "1 under way" in status_text(app)
        await pilot.press("c")
        await wait_for(lambda: any("backup failed" in t for t in app.told))
        await wait_for(lambda: "⟳ under way" not in screen_text(app))
    assert any(
        t == f"{dom.name()}: backup failed: cancelled: what it wrote is removed" for t in app.told
    ), app.told
    assert [p for p in store.rglob("*") if p.is_file()] == []
    assert dom.listAllCheckpoints() == []
