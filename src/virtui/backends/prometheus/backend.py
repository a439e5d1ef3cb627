"""PrometheusBackend: one hypervisor as prometheus-libvirt-exporter reports it.

URI: ``prometheus+http://PROMETHEUS:9090/?instance=h1:9177`` — every query parameter
but the options is a label matcher selecting the target (``instance``, ``job``, ...).
Options: ``cpus=N`` (the host's logical CPUs, for Solaris mode, where no node_exporter
says), ``node=INSTANCE`` (the node_exporter target of the same machine; by default the
one target at the same address, when there is one) and ``via=NAME`` (a libvirt host
entry of the same machine, through which actions go). Read-only.
"""

from __future__ import annotations

import dataclasses
import time
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from virtui.backends.base import Backend, BackendCapabilities, BackendError
from virtui.backends.naming import PROMETHEUS_OPTIONS
from virtui.backends.prometheus.client import ByTarget, client_for
from virtui.model import (
    DiskCounters,
    DomainKey,
    DomainSample,
    HostCpuSample,
    HostInfo,
    HostPoll,
    NicCounters,
)
from virtui.model.alerts import Alert
from virtui.model.domain import state_from_code

BLOCK = "libvirt_domain_block_stats_"
DISK_FIELDS = {  # the exporter's counter -> DiskCounters' field
    f"{BLOCK}read_bytes_total": "rd_bytes",
    f"{BLOCK}write_bytes_total": "wr_bytes",
    f"{BLOCK}read_requests_total": "rd_reqs",
    f"{BLOCK}write_requests_total": "wr_reqs",
}
NIC = "libvirt_domain_interface_stats_"
NIC_FIELDS = {
    f"{NIC}receive_bytes_total": "rx_bytes",
    f"{NIC}transmit_bytes_total": "tx_bytes",
    f"{NIC}receive_packets_total": "rx_packets",
    f"{NIC}transmit_packets_total": "tx_packets",
    f"{NIC}receive_errors_total": "rx_errors",
    f"{NIC}transmit_errors_total": "tx_errors",
    f"{NIC}receive_drops_total": "rx_drops",
    f"{NIC}transmit_drops_total": "tx_drops",
}
# The same machine's node_exporter: the host's CPU time, CPUs and memory.
NODE_CPU = "node_cpu_seconds_total"
NODE_TOTAL = "node_memory_MemTotal_bytes"
NODE_AVAILABLE = "node_memory_MemAvailable_bytes"
IDLE_MODES = ("idle", "iowait")  # as libvirt's node CPU stats: the rest is busy
METRICS = (
    "up",  # the scrape itself: 0 when it failed
    "libvirt_up",
    "libvirt_domain_info_cpu_time_seconds_total",
    "libvirt_domain_info_virtual_cpus",
    "libvirt_domain_info_memory_usage_bytes",
    "libvirt_domain_info_maximum_memory_bytes",
    "libvirt_domain_state_code",
    *DISK_FIELDS,
    *NIC_FIELDS,
    NODE_CPU,
    NODE_TOTAL,
    NODE_AVAILABLE,
)
# An instant query's values carry the time of the query, not of the scrape; a rate
# needs the scrape's. ``timestamp(up)`` is each target's last scrape, marked by a label
# of its own so that ``or`` keeps it beside the target's other series.
SCRAPED = "scraped_at"
ROUND_QUERY = (
    '{__name__=~"' + "|".join(METRICS) + '"}'
    f' or label_replace(timestamp(up), "virtui", "{SCRAPED}", "", "")'
)


