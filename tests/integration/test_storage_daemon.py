"""Storage operations against a real libvirtd with dir pools in a temporary directory.

Every change is checked through a separate plain libvirt connection and on the
filesystem, not through virtui's own reading of it.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import libvirt
import pytest

from tests.integration.daemons import Daemon
from virtui.backends.base import BackendError
from virtui.backends.libvirt.backend import LibvirtBackend
from virtui.model.storage import TransferProgress

MIB = 1024 * 1024


@pytest.fixture
def backend(storage_daemon: Daemon) -> Iterator[LibvirtBackend]:
    backend = LibvirtBackend(storage_daemon.qemu_uri, "store")
    backend.connect()
    yield backend
    backend.close()


@pytest.fixture
def pool(
    backend: LibvirtBackend, storage_check: libvirt.virConnect, tmp_path: Path
) -> Iterator[tuple[str, Path]]:
    """A started dir pool over a fresh directory, removed afterwards."""
    directory = tmp_path / "pool"
    directory.mkdir()
    name = f"p{time.monotonic_ns() % 10**9}"
    backend.storage_port().create_pool(name, str(directory))
    yield name, directory
    try:
        pool = storage_check.storagePoolLookupByName(name)
    except libvirt.libvirtError:
        return
    for volume in pool.listAllVolumes(0) if pool.isActive() else []:
        volume.delete(0)
    if pool.isActive():
        pool.destroy()
    pool.undefine()


def test_a_dir_pool_is_created_started_and_set_to_autostart(
    backend: LibvirtBackend, storage_check: libvirt.virConnect, pool: tuple[str, Path]
) -> None:
    name, directory = pool
    real = storage_check.storagePoolLookupByName(name)
    assert real.isActive() and real.autostart() and real.isPersistent()
    listed = {p.name: p for p in backend.storage_port().pools()}[name]
    assert (listed.type, listed.state, listed.path) == ("dir", "running", str(directory))
    assert listed.capacity > 0 and listed.available > 0


def test_pool_commands_change_the_real_pool(
    backend: LibvirtBackend, storage_check: libvirt.virConnect, pool: tuple[str, Path]
) -> None:
    name, directory = pool
    backend.storage_port().pool_command(name, "noautostart")
    assert not storage_check.storagePoolLookupByName(name).autostart()
    backend.storage_port().pool_command(name, "stop")
    assert not storage_check.storagePoolLookupByName(name).isActive()
    assert {p.name: p for p in backend.storage_port().pools()}[name].state == "inactive"
    backend.storage_port().pool_command(name, "start")
    assert storage_check.storagePoolLookupByName(name).isActive()
    # A file dropped in by hand shows after a refresh.
    (directory / "dropped.img").write_bytes(b"\0" * 4096)
    assert "dropped.img" not in {v.name for v in backend.storage_port().volumes(name)}
    backend.storage_port().pool_command(name, "refresh")
    assert "dropped.img" in {v.name for v in backend.storage_port().volumes(name)}


def test_pool_creation_refuses_a_missing_directory_and_a_taken_name(
    backend: LibvirtBackend,
    storage_check: libvirt.virConnect,
    pool: tuple[str, Path],
    tmp_path: Path,
) -> None:
    name, directory = pool
    with pytest.raises(BackendError, match="does not exist"):
        backend.storage_port().create_pool("ghost", str(tmp_path / "missing"))
    with pytest.raises(BackendError, match="already exists"):
        backend.storage_port().create_pool(name, str(directory))
    assert "ghost" not in [p.name() for p in storage_check.listAllStoragePools(0)]


def test_volumes_are_created_resized_cloned_and_deleted_on_disk(
    backend: LibvirtBackend, storage_check: libvirt.virConnect, pool: tuple[str, Path]
) -> None:
    name, directory = pool
    backend.storage_port().create_volume(name, "disk.qcow2", 64 * MIB, "qcow2")
    backend.storage_port().create_volume(name, "plain.raw", 16 * MIB, "raw")
    assert (directory / "disk.qcow2").read_bytes()[:4] == b"QFI\xfb"
    assert (directory / "plain.raw").stat().st_size == 16 * MIB
    volumes = {v.name: v for v in backend.storage_port().volumes(name)}
    assert (volumes["disk.qcow2"].format, volumes["disk.qcow2"].capacity) == ("qcow2", 64 * MIB)
    assert volumes["plain.raw"].format == "raw"

    backend.storage_port().resize_volume(name, "plain.raw", 32 * MIB)
    real = storage_check.storagePoolLookupByName(name)
    assert real.storageVolLookupByName("plain.raw").info()[1] == 32 * MIB
    assert (directory / "plain.raw").stat().st_size == 32 * MIB
    with pytest.raises(BackendError, match="shrinking it would lose data"):
        backend.storage_port().resize_volume(name, "plain.raw", 8 * MIB)

    with (directory / "plain.raw").open("r+b") as raw:
        raw.write(b"virtui was here")
    backend.storage_port().clone_volume(name, "plain.raw", "copy.raw")
    assert (directory / "copy.raw").read_bytes()[:15] == b"virtui was here"

    backend.storage_port().delete_volume(name, "copy.raw")
    assert not (directory / "copy.raw").exists()
    with pytest.raises(BackendError, match="already exists"):
        backend.storage_port().create_volume(name, "disk.qcow2", MIB, "raw")


def test_a_volume_a_domain_uses_is_only_deleted_when_forced(
    backend: LibvirtBackend, storage_check: libvirt.virConnect, pool: tuple[str, Path]
) -> None:
    name, directory = pool
    backend.storage_port().create_volume(name, "guest.qcow2", 16 * MIB, "qcow2")
    domain = storage_check.defineXMLFlags(
        "<domain type='qemu'><name>storage-user</name><memory unit='MiB'>64</memory>"
        "<vcpu>1</vcpu><os><type arch='x86_64'>hvm</type></os><devices>"
        f"<disk type='file' device='disk'><source file='{directory}/guest.qcow2'/>"
        "<target dev='vda'/></disk></devices></domain>",
        libvirt.VIR_DOMAIN_DEFINE_VALIDATE,
    )
    try:
        assert {v.name: v for v in backend.storage_port().volumes(name)}["guest.qcow2"].used_by == (
            "storage-user",
        )
        with pytest.raises(BackendError, match="used by storage-user") as refused:
            backend.storage_port().delete_volume(name, "guest.qcow2")
        assert refused.value.reason == "in use"
        assert (directory / "guest.qcow2").exists()
        backend.storage_port().delete_volume(name, "guest.qcow2", force=True)
        assert not (directory / "guest.qcow2").exists()
    finally:
        domain.undefine()


def test_upload_and_download_round_trip_byte_for_byte(
    backend: LibvirtBackend, pool: tuple[str, Path], tmp_path: Path
) -> None:
    name, directory = pool
    original = tmp_path / "source.img"
    original.write_bytes(os.urandom(5 * MIB + 123))
    seen: list[TransferProgress] = []
    backend.storage_port().upload_volume(
        name, "up.img", str(original), seen.append, threading.Event()
    )
    assert (directory / "up.img").read_bytes() == original.read_bytes()
    assert [p.done for p in seen] == sorted(p.done for p in seen)
    assert seen[-1] == TransferProgress(5 * MIB + 123, 5 * MIB + 123)
    assert {v.name: v for v in backend.storage_port().volumes(name)}["up.img"].format == "raw"

    back = tmp_path / "back.img"
    seen.clear()
    backend.storage_port().download_volume(
        name, "up.img", str(back), seen.append, threading.Event()
    )
    assert back.read_bytes() == original.read_bytes()
    assert seen[-1].done == seen[-1].total == 5 * MIB + 123
    assert not (tmp_path / "back.img.part").exists()
    with pytest.raises(BackendError, match="already exists: not overwritten"):
        backend.storage_port().download_volume(
            name, "up.img", str(back), seen.append, threading.Event()
        )


def test_cancelled_transfers_leave_nothing_behind(
    backend: LibvirtBackend,
    storage_check: libvirt.virConnect,
    pool: tuple[str, Path],
    tmp_path: Path,
) -> None:
    name, directory = pool
    original = tmp_path / "big.img"
    original.write_bytes(os.urandom(8 * MIB))
    cancel = threading.Event()

    def cancel_after_first_chunk(progress: TransferProgress) -> None:
        cancel.set()

    with pytest.raises(BackendError, match="cancelled"):
        backend.storage_port().upload_volume(
            name, "half.img", str(original), cancel_after_first_chunk, cancel
        )
    storage_check.storagePoolLookupByName(name).refresh(0)
    assert "half.img" not in storage_check.storagePoolLookupByName(name).listVolumes()
    assert not (directory / "half.img").exists()

    backend.storage_port().upload_volume(
        name, "whole.img", str(original), lambda _: None, threading.Event()
    )
    cancel.clear()
    target = tmp_path / "partial-download.img"
    with pytest.raises(BackendError, match="cancelled"):
        backend.storage_port().download_volume(
            name, "whole.img", str(target), cancel_after_first_chunk, cancel
        )
    assert not target.exists() and not (tmp_path / "partial-download.img.part").exists()


def test_deleting_a_pool_keeps_or_removes_its_directory(
    backend: LibvirtBackend, storage_check: libvirt.virConnect, tmp_path: Path
) -> None:
    for remove in (False, True):
        directory = tmp_path / f"dir-{remove}"
        directory.mkdir()
        backend.storage_port().create_pool(f"gone-{remove}", str(directory))
        if remove:
            backend.storage_port().create_volume(f"gone-{remove}", "v.raw", MIB, "raw")
            with pytest.raises(BackendError, match="still holds 1 volume"):
                backend.storage_port().delete_pool(f"gone-{remove}", remove_directory=True)
            backend.storage_port().delete_volume(f"gone-{remove}", "v.raw")
        backend.storage_port().delete_pool(f"gone-{remove}", remove_directory=remove)
        assert f"gone-{remove}" not in [p.name() for p in storage_check.listAllStoragePools(0)]
        assert directory.exists() is not remove


def test_a_read_only_connection_refuses_every_change(
    storage_daemon: Daemon, pool: tuple[str, Path], tmp_path: Path
) -> None:
    name, _directory = pool
    readonly = LibvirtBackend(storage_daemon.qemu_uri, "ro", readonly=True)
    readonly.connect()
    try:
        assert name in {p.name for p in readonly.storage_port().pools()}
        with pytest.raises(BackendError, match="read-only"):
            readonly.storage_port().create_volume(name, "x.raw", MIB, "raw")
        with pytest.raises(BackendError, match="read-only"):
            readonly.storage_port().pool_command(name, "stop")
    finally:
        readonly.close()
