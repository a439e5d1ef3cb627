"""A guest for backup tests: its qcow2 disk rewritten by its BIOS (a 32-bit counter that
moves with each write), and `virtui backup` run as a timer would run it."""

from __future__ import annotations

import io
import os
import subprocess
import time
from pathlib import Path

import libvirt

from tests.integration.guests import TEST_PREFIX
from virtui.backends.libvirt.bootsector import DISK_CHANGE_CODE, boot_sector
from virtui.cli.backup import backup_main

DISK_MIB = 16


def backup_guest(
    conn: libvirt.virConnect,
    directory: Path,
    *,
    noise_mib: int = 0,
    running: bool = True,
    prefix: str = TEST_PREFIX,
    disk_mib: int = DISK_MIB,
) -> libvirt.virDomain:
    """A guest whose qcow2 disk its BIOS rewrites, a 32-bit counter in it moving each
    time (never the same disk twice); after the boot sector, ``noise_mib`` MiB that no
    copy can skip."""
    raw = directory / "disk.raw"
    with raw.open("wb") as file:
        file.write(boot_sector(DISK_CHANGE_CODE))
        file.write(os.urandom(noise_mib << 20))
        file.truncate(disk_mib << 20)
    image = directory / "disk.qcow2"
    subprocess.run(["qemu-img", "convert", "-O", "qcow2", str(raw), str(image)], check=True)
    name = f"{prefix}backup-{directory.name[-8:]}"
    dom = conn.defineXMLFlags(
        f"""<domain type='qemu'><name>{name}</name><memory unit='MiB'>16</memory><vcpu>1</vcpu>
<os><type arch='x86_64' machine='pc'>hvm</type><boot dev='hd'/></os><devices>
<disk type='file' device='disk'><driver name='qemu' type='qcow2'/>
<source file='{image}'/><target dev='vda' bus='virtio'/></disk>
<memballoon model='none'/></devices></domain>""",
        libvirt.VIR_DOMAIN_DEFINE_VALIDATE,
    )
    if running:
        dom.create()
    return dom


def writes_past(dom: libvirt.virDomain, count: int, timeout: float = 60.0) -> None:
    """Until the guest has written ``count`` more times (its counters are the event)."""
    start = dom.blockStats("vda")[2]
    deadline = time.monotonic() + timeout
    while dom.blockStats("vda")[2] < start + count:
        assert time.monotonic() < deadline, "the guest stopped writing"
        time.sleep(0.05)


def run_backup(*arguments: str) -> tuple[int, str]:
    """``virtui backup ARGUMENTS``: its exit status and what it printed."""
    out = io.StringIO()
    status = backup_main(list(arguments), out)
    return status, out.getvalue()
