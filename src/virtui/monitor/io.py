"""Byte rates of disks and network interfaces from two detail reads."""

from __future__ import annotations

from virtui.model.detail import DomainDetail


def io_rates(
    previous: DomainDetail | None, current: DomainDetail
) -> dict[str, tuple[float, float]]:
    """Per disk target and per interface name: (read or rx, write or tx) bytes per second.

    Empty until two reads exist; a counter that went backwards (guest restarted) gives
    no figure for that device rather than a negative one.
    """
    if previous is None or previous.uuid != current.uuid:
        return {}
    seconds = (current.monotonic_ns - previous.monotonic_ns) / 1e9
    if seconds <= 0:
        return {}
    rates: dict[str, tuple[float, float]] = {}
    old_disks = {disk.target: disk for disk in previous.disks}
    for disk in current.disks:
        old = old_disks.get(disk.target)
        if old is not None and disk.rd_bytes >= old.rd_bytes and disk.wr_bytes >= old.wr_bytes:
            rates[disk.target] = (
                (disk.rd_bytes - old.rd_bytes) / seconds,
                (disk.wr_bytes - old.wr_bytes) / seconds,
            )
    old_nics = {nic.name: nic for nic in previous.nics}
    for nic in current.nics:
        was = old_nics.get(nic.name)
        if was is not None and nic.rx_bytes >= was.rx_bytes and nic.tx_bytes >= was.tx_bytes:
            rates[nic.name] = (
                (nic.rx_bytes - was.rx_bytes) / seconds,
                (nic.tx_bytes - was.tx_bytes) / seconds,
            )
    return rates
