"""Block and network counters of a domain: from a bulk stats record, or read device by
device where the driver's bulk stats lack them (the test driver's do)."""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from dataclasses import dataclass

import libvirt

from virtui.backends.libvirt.xmlread import read_xml
from virtui.model import DiskCounters, NicCounters


def _number(record: Mapping[str, object], key: str, default: int) -> int:
    value = record.get(key, default)
    return value if isinstance(value, int) else default


def disks_from_stats(record: Mapping[str, object]) -> tuple[DiskCounters, ...] | None:
    """The ``block.*`` part of a getAllDomainStats record; None when it has none."""
    count = record.get("block.count")
    if not isinstance(count, int):
        return None
    disks = []
    for index in range(count):
        prefix = f"block.{index}."

        def number(name: str, default: int = 0, prefix: str = prefix) -> int:
            return _number(record, prefix + name, default)

        disks.append(
            DiskCounters(
                name=str(record.get(prefix + "name", "")),
                path=str(record.get(prefix + "path", "")),
                rd_bytes=number("rd.bytes"),
                wr_bytes=number("wr.bytes"),
                rd_reqs=number("rd.reqs"),
                wr_reqs=number("wr.reqs"),
                capacity=number("capacity", -1),
                allocation=number("allocation", -1),
            )
        )
    return tuple(disks)


def nics_from_stats(
    record: Mapping[str, object], facts: DeviceFacts | None
) -> tuple[NicCounters, ...] | None:
    """The ``net.*`` part of a getAllDomainStats record, with MAC and bridge from the
    domain's XML; None when the record has none."""
    count = record.get("net.count")
    if not isinstance(count, int):
        return None
    nics = []
    for index in range(count):
        prefix = f"net.{index}."

        def number(name: str, prefix: str = prefix) -> int:
            return _number(record, prefix + name, 0)

        name = str(record.get(prefix + "name", ""))
        mac, bridge = facts.nics.get(name, ("", "")) if facts is not None else ("", "")
        nics.append(
            NicCounters(
                name=name,
                rx_bytes=number("rx.bytes"),
                tx_bytes=number("tx.bytes"),
                rx_packets=number("rx.pkts"),
                tx_packets=number("tx.pkts"),
                rx_errors=number("rx.errs"),
                tx_errors=number("tx.errs"),
                rx_drops=number("rx.drop"),
                tx_drops=number("tx.drop"),
                mac=mac,
                bridge=bridge,
            )
        )
    return tuple(nics)


@dataclass(frozen=True, slots=True)
class DeviceFacts:
    """What a domain's XML says of its devices: disk target -> source path, and
    interface device -> (MAC, bridge or network)."""

    disks: Mapping[str, str]
    nics: Mapping[str, tuple[str, str]]


NO_DEVICES = DeviceFacts({}, {})  # a domain with neither disks nor interfaces


def device_facts(xml: str) -> DeviceFacts:
    """Disks and interfaces of one domain XML (libvirt wrote it: plain ElementTree)."""
    root = read_xml(xml)
    disks: dict[str, str] = {}
    for disk in root.findall("./devices/disk"):
        target, source = disk.find("target"), disk.find("source")
        if target is None or not target.get("dev"):
            continue
        path = ""
        if source is not None:
            path = source.get("file") or source.get("dev") or source.get("volume") or ""
        disks[target.get("dev", "")] = path
    nics: dict[str, tuple[str, str]] = {}
    for nic in root.findall("./devices/interface"):
        target, mac, source = nic.find("target"), nic.find("mac"), nic.find("source")
        if target is None or not target.get("dev"):
            continue
        bridge = ""
        if source is not None:
            bridge = source.get("bridge") or source.get("network") or source.get("dev") or ""
        nics[target.get("dev", "")] = (mac.get("address", "") if mac is not None else "", bridge)
    return DeviceFacts(disks, nics)


def read_devices(
    dom: libvirt.virDomain, facts: DeviceFacts
) -> tuple[tuple[DiskCounters, ...], tuple[NicCounters, ...]]:
    """Counters read device by device (``virDomainBlockStats``, ``InterfaceStats``), for
    drivers whose bulk stats carry none. A device that cannot be read is left out."""
    disks = []
    for target, path in facts.disks.items():
        with contextlib.suppress(libvirt.libvirtError):
            rd_reqs, rd_bytes, wr_reqs, wr_bytes, _errors = dom.blockStats(target)
            capacity, allocation = -1, -1
            with contextlib.suppress(libvirt.libvirtError):
                capacity, allocation, _physical = dom.blockInfo(target)
            disks.append(
                DiskCounters(
                    target, path, rd_bytes, wr_bytes, rd_reqs, wr_reqs, capacity, allocation
                )
            )
    nics = []
    for name, (mac, bridge) in facts.nics.items():
        with contextlib.suppress(libvirt.libvirtError):
            rx_b, rx_p, rx_e, rx_d, tx_b, tx_p, tx_e, tx_d = dom.interfaceStats(name)
            nics.append(
                NicCounters(name, rx_b, tx_b, rx_p, tx_p, rx_e, tx_e, rx_d, tx_d, mac, bridge)
            )
    return tuple(disks), tuple(nics)
