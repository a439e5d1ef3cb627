"""The hosts screen's CPU and memory cells: what a backend cannot read is said to be
unknown, never shown as a figure (a fleet host read "0KiB" and "2 x 2 CPUs (from the
URI)")."""

from __future__ import annotations

from virtui.model import HostInfo
from virtui.screens.hosts import cpu_cell, memory_cell


def _info(**kwargs: object) -> HostInfo:
    fields: dict[str, object] = {
        "name": "h",
        "uri": "u",
        "hostname": "h",
        "driver": "QEMU",
        "cpus": 16,
        "memory_kib": 32 * 1024 * 1024,
    }
    fields.update(kwargs)
    return HostInfo(**fields)  # type: ignore[arg-type]


def test_a_libvirt_host_says_its_cpus_and_memory() -> None:
    info = _info(cpu_model="x86_64", topology="1 node, 1 socket, 8 cores, 2 threads")
    assert cpu_cell(info) == "16 x x86_64 (1 node, 1 socket, 8 cores, 2 threads)"
    assert memory_cell(info, 8 * 1024 * 1024) == "8GiB/32GiB"


def test_a_fleet_host_says_what_it_does_not_know() -> None:
    told = _info(driver="prometheus", cpus=2, memory_kib=0, topology="from the URI")
    assert cpu_cell(told) == "2 CPUs (from the URI)"
    assert memory_cell(told, 0) == "unknown"
    untold = _info(driver="prometheus", cpus=0, memory_kib=0, topology="add cpus=N to the URI")
    assert cpu_cell(untold) == "unknown (add cpus=N to the URI)"


def test_a_cut_keeps_what_differs_and_leaves_what_fits() -> None:
    from virtui.formatting import distinct_cuts

    cuts = distinct_cuts(["127.0.0.1:19177@prom", "127.0.0.1:19178@prom", "h1"], 10)
    assert cuts == {
        "127.0.0.1:19177@prom": "127…7@prom",
        "127.0.0.1:19178@prom": "127…8@prom",
        "h1": "h1",
    }
    alone = distinct_cuts(["hypervisor-01.example.com"], 10)
    assert alone == {"hypervisor-01.example.com": "hyperviso…"}  # nothing to tell apart
