"""Disk and network figures of real guests, checked against libvirt's own counters.

One guest writes its disk through BIOS int 13h in a loop; another has an RTL8139 on a tap
device that this test floods with frames. virtui's rates must agree with the deltas of
``virDomainBlockStats`` / ``virDomainInterfaceStats`` (what ``virsh domblkstat`` and
``domifstat`` print) read around the same interval with plain libvirt calls.
"""

from __future__ import annotations

import contextlib
import os
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import libvirt
import pytest

from tests.integration.guests import define_io_guest
from virtui.backends.libvirt.backend import LibvirtBackend
from virtui.backends.libvirt.bootsector import DISK_WRITE_CODE, IDLE_CODE
from virtui.backends.libvirt.demo import DEMO_PREFIX, EmbeddedDemo
from virtui.model import DomainStats
from virtui.monitor.pcpu import pcpu_usage
from virtui.monitor.rates import HostRates

pytestmark = pytest.mark.embed

FRAME = b"\xff" * 6 + b"\x02\x00\x00\x00\x00\x01" + b"\x88\xb5" + bytes(986)  # 1,000 bytes


class FrameSender:
    """Sends broadcast frames into a tap device (so out of the host, into the guest) at
    about ``per_second``, until stopped."""

    def __init__(self, tap: str, per_second: int) -> None:
        self._socket = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
        self._socket.bind((tap, 0))
        self._per_second = per_second
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> FrameSender:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self._socket.close()

    def _run(self) -> None:
        gap = 1 / self._per_second
        due = time.monotonic()
        while not self._stop.is_set():
            # A full tap queue refuses a frame for a moment: the next one goes.
            with contextlib.suppress(OSError):
                self._socket.send(FRAME)
            due += gap
            self._stop.wait(max(0.0, due - time.monotonic()))


@pytest.fixture
def io_dir(tmp_path: Path) -> Path:
    # The embedded driver runs QEMU as root: the images must be reachable.
    os.chmod(tmp_path, 0o755)
    return tmp_path


def _stats_by_name(stats: tuple[DomainStats, ...], name: str) -> DomainStats:
    return next(item for item in stats if item.sample.name == name)


Counters = tuple[int, ...]


@dataclass(frozen=True)
class Bracket:
    """Two polls ``seconds`` apart, each between two plain reads of the same counters
    (``before[i]`` just before poll i, ``after[i]`` just after), with the times."""

    first: tuple[DomainStats, ...]
    second: tuple[DomainStats, ...]
    before: tuple[Counters, Counters]
    after: tuple[Counters, Counters]
    read_before: tuple[float, float]
    read_after: tuple[float, float]

    def rate_bounds(self, index: int) -> tuple[float, float]:
        """The least and the most a rate of counter ``index`` over the two polls can be,
        whenever inside its reads each poll read the counter and took its time stamp:
        exact on a loaded machine too, where the guest writes in bursts."""
        least = self.before[1][index] - self.after[0][index]
        most = self.after[1][index] - self.before[0][index]
        longest = self.read_after[1] - self.read_before[0]
        shortest = self.read_before[1] - self.read_after[0]
        return least / longest * 0.99, most / shortest * 1.01


def _until(done: Callable[[], bool], what: str, timeout: float = 60.0) -> None:
    """Polls ``done`` until it holds (a guest's progress shows in its counters only)."""
    deadline = time.monotonic() + timeout
    while not done():
        assert time.monotonic() < deadline, f"{what} never came"
        time.sleep(0.05)


def _between(
    backend: LibvirtBackend, read_plain: Callable[[], Counters], seconds: float
) -> Bracket:
    """Two polls ``seconds`` apart, each between two plain reads of the same counters."""
    rates = HostRates()
    before0, read_before0 = read_plain(), time.monotonic()
    first = rates.update(backend.poll())
    after0, read_after0 = read_plain(), time.monotonic()
    time.sleep(seconds)
    before1, read_before1 = read_plain(), time.monotonic()
    second = rates.update(backend.poll())
    after1, read_after1 = read_plain(), time.monotonic()
    return Bracket(
        first,
        second,
        (before0, before1),
        (after0, after1),
        (read_before0, read_before1),
        (read_after0, read_after1),
    )


