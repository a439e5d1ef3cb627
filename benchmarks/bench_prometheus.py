"""One Prometheus query for a fleet versus polling the same hosts over libvirt.

Run: ``.venv/bin/python -m benchmarks.bench_prometheus`` (from the repository root;
needs the Debian packages prometheus and prometheus-libvirt-exporter).

Several test-driver nodes (default 5 x 200 = 1,000 domains), each read by its own
prometheus-libvirt-exporter, all scraped by one Prometheus every second. Measured
through virtui's own backends: a round of PrometheusBackend polls of every host (one
instant query shared by the round, then the per-host samples) against a round of
LibvirtBackend polls of the same node files. Wall time and this process's CPU time.

Then the console itself (``--console``, on by default), as bench_console runs it: virtui
on a 120x35 pty at a 1 s refresh with every host, once through Prometheus and once
through libvirt on the same node files; its CPU, first frame, first domain row,
terminal bytes per refresh and RSS, and how many instant queries Prometheus answered
per round while the Prometheus console ran.
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tests.integration.prometheus import Exporter, Prometheus, prometheus_available

from benchmarks.bench_console import compare, machine
from benchmarks.bench_poll import build_node
from benchmarks.console_run import ConsoleFigures, run_console
from benchmarks.recorded_targets import serving
from virtui.backends.base import Backend
from virtui.backends.libvirt.backend import LibvirtBackend
from virtui.backends.prometheus.backend import PrometheusBackend
from virtui.backends.prometheus.client import SHARED_FOR_S


def measure(backends: list[Backend], rounds: int, pause: float) -> tuple[list[float], list[float]]:
    """(wall s, CPU s) of each round of polling every backend once, one after another."""
    walls, cpus = [], []
    for _ in range(rounds):
        time.sleep(pause)  # Prometheus: past the answer shared by the previous round
        wall, cpu = time.perf_counter(), time.process_time()
        domains = sum(len(backend.poll().domains) for backend in backends)
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    assert domains > 0
    return walls, cpus


def line(label: str, walls: list[float], cpus: list[float]) -> str:
    return (
        f"{label:<34} wall median {statistics.median(walls) * 1000:7.1f} ms   "
        f"CPU median {statistics.median(cpus) * 1000:7.1f} ms   (n={len(walls)})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hosts", type=int, default=5)
    parser.add_argument("--domains", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--scrape", type=int, default=2, help="scrape interval, s")
    parser.add_argument("--console", action=argparse.BooleanOptionalAction, default=True)
    parser.add_argument("--console-rounds", type=int, default=2)
    parser.add_argument("--warmup", type=float, default=10.0)
    parser.add_argument("--window", type=float, default=20.0)
    parser.add_argument(
        "--recorded",
        action="store_true",
        help="serve one real exporter's recorded series for every target (for many hosts)",
    )
    args = parser.parse_args()
    why = prometheus_available()
    if why:
        sys.exit(f"bench_prometheus: {why}")
    with tempfile.TemporaryDirectory() as tmp:
        uris = []
        for host in range(args.hosts):
            folder = Path(tmp) / f"h{host}"
            folder.mkdir()
            uris.append(build_node(folder, args.domains))
        with contextlib.ExitStack() as stack:
            if args.recorded:  # the nodes are alike: one recording serves every target
                targets = stack.enter_context(serving(uris[0], args.hosts))
            else:
                exporters = [Exporter(uri) for uri in uris]
                for exporter in exporters:
                    stack.callback(exporter.stop)
                targets = [e.address for e in exporters]
            prometheus = Prometheus(targets, interval_s=args.scrape)
            stack.callback(prometheus.remove)
            run(prometheus, targets, uris, args)


def run(
    prometheus: Prometheus, targets: list[str], uris: list[str], args: argparse.Namespace
) -> None:
    """Every measurement, once the targets are scraped."""
    prometheus.wait_for_samples(3, timeout=60)
    fleet: list[Backend] = [
        PrometheusBackend(f"prometheus+{prometheus.url}/?instance={t}", f"p{n}")
        for n, t in enumerate(targets)
    ]
    direct: list[Backend] = [LibvirtBackend(uri, f"l{n}") for n, uri in enumerate(uris)]
    for backend in fleet + direct:
        backend.connect()
    total = args.hosts * args.domains
    print(machine())
    print(f"{args.hosts} hosts x {args.domains} domains = {total} domains")
    walls, cpus = measure(fleet, args.rounds, SHARED_FOR_S + 0.05)
    print(line("Prometheus: one query, all hosts", walls, cpus))
    walls, cpus = measure(direct, args.rounds, 0.0)
    print(line("libvirt: one poll per host", walls, cpus))
    for backend in fleet + direct:
        backend.close()
    if args.console:
        consoles(prometheus, [b.uri for b in fleet], uris, args)


def consoles(
    prometheus: Prometheus, fleet: list[str], direct: list[str], args: argparse.Namespace
) -> None:
    """The console over every host, through Prometheus and through libvirt."""
    virtui = str(Path(__file__).resolve().parent.parent / ".venv" / "bin" / "virtui")
    asked: list[float] = []

    def through(uris: list[str], count_queries: bool) -> Callable[[], ConsoleFigures]:
        def run() -> ConsoleFigures:
            before = prometheus.queries()
            figures = run_console(
                [virtui, *(w for uri in uris for w in ("-c", uri)), "-d", "1", "-o", "cpu"],
                marker=b"virtui",
                filled=b"vm000",
                warmup_s=args.warmup,
                window_s=args.window,
            )
            if count_queries:  # the run's whole life: about one per round
                asked.append((prometheus.queries() - before) / (args.warmup + args.window))
            return figures

        return run

    compare(
        f"the console over {len(direct)} hosts",
        {"prometheus": through(fleet, True), "libvirt": through(direct, False)},
        args.console_rounds,
    )
    print(
        f"  instant queries per second while the Prometheus console ran: "
        f"{statistics.median(asked):.2f} (1 s refresh)"
    )


if __name__ == "__main__":
    main()
