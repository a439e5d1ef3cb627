"""Disk and NIC byte rates; names accepted for clones and snapshots."""

from __future__ import annotations

from dataclasses import replace

import pytest

from virtui.model.detail import DiskInfo, DomainDetail, NicInfo
from virtui.monitor.io import io_rates
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
