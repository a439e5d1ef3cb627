"""Record the polls that snapshot tests replay, from real libvirt.

Run from the repository root: ``.venv/bin/python scripts/record_snapshot_fixtures.py``.
It boots the embedded demo guests and a test-driver fleet, polls each host five times a
second apart and writes tests/snapshots/recordings/{embed,fleet}.json.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

from virtui.backends.libvirt.backend import LibvirtBackend
from virtui.backends.libvirt.demo import EmbeddedDemo
from virtui.backends.replay import save_recording
from virtui.config.settings import cache_dir

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tests.fixtures.nodes import SMALL_FLEET, write_node

OUT = Path(__file__).resolve().parent.parent / "tests" / "snapshots" / "recordings"
POLLS = 5


def record(uri: str, name: str) -> None:
    backend = LibvirtBackend(uri, name)
    backend.connect()
    polls = []
    for index in range(POLLS):
        polls.append(backend.poll())
        if index + 1 < POLLS:
            time.sleep(1.0)
    backend.close()
    save_recording(polls, OUT / f"{name}.json")
    print(f"recorded {name}: {len(polls[-1].domains)} domains")


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    demo = EmbeddedDemo(cache_dir() / "demo-embed")
    demo.start(lambda message, step, steps: print(f"[{step}/{steps}] {message}"))
    try:
        time.sleep(2)  # let the guests settle past QEMU's start-up burst
        record(demo.uri, "embed")
    finally:
        demo.stop()
    with tempfile.TemporaryDirectory() as tmp:
        node = write_node(Path(tmp) / "fleet.xml", SMALL_FLEET)
        record(f"test://{node}", "fleet")


if __name__ == "__main__":
    main()
