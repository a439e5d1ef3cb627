"""A new guest's XML for each OS profile, and its cloud-init seed, read back."""

from __future__ import annotations

import pytest

from virtui.review.newguest import PROFILES, GuestSpec, domain_xml
from virtui.review.seediso import cloud_config, read_seed, seed_iso
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


def test_values_from_a_user_are_quoted_in_the_xml() -> None:
    spec = GuestSpec("g2", 1, 64, "linux", disk_path="/pool/a'b\"<c>.qcow2")
    root = parse_domain(domain_xml(spec))
    assert root.find("devices/disk/source").get("file") == "/pool/a'b\"<c>.qcow2"


def test_the_seed_holds_user_data_and_meta_data_under_their_names() -> None:
    files = cloud_config("ops", ["ssh-ed25519 AAAAkey ops@jump"], "db1")
    found = read_seed(seed_iso(files))
    assert found == files
    assert "ssh-ed25519 AAAAkey ops@jump" in found["user-data"]
    assert found["meta-data"] == "instance-id: db1\nlocal-hostname: db1\n"
