"""Poll and table-update cost at 1,000 and 5,000 domains, and console CPU at 1 Hz.

Run: ``.venv/bin/python -m benchmarks.bench_poll`` (from the repository root).

Hosts are libvirt test-driver nodes built here (``test:///<tmp>/node.xml``), so the poll
is a real libvirt poll through LibvirtBackend (bulk stats, then virDomainGetInfo where the
driver's bulk stats lack CPU figures, as the test driver's do). The table update is the
real DomainsScreen in a headless Textual app: sync of the DataTable plus a full
compositor refresh. Targets (issue 2): poll + table update < 100 ms at 1,000 domains and
< 500 ms at 5,000; console CPU < 5% of one core at 1 Hz with 1,000 domains.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

from virtui.backends.libvirt.backend import LibvirtBackend
from virtui.config.settings import Settings
from virtui.monitor.rates import HostRates
from virtui.monitor.sessions import open_sessions
from virtui.tui.app import VirtuiApp

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tests.fixtures.nodes import NodeDomain, write_node


def build_node(directory: Path, count: int) -> str:
    """A node with ``count`` domains: mostly running, some paused and shut off."""
    domains = [
        NodeDomain(
            f"vm{index:05d}",
            vcpus=1 + index % 8,
            memory_mib=256 * (1 + index % 16),
            runstate=None if index % 10 else (3 if index % 20 else 5),
        )
        for index in range(count)
    ]
    path = write_node(directory / f"node{count}.xml", domains, cpus=64, memory_mib=1024 * 1024)
    return f"test://{path}"


def time_polls(uri: str, rounds: int) -> list[float]:
    """Seconds per poll (backend poll + rate computation)."""
    backend = LibvirtBackend(uri, "bench")
    backend.connect()
    rates = HostRates()
    times: list[float] = []
    try:
        for _ in range(rounds):
            start = time.perf_counter()
            rates.update(backend.poll())
            times.append(time.perf_counter() - start)
    finally:
        backend.close()
    return times


async def time_table(uri: str, rounds: int) -> tuple[list[float], list[float]]:
    """Seconds to apply one poll to the domains table and draw the screen: wall time
    (it includes waiting for the next frame) and the CPU time of that work."""
    app = VirtuiApp(Settings(uris=[uri]), sessions=open_sessions([uri]), auto_poll=False)
    wall: list[float] = []
    cpu: list[float] = []
    async with app.run_test(size=(160, 50)) as pilot:
        session = app.sessions[0]
        for _ in range(rounds):
            update = await asyncio.to_thread(session.poll_once)
            start, start_cpu = time.perf_counter(), time.thread_time()
            app.hosts.apply(update)
            app.domains.refresh_view()
            await pilot.pause()  # let the compositor draw the result
            wall.append(time.perf_counter() - start)
            cpu.append(time.thread_time() - start_cpu)
    return wall, cpu


async def console_cpu(uri: str, seconds: float) -> float:
    """Percent of one core the whole process used while the app refreshed at 1 Hz."""
    app = VirtuiApp(Settings(uris=[uri], delay=1.0))
    async with app.run_test(size=(160, 50)):
        await asyncio.sleep(3)  # connect and first polls: not steady state
        cpu0, wall0 = time.process_time(), time.perf_counter()
        await asyncio.sleep(seconds)
        cpu1, wall1 = time.process_time(), time.perf_counter()
    return 100 * (cpu1 - cpu0) / (wall1 - wall0)


def summary(times: list[float]) -> str:
    ms = sorted(t * 1000 for t in times)
    return f"median {statistics.median(ms):7.1f} ms  max {ms[-1]:7.1f} ms  (n={len(ms)})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 5000])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--cpu-seconds", type=float, default=10.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        for count in args.sizes:
            uri = build_node(Path(tmp), count)
            polls = time_polls(uri, args.rounds)
            table, table_cpu = asyncio.run(time_table(uri, args.rounds))
            total = statistics.median(polls) + statistics.median(table)
            print(f"{count:5d} domains  poll             {summary(polls)}")
            print(f"{count:5d} domains  table (wall)     {summary(table)}")
            print(f"{count:5d} domains  table (CPU)      {summary(table_cpu)}")
            print(f"{count:5d} domains  poll+table wall  median {total * 1000:7.1f} ms")
        window = f"{args.cpu_seconds:.0f} s"
        for count in (0, 1000):  # 0: what Textual and the timers cost with nothing to show
            cpu = asyncio.run(console_cpu(build_node(Path(tmp), count), args.cpu_seconds))
            print(f"{count:5d} domains  console CPU at 1 Hz over {window}: {cpu:.1f}% of one core")


if __name__ == "__main__":
    main()
