"""``virtui --demo`` as a real process on a terminal: no guest outlives it."""

from __future__ import annotations

import fcntl
import json
import os
import pty
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import termios
import threading
import time
from pathlib import Path

import pytest

from tests.integration.conftest import require_embedded_driver

pytestmark = pytest.mark.embed

# Its own embed root (libvirt allows one per process, and the test process holds one);
# kept between runs so QEMU's capability probe happens once per machine.


def _qemu_pids_under(root: Path) -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ")
        except OSError:
            continue
        if b"qemu-system" in cmdline and str(root).encode() in cmdline:
            pids.append(int(entry.name))
    return pids


def _connected(timeline: Path) -> int:
    """How many hosts the timeline says connected."""
    try:
        return timeline.read_text().count("connection: connected")
    except OSError:
        return 0


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()[:200]
    except OSError:
        return "(gone)"


def _drain(fd: int) -> None:
    try:
        while os.read(fd, 65536):
            pass
    except OSError:
        pass  # the terminal closed


@pytest.mark.parametrize(
    ("sig", "terminal_gone"),
    [(signal.SIGHUP, False), (signal.SIGTERM, False), (signal.SIGHUP, True)],
    ids=["SIGHUP", "SIGTERM", "SIGHUP-terminal-gone"],
)
def test_closing_the_terminal_tears_the_demo_guests_down(
    tmp_path: Path, sig: int, terminal_gone: bool
) -> None:
    require_embedded_driver()
    # Its own short cache (QEMU's socket paths must stay short), never shared with
    # another run: the check below counts the guests under this root.
    cache = Path(tempfile.mkdtemp(prefix="vt-cache-", dir="/var/tmp"))
    root = cache / "virtui" / "demo-embed"
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 100, 0, 0))
    env = {
        **os.environ,
        "XDG_CACHE_HOME": str(cache),
        "XDG_STATE_HOME": str(tmp_path / "state"),
        "TERM": "xterm-256color",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "virtui", "--demo"],
        stdin=slave,
        stdout=slave,
        stderr=slave,
        env=env,
        start_new_session=True,
    )
    os.close(slave)
    threading.Thread(target=_drain, args=(master,), daemon=True).start()
    try:
        deadline = time.monotonic() + 120
        timeline = tmp_path / "state" / "virtui" / "timeline.log"
        # Up and settled: the guests run and both hosts (embedded, test) are connected.
        # Not before: with a cold cache libvirt is still probing QEMU's capabilities
        # (a qemu -machine none of its own), and a process that dies mid-probe leaves
        # that probe behind, which is libvirt's and no demo guest.
        while len(_qemu_pids_under(root)) < 3 or _connected(timeline) < 2:
            assert process.poll() is None, "virtui exited before the guests were up"
            assert time.monotonic() < deadline, "demo guests did not start within 120 s"
            time.sleep(0.5)
        if terminal_gone:  # the window is closed: every write to the terminal now fails
            os.close(master)
            master = -1
        process.send_signal(sig)
        assert process.wait(timeout=60) == 128 + sig
        logs = tmp_path / "state" / "virtui"
        told = "\n".join(
            f"--- {log.name}:\n{log.read_text(errors='replace')[-3000:]}"
            for log in (logs / "virtui.log", logs / "stderr.log")
            if log.exists()
        )
        left = {pid: _cmdline(pid) for pid in _qemu_pids_under(root)}
        assert left == {}, told
    finally:
        if process.poll() is None:
            process.kill()
        for pid in _qemu_pids_under(root):
            os.kill(pid, signal.SIGKILL)
        if master >= 0:
            os.close(master)
        shutil.rmtree(cache, ignore_errors=True)


def _demo_run(root: Path, how: str) -> dict[str, object]:
    """Run the demo once in its own process (tests/integration/demo_user.py); what it
    found at start: each guest's snapshots and saved images, and the image files."""
    done = subprocess.run(
        [sys.executable, "-m", "tests.integration.demo_user", str(root), how],
        capture_output=True,
        text=True,
        timeout=180,
        cwd=Path(__file__).parents[2],
        env={**os.environ, "LIBVIRT_LOG_OUTPUTS": "1:file:/dev/null"},
    )
    line = next((line for line in done.stdout.splitlines() if line.startswith("up: ")), "")
    assert line, f"rc {done.returncode}: {done.stdout[-2000:]}{done.stderr[-2000:]}"
    found: dict[str, object] = json.loads(line.removeprefix("up: "))
    return found


FRESH = {
    "guests": {f"virtui-demo-{name}": 0 for name in ("spin", "idle", "paused", "off")},
    "images": sorted(
        f"virtui-demo-{name}.{kind}"
        for name in ("spin", "idle", "paused", "off")
        for kind in ("img", "qcow2")
    ),
}


def test_the_demo_starts_clean_after_a_user_changed_it_and_after_a_kill() -> None:
    require_embedded_driver()
    cache = Path(tempfile.mkdtemp(prefix="vt-cache-", dir="/var/tmp"))  # short socket paths
    root = cache / "demo-embed"
    try:
        assert _demo_run(root, "use") == FRESH
        # The last run left a snapshot, a managed save, a clone and an added disk.
        assert _demo_run(root, "use-kill") == FRESH
        # The last run was killed with all of that, its QEMUs still running.
        assert _demo_run(root, "plain") == FRESH
        assert _qemu_pids_under(root) == []
    finally:
        for pid in _qemu_pids_under(root):
            os.kill(pid, signal.SIGKILL)
        shutil.rmtree(cache, ignore_errors=True)
