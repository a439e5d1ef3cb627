"""Byte rates of disks and network interfaces from two detail reads."""

from __future__ import annotations

from virtui.model.detail import DomainDetail


def io_rates(previous: DomainDetail | None, current: DomainDetail) -> dict[str, tuple[float, ...]]:
    """Per disk target and per interface name: (read or rx, write or tx) bytes per second.

    Empty until two reads exist; a counter that went backwards (guest restarted) gives
    no figure for that device rather than a negative one.
    """
    if previous is None or previous.uuid != current.uuid:
        return {}
    seconds = (current.monotonic_ns - previous.monotonic_ns) / 1e9
    if seconds <= 0:
        return {}
    disks = counter_rates(
        {d.target: (d.rd_bytes, d.wr_bytes) for d in previous.disks},
        {d.target: (d.rd_bytes, d.wr_bytes) for d in current.disks},
        seconds,
    )
    nics = counter_rates(
        {n.name: (n.rx_bytes, n.tx_bytes) for n in previous.nics},
        {n.name: (n.rx_bytes, n.tx_bytes) for n in current.nics},
        seconds,
    )
    return {**disks, **nics}


def counter_rates(
    before: dict[str, tuple[int, ...]], after: dict[str, tuple[int, ...]], seconds: float
) -> dict[str, tuple[float, ...]]:
    """Per device name: each cumulative counter's change per second. A device new since
    ``before``, or with any counter that went back (a restart, a new medium), has no
    entry rather than a negative figure. ``seconds`` must be positive."""
    rates: dict[str, tuple[float, ...]] = {}
    for name, counts in after.items():
        old = before.get(name)
        if old is not None and all(new >= was for new, was in zip(counts, old, strict=True)):
            rates[name] = tuple((new - was) / seconds for new, was in zip(counts, old, strict=True))
    return rates
