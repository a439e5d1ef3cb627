"""Every lifecycle operation changes real state, checked through libvirt directly."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import libvirt
import pytest

from tests.integration.guests import define_guest
from virtui.backends import BackendError
from virtui.backends.libvirt.backend import LibvirtBackend
from virtui.backends.libvirt.demo import DEMO_PREFIX
from virtui.model import DomainAction
from virtui.tui.console import run_console

pytestmark = pytest.mark.embed


def _state(conn: libvirt.virConnect, uuid: str) -> int:
    return int(conn.lookupByUUIDString(uuid).state()[0])


def test_start_pause_resume_force_off(
    embed_conn: libvirt.virConnect, embed_backend: LibvirtBackend, tmp_path: Path
) -> None:
    uuid = define_guest(embed_conn, tmp_path).UUIDString()
    assert "started" in embed_backend.domain_port().act(uuid, DomainAction.START)
    assert _state(embed_conn, uuid) == libvirt.VIR_DOMAIN_RUNNING
    embed_backend.domain_port().act(uuid, DomainAction.SUSPEND)
    assert _state(embed_conn, uuid) == libvirt.VIR_DOMAIN_PAUSED
    embed_backend.domain_port().act(uuid, DomainAction.RESUME)
    assert _state(embed_conn, uuid) == libvirt.VIR_DOMAIN_RUNNING
    # Obeyed or ignored (a guest without ACPI), the answer names the way to force it off.
    assert "Ctrl+K forces it off" in embed_backend.domain_port().act(uuid, DomainAction.SHUTDOWN)
    embed_backend.domain_port().act(uuid, DomainAction.DESTROY)
    assert _state(embed_conn, uuid) == libvirt.VIR_DOMAIN_SHUTOFF


def test_managed_save_then_start_restores(
    embed_conn: libvirt.virConnect, embed_backend: LibvirtBackend, tmp_path: Path
) -> None:
    dom = define_guest(embed_conn, tmp_path, running=True)
    uuid = dom.UUIDString()
    embed_backend.domain_port().act(uuid, DomainAction.MANAGED_SAVE)
    assert _state(embed_conn, uuid) == libvirt.VIR_DOMAIN_SHUTOFF
    assert dom.hasManagedSaveImage(0) == 1
    assert embed_backend.domain_port().detail(uuid).managed_save
    said = embed_backend.domain_port().act(uuid, DomainAction.START)
    state, reason = embed_conn.lookupByUUIDString(uuid).state()
    assert (state, reason) == (libvirt.VIR_DOMAIN_RUNNING, libvirt.VIR_DOMAIN_RUNNING_RESTORED)
    assert "restored from its managed save" in said  # it said "started"


def test_autostart_on_and_off(
    embed_conn: libvirt.virConnect, embed_backend: LibvirtBackend, tmp_path: Path
) -> None:
    dom = define_guest(embed_conn, tmp_path)
    embed_backend.domain_port().act(dom.UUIDString(), DomainAction.AUTOSTART_ON)
    assert embed_conn.lookupByUUIDString(dom.UUIDString()).autostart() == 1
    embed_backend.domain_port().act(dom.UUIDString(), DomainAction.AUTOSTART_OFF)
    assert embed_conn.lookupByUUIDString(dom.UUIDString()).autostart() == 0


def test_undefine_keeps_storage(
    embed_conn: libvirt.virConnect, embed_backend: LibvirtBackend, tmp_path: Path
) -> None:
    dom = define_guest(embed_conn, tmp_path)
    name = dom.name()
    embed_backend.domain_port().act(dom.UUIDString(), DomainAction.UNDEFINE)
    assert name not in [d.name() for d in embed_conn.listAllDomains(0)]
    assert (tmp_path / f"{name}.img").exists()


def test_undefine_with_storage_deletes_the_image(
    embed_conn: libvirt.virConnect, embed_backend: LibvirtBackend, tmp_path: Path
) -> None:
    dom = define_guest(embed_conn, tmp_path)
    name = dom.name()
    message = embed_backend.domain_port().act(dom.UUIDString(), DomainAction.UNDEFINE_WITH_STORAGE)
    assert "1 volume(s) deleted" in message
    assert name not in [d.name() for d in embed_conn.listAllDomains(0)]
    assert not (tmp_path / f"{name}.img").exists()


def test_deleting_storage_of_a_running_domain_is_refused(
    embed_conn: libvirt.virConnect, embed_backend: LibvirtBackend, tmp_path: Path
) -> None:
    dom = define_guest(embed_conn, tmp_path, running=True)
    with pytest.raises(BackendError, match="force it off"):
        embed_backend.domain_port().act(dom.UUIDString(), DomainAction.UNDEFINE_WITH_STORAGE)
    assert dom.isActive() and (tmp_path / f"{dom.name()}.img").exists()


def test_start_with_a_missing_disk_says_why(
    embed_conn: libvirt.virConnect, embed_backend: LibvirtBackend, tmp_path: Path
) -> None:
    dom = define_guest(embed_conn, tmp_path, disk=False)
    with pytest.raises(BackendError) as raised:
        embed_backend.domain_port().act(dom.UUIDString(), DomainAction.START)
    assert dom.name() in raised.value.message and "embed" in raised.value.message
    assert "No such file" in raised.value.message or ".img" in raised.value.message
    assert _state(embed_conn, dom.UUIDString()) == libvirt.VIR_DOMAIN_SHUTOFF


def test_clone_copies_the_disk_and_gets_a_new_identity(
    embed_conn: libvirt.virConnect, embed_backend: LibvirtBackend, tmp_path: Path
) -> None:
    dom = define_guest(embed_conn, tmp_path)
    message = embed_backend.domain_port().clone(dom.UUIDString(), "virtui-test-clone")
    assert "1 disk(s) copied" in message
    copy = embed_conn.lookupByName("virtui-test-clone")
    assert copy.UUIDString() != dom.UUIDString()
    image = tmp_path / "virtui-test-clone.img"
    assert image.read_bytes() == (tmp_path / f"{dom.name()}.img").read_bytes()
    assert str(image) in copy.XMLDesc(0)
    with pytest.raises(BackendError, match="already exists"):
        embed_backend.domain_port().clone(dom.UUIDString(), "virtui-test-clone")


def test_cloning_a_running_domain_is_refused(
    embed_conn: libvirt.virConnect, embed_backend: LibvirtBackend, tmp_path: Path
) -> None:
    dom = define_guest(embed_conn, tmp_path, running=True)
    with pytest.raises(BackendError, match="shut it down"):
        embed_backend.domain_port().clone(dom.UUIDString(), "virtui-test-never")


def test_detail_reads_overview_disks_and_console(
    embed_conn: libvirt.virConnect, embed_backend: LibvirtBackend
) -> None:
    uuid = embed_conn.lookupByName(DEMO_PREFIX + "idle").UUIDString()
    detail = embed_backend.domain_port().detail(uuid)
    assert (detail.state, detail.reason) == ("running", "booted")
    assert (detail.vcpus, detail.max_vcpus, detail.arch) == (2, 2, "x86_64")
    assert detail.mem_kib == 48 * 1024
    assert [d.target for d in detail.disks] == ["hda"]
    assert detail.has_console
    assert "<domain" in embed_backend.domain_port().xml(uuid)


def test_serial_console_echoes_through_the_stream(
    embed_conn: libvirt.virConnect, embed_backend: LibvirtBackend
) -> None:
    uuid = embed_conn.lookupByName(DEMO_PREFIX + "spin").UUIDString()
    console = embed_backend.domain_port().open_console(uuid)
    received = bytearray()

    def read() -> None:
        while b"ping-virtui" not in received:
            data = console.recv(256)
            if not data:
                return
            received.extend(data)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    console.send(b"ping-virtui")
    reader.join(10)
    console.close()
    assert b"ping-virtui" in received


def test_snapshots_on_the_test_driver(fleet_uri: str) -> None:
    backend = LibvirtBackend(fleet_uri, "fleet")
    backend.connect()
    try:
        uuid = next(s.key.uuid for s in backend.poll().domains if s.name == "web01")
        backend.domain_port().create_snapshot(uuid, "before", "first")
        backend.domain_port().create_snapshot(uuid, "after")
        snaps = backend.domain_port().snapshots(uuid)
        # The test driver stamps both within the same second, so their order is not fixed.
        assert sorted(s.name for s in snaps) == ["after", "before"]
        assert {s.name: s.current for s in snaps} == {"before": False, "after": True}
        assert {s.name: s.description for s in snaps}["before"] == "first"
        assert "reverted" in backend.domain_port().revert_snapshot(uuid, "before")
        assert [s.name for s in backend.domain_port().snapshots(uuid) if s.current] == ["before"]
        backend.domain_port().delete_snapshot(uuid, "after")
        assert [s.name for s in backend.domain_port().snapshots(uuid)] == ["before"]
        with pytest.raises(BackendError, match="nosuch"):
            backend.domain_port().revert_snapshot(uuid, "nosuch")
    finally:
        backend.close()


def test_shutdown_and_reboot_on_the_test_driver(fleet_uri: str) -> None:
    # QEMU guests without an OS ignore ACPI; the test driver honours both requests.
    backend = LibvirtBackend(fleet_uri, "fleet")
    backend.connect()
    try:
        samples = {s.name: s for s in backend.poll().domains}
        uuid = samples["web02"].key.uuid
        backend.domain_port().act(uuid, DomainAction.REBOOT)
        assert {s.name: s.state.value for s in backend.poll().domains}["web02"] == "running"
        backend.domain_port().act(uuid, DomainAction.SHUTDOWN)
        assert {s.name: s.state.value for s in backend.poll().domains}["web02"] == "shut off"
    finally:
        backend.close()


def test_read_only_backend_refuses_every_action(fleet_uri: str) -> None:
    backend = LibvirtBackend(fleet_uri, "fleet", readonly=True)
    backend.connect()
    try:
        uuid = backend.poll().domains[0].key.uuid
        for action in DomainAction:
            with pytest.raises(BackendError, match="read-only"):
                backend.domain_port().act(uuid, action)
    finally:
        backend.close()


def test_console_runner_relays_both_ways_and_ctrl_bracket_detaches(
    embed_conn: libvirt.virConnect, embed_backend: LibvirtBackend
) -> None:
    uuid = embed_conn.lookupByName(DEMO_PREFIX + "spin").UUIDString()
    keyboard_read, keyboard_write = os.pipe()
    screen_read, screen_write = os.pipe()

    def type_then_detach() -> None:
        os.write(keyboard_write, b"echo-me")
        time.sleep(1.5)  # let the guest's echo come back before detaching
        os.write(keyboard_write, b"\x1d")

    typist = threading.Thread(target=type_then_detach, daemon=True)
    typist.start()
    how = run_console(
        embed_backend.domain_port().open_console(uuid), "spin", keyboard_read, screen_write
    )
    typist.join()
    os.close(screen_write)
    shown = b""
    while chunk := os.read(screen_read, 4096):
        shown += chunk
    assert how == "detached"
    assert b"Escape character is ^]" in shown
    assert b"echo-me" in shown  # typed, sent to the guest, echoed back, written out
