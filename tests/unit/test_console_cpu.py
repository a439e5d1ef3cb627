"""The console benchmarks' CPU reading: each thread's own nanoseconds, so an idle
console's few tens of milliseconds are not rounded to 10 ms ticks."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time

from benchmarks.console_run import TreeCpu, cpu_seconds_between, tree_cpu


def _spin(seconds: float) -> None:
    until = time.thread_time() + seconds
    while time.thread_time() < until:
        pass


SPIN_ON_CUE = """
import sys, time
print("ready", flush=True)
sys.stdin.readline()
until = time.thread_time() + 0.013
while time.thread_time() < until:
    pass
print("spun", flush=True)
sys.stdin.readline()
"""


def test_a_short_burst_is_counted_to_the_millisecond() -> None:
    child = subprocess.Popen(
        [sys.executable, "-c", SPIN_ON_CUE], stdin=subprocess.PIPE, stdout=subprocess.PIPE
    )
    assert child.stdin is not None and child.stdout is not None
    try:
        assert child.stdout.readline() == b"ready\n"
        before = tree_cpu(child.pid)
        child.stdin.write(b"go\n")
        child.stdin.flush()
        assert child.stdout.readline() == b"spun\n"
        after = tree_cpu(child.pid)
    finally:
        child.communicate(b"end\n", timeout=30)
    spent, exact = cpu_seconds_between(before, after)
    assert exact
    # 13 ms between two 10 ms ticks (ticks read 10 or 20), plus the child's own reads
    assert 0.013 <= spent < 0.015


def test_a_thread_born_in_the_window_counts_whole() -> None:
    before = tree_cpu(os.getpid())
    spun, done = threading.Event(), threading.Event()

    def work() -> None:
        _spin(0.02)
        spun.set()
        done.wait()  # still alive when the window ends

    worker = threading.Thread(target=work)
    worker.start()
    spun.wait()
    after = tree_cpu(os.getpid())
    done.set()
    worker.join()
    spent, exact = cpu_seconds_between(before, after)
    assert exact and spent >= 0.02


def test_a_thread_gone_in_the_window_falls_back_to_ticks() -> None:
    before = TreeCpu({1: 5_000_000, 2: 7_000_000}, ticks=100)
    after = TreeCpu({1: 9_000_000}, ticks=103)  # task 2 ended: its time went with it
    spent, exact = cpu_seconds_between(before, after)
    assert not exact
    assert spent == 3 / os.sysconf("SC_CLK_TCK")
