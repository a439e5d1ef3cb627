"""New guests through the review desk, on a real libvirtd with a dir pool: a cloud image
overlay with a cloud-init seed (read back), an ISO install, a define that fails and
leaves no volume behind, and what is refused before anything is made."""

from __future__ import annotations

import itertools
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import libvirt
import pytest

from tests.integration.daemons import Daemon, OneHost
from tests.integration.guests import (
    define_dir_pool,
    define_guest,
    remove_dir_pool,
    remove_test_guests,
)
from virtui.backends.libvirt.backend import LibvirtBackend
from virtui.backends.libvirt.bootsector import IDLE_CODE, write_image
from virtui.model.newguest import NewVolume
from virtui.review.core import NEW_DOMAIN
from virtui.review.desk import ReviewDesk, ReviewError, ReviewRules
from virtui.review.model import State
from virtui.review.newguest import GuestSpec, domain_xml
from virtui.review.seediso import cloud_config, read_seed, seed_iso
from virtui.review.store import ReviewStore

KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIE1vY2tLZXlGb3JUZXN0c09ubHk admin@jump"
MIB = 1024 * 1024
_pools = itertools.count(1)


@pytest.fixture
def pool(storage_daemon: Daemon, tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A started dir pool over a fresh directory: (name, directory)."""
    name = f"guests{next(_pools)}"
    folder = tmp_path / name
    folder.mkdir()
    define_dir_pool(storage_daemon.qemu_uri, name, folder)
    yield name, folder
    remove_dir_pool(storage_daemon.qemu_uri, name, "newvm")


@pytest.fixture
def desk(storage_daemon: Daemon, tmp_path: Path) -> Iterator[ReviewDesk]:
    backend = LibvirtBackend(storage_daemon.qemu_uri, "h1")
    backend.connect()
    yield ReviewDesk(ReviewStore(tmp_path / "r.db"), OneHost(backend), ReviewRules(), user="a@b")
    backend.close()


def _volumes(folder: Path) -> set[str]:
    return {path.name for path in folder.iterdir()}


def test_a_cloud_image_guest_with_its_seed_is_reviewed_created_and_started(
    storage_daemon: Daemon, pool: tuple[str, Path], desk: ReviewDesk, tmp_path: Path
) -> None:
    name, folder = pool
    # The "cloud image": a boot sector converted to qcow2, as a volume of the pool.
    raw = write_image(tmp_path / "cloud.raw", IDLE_CODE, sectors=2048)
    subprocess.run(
        ["qemu-img", "convert", "-f", "raw", "-O", "qcow2", str(raw), str(folder / "cloud.qcow2")],
        check=True,
    )
    conn = libvirt.open(storage_daemon.qemu_uri)
    conn.storagePoolLookupByName(name).refresh(0)
    spec = GuestSpec(
        "newvm-cloud",
        1,
        64,
        "generic",
        disk_path=str(folder / "newvm-cloud.qcow2"),
        seed_path=str(folder / "newvm-cloud-seed.iso"),
    )
    volumes = [
        NewVolume(
            name, "newvm-cloud.qcow2", 64 * MIB, "qcow2", str(folder / "cloud.qcow2"), "qcow2"
        ),
        NewVolume(
            name, "newvm-cloud-seed.iso", 1 * MIB, "raw", seed=cloud_config("debian", [KEY], "web3")
        ),
    ]
    change = desk.draft_new("h1", domain_xml(spec), volumes, start=True)
    assert change.kind == NEW_DOMAIN and change.base_xml == ""
    assert change.summary == [
        "define new domain newvm-cloud",
        f"create volume {name}/newvm-cloud.qcow2: 64MiB qcow2 over {folder}/cloud.qcow2",
        f"create cloud-init seed {name}/newvm-cloud-seed.iso (user debian)",
        "start it after the merge",
    ]
    assert _volumes(folder) == {"cloud.qcow2"}  # a draft makes nothing
    desk.publish(change.id)
    result = desk.merge(change.id)
    assert result.change.state is State.MERGED
    assert result.change.outcome[:4] == [f"done: {t}" for t in change.summary]
    dom = conn.lookupByName("newvm-cloud")
    assert dom.isActive()
    overlay = conn.storageVolLookupByPath(str(folder / "newvm-cloud.qcow2"))
    assert f"<path>{folder}/cloud.qcow2</path>" in overlay.XMLDesc(0)  # backed by the image
    seed = (folder / "newvm-cloud-seed.iso").read_bytes()
    files = read_seed(seed)
    assert set(files) == {"user-data", "meta-data"}
    assert KEY in files["user-data"] and '"hostname": "web3"' in files["user-data"]
    conn.close()


def test_an_iso_install_is_defined_with_its_cdrom(
    storage_daemon: Daemon, pool: tuple[str, Path], desk: ReviewDesk
) -> None:
    name, folder = pool
    (folder / "installer.iso").write_bytes(seed_iso({"README": "an installer"}))
    conn = libvirt.open(storage_daemon.qemu_uri)
    conn.storagePoolLookupByName(name).refresh(0)
    spec = GuestSpec(
        "newvm-iso",
        2,
        128,
        "linux",
        disk_path=str(folder / "newvm-iso.qcow2"),
        cdrom_path=str(folder / "installer.iso"),
        boot="cdrom",
    )
    change = desk.draft_new(
        "h1", domain_xml(spec), [NewVolume(name, "newvm-iso.qcow2", 32 * MIB, "qcow2")]
    )
    desk.publish(change.id)
    desk.merge(change.id)
    xml = conn.lookupByName("newvm-iso").XMLDesc(0)
    assert "device='cdrom'" in xml.replace('"', "'") and f"{folder}/installer.iso" in xml
    assert "<boot dev='cdrom'/>" in xml.replace('"', "'")
    assert (folder / "newvm-iso.qcow2").exists()
    conn.close()


def test_a_define_that_fails_leaves_no_volume(pool: tuple[str, Path], desk: ReviewDesk) -> None:
    name, folder = pool
    spec = GuestSpec("newvm-bad", 1, 64, "generic", disk_path=str(folder / "newvm-bad.qcow2"))
    # Valid for the schema, refused by libvirt: an emulator that is not there.
    xml = domain_xml(spec).replace(
        "<devices>", "<devices>\n    <emulator>/usr/bin/qemu-system-nowhere</emulator>"
    )
    seed = NewVolume(name, "newvm-bad-seed.iso", MIB, "raw", seed=cloud_config("u", [KEY], "bad"))
    change = desk.draft_new(
        "h1", xml, [NewVolume(name, "newvm-bad.qcow2", 32 * MIB, "qcow2"), seed]
    )
    desk.publish(change.id)
    flags = desk.warnings(change)
    assert any("emulator changed to /usr/bin/qemu-system-nowhere" in f for f in flags)
    with pytest.raises(ReviewError, match="reaches beyond the guest"):
        desk.merge(change.id)  # the flag stops it before anything is made
    assert _volumes(folder) == set()
    # Accepted anyway: libvirt refuses the define after the volumes were made.
    with pytest.raises(
        ReviewError, match=r"not created .* removed volume .*newvm-bad.qcow2, .*newvm-bad-seed.iso"
    ):
        desk.merge(change.id, accepted=flags)
    assert _volumes(folder) == set()
    assert desk.changes()[0].state is State.OPEN  # back where it was, nothing applied


def test_refused_before_anything_is_made(pool: tuple[str, Path], desk: ReviewDesk) -> None:
    name, folder = pool
    first = GuestSpec("newvm-twin", 1, 64, "generic")
    desk.publish(desk.draft_new("h1", domain_xml(first)).id)
    desk.merge(desk.changes()[0].id)
    with pytest.raises(ReviewError, match="already has a domain named newvm-twin"):
        desk.draft_new("h1", domain_xml(GuestSpec("newvm-twin", 1, 64, "generic")))
    huge = NewVolume(name, "huge.raw", 1 << 60, "raw")
    with pytest.raises(ReviewError, match=rf"pool {name} on h1 has .* free"):
        desk.draft_new("h1", domain_xml(GuestSpec("newvm-huge", 1, 64, "generic")), [huge])
    with pytest.raises(ReviewError, match="does not validate"):
        desk.draft_new(
            "h1",
            domain_xml(GuestSpec("newvm-neg", 1, 64, "generic")).replace("<vcpu>1", "<vcpu>-1"),
        )
    assert _volumes(folder) == set()


def test_a_disk_another_guest_uses_is_flagged_at_draft_and_merge_needs_it_accepted(
    storage_check: libvirt.virConnect, pool: tuple[str, Path], desk: ReviewDesk, tmp_path: Path
) -> None:
    running = define_guest(storage_check, tmp_path, running=True)
    try:
        image = next(
            s.split("'")[1] for s in running.XMLDesc(0).replace('"', "'").split("<source file=")[1:]
        )
        spec = GuestSpec("newvm-twin-disk", 1, 64, "generic", disk_path=image)
        change = desk.draft_new("h1", domain_xml(spec))  # an import of that image
        desk.publish(change.id)
        flags = desk.warnings(change)
        assert (
            f"disk {image} is in use by the running guest {running.name()}: two guests "
            "writing one image corrupt it"
        ) in flags
        with pytest.raises(ReviewError, match="reaches beyond the guest"):
            desk.merge(change.id)
        running.destroy()  # now only defined: still said, in other words
        assert f"disk {image} is also a disk of {running.name()} (shut off)" in " ".join(
            desk.warnings(change)
        )
    finally:
        remove_test_guests(storage_check)


def test_a_host_says_whether_it_offers_kvm_and_uefi_as_virt_install_reads_it(
    embed_backend: LibvirtBackend,
) -> None:
    """KVM where /dev/kvm can be opened (libvirt lists a kvm domain type then), UEFI
    where OVMF is installed (its firmware descriptors in /usr/share/qemu/firmware)."""
    support = embed_backend.domain_config_port().guest_support()
    try:
        os.close(os.open("/dev/kvm", os.O_RDWR))
        kvm = True
    except OSError:
        kvm = False
    assert support.kvm is kvm
    ovmf = any(Path("/usr/share/qemu/firmware").glob("*ovmf*")) or any(
        Path("/usr/share/qemu/firmware").glob("*edk2*")
    )
    assert support.efi is ovmf
    # The versioned machine types this QEMU gives the aliases, as virt-install writes
    # them down; the host's own CPU under KVM.
    assert support.machines["q35"].startswith("pc-q35-"), support.machines
    assert support.machines["pc"].startswith("pc-i440fx-"), support.machines
    assert support.passthrough is kvm
