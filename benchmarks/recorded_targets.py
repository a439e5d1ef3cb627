"""Many exporter targets from one process: what a real prometheus-libvirt-exporter
printed once for a test-driver node, served again on a port per target, its counters
advancing at every scrape.

Fifty real exporters over 200-domain nodes take both cores of a 2-CPU machine before
Prometheus or virtui run at all, so the scale benchmark serves recorded series instead
(the issue allows "recorded series"): the series, labels and values are the exporter's
own, read from a real one at the start of the run.
"""

from __future__ import annotations

import http.server
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
from tests.integration.prometheus import Exporter, free_port

# How fast the served counters grow, per second: a guest using half a CPU, a disk or a
# NIC moving a MB/s, a hundred requests or packets.
GROWTH = (("cpu_time", 0.5), ("bytes", 1e6))
OTHER_GROWTH = 100.0


def record(libvirt_uri: str) -> str:
    """What a real exporter prints for the host at ``libvirt_uri``."""
    exporter = Exporter(libvirt_uri)
    try:
        return httpx.get(f"http://{exporter.address}/metrics", timeout=30).text
    finally:
        exporter.stop()


class _Series:
    """The recorded lines: fixed text, and counters that grow with time."""

    def __init__(self, text: str) -> None:
        self.fixed: list[str] = []
        self.counters: list[tuple[str, float, float]] = []  # line start, value, growth
        for line in text.splitlines():
            if not line.startswith("libvirt_"):
                continue
            name_labels, _, value = line.rpartition(" ")
            name = name_labels.split("{", 1)[0]
            if name.endswith("_total"):
                growth = next((g for part, g in GROWTH if part in name), OTHER_GROWTH)
                self.counters.append((name_labels, float(value), growth))
            else:
                self.fixed.append(line)
        self.start = time.monotonic()

    def render(self) -> bytes:
        elapsed = time.monotonic() - self.start
        lines = self.fixed + [
            f"{name} {value + growth * elapsed!r}" for name, value, growth in self.counters
        ]
        return ("\n".join(lines) + "\n").encode()


@contextmanager
def serving(libvirt_uri: str, targets: int) -> Iterator[list[str]]:
    """``targets`` addresses serving what an exporter printed for ``libvirt_uri``, from a
    process of their own (their CPU is not the benchmark's)."""
    process = subprocess.Popen(
        [sys.executable, "-m", "benchmarks.recorded_targets", libvirt_uri, str(targets)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        addresses = [process.stdout.readline().strip() for _ in range(targets)]
        if not all(addresses):
            raise RuntimeError("the recorded targets did not start")
        yield addresses
    finally:
        process.kill()
        process.wait(10)


@contextmanager
def serve(text: str, targets: int) -> Iterator[list[str]]:
    """``targets`` addresses, each serving ``text``'s series on /metrics."""
    series = _Series(text)

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = series.render()
            self.send_response(200)
            self.send_header("Content-Type", "text/plain; version=0.0.4")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    servers = []
    for _ in range(targets):
        server = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
    try:
        yield [f"127.0.0.1:{s.server_address[1]}" for s in servers]
    finally:
        for server in servers:
            server.shutdown()
            server.server_close()


def main() -> None:
    """Serve ``URI COUNT`` until killed; print each address on a line when ready."""
    uri, count = sys.argv[1], int(sys.argv[2])
    with serve(record(uri), count) as addresses:
        print("\n".join(addresses), flush=True)
        threading.Event().wait()


if __name__ == "__main__":
    main()
