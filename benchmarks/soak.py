"""A long day at the console: resident memory while a person switches screens.

virtui runs on a pty (120x35) at 1 s polls on a 1,000-domain test node plus
test:///default, and every ``--every`` seconds the keys a person presses go in: each
top screen (1-6), Enter and Esc on a domain, ? and Esc. Its output is read all along.
Resident memory is printed once a minute, and at the end the last figure beside the
one at five minutes (the issue's bar: within 10%).

    .venv/bin/python -m benchmarks.soak --minutes 60
"""

from __future__ import annotations

import argparse
import contextlib
import os
import select
import signal
import sys
import tempfile
import time
from pathlib import Path

from tests.fixtures.nodes import NodeDomain, write_node

from benchmarks.console_run import spawn_on_pty

CYCLE = [b"2", b"3", b"4", b"5", b"6", b"1", b"\r", b"\x1b", b"?", b"\x1b"]


def _rss_mib(pid: int) -> float:
    pages = int(Path(f"/proc/{pid}/statm").read_text().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def _drain(fd: int, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0:
        if select.select([fd], [], [], min(left, 0.2))[0]:
            with contextlib.suppress(OSError):
                os.read(fd, 65536)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=60)
    parser.add_argument("--every", type=float, default=15, help="seconds between key cycles")
    parser.add_argument("--domains", type=int, default=1000)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="vt-soak-"))
    domains = [NodeDomain(f"soak{i:04d}", memory_mib=64) for i in range(args.domains)]
    node = write_node(folder / "node.xml", domains, cpus=16, memory_mib=262144)
    env = {
        **os.environ,
        "TERM": "xterm-256color",
        "XDG_CONFIG_HOME": str(folder / "config"),
        "XDG_STATE_HOME": str(folder / "state"),
        "XDG_CACHE_HOME": str(folder / "cache"),
    }
    argv = [sys.executable, "-m", "virtui", "-d", "1", "-c", f"test://{node}"]
    argv += ["-c", "test:///default"]
    pid, fd = spawn_on_pty(argv, (120, 35), env)
    figures: list[tuple[float, float]] = []
    started = time.monotonic()
    try:
        _drain(fd, 10)  # up and polling
        next_minute = started + 60
        while (now := time.monotonic()) < started + args.minutes * 60:
            for key in CYCLE:
                os.write(fd, key)
                _drain(fd, 0.7)
            _drain(fd, max(0.0, args.every - 0.7 * len(CYCLE)))
            if time.monotonic() >= next_minute:
                minute = (time.monotonic() - started) / 60
                figures.append((minute, _rss_mib(pid)))
                print(f"{minute:5.1f} min  RSS {figures[-1][1]:7.1f} MiB", flush=True)
                next_minute += 60
            del now
    finally:
        os.kill(pid, signal.SIGTERM)
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, 0)
        os.close(fd)
    at_five = next((rss for minute, rss in figures if minute >= 5), None)
    if at_five and figures:
        last = figures[-1][1]
        print(
            f"RSS at 5 min {at_five:.1f} MiB, at {figures[-1][0]:.0f} min {last:.1f} MiB: "
            f"{100 * (last - at_five) / at_five:+.1f}%"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
