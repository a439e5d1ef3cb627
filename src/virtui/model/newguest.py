"""A new guest's storage as the review desk and the hosts speak of it."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any


def format_size(size: int) -> str:
    """``20GiB``, ``512MiB`` (binary units, as the storage screen writes them)."""
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if value < 1024 or unit == "TiB":
            return f"{value:.0f}{unit}" if value == int(value) else f"{value:.1f}{unit}"
        value /= 1024
    return f"{value:.1f}TiB"


@dataclass(frozen=True, slots=True)
class NewVolume:
    """A volume the merge creates (and removes again if the define fails)."""

    pool: str
    name: str
    capacity: int  # bytes
    format: str  # qcow2 or raw
    backing: str = ""  # the backing image's path (a cloud image), for an overlay
    backing_format: str = ""
    seed: dict[str, str] = field(default_factory=dict)  # files of a cloud-init seed ISO
    restore: str = ""
    """A disk of a backup to build the volume from: ``DOMAIN-FOLDER/BACKUP/TARGET``,
    read under the desk's own [backup] dir when the change is merged."""

    def describe(self) -> str:
        """The summary line."""
        if self.restore:
            return (
                f"create volume {self.pool}/{self.name}: {format_size(self.capacity)} "
                f"{self.format} restored from backup {self.restore}"
            )
        if self.seed:
            user = _seed_user(self.seed.get("user-data", ""))
            return f"create cloud-init seed {self.pool}/{self.name}" + (
                f" (user {user})" if user else ""
            )
        backing = f" over {self.backing}" if self.backing else ""
        size = format_size(self.capacity)
        return f"create volume {self.pool}/{self.name}: {size} {self.format}{backing}"

    def as_dict(self) -> dict[str, Any]:
        """As stored in the change's operations."""
        return {
            "pool": self.pool,
            "name": self.name,
            "capacity": self.capacity,
            "format": self.format,
            "backing": self.backing,
            "backing_format": self.backing_format,
            "seed": dict(self.seed),
            "restore": self.restore,
        }


def _seed_user(user_data: str) -> str:
    """The first user a seed's user-data creates ("" when it cannot say): virtui's own
    seeds are JSON after the #cloud-config line; a user's own file is YAML."""
    _header, _newline, body = user_data.partition("\n")
    try:
        users = json.loads(body).get("users") or []
        return str(users[0].get("name", "")) if users and isinstance(users[0], dict) else ""
    except (ValueError, AttributeError):
        found = re.search(r"^\s*- name: (\S+)", user_data, re.M)
        return found.group(1) if found else ""


@dataclass(frozen=True, slots=True)
class GuestSupport:
    """What a host offers a new x86_64 guest (None: the host could not say)."""

    kvm: bool | None
    """Hardware virtualisation (domain type kvm); without it QEMU emulates (TCG)."""
    efi: bool | None
    """UEFI firmware (OVMF) for a guest with firmware='efi'."""
    passthrough: bool | None = None
    """The host's own CPU for the guest (host-passthrough, under KVM), as virt-install
    chooses it; else the emulator's default model."""
    machines: dict[str, str] = field(default_factory=dict)
    """A machine alias (q35, pc) -> the versioned type this host's QEMU gives it
    (pc-q35-7.2): written down, so a later QEMU does not change the guest's hardware;
    an alias missing here is not offered by the host."""
