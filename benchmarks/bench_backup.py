"""Backup throughput beside a plain qemu-img convert of the same disk, in one run.

Run: ``.venv/bin/python -m benchmarks.bench_backup`` (root; from the repository root).
A real TCG guest (embedded QEMU driver in a temporary root) idles on a qcow2 disk of
``--mib`` MiB of random data. Each round: a full backup through libvirt's backup API
(virtui's ``back_up``), then ``qemu-img convert -U -O qcow2`` of the same disk, then an
incremental backup with nothing changed. Medians of ``--rounds``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import libvirt

from benchmarks.bench_console import machine
from virtui.backends.backups import sha256_of
from virtui.backends.libvirt.backup import back_up
from virtui.backends.libvirt.bootsector import IDLE_CODE, boot_sector
from virtui.backends.libvirt.demo import qemu_conf
from virtui.backends.libvirt.eventloop import ensure_event_loop


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mib", type=int, default=256)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="vt-bench-backup-") as tmp:
        base = Path(tmp)
        os.chmod(base, 0o755)
        root = base / "root"
        (root / "etc").mkdir(parents=True)
        root.chmod(0o700)
        (root / "etc" / "qemu.conf").write_text(qemu_conf())
        raw, disk = base / "disk.raw", base / "disk.qcow2"
        with raw.open("wb") as file:
            file.write(boot_sector(IDLE_CODE))
            for _ in range(args.mib):
                file.write(os.urandom(1 << 20))
        subprocess.run(["qemu-img", "convert", "-O", "qcow2", str(raw), str(disk)], check=True)
        raw.unlink()
        ensure_event_loop()
        conn = libvirt.open(f"qemu:///embed?root={root}")
        dom = conn.defineXMLFlags(
            f"""<domain type='qemu'><name>bench-backup</name><memory unit='MiB'>16</memory>
<vcpu>1</vcpu><os><type arch='x86_64' machine='pc'>hvm</type><boot dev='hd'/></os>
<devices><disk type='file' device='disk'><driver name='qemu' type='qcow2'/>
<source file='{disk}'/><target dev='vda' bus='virtio'/></disk>
<memballoon model='none'/></devices></domain>""",
            libvirt.VIR_DOMAIN_DEFINE_VALIDATE,
        )
        dom.create()
        full, plain, incremental, hashing = [], [], [], []
        try:
            for round_number in range(args.rounds):
                store = base / f"backups{round_number}"
                started = time.perf_counter()
                back_up(dom, store, incremental=False)
                full.append(time.perf_counter() - started)
                started = time.perf_counter()
                out = base / "plain.qcow2"
                subprocess.run(
                    ["qemu-img", "convert", "-U", "-O", "qcow2", str(disk), str(out)], check=True
                )
                plain.append(time.perf_counter() - started)
                started = time.perf_counter()
                sha256_of(out)  # what the manifest's hash of such an image costs
                hashing.append(time.perf_counter() - started)
                out.unlink()
                started = time.perf_counter()
                back_up(dom, store, incremental=True)
                incremental.append(time.perf_counter() - started)
                shutil.rmtree(store)
        finally:
            dom.destroy()
            for checkpoint in dom.listAllCheckpoints():
                checkpoint.delete(libvirt.VIR_DOMAIN_CHECKPOINT_DELETE_METADATA_ONLY)
            dom.undefine()
            conn.close()
    print(machine())
    print(f"a {args.mib} MiB qcow2 disk of random data, a running TCG guest, {args.rounds} rounds")
    mib = args.mib
    for label, times in (
        ("full backup (backup API, push)", full),
        ("qemu-img convert of the same disk", plain),
        ("incremental, nothing changed", incremental),
        ("SHA-256 of an image (in a full one)", hashing),
    ):
        median = statistics.median(times)
        print(f"  {label:36} {median:7.2f} s  {mib / median:8.1f} MiB/s of the disk")
    ratio = statistics.median(full) / statistics.median(plain)
    print(f"  full backup / qemu-img convert: {ratio:.2f}x")


if __name__ == "__main__":
    main()
