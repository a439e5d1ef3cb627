"""A new guest's XML for each OS profile, and its cloud-init seed, read back."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from virtui.review.newguest import PROFILES, GuestSpec, domain_xml
from virtui.review.seediso import cloud_config, read_seed, seed_iso, seed_summary
from virtui.review.xmlsafe import parse_domain, validate


@pytest.mark.parametrize("profile", list(PROFILES))
def test_every_profile_gives_xml_that_libvirts_schema_accepts(profile: str) -> None:
    spec = GuestSpec(
        "g1",
        2,
        512,
        profile,
        disk_path="/pool/g1.qcow2",
        cdrom_path="/pool/install.iso",
        seed_path="/pool/g1-seed.iso",
        network="network:default",
        boot="cdrom",
    )
    xml = domain_xml(spec)
    assert validate(xml) == []
    root = parse_domain(xml)
    wanted = PROFILES[profile]
    assert root.find("os/type").get("machine") == wanted.machine
    disks = root.findall("devices/disk")
    assert [d.get("device") for d in disks] == ["disk", "cdrom", "cdrom"]
    targets = [d.find("target").get("dev") for d in disks]
    assert len(set(targets)) == 3  # no two devices on one name
    assert root.find("devices/interface/model").get("type") == wanted.nic_model
    assert (root.find("os").get("firmware") or "") == wanted.firmware
    assert root.find("devices/graphics").get("listen") == "127.0.0.1"


def test_the_hosts_machine_type_and_cpu_are_written_down_as_virt_install_does() -> None:
    """From the host's domain capabilities: the versioned machine (a later QEMU must not
    change the guest's hardware) and, under KVM, the host's own CPU."""
    spec = GuestSpec(
        "g3", 2, 512, "linux", domain_type="kvm", machine="pc-q35-7.2", cpu_passthrough=True
    )
    xml = domain_xml(spec)
    assert validate(xml) == []
    root = parse_domain(xml)
    assert root.find("os/type").get("machine") == "pc-q35-7.2"
    assert root.find("cpu").get("mode") == "host-passthrough"
    plain = parse_domain(domain_xml(GuestSpec("g4", 1, 64, "linux")))
    assert plain.find("cpu") is None  # TCG: the emulator's default model


def test_values_from_a_user_are_quoted_in_the_xml() -> None:
    spec = GuestSpec("g2", 1, 64, "linux", disk_path="/pool/a'b\"<c>.qcow2")
    root = parse_domain(domain_xml(spec))
    assert root.find("devices/disk/source").get("file") == "/pool/a'b\"<c>.qcow2"


def test_the_seed_holds_user_data_and_meta_data_under_their_names() -> None:
    files = cloud_config("ops", ["ssh-ed25519 AAAAkey ops@jump"], "db1")
    found = read_seed(seed_iso(files))
    assert found == files
    assert "ssh-ed25519 AAAAkey ops@jump" in found["user-data"]
    assert found["meta-data"] == 'instance-id: "db1"\nlocal-hostname: "db1"\n'


@pytest.mark.parametrize("comment", ["ops: laptop", "a: b: c", "- [x] {y} # z", "naïve 'quote\""])
def test_user_data_is_emitted_so_any_key_comment_stays_part_of_the_key(comment: str) -> None:
    blob = "AAAAC3NzaC1lZDI1NTE5AAAAIJ3o1J2Zs0n1Jm8tTWv8nq1mXAb4wK4s7dJ2f0a6wQ0f"
    key = f"ssh-ed25519 {blob} {comment}"
    user_data = cloud_config("ops", [key], "db1")["user-data"]
    header, _, body = user_data.partition("\n")
    assert header == "#cloud-config"
    document = json.loads(body)  # JSON is YAML's flow style: cloud-init reads the same
    assert document["users"][0]["ssh_authorized_keys"] == [key]
    assert document["hostname"] == "db1" and document["users"][0]["name"] == "ops"


def test_the_reviewer_reads_the_user_data_and_each_keys_fingerprint(tmp_path: Path) -> None:
    keygen = shutil.which("ssh-keygen")
    if keygen is None:
        pytest.skip("ssh-keygen is not installed (openssh-client)")
    subprocess.run(
        [keygen, "-q", "-t", "ed25519", "-N", "", "-C", "ops: laptop", "-f", str(tmp_path / "k")],
        check=True,
    )
    key = (tmp_path / "k.pub").read_text().strip()
    expected = subprocess.run(
        [keygen, "-l", "-f", str(tmp_path / "k.pub")], capture_output=True, text=True, check=True
    ).stdout.split()[1]
    summary = seed_summary(cloud_config("ops", [key], "db1"), [key])
    assert f"{expected} ops: laptop (ssh-ed25519)" in summary
    assert '"name": "ops"' in summary and "NOPASSWD" in summary
