"""Disk and NIC byte rates; names accepted for clones and snapshots."""

from __future__ import annotations

from dataclasses import replace

import pytest

from virtui.formatting import format_rate
from virtui.model import (
    DiskCounters,
    DomainKey,
    DomainSample,
    DomainState,
    DomainStats,
    NicCounters,
)
from virtui.model.detail import DiskInfo, DomainDetail, NicInfo
from virtui.monitor.io import io_rates
from virtui.monitor.rates import disk_rates_between, nic_rates_between
from virtui.tui.operations import valid_name


def _detail(at_s: float, rd: int, wr: int, rx: int, tx: int) -> DomainDetail:
    return DomainDetail(
        uuid="u",
        name="web",
        state="running",
        reason="booted",
        os_type="hvm",
        arch="x86_64",
        machine="pc",
        vcpus=1,
        max_vcpus=1,
        mem_kib=1,
        max_mem_kib=1,
        autostart=False,
        persistent=True,
        managed_save=False,
        monotonic_ns=int(at_s * 1e9),
        disks=(DiskInfo("vda", "/img", "disk", rd, wr),),
        nics=(NicInfo("vnet0", "52:54:00:00:00:01", "network:default", "virtio", rx, tx),),
    )


def test_rates_per_device_per_second() -> None:
    rates = io_rates(_detail(0, 0, 0, 0, 0), _detail(2, 4096, 2048, 1000, 500))
    assert rates == {"vda": (2048.0, 1024.0), "vnet0": (500.0, 250.0)}


def test_no_rates_from_a_single_read_or_a_counter_reset() -> None:
    assert io_rates(None, _detail(1, 5, 5, 5, 5)) == {}
    reset = io_rates(_detail(0, 100, 100, 100, 100), _detail(1, 10, 100, 100, 100))
    assert "vda" not in reset and reset["vnet0"] == (0.0, 0.0)


def test_no_rates_across_domains_or_without_time_passing() -> None:
    assert io_rates(_detail(0, 0, 0, 0, 0), replace(_detail(1, 1, 1, 1, 1), uuid="x")) == {}
    assert io_rates(_detail(1, 0, 0, 0, 0), _detail(1, 1, 1, 1, 1)) == {}


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("", "needs a name"),
        ("a b", "not a valid"),
        ("a/b", "not a valid"),
        ("-dash", "not a valid"),
        ("x" * 65, "not a valid"),
        ("web01", "already exists"),
        ("web01-clone", ""),
        ("snap_1.2+x", ""),
    ],
)
def test_names(name: str, problem: str) -> None:
    check = valid_name("domain", lambda taken: taken == "web01")
    result = check(name)
    assert (problem in result) if problem else result == ""


def _disk(rd: int, wr: int, name: str = "vda") -> DiskCounters:
    return DiskCounters(
        name, "/img", rd_bytes=rd, wr_bytes=wr, rd_reqs=rd // 512, wr_reqs=wr // 512
    )


def test_disk_rates_per_device_and_none_when_the_driver_cannot_tell() -> None:
    rates = disk_rates_between((_disk(0, 0),), (_disk(1024, 4096),), 2.0)
    assert rates is not None and len(rates) == 1
    assert (rates[0].rd_bps, rates[0].wr_bps, rates[0].rd_iops, rates[0].wr_iops) == (
        512.0,
        2048.0,
        1.0,
        4.0,
    )
    assert disk_rates_between(None, (_disk(1, 1),), 1.0) is None
    # A counter that went back (a new medium) or a device that was not there: no figure.
    assert disk_rates_between((_disk(100, 100),), (_disk(10, 200),), 1.0) == ()
    assert disk_rates_between((_disk(0, 0, "vdb"),), (_disk(10, 20),), 1.0) == ()


def test_nic_rates_sum_into_the_domains_figure() -> None:
    before = (NicCounters("vnet0", 0, 0, 0, 0), NicCounters("vnet1", 0, 0, 0, 0))
    after = (NicCounters("vnet0", 3000, 1000, 3, 1), NicCounters("vnet1", 1000, 0, 1, 0))
    rates = nic_rates_between(before, after, 1.0)
    sample = DomainSample(DomainKey("h", "u"), "web", DomainState.RUNNING, 1, 1, 1, 0)
    stats = DomainStats(sample, 1, 1.0, nic_rates=rates)
    assert stats.net_rx_bps == 4000.0 and stats.net_tx_bps == 1000.0
    assert stats.disk_rd_bps is None  # no disk figures: not zero, unknown


@pytest.mark.parametrize(
    ("rate", "text"),
    [
        (None, "-"),
        (0, "0"),
        (812, "812"),
        (12_595, "12.3K"),
        (4.1 * 2**20, "4.1M"),
        (250_000, "244K"),
    ],
)
def test_rates_fit_five_characters(rate: float | None, text: str) -> None:
    assert format_rate(rate) == text
