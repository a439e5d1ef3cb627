"""Many hosts at once: 20 hosts x 100 domains, poll and render cost.

Run: ``.venv/bin/python -m benchmarks.bench_hosts`` (from the repository root).

Each host is its own libvirt test-driver node (``test:///<tmp>/hostN.xml``) with its
own connection. Measured through the real code: one round of polls of every host, each
on its own thread as the app does it (wall time and process CPU), applying the round to
the domains table and drawing it in a headless app, and the whole console's CPU at 1 Hz.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

from virtui.config.settings import Settings
from virtui.monitor.session import HostSession, HostUpdate
from virtui.monitor.sessions import open_sessions
from virtui.tui.app import VirtuiApp

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from benchmarks.bench_poll import build_node, summary


def poll_round(sessions: list[HostSession]) -> tuple[float, float, list[HostUpdate]]:
    """Poll every host at once, one thread each; (wall s, process CPU s, updates)."""
    updates: list[HostUpdate] = []
    lock = threading.Lock()

    def one(session: HostSession) -> None:
        update = session.poll_once()
        with lock:
            updates.append(update)

    start, start_cpu = time.perf_counter(), time.process_time()
    threads = [threading.Thread(target=one, args=(s,)) for s in sessions]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - start, time.process_time() - start_cpu, updates


async def table_round(uris: list[str], rounds: int) -> tuple[list[float], list[float]]:
    """Apply a whole round to the table and draw it: wall and UI-thread CPU seconds."""
    sessions = open_sessions(uris)
    app = VirtuiApp(Settings(uris=uris), sessions=sessions, auto_poll=False)
    wall: list[float] = []
    cpu: list[float] = []
    async with app.run_test(size=(160, 50)) as pilot:
        for _ in range(rounds):
            _, _, updates = await asyncio.to_thread(poll_round, sessions)
            start, start_cpu = time.perf_counter(), time.thread_time()
            for update in updates:
                app.hosts.apply(update)
            app.domains.refresh_view()
            await pilot.pause()
            wall.append(time.perf_counter() - start)
            cpu.append(time.thread_time() - start_cpu)
    return wall, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hosts", type=int, default=20)
    parser.add_argument("--domains", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--cpu-seconds", type=float, default=10.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        uris = []
        for index in range(args.hosts):
            directory = Path(tmp) / f"host{index}"
            directory.mkdir()
            uris.append(build_node(directory, args.domains))
        sessions = open_sessions(uris)
        poll_round(sessions)  # connect, first sample
        walls, cpus = [], []
        for _ in range(args.rounds):
            wall, cpu, _ = poll_round(sessions)
            walls.append(wall)
            cpus.append(cpu)
        for session in sessions:
            session.close()
        size = f"{args.hosts} hosts x {args.domains} domains"
        print(f"{size}  poll round (wall)  {summary(walls)}")
        print(f"{size}  poll round (CPU)   {summary(cpus)}")
        table, table_cpu = asyncio.run(table_round(uris, args.rounds))
        print(f"{size}  table (wall)       {summary(table)}")
        print(f"{size}  table (CPU)        {summary(table_cpu)}")
        total = statistics.median(walls) + statistics.median(table)
        print(f"{size}  poll+table wall    median {total * 1000:7.1f} ms")
        cpu = asyncio.run(console_cpu_many(uris, args.cpu_seconds))
        print(f"{size}  console CPU at 1 Hz over {args.cpu_seconds:.0f} s: {cpu:.1f}% of one core")


async def console_cpu_many(uris: list[str], seconds: float) -> float:
    """Percent of one core the process used at a 1 s refresh over all hosts."""
    app = VirtuiApp(Settings(uris=uris, delay=1.0))
    async with app.run_test(size=(160, 50)):
        await asyncio.sleep(3)
        cpu0, wall0 = time.process_time(), time.perf_counter()
        await asyncio.sleep(seconds)
        cpu1, wall1 = time.process_time(), time.perf_counter()
    return 100 * (cpu1 - cpu0) / (wall1 - wall0)


if __name__ == "__main__":
    main()
