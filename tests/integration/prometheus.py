"""Real Prometheus and prometheus-libvirt-exporter processes, started by the tests."""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

CONFIG = """\
global:
  scrape_interval: {interval}s
  evaluation_interval: {interval}s
rule_files: [{rules}]
scrape_configs:
  - job_name: libvirt
    static_configs:
      - targets: [{targets}]
"""


def free_port() -> int:
    """A loopback TCP port nobody listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def prometheus_available(*more: str) -> str:
    """Why the processes (and ``more``) cannot run here, or ""."""
    wanted = ("prometheus", "prometheus-libvirt-exporter", *more)
    missing = [p for p in wanted if not shutil.which(p)]
    return f"not installed: {', '.join(missing)} (Debian packages)" if missing else ""


class _Target:
    """An exporter program on a loopback port of its own, serving /metrics."""

    def __init__(self, program: str, *options: str) -> None:
        self.port = free_port()
        self.address = f"127.0.0.1:{self.port}"
        self.process = subprocess.Popen(
            [program, f"--web.listen-address={self.address}", *options],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        _wait_http(f"http://{self.address}/metrics", self.process)

    def stop(self) -> None:
        self.process.kill()
        self.process.wait(10)


class Exporter(_Target):
    """prometheus-libvirt-exporter on a loopback port, reading one libvirt URI."""

    def __init__(self, libvirt_uri: str) -> None:
        super().__init__("prometheus-libvirt-exporter", f"--libvirt.uri={libvirt_uri}")


class NodeExporter(_Target):
    """prometheus-node-exporter on a loopback port: this machine's CPU and memory."""

    def __init__(self) -> None:
        super().__init__("prometheus-node-exporter")


class Prometheus:
    """A Prometheus scraping the given exporters every ``interval_s`` (1 s), evaluating
    ``rules`` (a rule file's YAML) as often."""

    def __init__(self, targets: list[str], rules: str = "", interval_s: int = 1) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="vt-prom-"))
        self.targets = targets
        self.rules = rules
        self.interval_s = interval_s
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None
        self.start()

    def start(self) -> None:
        if self.rules:
            (self.dir / "rules.yml").write_text(self.rules)
        (self.dir / "prometheus.yml").write_text(
            CONFIG.format(
                interval=self.interval_s,
                targets=", ".join(f"'{t}'" for t in self.targets),
                rules=f"'{self.dir / 'rules.yml'}'" if self.rules else "",
            )
        )
        self.process = subprocess.Popen(
            [
                "prometheus",
                f"--config.file={self.dir / 'prometheus.yml'}",
                f"--storage.tsdb.path={self.dir / 'data'}",
                f"--web.listen-address=127.0.0.1:{self.port}",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        _wait_http(f"{self.url}/-/ready", self.process)

    def wait_for_samples(self, count: int, timeout: float = 30.0) -> None:
        """Until every target has been scraped ``count`` times (rates need two)."""
        deadline = time.monotonic() + timeout
        query = f"sum_over_time(up[5m]) >= {count}"  # successful scrapes
        while time.monotonic() < deadline:
            if len(self._instant(query)) == len(self.targets):
                return
            time.sleep(0.25)
        raise RuntimeError(f"Prometheus did not scrape every target {count} times")

    def wait_for_up(self, instance: str, value: int, timeout: float = 30.0) -> None:
        """Until a scrape of ``instance`` that started after this call reads ``up`` =
        ``value`` (one started earlier may still answer otherwise)."""
        since = time.time()
        deadline = time.monotonic() + timeout
        query = f'timestamp(up{{instance="{instance}"}} == {value})'
        while time.monotonic() < deadline:
            if any(float(item["value"][1]) > since for item in self._instant(query)):
                return
            time.sleep(0.25)
        raise RuntimeError(f"Prometheus did not read up={value} from {instance}")

    def _instant(self, query: str) -> list[dict[str, Any]]:
        """The result of an instant query."""
        answer = httpx.get(f"{self.url}/api/v1/query", params={"query": query}).json()
        return list(answer["data"]["result"])

    def queries(self) -> int:
        """How many instant queries this Prometheus has answered so far."""
        text = httpx.get(f"{self.url}/metrics").text
        return sum(
            int(float(line.rsplit(" ", 1)[1]))
            for line in text.splitlines()
            if line.startswith("prometheus_http_requests_total")
            and 'handler="/api/v1/query"' in line
        )

    def stop(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait(10)
            self.process = None

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


def _wait_http(url: str, process: subprocess.Popen[bytes], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{url}: the server exited with {process.returncode}")
        try:
            if httpx.get(url, timeout=1.0).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer within {timeout} s")
