"""The fleet view filled from what Prometheus already has, against real processes: a
libvirtd running a guest that writes its disk and takes frames on its NIC, scraped by
prometheus-libvirt-exporter, and this machine's prometheus-node-exporter, both scraped
by a real Prometheus every second.

The figures are checked against their sources read by plain calls around the same
scrapes: domblkstat and domifstat (virDomainBlockStats, virDomainInterfaceStats) for
the I/O rates, /proc/stat and /proc/meminfo for the host."""

from __future__ import annotations

import asyncio
import math
import os
import threading
import time
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import libvirt
import pytest

from tests.integration.daemons import Daemon
from tests.integration.guests import define_io_guest, remove_test_guests
from tests.integration.prometheus import Exporter, NodeExporter, Prometheus, prometheus_available
from tests.integration.test_io_guests import FrameSender
from tests.requirements import require
from tests.tui.helpers import RecordingApp, screen_text, wait_for
from virtui.backends.libvirt.bootsector import DISK_WRITE_CODE
from virtui.backends.prometheus.backend import PrometheusBackend
from virtui.config.settings import Settings
from virtui.model import DomainStats, HostStatus, Severity
from virtui.monitor.session import HostSession, HostUpdate
from virtui.monitor.sessions import open_sessions
from virtui.screens.help import HelpScreen
from virtui.screens.hosts import HostsScreen
from virtui.widgets.plain import Static

# Guests of the storage daemon started at the same moment by two workers' daemons can
# meet cgroup v1's cpuset race ("No space left on device"): the fleet tests run in turn.
pytestmark = pytest.mark.xdist_group("prometheus")

RULES = """\
groups:
  - name: virtui-test
    rules:
      - alert: GuestBusy
        expr: rate(libvirt_domain_info_cpu_time_seconds_total[5s]) > 0.1
        labels: {severity: warning}
        annotations: {summary: "{{ $labels.domain }} keeps a CPU busy"}
"""
SCRAPE_SLACK_S = 0.5  # a scrape is stamped when it starts; the exporter reads after


@dataclass
class Fleet:
    prometheus: Prometheus
    exporter: Exporter
    node: NodeExporter
    dom: libvirt.virDomain
    tap: str

    @property
    def uri(self) -> str:
        return f"prometheus+{self.prometheus.url}/?instance={self.exporter.address}"


@pytest.fixture(scope="module")
def fleet(
    storage_daemon: Daemon,
    storage_check: libvirt.virConnect,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Fleet]:
    require(prometheus_available("prometheus-node-exporter"), "run Prometheus")
    directory = tmp_path_factory.mktemp("fleet-io")
    os.chmod(directory, 0o755)  # QEMU runs as root, but reaches the image through it
    tap = f"vtfl{os.getpid() % 100000}"
    dom = define_io_guest(storage_check, directory, DISK_WRITE_CODE, tap=tap)
    exporter = Exporter(storage_daemon.qemu_uri)
    node = NodeExporter()
    prometheus = Prometheus([exporter.address, node.address], RULES)
    try:
        prometheus.wait_for_samples(3)
        yield Fleet(prometheus, exporter, node, dom, tap)
    finally:
        prometheus.remove()
        node.stop()
        exporter.stop()
        remove_test_guests(storage_check)


@dataclass
class Readings:
    """Plain reads of one source every 50 ms, each with its wall-clock time."""

    read: Callable[[], tuple[int, ...]]
    times: list[float] = field(default_factory=list)
    values: list[tuple[int, ...]] = field(default_factory=list)

    def at_most(self, when: float) -> tuple[int, ...]:
        """The counters read last before ``when``: no more than they were then."""
        return self.values[bisect_right(self.times, when) - 1]

    def at_least(self, when: float) -> tuple[int, ...]:
        """The counters read first after ``when``: no less than they were then."""
        return self.values[bisect_left(self.times, when)]


class Sampler:
    """Reads every source in a thread while the test polls."""

    def __init__(self, **sources: Callable[[], tuple[int, ...]]) -> None:
        self.readings = {name: Readings(read) for name, read in sources.items()}
        self._stop = threading.Event()
        self._read = threading.Condition()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> Sampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def wait_past(self, when: float, timeout: float = 60.0) -> None:
        """Until every source has a reading after ``when`` (wall clock). A fixed sleep
        was not enough on a loaded machine: the thread's last read came before it."""

        def past() -> bool:
            return all(r.times and r.times[-1] > when for r in self.readings.values())

        with self._read:
            assert self._read.wait_for(past, timeout), f"no reading after {when} in {timeout} s"

    def _run(self) -> None:
        while not self._stop.is_set():
            with self._read:
                for readings in self.readings.values():
                    readings.values.append(readings.read())
                    readings.times.append(time.time())
                self._read.notify_all()
            self._stop.wait(0.05)


