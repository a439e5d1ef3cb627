"""Tiny bootable disk images for demo and test guests: no OS, just a loop.

A BIOS loads sector 0 to 0x7C00 and jumps there when it ends in 55 AA.
"""

from __future__ import annotations

from pathlib import Path

SPIN_CODE = bytes([0xEB, 0xFE])  # jmp $  : busy loop, one vCPU at 100%
# Busy loop that polls the first serial port and echoes every byte it receives, so the
# guest both spins one vCPU at 100% and answers on its console:
#   again: mov dx, 0x3FD ; wait: in al, dx ; test al, 1 ; jz wait
#          mov dx, 0x3F8 ; in al, dx ; out dx, al ; jmp again
ECHO_SPIN_CODE = bytes(
    [0xBA, 0xFD, 0x03, 0xEC, 0xA8, 0x01, 0x74, 0xFB, 0xBA, 0xF8, 0x03, 0xEC, 0xEE, 0xEB, 0xF1]
)
IDLE_CODE = bytes([0xFA, 0xF4, 0xEB, 0xFD])  # cli; hlt; jmp back to hlt : halted, ~0%
# Writes its own boot sector to sector 2 of the boot drive through the BIOS, for ever:
#   xor ax, ax ; mov ds, ax ; mov es, ax ; mov si, dx        (dl: the boot drive)
#   again: mov ax, 0x0301 ; mov cx, 0x0002 ; mov dx, si ; xor dh, dh
#          mov bx, 0x7C00 ; int 0x13 ; jmp again
# A disk that is written thousands of times a second, with no OS to install.
DISK_WRITE_CODE = bytes.fromhex(
    "31C0 8ED8 8EC0 89D6 B80103 B90200 89F2 30F6 BB007C CD13 EBEF".replace(" ", "")
)

# The same, but what it writes changes every time (inc dword [0x7D00] before each
# write): a disk whose content keeps changing, for backups that must see it. A 32-bit
# counter: with a byte, two reads 256 writes apart (1 in 256 of them) found the disk
# identical, and a test that needs it changed failed.
DISK_CHANGE_CODE = bytes.fromhex(
    "31C0 8ED8 8EC0 89D6 66FF06007D B80103 B90200 89F2 30F6 BB007C CD13 EBEA".replace(" ", "")
)


def boot_sector(code: bytes) -> bytes:
    """A 512-byte MBR that runs ``code``."""
    if len(code) > 510:
        raise ValueError("boot code must fit in 510 bytes")
    sector = bytearray(512)
    sector[: len(code)] = code
    sector[510:512] = b"\x55\xaa"
    return bytes(sector)


def write_image(path: Path, code: bytes, sectors: int = 1) -> Path:
    """Write a raw disk image of ``sectors`` sectors that boots ``code`` (only when its
    content differs)."""
    data = boot_sector(code) + bytes(512 * (sectors - 1))
    if not path.exists() or path.read_bytes() != data:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return path
