"""Checks of what a user types on the storage screen, before anything reaches libvirt.

Each check returns "" when the input is fine, or a message saying what is wrong and
what would be right.
"""

from __future__ import annotations

import os
import re

from virtui.formatting import format_bytes

# Binary units, as virsh and qemu-img read them; "G" means GiB there too.
_UNITS = {
    "": 1,
    "b": 1,
    "k": 1024,
    "kb": 1000,
    "kib": 1024,
    "m": 1024**2,
    "mb": 1000**2,
    "mib": 1024**2,
    "g": 1024**3,
    "gb": 1000**3,
    "gib": 1024**3,
    "t": 1024**4,
    "tb": 1000**4,
    "tib": 1024**4,
    "p": 1024**5,
    "pb": 1000**5,
    "pib": 1024**5,
}
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([A-Za-z]*)\s*$")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+-]{0,127}$")
VOLUME_FORMATS = ("qcow2", "raw")


class InputError(ValueError):
    """Input that cannot be used; the message says why."""


def parse_size(text: str) -> int:
    """Bytes from ``10G``, ``512 MiB``, ``1.5TiB`` or a plain byte count."""
    match = _SIZE.match(text)
    if not match:
        raise InputError(f"{text.strip()!r} is not a size: write a number and a unit, e.g. 20G")
    number, unit = match.groups()
    factor = _UNITS.get(unit.lower())
    if factor is None:
        raise InputError(
            f"{unit!r} is not a size unit: use B, K, M, G, T or P (KiB, MiB, ... also work)"
        )
    size = int(float(number) * factor)
    if size <= 0:
        raise InputError("the size must be more than 0 bytes")
    return size


def check_name(kind: str, name: str) -> str:
    """A pool or volume name: letters, digits and . _ + -, no slash, no leading dot."""
    if not name:
        return f"the {kind} needs a name"
    if "/" in name:
        return f"{name!r}: a {kind} name cannot contain a slash"
    if not _NAME.match(name):
        return (
            f"{name!r} is not a valid {kind} name: use letters, digits and . _ + - "
            "(not first), at most 128 characters"
        )
    return ""


def check_pool_path(path: str, *, local: bool) -> str:
    """A dir pool's directory: absolute and, on this machine, an existing directory."""
    if not path:
        return "the pool needs a directory"
    if not os.path.isabs(path):
        return f"{path!r} is not an absolute path"
    if local and not os.path.isdir(path):
        return f"{path} does not exist (or is not a directory)"
    return ""


def check_fits(size: int, available: int, pool: str) -> str:
    """Refuse a size the pool has no room for."""
    if size > available:
        return (
            f"{format_bytes(size)} does not fit: pool {pool} has "
            f"{format_bytes(available)} available"
        )
    return ""