@dataclasses.dataclass(frozen=True, slots=True)
class NodeFacts:
    """What the same machine's node_exporter says of the host."""

    instance: str
    cpus: int
    memory_kib: int
    available_kib: int
    cpu: HostCpuSample | None
    scraped_s: float = 0.0  # when Prometheus scraped them (epoch seconds)


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
        self.node = options.get("node", "")
        self.actions_via = options.get("via", "")
        self.client = client_for(self.base_url)
        self._info: HostInfo | None = None
        self.node_facts: NodeFacts | None = None  # what node_exporter said at the last poll

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
        answer = self.client.query_by_target(ROUND_QUERY)
        self._fresh(self._mine(answer))
        where = ", ".join(f"{k}={v}" for k, v in self.labels.items()) or "every target"
        self._info = HostInfo(
            name=self.name,
            uri=self.uri,
            hostname=self.labels.get("instance", self.name),
            driver="prometheus",
            cpus=self.cpus,
            memory_kib=0,  # the libvirt exporter does not say: node_exporter may
            topology="from the URI" if self.cpus else "",
            hypervisor_version=f"Prometheus {version} · libvirt exporter ({where})",
            libvirt_version="",
        )
        self._info = self._with_node(self._info, self._node_facts(answer))
        return self._info

    def _with_node(self, info: HostInfo, node: NodeFacts | None) -> HostInfo:
        """``info`` with the CPUs and memory node_exporter gives, or saying why not."""
        if node is not None:
            return dataclasses.replace(
                info,
                cpus=node.cpus or self.cpus,
                memory_kib=node.memory_kib,
                topology=f"node_exporter {node.instance}",
            )
        # node_exporter's figures of an earlier poll are not kept: unknown, and why.
        if self.cpus:
            return dataclasses.replace(info, cpus=self.cpus, memory_kib=0, topology="from the URI")
        why = f"{self._node_missing()}: add node= or cpus=N"
        return dataclasses.replace(info, cpus=0, memory_kib=0, topology=why)

    def _node_missing(self) -> str:
        if self.node:
            return f"no node_exporter target {self.node}"
        return f"no single node_exporter at {_address(self.labels.get('instance', '')) or '?'}"

    def _mine(self, answer: ByTarget) -> list[dict[str, Any]]:
        """This target's series of the round's answer."""
        instance = self.labels.get("instance")
        candidates = answer.series if instance is None else answer.by_instance.get(instance, [])
        return [item for item in candidates if self._matches(item.get("metric", {}))]

    def _node_facts(self, answer: ByTarget) -> NodeFacts | None:
        """The node_exporter series of this host's machine: the target ``node=`` names,
        else the one target at the instance's address (several there, as on a test
        machine: none, rather than another host's)."""
        instances = answer.node_instances
        if self.node:
            chosen = self.node if self.node in instances else ""
        else:
            here = _address(self.labels.get("instance", ""))
            near = [i for i in instances if here and _address(i) == here]
            chosen = near[0] if len(near) == 1 else ""
        if not chosen:
            return None
        series = answer.by_instance.get(chosen, [])
        mine = [i for i in series if _name(i).startswith("node_")]
        scraped = next((_value(i) for i in series if i["metric"].get("virtui") == SCRAPED), 0.0)
        busy = total = 0.0
        cpus: set[str] = set()
        memory = available = 0.0
        for item in mine:
            name, value = _name(item), _value(item)
            if name == NODE_CPU:
                cpus.add(item["metric"].get("cpu", ""))
                total += value
                if item["metric"].get("mode") not in IDLE_MODES:
                    busy += value
            elif name == NODE_TOTAL:
                memory = value
            elif name == NODE_AVAILABLE:
                available = value
        cpu = HostCpuSample(int(busy * 1e9), int(total * 1e9)) if cpus else None
        return NodeFacts(
            chosen, len(cpus), int(memory) // 1024, int(available) // 1024, cpu, scraped
        )

    def _fresh(self, mine: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """This target's series (``_mine``) but those of targets whose last scrape
        failed; raises unless libvirt answered in what is left.

        A failed scrape (an exporter slower than the scrape timeout, say) sets ``up`` to
        0: the host is still there, but the scrape says nothing new of it. Its other
        series are then gone, or, at a restarted Prometheus's first scrape, those of the
        last scrape before the restart, which are not news either."""
        failed = {_instance(item) for item in mine if _name(item) == "up" and _value(item) == 0.0}
        if failed:
            mine = [item for item in mine if _instance(item) not in failed]
        ups = [item for item in mine if _name(item) == "libvirt_up"]
        if not ups and failed:
            raise BackendError(
                f"Prometheus's last scrape of {', '.join(sorted(failed))} failed (up is 0):"
                " the figures shown are from before"
            )
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
        return mine

    def poll(self) -> HostPoll:
        info = self._info
        if info is None:
            raise BackendError(f"{self.name}: not connected", connection_lost=True)
        answer = self.client.query_by_target(ROUND_QUERY)
        mine = self._fresh(self._mine(answer))
        node = self.node_facts = self._node_facts(answer)
        self._info = info = self._with_node(info, node)
        by_uuid: dict[str, dict[str, Any]] = {}
        devices_told = False  # an exporter without block and interface counters: unknown
        scraped_ns = 0
        for item in mine:
            metric = item["metric"]
            if metric.get("virtui") == SCRAPED:
                scraped_ns = int(_value(item) * 1e9)
                continue
            uuid = metric.get("uuid")
            if not uuid:
                continue
            record = by_uuid.setdefault(uuid, {"name": metric.get("domain", uuid)})
            name = metric.get("__name__", "")
            if name in DISK_FIELDS or name in NIC_FIELDS:
                devices_told = True
                kind, fields = (
                    ("disks", DISK_FIELDS) if name in DISK_FIELDS else ("nics", NIC_FIELDS)
                )
                where = (
                    {"path": metric.get("source_file", "")}
                    if kind == "disks"
                    else {"bridge": metric.get("source_bridge", "")}
                )
                device = record.setdefault(kind, {}).setdefault(
                    metric.get("target_device", ""), where
                )
                device[fields[name]] = int(_value(item))
            else:
                record[name] = item
        now_ns = time.monotonic_ns()
        domains = tuple(
            self._sample(uuid, record, devices_told, scraped_ns) for uuid, record in by_uuid.items()
        )
        return HostPoll(
            info,
            now_ns,
            time.time(),
            domains,
            cpu=node.cpu if node is not None else None,
            free_memory_kib=node.available_kib if node is not None else 0,
            alerts=self._alerts(node),
        )

    def _alerts(self, node: NodeFacts | None) -> tuple[Alert, ...]:
        """The firing alerts of this host: those carrying this target's labels, or the
        instance of its node_exporter."""
        found: list[Alert] = []
        for item in self.client.alerts():
            labels = item.get("labels")
            if item.get("state") != "firing" or not isinstance(labels, dict):
                continue
            labels = {str(k): str(v) for k, v in labels.items()}
            ours = self._matches(labels) or (
                node is not None and labels.get("instance") == node.instance
            )
            if not ours:
                continue
            notes = item.get("annotations")
            notes = notes if isinstance(notes, dict) else {}
            found.append(
                Alert(
                    name=labels.get("alertname", "alert"),
                    severity=labels.get("severity", ""),
                    summary=str(notes.get("summary") or notes.get("description") or ""),
                    uuid=labels.get("uuid", ""),
                    domain=labels.get("domain", ""),
                    since=str(item.get("activeAt", "")),
                    labels=tuple(sorted(labels.items())),
                )
            )
        return tuple(sorted(found, key=lambda alert: (alert.name, alert.labels)))

    def _sample(
        self, uuid: str, record: dict[str, Any], devices_told: bool, scraped_ns: int
    ) -> DomainSample:
        def number(metric: str) -> float:
            item = record.get(metric)
            return _value(item) if item is not None else 0.0

        state = int(number("libvirt_domain_state_code"))
        disks = nics = None
        if devices_told:
            disks = tuple(
                DiskCounters(
                    name,
                    d["path"],
                    d.get("rd_bytes", 0),
                    d.get("wr_bytes", 0),
                    d.get("rd_reqs", 0),
                    d.get("wr_reqs", 0),
                )
                for name, d in sorted(record.get("disks", {}).items())
            )
            nics = tuple(
                NicCounters(name, **n) for name, n in sorted(record.get("nics", {}).items())
            )
        return DomainSample(
            key=DomainKey(self.name, uuid),
            name=str(record["name"]),
            state=state_from_code(state),
            vcpus=int(number("libvirt_domain_info_virtual_cpus")),
            mem_kib=int(number("libvirt_domain_info_memory_usage_bytes")) // 1024,
            max_mem_kib=int(number("libvirt_domain_info_maximum_memory_bytes")) // 1024,
            cpu_time_ns=int(number("libvirt_domain_info_cpu_time_seconds_total") * 1e9),
            # The time of the scrape, not of this query: a rate spans two scrapes.
            read_ns=scraped_ns,
            disks=disks,
            nics=nics,
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


def _name(item: dict[str, Any]) -> str:
    return str(item.get("metric", {}).get("__name__", ""))


def _instance(item: dict[str, Any]) -> str:
    return str(item.get("metric", {}).get("instance", "?"))


def _address(instance: str) -> str:
    """The host part of an ``instance`` label (``10.0.0.5:9177`` -> ``10.0.0.5``)."""
    host, _, port = instance.rpartition(":")
    return host.strip("[]") if host and port.isdigit() else instance


def _value(item: dict[str, Any]) -> float:
    try:
        return float(item["value"][1])
    except (KeyError, IndexError, TypeError, ValueError) as error:
        raise BackendError(
            "malformed sample in Prometheus' answer", connection_lost=True
        ) from error
