"""Key to screen: how long virtui takes to answer a key, on a pseudo-terminal, while it
polls a big host every second.

virtui runs on its own 120x35 pty on a test-driver node (``bench_poll.build_node``: 90%
running) at a 1 s refresh. After the first domain row and a warm-up, keys are written
to the pty one at a time, as a person types them: ``?`` (help opens), ``?`` (it closes),
``2`` (the hosts screen), ``1`` (back to the domains). Each is timed from the write to
the moment the terminal receives the text only the answering screen draws. Polls go on
meanwhile, so some keys land while a poll's table update runs: the median and the 95th
percentile say what a person feels.

Run: ``.venv/bin/python -m benchmarks.bench_keys [--domains 5000] [--presses 25]``.
Target (issue "cost, round three"): median ≤ 40 ms, p95 ≤ 80 ms at 5,000 domains.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import select
import signal
import statistics
import tempfile
import time
from pathlib import Path

from benchmarks.bench_console import machine, virtui_argv
from benchmarks.bench_poll import build_node
from benchmarks.console_run import spawn_on_pty

# (what is typed, what only the screen that answers writes)
# (help is a dialog over the domains screen: opening it repaints their status line and
# header too; closing it uncovers the rows, whose memory figures only the table shows)
KEYS: tuple[tuple[bytes, bytes], ...] = (
    (b"?", b"Remove NIC"),  # a line of the help's key list
    (b"?", b"MiB"),  # the rows' MEM column, uncovered
    (b"2", b"free/total"),  # the hosts table's header
    (b"1", "%CPU▼".encode()),  # the domains table's sort arrow (the hosts screen has none)
)
TIMEOUT_S = 10.0


class Terminal:
    """The pty's controlling end: everything read is kept, with when it arrived."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.output = bytearray()

    def read_until(self, marker: bytes, start: int, timeout: float) -> float | None:
        """Read until ``marker`` appears at or after ``start``; when it arrived (None:
        not within ``timeout``)."""
        deadline = time.perf_counter() + timeout
        while True:
            if self.output.find(marker, start) >= 0:
                return time.perf_counter()
            left = deadline - time.perf_counter()
            if left <= 0:
                return None
            if select.select([self.fd], [], [], min(left, 0.05))[0]:
                with contextlib.suppress(OSError):
                    self.output += os.read(self.fd, 65536)

    def drain(self, seconds: float) -> None:
        """Read whatever comes for ``seconds``."""
        end = time.perf_counter() + seconds
        while (left := end - time.perf_counter()) > 0:
            if select.select([self.fd], [], [], min(left, 0.05))[0]:
                with contextlib.suppress(OSError):
                    self.output += os.read(self.fd, 65536)


def measure(uri: str, presses: int, warmup_s: float, env: dict[str, str]) -> list[float]:
    """Seconds from each key to its answer on the terminal."""
    pid, fd = spawn_on_pty(
        virtui_argv(uri), (120, 35), {**os.environ, "TERM": "xterm-256color", **env}
    )
    terminal = Terminal(fd)
    answers: list[float] = []
    try:
        if terminal.read_until(b"vm0", 0, 120.0) is None:
            raise SystemExit("virtui showed no domain row within 120 s")
        terminal.drain(warmup_s)
        for number in range(presses):
            for key, marker in KEYS:
                start = len(terminal.output)
                written = time.perf_counter()
                os.write(fd, key)
                arrived = terminal.read_until(marker, start, TIMEOUT_S)
                if arrived is None:
                    raise SystemExit(f"no answer to {key!r} within {TIMEOUT_S} s")
                answers.append(arrived - written)
                # Typed like a person, not all at once: keys land anywhere in the poll's
                # second (a different moment each time).
                terminal.drain(0.15 + 0.37 * ((number * len(KEYS) + len(answers)) % 3))
        os.write(fd, b"q")
        terminal.drain(0.5)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, 0)
        os.close(fd)
    return answers


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--domains", type=int, nargs="*", default=[5000])
    parser.add_argument("--presses", type=int, default=25, help="rounds of the four keys")
    parser.add_argument("--warmup", type=float, default=5.0)
    args = parser.parse_args()
    print(f"machine: {machine()}")
    with tempfile.TemporaryDirectory() as tmp:
        scratch = Path(tmp)
        env = {
            "XDG_CONFIG_HOME": str(scratch / "config"),
            "XDG_STATE_HOME": str(scratch / "state"),
            "XDG_CACHE_HOME": str(scratch / "cache"),
        }
        for count in args.domains:
            uri = build_node(scratch, count)
            answers = sorted(measure(uri, args.presses, args.warmup, env))
            p95 = answers[min(len(answers) - 1, int(0.95 * len(answers)))]
            print(
                f"test driver, {count:,} domains, 1 s polls: {len(answers)} keys, "
                f"median {statistics.median(answers) * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms, "
                f"slowest {answers[-1] * 1000:.0f} ms (target: median ≤ 40, p95 ≤ 80)"
            )


if __name__ == "__main__":
    main()
