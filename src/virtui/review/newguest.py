"""A new guest as a change request: its domain XML built from the form's answers, the
volumes to create at merge (an overlay on a cloud image, an empty disk, a cloud-init
seed), and whether to start it."""

from __future__ import annotations

import re
import uuid as uuidlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from virtui.model.newguest import NewVolume
from virtui.review.opbase import PlanItem
from virtui.xmltext import escape, quoteattr

if TYPE_CHECKING:
    from lxml import etree
else:
    from virtui.lazyimport import lxml_etree as etree

NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.+-]{0,62}$")
USER = re.compile(r"^[a-z_][a-z0-9_-]{0,31}$")
HOSTNAME = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$")
SSH_KEY = re.compile(
    r"^(ssh-(rsa|ed25519|dss)|ecdsa-sha2-nistp\d+|sk-\S+) [A-Za-z0-9+/=]+( [^\n\r]*)?$"
)


_MACHINE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


@dataclass(frozen=True, slots=True)
class Profile:
    """The devices an OS family gets."""

    machine: str
    disk_bus: str
    nic_model: str
    cdrom_bus: str
    firmware: str = ""  # "efi": UEFI, picked by libvirt from the host's firmware files


# When libosinfo is not installed: a short list, by what the guest's drivers need.
PROFILES = {
    "linux": Profile("q35", "virtio", "virtio", "sata"),
    # Images that boot only through UEFI (no BIOS boot partition): OVMF on the host.
    "linux-uefi": Profile("q35", "virtio", "virtio", "sata", "efi"),
    "windows": Profile("q35", "sata", "e1000e", "sata"),
    "generic": Profile("pc", "ide", "e1000", "ide"),
}


@dataclass(frozen=True, slots=True)
class CreateDomain:
    """Define a new domain from ``xml``, creating ``volumes`` first; start it after."""

    xml: str
    volumes: list[dict[str, Any]]
    start: bool = False
    kind: str = "create"

    def new_volumes(self) -> list[NewVolume]:
        """The volumes, typed."""
        return [
            NewVolume(
                pool=str(v["pool"]),
                name=str(v["name"]),
                capacity=int(v["capacity"]),
                format=str(v["format"]),
                backing=str(v.get("backing", "")),
                backing_format=str(v.get("backing_format", "")),
                seed={str(k): str(t) for k, t in dict(v.get("seed") or {}).items()},
                restore=str(v.get("restore", "")),
            )
            for v in self.volumes
        ]

    def apply(self, root: etree._Element, old_base: etree._Element | None = None) -> None:
        raise NotImplementedError  # a new domain is proposed whole (see ops.propose)

    def plan(self, base: etree._Element | None, active: bool) -> list[PlanItem]:
        root = etree.fromstring(self.xml.encode("utf-8"))
        items = [PlanItem(f"define new domain {root.findtext('name')}", None)]
        items += [PlanItem(volume.describe(), None) for volume in self.new_volumes()]
        if self.start:
            items.append(PlanItem("start it after the merge", None))
        return items


@dataclass(frozen=True, slots=True)
class GuestSpec:
    """What the new-guest form gathered, checked."""

    name: str
    vcpus: int
    memory_mib: int
    profile: str
    disk_path: str = ""  # the main disk (an overlay, an empty disk or an imported image)
    disk_format: str = "qcow2"
    cdrom_path: str = ""  # an installer ISO
    seed_path: str = ""  # the cloud-init seed ISO
    network: str = ""  # network:NAME or bridge:NAME ("" for none)
    boot: str = "hd"  # hd, cdrom or network
    domain_type: str = "qemu"  # kvm where the host offers it; qemu is TCG (emulated)
    machine: str = ""  # the host's versioned type of the profile's machine ("": the alias)
    cpu_passthrough: bool = False  # the host's CPU as it is (KVM), as virt-install does
    uuid: str = field(default_factory=lambda: str(uuidlib.uuid4()))


def domain_xml(spec: GuestSpec) -> str:
    """The new domain's XML: the profile's machine and buses, a serial console, VNC on
    the host's loopback (reached through ``g``'s SSH tunnel)."""
    profile = PROFILES[spec.profile]
    devices = []
    letters = iter("abcdefghijklmnop")
    prefix = {"virtio": "vd", "sata": "sd", "ide": "hd", "scsi": "sd"}
    if spec.disk_path:
        target = f"{prefix[profile.disk_bus]}{next(letters)}"
        devices.append(
            "<disk type='file' device='disk'>"
            f"<driver name='qemu' type={quoteattr(spec.disk_format)}/>"
            f"<source file={quoteattr(spec.disk_path)}/>"
            f"<target dev='{target}' bus='{profile.disk_bus}'/></disk>"
        )
    cd_letters = iter("bcdefgh") if profile.cdrom_bus == profile.disk_bus else iter("abcdefgh")
    for path in (spec.cdrom_path, spec.seed_path):
        if path:
            devices.append(
                "<disk type='file' device='cdrom'><driver name='qemu' type='raw'/>"
                f"<source file={quoteattr(path)}/>"
                f"<target dev='{prefix[profile.cdrom_bus]}{next(cd_letters)}' "
                f"bus='{profile.cdrom_bus}'/><readonly/></disk>"
            )
    if spec.network:
        kind, _colon, name = spec.network.partition(":")
        devices.append(
            f"<interface type={quoteattr(kind)}><source {kind}={quoteattr(name)}/>"
            f"<model type='{profile.nic_model}'/></interface>"
        )
    devices += [
        "<serial type='pty'><target port='0'/></serial>",
        "<console type='pty'><target type='serial' port='0'/></console>",
        "<graphics type='vnc' port='-1' autoport='yes' listen='127.0.0.1'/>",
    ]
    if profile.disk_bus == "virtio":  # what virt-install adds for a Linux guest
        devices += [
            # The guest agent's channel (a socket libvirt names), a tablet so the VNC
            # pointer follows the mouse, entropy from QEMU itself (no host device).
            "<channel type='unix'><target type='virtio' name='org.qemu.guest_agent.0'/></channel>",
            "<input type='tablet' bus='usb'/>",
            "<rng model='virtio'><backend model='builtin'/></rng>",
        ]
    firmware = f" firmware='{profile.firmware}'" if profile.firmware else ""
    # From the host's domain capabilities: only a machine type's characters get in.
    machine = spec.machine if _MACHINE.fullmatch(spec.machine) else profile.machine
    cpu = (
        "  <cpu mode='host-passthrough' check='none' migratable='on'/>\n"
        if spec.cpu_passthrough
        else ""
    )
    return (
        f"<domain type='{spec.domain_type}'>\n"  # kvm or qemu, never typed by a user
        f"  <name>{escape(spec.name)}</name>\n  <uuid>{spec.uuid}</uuid>\n"
        f"  <memory unit='MiB'>{spec.memory_mib}</memory>\n  <vcpu>{spec.vcpus}</vcpu>\n"
        f"  <os{firmware}><type arch='x86_64' machine='{escape(machine)}'>hvm</type>"
        f"<boot dev='{spec.boot}'/></os>\n"
        "  <features><acpi/></features>\n"
        + cpu
        + "  <devices>\n    "
        + "\n    ".join(devices)
        + "\n  </devices>\n</domain>\n"
    )