def _proc_stat() -> tuple[int, ...]:
    """(busy, total) jiffies of all CPUs, as node_exporter and libvirt count them."""
    words = Path("/proc/stat").read_text().splitlines()[0].split()[1:9]
    user, nice, system, idle, iowait, irq, softirq, steal = map(int, words)
    busy = user + nice + system + irq + softirq + steal
    return busy, busy + idle + iowait


def _two_scrapes(session: HostSession, name: str) -> tuple[HostUpdate, HostUpdate]:
    """Polls every 0.25 s until one reads a new scrape of domain ``name`` (after a
    first new one, so that the previous is whole): that poll, and the one before it. A
    poll that failed (on a loaded machine Prometheus may not answer in time) starts the
    count again: the session's rates start again after it."""
    polls: list[HostUpdate] = []
    new_scrapes = 0
    deadline = time.monotonic() + 60
    while new_scrapes < 2:
        update = session.poll_once()
        if not update.answered or not any(s.sample.name == name for s in update.stats):
            polls, new_scrapes = [], 0
        else:
            polls.append(update)
            if len(polls) > 1 and (
                _stats(polls[-1], name).sample.read_ns != _stats(polls[-2], name).sample.read_ns
            ):
                new_scrapes += 1
        assert time.monotonic() < deadline, "Prometheus stopped scraping"
        time.sleep(0.25)
    return polls[-2], polls[-1]


def _stats(update: HostUpdate, name: str) -> DomainStats:
    return next(s for s in update.stats if s.sample.name == name)


def test_io_rates_are_the_counters_deltas_between_two_scrapes(fleet: Fleet) -> None:
    """RD/s, WR/s, RX/s and TX/s of a fleet row, once `-`: the exporter's block and
    interface counters at two scrapes, each between plain domblkstat/domifstat reads
    around its time, divided by the time between the scrapes."""
    name = fleet.dom.name()
    session = HostSession(PrometheusBackend(fleet.uri, "fleet"))
    with (
        FrameSender(fleet.tap, per_second=400),
        Sampler(
            disk=lambda: tuple(fleet.dom.blockStats("hda")),
            nic=lambda: tuple(fleet.dom.interfaceStats(fleet.tap)),
        ) as sampler,
    ):
        time.sleep(1.0)  # readings before the first scrape the polls will use
        first, second = _two_scrapes(session, name)
        old, new = _stats(first, name), _stats(second, name)
        t0, t1 = old.sample.read_ns / 1e9, new.sample.read_ns / 1e9
        sampler.wait_past(t1 + SCRAPE_SLACK_S)  # readings after the last one
    disks = {d.name: d for d in new.sample.disks or ()}
    old_disks = {d.name: d for d in old.sample.disks or ()}
    nics = {n.name: n for n in new.sample.nics or ()}
    old_nics = {n.name: n for n in old.sample.nics or ()}
    disk, nic = sampler.readings["disk"], sampler.readings["nic"]
    for when, counters in ((t0, old_disks["hda"]), (t1, disks["hda"])):
        # domblkstat: rd_req, rd_bytes, wr_req, wr_bytes
        assert disk.at_most(when)[3] <= counters.wr_bytes <= disk.at_least(when + SCRAPE_SLACK_S)[3]
        assert disk.at_most(when)[2] <= counters.wr_reqs <= disk.at_least(when + SCRAPE_SLACK_S)[2]
    for when, nic_counters in ((t0, old_nics[fleet.tap]), (t1, nics[fleet.tap])):
        # domifstat: rx_bytes, rx_packets, ...
        assert (
            nic.at_most(when)[0] <= nic_counters.rx_bytes <= nic.at_least(when + SCRAPE_SLACK_S)[0]
        )
    seconds = t1 - t0
    assert new.disk_wr_bps == pytest.approx(
        (disks["hda"].wr_bytes - old_disks["hda"].wr_bytes) / seconds
    )
    assert new.disk_wr_bps is not None and new.disk_wr_bps > 10_000  # the guest really writes
    assert new.disk_rd_bps == pytest.approx(0, abs=1)  # and only writes
    assert new.net_rx_bps == pytest.approx(
        (nics[fleet.tap].rx_bytes - old_nics[fleet.tap].rx_bytes) / seconds
    )
    assert new.net_rx_bps is not None and new.net_rx_bps > 100_000  # 400 frames of 1,000 B
    assert new.net_tx_bps == pytest.approx(0, abs=1)


