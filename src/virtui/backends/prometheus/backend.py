"""PrometheusBackend: one hypervisor as prometheus-libvirt-exporter reports it.

URI: ``prometheus+http://PROMETHEUS:9090/?instance=h1:9177`` — every query parameter
but the options is a label matcher selecting the target (``instance``, ``job``, ...).
Options: ``cpus=N`` (the host's logical CPUs, for Solaris mode: the exporter does not
report them) and ``via=NAME`` (a libvirt host entry of the same machine, through which
actions go). Read-only.
"""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from virtui.backends.base import Backend, BackendCapabilities, BackendError
from virtui.backends.naming import PROMETHEUS_OPTIONS
from virtui.backends.prometheus.client import client_for
from virtui.model import DomainKey, DomainSample, HostInfo, HostPoll
from virtui.model.domain import state_from_code

METRICS = (
    "libvirt_up",
    "libvirt_domain_info_cpu_time_seconds_total",
    "libvirt_domain_info_virtual_cpus",
    "libvirt_domain_info_memory_usage_bytes",
    "libvirt_domain_info_maximum_memory_bytes",
    "libvirt_domain_state_code",
)
HISTORY_S = 600
HISTORY_STEP_S = 2


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"')


class PrometheusBackend(Backend):
    """Reads one target's domains from Prometheus; one query serves all targets."""

    def __init__(self, uri: str, name: str) -> None:
        super().__init__(uri, name)
        parts = urlsplit(uri)
        scheme = parts.scheme.removeprefix("prometheus+") or "http"
        self._problem = ""
        if scheme not in ("http", "https") or not parts.hostname:
            self._problem = f"{uri}: write prometheus+http://HOST:PORT/?instance=TARGET"
        self.base_url = f"{scheme}://{parts.netloc}{parts.path.rstrip('/')}"
        query = parse_qsl(parts.query)
        self.labels = {k: v for k, v in query if k not in PROMETHEUS_OPTIONS}
        options = {k: v for k, v in query if k in PROMETHEUS_OPTIONS}
        self.cpus = int(options["cpus"]) if options.get("cpus", "").isdigit() else 0
        self.actions_via = options.get("via", "")
        self.client = client_for(self.base_url)
        self._info: HostInfo | None = None

    @property
    def capabilities(self) -> BackendCapabilities:
        return BackendCapabilities(mutations=False, cpu_history=True)

    def _matches(self, labels: dict[str, str]) -> bool:
        return all(labels.get(k) == v for k, v in self.labels.items())

    def _selector(self) -> str:
        return ",".join(f'{k}="{_escape(v)}"' for k, v in self.labels.items())

    def connect(self) -> HostInfo:
        if self._problem:
            raise BackendError(self._problem)
        version = self.client.version()
        self._check_up(self.client.query("libvirt_up"))
        where = ", ".join(f"{k}={v}" for k, v in self.labels.items()) or "every target"
        self._info = HostInfo(
            name=self.name,
            uri=self.uri,
            hostname=self.labels.get("instance", self.name),
            driver="prometheus",
            cpus=self.cpus,
            memory_kib=0,  # the libvirt exporter does not say: shown as "unknown"
            topology="from the URI" if self.cpus else "add cpus=N to the URI",
            hypervisor_version=f"Prometheus {version} · libvirt exporter ({where})",
            libvirt_version="",
        )
        return self._info

    def _check_up(self, result: list[dict[str, Any]]) -> None:
        ups = [item for item in result if self._matches(item.get("metric", {}))]
        if not ups:
            raise BackendError(
                f"no target in Prometheus matches {self._selector() or '{}'}",
                connection_lost=True,
            )
        if any(_value(item) != 1.0 for item in ups):
            raise BackendError(
                "the exporter is up but cannot reach libvirt (libvirt_up is 0)",
                connection_lost=True,
            )

    def poll(self) -> HostPoll:
        info = self._info
        if info is None:
            raise BackendError(f"{self.name}: not connected", connection_lost=True)
        result = self.client.query('{__name__=~"' + "|".join(METRICS) + '"}')
        mine = [item for item in result if self._matches(item.get("metric", {}))]
        self._check_up([item for item in mine if item["metric"].get("__name__") == "libvirt_up"])
        by_uuid: dict[str, dict[str, Any]] = {}
        for item in mine:
            metric = item["metric"]
            uuid = metric.get("uuid")
            if not uuid:
                continue
            record = by_uuid.setdefault(uuid, {"name": metric.get("domain", uuid)})
            record[metric.get("__name__", "")] = item
        now_ns = time.monotonic_ns()
        domains = tuple(self._sample(uuid, record) for uuid, record in by_uuid.items())
        return HostPoll(info, now_ns, time.time(), domains)

    def _sample(self, uuid: str, record: dict[str, Any]) -> DomainSample:
        def number(metric: str) -> float:
            item = record.get(metric)
            return _value(item) if item is not None else 0.0

        cpu = record.get("libvirt_domain_info_cpu_time_seconds_total")
        state = int(number("libvirt_domain_state_code"))
        return DomainSample(
            key=DomainKey(self.name, uuid),
            name=str(record["name"]),
            state=state_from_code(state),
            vcpus=int(number("libvirt_domain_info_virtual_cpus")),
            mem_kib=int(number("libvirt_domain_info_memory_usage_bytes")) // 1024,
            max_mem_kib=int(number("libvirt_domain_info_maximum_memory_bytes")) // 1024,
            cpu_time_ns=int(number("libvirt_domain_info_cpu_time_seconds_total") * 1e9),
            # The time of the scrape, not of this query: a rate spans two scrapes.
            read_ns=int(float(cpu["value"][0]) * 1e9) if cpu is not None else 0,
        )

    def cpu_history(self) -> dict[str, list[float]]:
        """Irix %CPU of each domain over the last minutes, oldest first (from query_range)."""
        end = time.time()
        promql = (
            f"100 * irate(libvirt_domain_info_cpu_time_seconds_total{{{self._selector()}}}[30s])"
        )
        series = self.client.query_range(promql, end - HISTORY_S, end, HISTORY_STEP_S)
        history: dict[str, list[float]] = {}
        for item in series:
            uuid = item.get("metric", {}).get("uuid")
            values = item.get("values")
            if uuid and isinstance(values, list):
                history[uuid] = [float(v[1]) for v in values if isinstance(v, list) and len(v) == 2]
        return history

    def close(self) -> None:
        self._info = None


def _value(item: dict[str, Any]) -> float:
    try:
        return float(item["value"][1])
    except (KeyError, IndexError, TypeError, ValueError) as error:
        raise BackendError(
            "malformed sample in Prometheus' answer", connection_lost=True
        ) from error
