"""Progress polling of 10 concurrent migrations: what it costs virtui's process.

Run (as root): ``.venv/bin/python -m benchmarks.bench_migration``.

Two real libvirtd hosts in their own namespaces (tests/integration/migration_hosts.py),
ten idle TCG guests with 16 MiB disks of noise, migrated at once with copy storage at
1 MiB/s each so that all ten stay in flight. virtui reads each job every 0.5 s and
updates rows and the panel; the figure is the CPU time of virtui's whole process over
a window while all ten are in flight, beside the same app idle over the same window.
Target (issue 19): under 2% of a core.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tests.integration.migration_hosts import make_guest, pair, with_pools

from virtui.config.settings import Settings
from virtui.model.migration import CopyStorage, MigrationOptions
from virtui.monitor.sessions import open_sessions
from virtui.tui.app import VirtuiApp

TARGET_PCT = 2.0


async def measure(uris: list[str], count: int, window: float) -> tuple[float, float, int]:
    """(idle % of a core, % during the migrations, migrations in flight at the end)."""
    app = VirtuiApp(Settings(uris=uris), sessions=open_sessions(uris), auto_poll=False)
    async with app.run_test(size=(160, 50)) as pilot:
        await app.poll_now()
        await pilot.press("J")  # the panel open: its refreshes are part of the cost
        start = time.process_time()
        await asyncio.sleep(window)
        idle = 100 * (time.process_time() - start) / window
        source, target = app.ports.host_names()
        keys = [s.sample.key for s in app.store.all() if s.sample.key.host == source]
        options = MigrationOptions(copy_storage=CopyStorage.ALL, bandwidth_mib=1)
        for key in keys[:count]:
            app.migrations.start(key, target, options)
        while not all(m.job is not None for m in app.migrations.migrations.values()):
            await asyncio.sleep(0.1)
        start = time.process_time()
        await asyncio.sleep(window)
        busy = 100 * (time.process_time() - start) / window
        in_flight = len(app.migrations.migrations)
        for key in list(app.migrations.migrations):
            app.migrations.cancel(key)
        while app.migrations.migrations:
            await asyncio.sleep(0.1)
    return idle, busy, in_flight


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--migrations", type=int, default=10)
    parser.add_argument("--window", type=float, default=8.0)
    args = parser.parse_args()
    first, second = pair()
    try:
        first.start()
        second.start()
        with_pools(first, second)
        for n in range(args.migrations):
            make_guest(first.uri, f"bench{n:02d}", disk_mib=16)
        idle, busy, in_flight = asyncio.run(
            measure([first.uri, second.uri], args.migrations, args.window)
        )
    finally:
        first.remove()
        second.remove()
    print(
        f"{args.migrations} migrations, {args.window:.0f} s window, "
        f"{in_flight} still in flight at its end"
    )
    print(f"virtui idle (same app, panel open)   {idle:5.2f}% of a core")
    print(f"virtui during the migrations         {busy:5.2f}% of a core")
    print(f"progress polling (difference)        {busy - idle:5.2f}% of a core")
    verdict = "met" if busy < TARGET_PCT else "NOT met"
    print(f"target: under {TARGET_PCT:.0f}% of a core in all: {verdict}")


if __name__ == "__main__":
    main()