def test_host_cpu_and_memory_come_from_the_same_machines_node_exporter(fleet: Fleet) -> None:
    """Once "0KiB" and "2 x 2 CPUs (from the URI)": with node_exporter at the exporter's
    address, the host's CPUs, memory and %CPU are this machine's (no cpus= needed)."""
    backend = PrometheusBackend(fleet.uri, "fleet")
    session = HostSession(backend)
    with Sampler(cpu=_proc_stat) as sampler:
        time.sleep(1.0)  # readings before the first scrape
        # Each poll that answered, with when its node series were scraped. %CPU is
        # between the last two distinct scrapes (a poll that failed starts again: on a
        # loaded machine Prometheus may not answer in time).
        polls: list[tuple[HostUpdate, float]] = []
        deadline = time.monotonic() + 60
        while True:
            update = session.poll_once()
            facts = backend.node_facts
            if update.status is HostStatus.CONNECTED and facts is not None:
                polls.append((update, facts.scraped_s))
            else:
                polls = []
            scrapes = sorted({scraped for _update, scraped in polls})
            if len(scrapes) >= 3 and polls[-1][0].host_cpu_pct is not None:
                break  # the last poll reads the newest scrape: scrapes are never older
            assert time.monotonic() < deadline, "no two scrapes answered in a minute"
            time.sleep(0.25)
        second, s1 = polls[-1]
        s0 = scrapes[-2]
        sampler.wait_past(s1 + SCRAPE_SLACK_S)  # readings after the last one
    info = second.info
    assert info is not None
    meminfo = {
        line.split(":")[0]: int(line.split()[1])
        for line in Path("/proc/meminfo").read_text().splitlines()
    }
    assert info.cpus == os.cpu_count()
    assert info.memory_kib == meminfo["MemTotal"]
    assert info.topology == f"node_exporter {fleet.node.address}"
    assert abs(second.free_memory_kib - meminfo["MemAvailable"]) < 256 * 1024
    # %CPU between the two scrapes: what /proc/stat allows over that interval, each end
    # read somewhere within the scrape's slack.
    cpu = sampler.readings["cpu"]
    busy_least = cpu.at_most(s1)[0] - cpu.at_least(s0 + SCRAPE_SLACK_S)[0]
    busy_most = cpu.at_least(s1 + SCRAPE_SLACK_S)[0] - cpu.at_most(s0)[0]
    total_least = cpu.at_most(s1)[1] - cpu.at_least(s0 + SCRAPE_SLACK_S)[1]
    total_most = cpu.at_least(s1 + SCRAPE_SLACK_S)[1] - cpu.at_most(s0)[1]
    least = 100 * busy_least / total_most
    # Two scrapes closer together than the slack (a late one, then one on time, on a
    # loaded machine) leave the total nothing to bound it from below: no upper bound.
    most = 100 * busy_most / total_least if total_least > 0 else math.inf
    assert second.host_cpu_pct is not None
    assert least <= second.host_cpu_pct <= most, (least, second.host_cpu_pct, most)


async def test_a_firing_rule_is_counted_in_the_header_marked_on_its_row_and_logged(
    fleet: Fleet,
) -> None:
    """A test rule on the writer's CPU (TCG keeps a core busy) fires in Prometheus:
    the header counts it, its row has the alert mark, the hosts screen and the
    timeline say it, and ? explains the mark."""
    name = fleet.dom.name()
    app = RecordingApp(
        Settings(uris=[fleet.uri]), sessions=open_sessions([fleet.uri]), auto_poll=False
    )
    async with app.run_test(size=(120, 40)) as pilot:

        async def firing() -> bool:
            await app.poll_now()
            await pilot.pause()
            return "! 1 alert firing" in screen_text(app)

        deadline = time.monotonic() + 60
        while not await firing():
            assert time.monotonic() < deadline, screen_text(app)
            await asyncio.sleep(0.5)
        row = next(line for line in screen_text(app).splitlines() if name[:12] in line)
        assert row.startswith("!"), row
        (entry,) = [e for e in app.timeline.entries if e.kind == "alert"]
        assert entry.detail == f"firing: GuestBusy (warning): {name} keeps a CPU busy"
        assert entry.domain == name and entry.severity is Severity.WARNING
        await pilot.press("question_mark")
        await wait_for(lambda: isinstance(app.screen, HelpScreen))
        note = str(app.screen.query_one(".help-note", Static).render())
        assert "! before a row: an alert" in note
        await pilot.press("escape", "2")
        await wait_for(lambda: isinstance(app.screen, HostsScreen))
        await pilot.pause()
        shown = screen_text(app)
        assert "! 1 alert · connected" in shown, shown
