"""The libvirt backend and batch mode against libvirt's in-library test driver."""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys
import time
from pathlib import Path

import libvirt
import pytest

from virtui.backends import BackendError
from virtui.backends.libvirt.backend import LibvirtBackend
from virtui.model import DomainState, HostStatus
from virtui.monitor.rates import HostRates
from virtui.monitor.session import HostSession


def test_connect_reads_host_facts(fleet_uri: str) -> None:
    backend = LibvirtBackend(fleet_uri, "fleet")
    info = backend.connect()
    try:
        assert info.cpus == 4
        assert info.memory_kib == 16384 * 1024
        assert info.driver == "TEST"
    finally:
        backend.close()


def test_poll_reads_every_domain_with_state_vcpus_and_memory(fleet_uri: str) -> None:
    backend = LibvirtBackend(fleet_uri, "fleet")
    backend.connect()
    try:
        poll = backend.poll()
    finally:
        backend.close()
    by_name = {sample.name: sample for sample in poll.domains}
    assert set(by_name) == {"web01", "web02", "db01", "cache01", "build01"}
    assert by_name["db01"].vcpus == 4
    assert by_name["db01"].mem_kib == 8192 * 1024
    assert by_name["cache01"].state is DomainState.PAUSED
    assert by_name["build01"].state is DomainState.SHUTOFF
    assert all(sample.key.host == "fleet" for sample in poll.domains)


def test_rates_from_real_polls_read_one_cpu_per_running_domain(fleet_uri: str) -> None:
    backend = LibvirtBackend(fleet_uri, "fleet")
    backend.connect()
    rates = HostRates()
    try:
        rates.update(backend.poll())
        time.sleep(0.5)
        stats = rates.update(backend.poll())
    finally:
        backend.close()
    running = [s for s in stats if s.sample.state is DomainState.RUNNING]
    assert len(running) == 3
    for item in running:
        assert item.cpu_pct_irix == pytest.approx(100.0, abs=3)
    assert next(s for s in stats if s.sample.name == "build01").cpu_pct_irix is None


def test_unreachable_host_is_a_backend_error_not_a_crash() -> None:
    backend = LibvirtBackend("qemu+tcp://127.0.0.1:1/system", "nowhere")
    with pytest.raises(BackendError, match="cannot connect"):
        backend.connect()


def _batch(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "virtui", "top", "--batch", *args],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_batch_csv_has_header_and_one_row_per_domain_per_iteration(fleet_uri: str) -> None:
    result = _batch("-n", "2", "-d", "0.5", "--cpu-mode", "solaris", "-c", fleet_uri)
    assert result.returncode == 0, result.stderr
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    header = result.stdout.splitlines()[0].split(",")
    for column in ("time", "host", "domain", "state", "vcpus", "cpu_pct", "cpu_mode", "mem_kib"):
        assert column in header
    assert len(rows) == 2 * 5
    running = [row for row in rows if row["state"] == "running"]
    assert {row["cpu_mode"] for row in rows} == {"solaris"}
    for row in running:
        assert float(row["cpu_pct"]) == pytest.approx(25.0, abs=2)  # 1 CPU of 4
    assert {row["cpu_pct"] for row in rows if row["state"] == "shut off"} == {""}


def test_batch_csv_io_columns_agree_with_the_drivers_own_counters() -> None:
    conn = libvirt.open("test:///default")  # plain libvirt: domblkstat / domifstat
    dom = conn.lookupByName("test")
    disk_before, nic_before = dom.blockStats("vda"), dom.interfaceStats("testnet0")
    started = time.monotonic()
    result = _batch("-n", "2", "-d", "0.5", "-c", "test:///default")
    span = time.monotonic() - started
    disk_after, nic_after = dom.blockStats("vda"), dom.interfaceStats("testnet0")
    assert result.returncode == 0, result.stderr
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert len(rows) == 2
    # The test driver's counters grow linearly with time, so the plain deltas over the
    # whole run are the rate virtui must have seen in any interval inside it.
    expected = {
        "disk_rd_reqs_per_s": (disk_after[0] - disk_before[0]) / span,
        "disk_rd_bytes_per_s": (disk_after[1] - disk_before[1]) / span,
        "disk_wr_reqs_per_s": (disk_after[2] - disk_before[2]) / span,
        "disk_wr_bytes_per_s": (disk_after[3] - disk_before[3]) / span,
        "net_rx_bytes_per_s": (nic_after[0] - nic_before[0]) / span,
        "net_tx_bytes_per_s": (nic_after[4] - nic_before[4]) / span,
    }
    for row in rows:
        for column_name, rate in expected.items():
            assert float(row[column_name]) == pytest.approx(rate, rel=0.05), column_name
        assert row["autostart"] == "false" and row["saved"] == "false"
    header = result.stdout.splitlines()[0].split(",")
    assert header[:10] == [  # the first ten columns, as scripts of round 1 read them
        "time", "host", "domain", "uuid", "state", "vcpus",
        "cpu_pct", "cpu_mode", "mem_kib", "cpu_time_ns",
    ]  # fmt: skip


def test_batch_with_an_unreachable_host_says_so_and_exits_non_zero(fleet_uri: str) -> None:
    result = _batch("-n", "1", "-d", "0.5", "-c", fleet_uri, "-c", "qemu+tcp://127.0.0.1:1/system")
    assert result.returncode == 1
    assert "cannot connect to qemu+tcp://127.0.0.1:1/system" in result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stdout.splitlines()) == 1 + 5  # the reachable host still reported


def test_demo_without_qemu_says_so_and_falls_back_to_the_test_host(tmp_path: Path) -> None:
    # A real machine without QEMU on its PATH, not a mock: the binary is simply not found.
    env = {**os.environ, "PATH": str(tmp_path), "XDG_CACHE_HOME": str(tmp_path / "cache")}
    result = subprocess.run(
        [sys.executable, "-m", "virtui", "top", "--batch", "--demo", "-n", "1", "-d", "0.5"],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert result.returncode == 0, result.stderr
    assert "QEMU is not installed" in result.stderr
    assert "showing the test host only" in result.stderr
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [(row["host"], row["domain"]) for row in rows] == [("test", "test")]


def test_reasons_a_host_is_down_become_its_state(tmp_path: Path) -> None:
    refused = HostSession(LibvirtBackend("qemu+tcp://127.0.0.1:1/system", "r"))
    assert refused.poll_once().status is HostStatus.REFUSED
    missing = HostSession(LibvirtBackend(f"test+unix:///default?socket={tmp_path}/none", "m"))
    assert missing.poll_once().status is HostStatus.REFUSED
    again = missing.poll_once()  # within the backoff: not tried again, says when it will be
    assert again.status is HostStatus.REFUSED and again.message.startswith("retry in ")


def test_detail_of_a_shut_off_domain_reports_its_configured_vcpus() -> None:
    import libvirt

    backend = LibvirtBackend("test:///default", "t")
    backend.connect()
    try:
        conn = backend._link.connection()
        dom = conn.defineXML(
            "<domain type='test'><name>cfg</name><memory>65536</memory>"
            "<vcpu current='1'>2</vcpu><os><type>hvm</type></os></domain>"
        )
        assert not dom.isActive()
        detail = backend.domain_port().detail(dom.UUIDString())
        assert (detail.vcpus, detail.max_vcpus) == (1, 2)  # not "1 current / 1 max"
        dom.undefineFlags(libvirt.VIR_DOMAIN_UNDEFINE_MANAGED_SAVE)
    finally:
        backend.close()
