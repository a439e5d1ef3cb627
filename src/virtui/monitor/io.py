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
    disks = _counter_rates(
        {d.target: (d.rd_bytes, d.wr_bytes) for d in previous.disks},
        {d.target: (d.rd_bytes, d.wr_bytes) for d in current.disks},
        seconds,
    )
    nics = _counter_rates(
        {n.name: (n.rx_bytes, n.tx_bytes) for n in previous.nics},
        {n.name: (n.rx_bytes, n.tx_bytes) for n in current.nics},
        seconds,
    )
    return {**disks, **nics}


def _counter_rates(
    before: dict[str, tuple[int, int]], after: dict[str, tuple[int, int]], seconds: float
) -> dict[str, tuple[float, float]]:
    rates: dict[str, tuple[float, float]] = {}
    for name, (first, second) in after.items():
        old = before.get(name)
        if old is not None and first >= old[0] and second >= old[1]:
            rates[name] = ((first - old[0]) / seconds, (second - old[1]) / seconds)
    return rates
