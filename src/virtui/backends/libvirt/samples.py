"""Turn libvirt's stats records and info tuples into DomainSample."""

from __future__ import annotations

from collections.abc import Mapping
from typing import NamedTuple

from virtui.model import DiskCounters, DomainKey, DomainSample, NicCounters
from virtui.model.domain import state_from_code


class Extra(NamedTuple):
    """What a sample carries besides state, CPU and memory, read by other calls."""

    disks: tuple[DiskCounters, ...] | None = None
    nics: tuple[NicCounters, ...] | None = None
    autostart: bool | None = None


NO_EXTRA = Extra()


def stats_are_complete(record: Mapping[str, object]) -> bool:
    """True when a getAllDomainStats record carries everything a sample needs.

    Some drivers (the test driver, for one) return only the state: those domains are
    read again with ``virDomainGetInfo``.
    """
    state = record.get("state.state")
    if not isinstance(state, int):
        return False
    needed = ["vcpu.current", "balloon.maximum"]
    if state_from_code(state).is_active:
        needed.append("cpu.time")
    return all(name in record for name in needed)


def sample_from_stats(
    host: str,
    uuid: str,
    name: str,
    run_id: int,
    record: Mapping[str, int],
    extra: Extra = NO_EXTRA,
    read_ns: int = 0,
) -> DomainSample:
    """A sample from one complete getAllDomainStats record; ``read_ns``: when the
    record was read."""
    vcpus = int(record.get("vcpu.current", 0))
    vcpu_times = tuple(
        int(record[f"vcpu.{index}.time"])
        for index in range(int(record.get("vcpu.maximum", vcpus)))
        if f"vcpu.{index}.time" in record
    )
    max_mem = int(record.get("balloon.maximum", 0))
    return DomainSample(
        key=DomainKey(host, uuid),
        name=name,
        state=state_from_code(int(record["state.state"])),
        vcpus=vcpus,
        mem_kib=int(record.get("balloon.current", max_mem)),
        max_mem_kib=max_mem,
        cpu_time_ns=int(record.get("cpu.time", 0)),
        vcpu_times_ns=vcpu_times,
        run_id=run_id,
        disks=extra.disks,
        nics=extra.nics,
        autostart=extra.autostart,
        read_ns=read_ns,
    )
