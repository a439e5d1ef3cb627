"""What an image file holds, from its first bytes (as qemu-img would say it)."""

from __future__ import annotations

from pathlib import Path

# Magic numbers at offset 0 of the formats QEMU reads; anything else is raw.
_MAGIC = (
    (b"QFI\xfb", "qcow2"),  # qcow and qcow2 share it; the version follows (1: qcow)
    (b"KDMV", "vmdk"),
    (b"QED\x00", "qed"),
    (b"vhdxfile", "vhdx"),
    (b"conectix", "vpc"),
)
_VDI = b"<<< Oracle VM VirtualBox Disk Image >>>"


def sniff(head: bytes) -> str:
    """The format named by an image's first 64 bytes."""
    for magic, name in _MAGIC:
        if head.startswith(magic):
            if name == "qcow2" and head[4:8] == b"\x00\x00\x00\x01":
                return "qcow"
            return name
    if head.startswith(_VDI):
        return "vdi"
    return "raw"


def file_format(path: str) -> str | None:
    """The format of a local image file (None when it cannot be read)."""
    try:
        with Path(path).open("rb") as image:
            return sniff(image.read(64))
    except OSError:
        return None
