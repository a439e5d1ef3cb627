"""A demo run in its own process, as a user might leave it (``python -m`` this module).

``ROOT use``: start the demo, take a snapshot, make a managed save, define a clone, add a
disk, then stop the demo. ``ROOT use-kill``: the same, then SIGKILL instead of a stop.
``ROOT plain``: start, print the guests, stop. Prints ``up: NAMES`` once the demo is up,
``START FAILED: WHY`` (exit 3) when it is not.
"""

from __future__ import annotations

import json
import os
import re
import signal
import sys
from pathlib import Path

import libvirt

from virtui.backends.libvirt.demo import DEMO_PREFIX, DemoUnavailable, EmbeddedDemo


def _use(conn: libvirt.virConnect, root: Path) -> None:
    conn.lookupByName(DEMO_PREFIX + "idle").snapshotCreateXML(
        "<domainsnapshot><name>s1</name></domainsnapshot>", 0
    )
    conn.lookupByName(DEMO_PREFIX + "spin").managedSave(0)
    image = root / "images" / "my-clone.img"
    image.write_bytes(bytes(512))
    clone = conn.lookupByName(DEMO_PREFIX + "off").XMLDesc(0)
    clone = re.sub(r"<uuid>.*?</uuid>", "", clone)
    clone = re.sub(r"<name>.*?</name>", "<name>my-clone</name>", clone)
    clone = re.sub(r"<source file='[^']*'/>", f"<source file='{image}'/>", clone)
    conn.defineXML(clone)
    extra = root / "images" / "extra.raw"
    extra.write_bytes(bytes(1 << 20))
    conn.lookupByName(DEMO_PREFIX + "off").attachDeviceFlags(
        f"<disk type='file' device='disk'><driver name='qemu' type='raw'/>"
        f"<source file='{extra}'/><target dev='hdb' bus='ide'/></disk>",
        libvirt.VIR_DOMAIN_AFFECT_CONFIG,
    )


def main(root: Path, how: str) -> int:
    demo = EmbeddedDemo(root)
    try:
        demo.start(lambda message, step, steps: None)
    except DemoUnavailable as error:
        print(f"START FAILED: {error}", flush=True)
        return 3
    conn = libvirt.open(demo.uri)
    guests = {
        dom.name(): dom.snapshotNum(0) + dom.hasManagedSaveImage(0)
        for dom in conn.listAllDomains(0)
    }
    images = sorted(path.name for path in (root / "images").iterdir())
    print("up:", json.dumps({"guests": guests, "images": images}), flush=True)
    if how.startswith("use"):
        _use(conn, root)
    if how.endswith("kill"):
        os.kill(os.getpid(), signal.SIGKILL)
    conn.close()
    demo.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]), sys.argv[2]))
