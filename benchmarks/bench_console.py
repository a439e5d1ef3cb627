"""virtui beside virt-top, in one run: console CPU, first frame, terminal bytes, memory;
and virtui's poll plus table update beside the bare libvirt bulk call.

Run: ``.venv/bin/python -m benchmarks.bench_console`` (from the repository root; root,
for the real-guest part). Each tool runs on its own 120x35 pseudo-terminal at a 1 s
refresh; CPU is its process tree's from /proc over a window after a warm-up; rounds
alternate the tools and medians are printed, with virtui's figure over virt-top's.

Beside them runs the floor (``benchmarks/textual_floor.py``): Python, libvirt and Textual
changing one line a second, nothing else; what the stack costs before virtui does anything.
Where there are domains, two more floors do virtui's visible work on the same stack:
the plain way (``benchmarks/textual_workfloor.py``: the same bulk call, a DataTable,
header and graph) and the lean way (``benchmarks/textual_leanfloor.py``: the same reads
as virtui, every domain rated and sorted, only the rows shown formatted and only the
changed lines repainted). Where the lean floor costs more than virt-top, "at or under
virt-top" is out of reach on this stack.

Workloads: libvirt test-driver nodes of 1,000 and 5,000 domains (in-process in both
tools), and ``--guests N`` real TCG guests on a hand-started libvirtd (qemu+unix).

virt-top: ``--virt-top PATH``, else ``virt-top`` on PATH, else Debian's package from a
newer suite unpacked from ``--virt-top-deb`` (bookworm has no virt-top 1.1).
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import libvirt

from benchmarks.bench_poll import build_node
from benchmarks.console_run import ConsoleFigures, run_console
from virtui.backends.libvirt.backend import BULK_STATS

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DEB = ROOT.parent / "shared" / "bench" / "virt-top_1.1.1-1_amd64.deb"


def find_virt_top(path: str | None, deb: Path, scratch: Path) -> str | None:
    """The virt-top binary to compare with, or None."""
    if path:
        return path
    found = shutil.which("virt-top")
    if found:
        return found
    if deb.exists():
        subprocess.run(["dpkg-deb", "-x", str(deb), str(scratch / "virt-top")], check=True)
        return str(scratch / "virt-top" / "usr" / "bin" / "virt-top")
    return None


def virtui_argv(uri: str) -> list[str]:
    # Sorted by CPU, as virt-top is: the user's saved sort could otherwise put a shut-off
    # domain on top (a graph that never moves) and skew every figure.
    return [str(ROOT / ".venv" / "bin" / "virtui"), "-c", uri, "-d", "1", "-o", "cpu"]


def floor_argv(uri: str) -> list[str]:
    """Python + libvirt + Textual changing one line a second (benchmarks/textual_floor)."""
    return [str(ROOT / ".venv" / "bin" / "python"), "-m", "benchmarks.textual_floor", uri]


def work_floor_argv(uri: str) -> list[str]:
    """The same table, header, graph and status in plain Textual (textual_workfloor)."""
    return [str(ROOT / ".venv" / "bin" / "python"), "-m", "benchmarks.textual_workfloor", uri]


def lean_floor_argv(uri: str) -> list[str]:
    """The least the stack can spend on the same visible work (textual_leanfloor)."""
    return [str(ROOT / ".venv" / "bin" / "python"), "-m", "benchmarks.textual_leanfloor", uri]


def virt_top_argv(binary: str, uri: str) -> list[str]:
    return [binary, "-c", uri, "-d", "1"]


def compare(
    label: str,
    tools: dict[str, Callable[[], ConsoleFigures]],
    rounds: int,
) -> dict[str, dict[str, float]]:
    """Run each tool ``rounds`` times, alternating; print and return the medians."""
    runs: dict[str, list[ConsoleFigures]] = {name: [] for name in tools}
    for _ in range(rounds):
        for name, run in tools.items():
            runs[name].append(run())
    medians = {
        name: {
            "cpu": statistics.median(f.cpu_pct for f in figures),
            "first": statistics.median(f.first_frame_s for f in figures),
            "filled": statistics.median(f.filled_s for f in figures),
            "bytes": statistics.median(f.bytes_per_refresh for f in figures),
            "rss": statistics.median(f.rss_mib for f in figures),
        }
        for name, figures in runs.items()
    }
    print(f"\n{label} ({rounds} rounds, medians)")
    names = list(tools)
    print(f"  {'':28}" + "".join(f"{name:>12}" for name in names) + ratio_titles(medians))
    rows = (
        ("console CPU at 1 Hz, % core", "cpu", "{:.2f}"),
        ("first frame, s", "first", "{:.3f}"),
        ("first domain row, s", "filled", "{:.3f}"),
        ("terminal bytes per refresh", "bytes", "{:.0f}"),
        ("RSS, MiB", "rss", "{:.1f}"),
    )
    for title, key, fmt in rows:
        cells = "".join(f"{fmt.format(medians[name][key]):>12}" for name in names)
        ratios = ""
        if "virt-top" in medians and medians["virt-top"][key]:
            ratios = "".join(
                f"{medians[name][key] / medians['virt-top'][key]:>16.2f}x"
                for name in ("virtui", "floor")
                if name in medians
            )
        for floor in ("work floor", "lean floor"):
            if floor in medians and medians[floor][key]:
                ratios += f"{medians['virtui'][key] / medians[floor][key]:>19.2f}x"
        if "virt-top" in medians and "lean floor" in medians and medians["virt-top"][key]:
            ratios += f"{medians['lean floor'][key] / medians['virt-top'][key]:>21.2f}x"
        print(f"  {title:28}{cells}{ratios}")
    ticked = [name for name, figures in runs.items() if not all(f.cpu_exact for f in figures)]
    if ticked:
        print(f"  CPU of {', '.join(ticked)} partly in 10 ms ticks (a thread ended in a window)")
    return medians


def poll_against_bulk(uri: str, rounds: int) -> tuple[float, float, float]:
    """Median CPU seconds of: the bare bulk call; virtui's poll and rates; its table
    update and draw (headless app, one poll a second as the console runs)."""
    from virtui.config.settings import Settings
    from virtui.monitor.sessions import open_sessions
    from virtui.tui.app import VirtuiApp

    conn = libvirt.openReadOnly(uri)
    bulk = []
    for _ in range(rounds):
        started = time.thread_time()
        conn.getAllDomainStats(BULK_STATS, 0)
        bulk.append(time.thread_time() - started)
    conn.close()

    async def app_side() -> tuple[list[float], list[float]]:
        app = VirtuiApp(Settings(uris=[uri]), sessions=open_sessions([uri]), auto_poll=False)
        polls: list[float] = []
        tables: list[float] = []
        async with app.run_test(size=(120, 35)) as pilot:
            session = app.sessions[0]

            def timed_poll() -> tuple[object, float]:
                started = time.thread_time()
                update = session.poll_once()
                return update, time.thread_time() - started

            for round_number in range(rounds + 2):
                update, spent = await asyncio.to_thread(timed_poll)
                started = time.thread_time()
                app.hosts.apply(update)  # type: ignore[arg-type]
                app.domains.refresh_view()
                await pilot.pause()
                if round_number >= 2:  # the first polls connect and read each domain's XML
                    polls.append(spent)
                    tables.append(time.thread_time() - started)
                await asyncio.sleep(1.0)
        app.shutdown()
        return polls, tables

    polls, tables = asyncio.run(app_side())
    return statistics.median(bulk), statistics.median(polls), statistics.median(tables)


def ratio_titles(medians: dict[str, dict[str, float]]) -> str:
    titles = ""
    if "virt-top" in medians:
        titles = "".join(
            f"{name + '/virt-top':>17}" for name in ("virtui", "floor") if name in medians
        )
    for floor in ("work floor", "lean floor"):
        if floor in medians:
            titles += f"{'virtui/' + floor:>20}"
    if "virt-top" in medians and "lean floor" in medians:
        titles += f"{'lean floor/virt-top':>22}"
    return titles


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="*", default=[1000, 5000])
    parser.add_argument("--guests", type=int, default=32, help="real guests (0: none)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--warmup", type=float, default=8.0)
    parser.add_argument("--window", type=float, default=20.0)
    parser.add_argument("--virt-top")
    parser.add_argument("--virt-top-deb", type=Path, default=DEFAULT_DEB)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        scratch = Path(tmp)
        virt_top = find_virt_top(args.virt_top, args.virt_top_deb, scratch)
        if virt_top is None:
            print("virt-top not found: virtui's figures only")
        print(f"machine: {machine()}")
        own_settings = {
            "XDG_CONFIG_HOME": str(scratch / "config"),
            "XDG_STATE_HOME": str(scratch / "state"),
            "XDG_CACHE_HOME": str(scratch / "cache"),
        }

        def tools(
            uri: str, marker: bytes, same_work: bool = False
        ) -> dict[str, Callable[[], ConsoleFigures]]:
            def on_pty(
                argv: list[str], drawn: bytes, filled: bytes, env: dict[str, str] | None = None
            ) -> Callable[[], ConsoleFigures]:
                return lambda: run_console(
                    argv,
                    marker=drawn,
                    filled=filled,
                    warmup_s=args.warmup,
                    window_s=args.window,
                    env=env,
                )

            chosen: dict[str, Callable[[], ConsoleFigures]] = {}
            if virt_top is not None:
                chosen["virt-top"] = on_pty(virt_top_argv(virt_top, uri), b"virt-top", marker)
            # virtui with neither the user's settings nor their review desk.
            chosen["virtui"] = on_pty(virtui_argv(uri), b"virtui", marker, own_settings)
            chosen["floor"] = on_pty(floor_argv(uri), b"floor", b"floor")
            if same_work:  # the floors doing the same visible work: plain, and lean
                chosen["work floor"] = on_pty(work_floor_argv(uri), b"floor", marker)
                chosen["lean floor"] = on_pty(lean_floor_argv(uri), b"floor", marker)
            return chosen

        for count in args.sizes:
            uri = build_node(scratch, count)
            compare(
                f"test driver, {count:,} domains",
                tools(uri, b"vm0", same_work=count > 0),
                args.rounds,
            )
            bulk, poll, table = poll_against_bulk(uri, max(5, args.rounds))
            report_bulk(bulk, poll, table)
        if args.guests:
            from benchmarks.real_guests import RealGuests

            with RealGuests(args.guests) as host:
                compare(
                    f"qemu+unix (hand-started libvirtd), {args.guests} real guests",
                    tools(host.uri, b"vt-bench-", same_work=True),
                    args.rounds,
                )
                bulk, poll, table = poll_against_bulk(host.uri, max(5, args.rounds))
                report_bulk(bulk, poll, table)
                report_repaint_floor(bulk)


def report_bulk(bulk: float, poll: float, table: float) -> None:
    """One line: the bare call, virtui's share, and the ratio (target: at most 3x)."""
    print(
        f"  bare bulk call {bulk * 1000:.2f} ms · virtui poll + rates {poll * 1000:.2f} ms"
        f" + table update {table * 1000:.2f} ms = {(poll + table) / bulk:.2f}x the bulk call"
    )


def report_repaint_floor(bulk: float) -> None:
    """One line: what Textual alone spends repainting a table whose every row changed
    (``benchmarks.textual_lines``), beside the bulk call: the least a Textual table
    update costs when, as with running guests, each row's CPU time ticks."""
    from benchmarks.textual_lines import ROWS, repaint_cost

    cost = repaint_cost(10)
    print(
        f"  floor: Textual alone repainting {ROWS} changed rows {cost * 1000:.2f} ms"
        f" = {cost / bulk:.2f}x the bulk call"
    )


def machine() -> str:
    cpus = Path("/proc/cpuinfo").read_text().count("processor\t:")
    model = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        "?",
    )
    memory = int(Path("/proc/meminfo").read_text().split()[1]) // 1024 // 1024
    return f"{cpus} CPUs ({model}), {memory} GiB, Python {sys.version.split()[0]}"


if __name__ == "__main__":
    main()