def test_disk_written_through_the_bios_shows_what_domblkstat_counts(
    embed_conn: libvirt.virConnect, embed_backend: LibvirtBackend, io_dir: Path
) -> None:
    dom = define_io_guest(embed_conn, io_dir, DISK_WRITE_CODE)
    name = dom.name()
    _until(lambda: dom.blockStats("hda")[2] > 0, "the guest's first write")  # BIOS done
    bracket = _between(embed_backend, lambda: dom.blockStats("hda"), 2.0)
    rd_reqs0, rd_bytes0, wr_reqs0, wr_bytes0, _ = bracket.before[0]
    _rd_reqs1, _rd_bytes1, wr_reqs1, wr_bytes1, _ = bracket.after[1]
    stats = _stats_by_name(bracket.second, name)
    disks = {disk.name: disk for disk in stats.sample.disks or ()}
    old = {disk.name: disk for disk in _stats_by_name(bracket.first, name).sample.disks or ()}
    # virtui's counters were read between the two plain reads.
    assert wr_bytes0 <= old["hda"].wr_bytes <= disks["hda"].wr_bytes <= wr_bytes1
    assert wr_reqs0 <= old["hda"].wr_reqs <= disks["hda"].wr_reqs <= wr_reqs1
    assert disks["hda"].path.endswith(".img")
    # And its rates are what domblkstat's counters allow over the same polls.
    least_iops, most_iops = bracket.rate_bounds(2)
    least_bps, most_bps = bracket.rate_bounds(3)
    assert least_iops > 100  # the guest really writes
    assert stats.disk_wr_bps is not None and stats.disk_wr_iops is not None
    assert least_bps <= stats.disk_wr_bps <= most_bps
    assert least_iops <= stats.disk_wr_iops <= most_iops
    assert stats.disk_wr_iops is not None
    assert stats.disk_wr_bps == pytest.approx(512 * stats.disk_wr_iops, rel=1e-6)  # 1 sector
    assert stats.disk_rd_bps == pytest.approx(0, abs=1)  # it only writes
    assert rd_reqs0 >= 1 and rd_bytes0 >= 512  # the BIOS read the boot sector once


def test_frames_sent_to_the_tap_show_what_domifstat_counts(
    embed_conn: libvirt.virConnect, embed_backend: LibvirtBackend, io_dir: Path
) -> None:
    tap = f"vtio{os.getpid() % 100000}"
    dom = define_io_guest(embed_conn, io_dir, IDLE_CODE, tap=tap)
    name = dom.name()
    with FrameSender(tap, per_second=400):
        _until(lambda: dom.interfaceStats(tap)[1] > 0, "the first frame in")
        bracket = _between(embed_backend, lambda: dom.interfaceStats(tap), 2.0)
    rx_bytes0, rx_bytes1 = bracket.before[0][0], bracket.after[1][0]
    stats = _stats_by_name(bracket.second, name)
    nics = {nic.name: nic for nic in stats.sample.nics or ()}
    old = {nic.name: nic for nic in _stats_by_name(bracket.first, name).sample.nics or ()}
    assert rx_bytes0 <= old[tap].rx_bytes <= nics[tap].rx_bytes <= rx_bytes1
    mac = dom.XMLDesc(0).split("<mac address='", 1)[1][:17]
    assert nics[tap].mac == mac
    least_bps, most_bps = bracket.rate_bounds(0)
    least_pps, most_pps = bracket.rate_bounds(1)
    assert least_pps > 100
    assert stats.net_rx_bps is not None and least_bps <= stats.net_rx_bps <= most_bps
    assert stats.nic_rates is not None
    assert least_pps <= stats.nic_rates[0].rx_pps <= most_pps
    assert stats.net_rx_bps == pytest.approx(1000 * stats.nic_rates[0].rx_pps, rel=0.02)


def test_a_guest_restarted_between_polls_gives_no_io_figure(
    embed_conn: libvirt.virConnect, embed_backend: LibvirtBackend, io_dir: Path
) -> None:
    dom = define_io_guest(embed_conn, io_dir, DISK_WRITE_CODE)
    rates = HostRates()
    rates.update(embed_backend.poll())
    dom.destroy()
    dom.create()  # a new run: its counters start again from zero
    stats = _stats_by_name(rates.update(embed_backend.poll()), dom.name())
    assert stats.disk_rates is None and stats.disk_wr_bps is None


def test_physical_cpu_view_puts_a_spinning_guest_where_the_kernel_ran_it(
    embedded_demo: EmbeddedDemo, embed_backend: LibvirtBackend
) -> None:
    spin = DEMO_PREFIX + "spin"
    pid = int((embedded_demo.root / "run" / "qemu" / f"{spin}.pid").read_text().strip())
    first = embed_backend.domain_port().physical_cpus()
    proc_before = _process_cpu_seconds(pid)
    time.sleep(2)
    second = embed_backend.domain_port().physical_cpus()
    proc_pct = (
        100
        * (_process_cpu_seconds(pid) - proc_before)
        * 1e9
        / (second.monotonic_ns - first.monotonic_ns)
    )
    rows = pcpu_usage(first, second)
    assert len(rows) == os.cpu_count()
    shares = [dict(row.guests).get(spin, 0.0) for row in rows]
    # All its time is somewhere, and it is what the kernel says QEMU's threads used.
    assert sum(shares) == pytest.approx(proc_pct, abs=15)
    assert all(row.busy_pct is not None and 0 <= row.busy_pct <= 100 for row in rows)


def _process_cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
