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


def _between(
    backend: LibvirtBackend, read_plain: Callable[[], Counters], seconds: float
) -> tuple[tuple[DomainStats, ...], tuple[DomainStats, ...], Counters, Counters, float]:
    """Two polls ``seconds`` apart, inside two plain reads of the same counters."""
    rates = HostRates()
    before, started = read_plain(), time.monotonic()
    first = rates.update(backend.poll())
    time.sleep(seconds)
    second = rates.update(backend.poll())
    after, ended = read_plain(), time.monotonic()
    return first, second, before, after, ended - started


def test_disk_written_through_the_bios_shows_what_domblkstat_counts(
    embed_conn: libvirt.virConnect, embed_backend: LibvirtBackend, io_dir: Path
) -> None:
    dom = define_io_guest(embed_conn, io_dir, DISK_WRITE_CODE)
    name = dom.name()
    time.sleep(1)  # past the BIOS: writing steadily
    first, second, before, after, span = _between(embed_backend, lambda: dom.blockStats("hda"), 2.0)
    rd_reqs0, rd_bytes0, wr_reqs0, wr_bytes0, _ = before
    _rd_reqs1, _rd_bytes1, wr_reqs1, wr_bytes1, _ = after
    stats = _stats_by_name(second, name)
    disks = {disk.name: disk for disk in stats.sample.disks or ()}
    old = {disk.name: disk for disk in _stats_by_name(first, name).sample.disks or ()}
    # virtui's counters were read between the two plain reads.
    assert wr_bytes0 <= old["hda"].wr_bytes <= disks["hda"].wr_bytes <= wr_bytes1
    assert wr_reqs0 <= old["hda"].wr_reqs <= disks["hda"].wr_reqs <= wr_reqs1
    assert disks["hda"].path.endswith(".img")
    # And its rates agree with domblkstat's deltas over about the same time.
    plain_wr_bps = (wr_bytes1 - wr_bytes0) / span
    plain_wr_iops = (wr_reqs1 - wr_reqs0) / span
    assert plain_wr_iops > 100  # the guest really writes
    assert stats.disk_wr_bps == pytest.approx(plain_wr_bps, rel=0.25)
    assert stats.disk_wr_iops == pytest.approx(plain_wr_iops, rel=0.25)
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
        time.sleep(0.5)
        first, second, before, after, span = _between(
            embed_backend, lambda: dom.interfaceStats(tap), 2.0
        )
    rx_bytes0, rx_packets0 = before[0], before[1]
    rx_bytes1, rx_packets1 = after[0], after[1]
    stats = _stats_by_name(second, name)
    nics = {nic.name: nic for nic in stats.sample.nics or ()}
    old = {nic.name: nic for nic in _stats_by_name(first, name).sample.nics or ()}
    assert rx_bytes0 <= old[tap].rx_bytes <= nics[tap].rx_bytes <= rx_bytes1
    mac = dom.XMLDesc(0).split("<mac address='", 1)[1][:17]
    assert nics[tap].mac == mac
    plain_rx_bps = (rx_bytes1 - rx_bytes0) / span
    plain_rx_pps = (rx_packets1 - rx_packets0) / span
    assert plain_rx_pps > 100
    assert stats.net_rx_bps == pytest.approx(plain_rx_bps, rel=0.25)
    assert stats.nic_rates is not None
    assert stats.nic_rates[0].rx_pps == pytest.approx(plain_rx_pps, rel=0.25)
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
    first = embed_backend.physical_cpus()
    proc_before = _process_cpu_seconds(pid)
    time.sleep(2)
    second = embed_backend.physical_cpus()
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
