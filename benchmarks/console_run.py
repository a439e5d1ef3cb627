"""Run a console program on a pseudo-terminal and measure what it costs.

The program is started on a fresh pty of a given size, as a terminal emulator would
start it; everything it writes is read (and counted) here, which is what a user over
SSH waits for. CPU time is read from /proc for the program and all its descendants:
each thread's own time in nanoseconds (schedstat), not the processes' 10 ms ticks.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import pty
import select
import signal
import struct
import termios
import time
from dataclasses import dataclass, field
from pathlib import Path

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


@dataclass
class ConsoleFigures:
    """What one run of a console program cost."""

    first_frame_s: float = float("nan")  # from exec to the marker text on the terminal
    filled_s: float = float("nan")  # from exec to the ``filled`` text (a first data row)
    cpu_pct: float = float("nan")  # of one core, over the measured window
    cpu_exact: bool = True  # False: a thread ended in the window, counted in 10 ms ticks
    bytes_per_refresh: float = float("nan")  # terminal output per second (1 Hz refresh)
    rss_mib: float = float("nan")  # resident set at the end of the window
    output: bytearray = field(default_factory=bytearray)


@dataclass(frozen=True)
class TreeCpu:
    """CPU time of a process tree at one moment: each live task's (thread's) own in ns
    (``/proc/PID/task/TID/schedstat``), and the processes' utime + stime in clock ticks,
    which also hold the time of threads gone since but only to 10 ms."""

    task_ns: dict[int, int]
    ticks: int


def _tree_pids(root: int) -> tuple[list[int], dict[int, int]]:
    """``root`` and its live descendants; and every process's utime + stime in ticks."""
    children: dict[int, list[int]] = {}
    ticks: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        pid = int(entry.name)
        children.setdefault(int(fields[1]), []).append(pid)
        ticks[pid] = int(fields[11]) + int(fields[12])
    tree, todo = [], [root]
    while todo:
        pid = todo.pop()
        tree.append(pid)
        todo.extend(children.get(pid, []))
    return tree, ticks


def tree_cpu(root: int) -> TreeCpu:
    """The CPU time ``root`` and its descendants have used so far."""
    tree, ticks = _tree_pids(root)
    task_ns: dict[int, int] = {}
    for pid in tree:
        with contextlib.suppress(OSError):
            for task in Path(f"/proc/{pid}/task").iterdir():
                with contextlib.suppress(OSError, ValueError, IndexError):
                    task_ns[int(task.name)] = int((task / "schedstat").read_text().split()[0])
    return TreeCpu(task_ns, sum(ticks.get(pid, 0) for pid in tree))


def cpu_seconds_between(before: TreeCpu, after: TreeCpu) -> tuple[float, bool]:
    """CPU seconds used between two readings, and whether to the nanosecond. An idle
    console uses about 90 ms in the 20 s window: counted in 10 ms ticks that is a
    figure +-11% off, which cannot tell whether it is within 10% of another. Every
    task's own time is exact, but a task that ended took its time with it: then the
    ticks."""
    if before.task_ns and all(tid in after.task_ns for tid in before.task_ns):
        spent = sum(ns - before.task_ns.get(tid, 0) for tid, ns in after.task_ns.items())
        return spent / 1e9, True
    return (after.ticks - before.ticks) / CLOCK_TICKS, False


def _tree_rss_mib(root: int) -> float:
    """Resident memory of ``root`` (the console process itself), in MiB."""
    for line in Path(f"/proc/{root}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def spawn_on_pty(argv: list[str], size: tuple[int, int], env: dict[str, str]) -> tuple[int, int]:
    """Start ``argv`` with environment ``env`` on a new pty of ``size`` (columns, rows), as
    a terminal emulator would; the child's pid and the pty's controlling end."""
    pid, fd = pty.fork()
    if pid == 0:  # the child: becomes the console program
        columns, rows = size
        fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))
        os.execvpe(argv[0], argv, env)
    return pid, fd


def run_console(
    argv: list[str],
    *,
    marker: bytes,
    filled: bytes = b"",
    warmup_s: float,
    window_s: float,
    size: tuple[int, int] = (120, 35),
    env: dict[str, str] | None = None,
    quit_keys: bytes = b"q",
) -> ConsoleFigures:
    """Start ``argv`` on a pty of ``size`` (columns, rows); time the first appearance of
    ``marker`` (and of ``filled``) in its output; after ``warmup_s`` seconds measure CPU
    and output bytes for ``window_s`` seconds; then send ``quit_keys`` and reap it."""
    figures = ConsoleFigures()
    started = time.perf_counter()
    pid, fd = spawn_on_pty(argv, size, {**os.environ, "TERM": "xterm-256color", **(env or {})})
    try:
        window_start = started + warmup_s
        window_end = window_start + window_s
        cpu_start: TreeCpu | None = None
        measured_from = 0.0
        counted_from = 0
        while True:
            now = time.perf_counter()
            if cpu_start is None and now >= window_start:
                cpu_start, counted_from = tree_cpu(pid), len(figures.output)
                measured_from = time.perf_counter()
            if now >= window_end:
                break
            ready, _, _ = select.select([fd], [], [], min(0.05, window_end - now))
            if not ready:
                continue
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                break
            if not chunk:
                break
            figures.output += chunk
            if figures.first_frame_s != figures.first_frame_s and marker in figures.output:
                figures.first_frame_s = time.perf_counter() - started
            if filled and figures.filled_s != figures.filled_s and filled in figures.output:
                figures.filled_s = time.perf_counter() - started
        cpu_end, measured = tree_cpu(pid), time.perf_counter() - measured_from
        figures.rss_mib = _tree_rss_mib(pid)
        counted = len(figures.output) - counted_from
        if cpu_start is not None:
            spent, figures.cpu_exact = cpu_seconds_between(cpu_start, cpu_end)
            figures.cpu_pct = 100 * spent / measured
        figures.bytes_per_refresh = counted / window_s
        os.write(fd, quit_keys)
        deadline = time.perf_counter() + 5
        while time.perf_counter() < deadline:
            done, _ = os.waitpid(pid, os.WNOHANG)
            if done:
                break
            if select.select([fd], [], [], 0.1)[0]:
                with contextlib.suppress(OSError):
                    os.read(fd, 65536)
        else:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
    finally:
        os.close(fd)
    return figures
