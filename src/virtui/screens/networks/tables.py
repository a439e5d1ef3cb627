"""The networks screen's tables: columns, row keys and cells."""

from __future__ import annotations

import time

from virtui.model.network import DhcpHost, DhcpLease, NetworkInfo

# What answers "which network, is it up, where, how full, who is on it" comes first: an
# 80-column terminal shows those, the rest is a scroll to the right.
NETWORK_COLUMNS = (
    "Host",
    "Network",
    "State",
    "Forward",
    "IPv4",
    "Leases",
    "Domains",
    "Bridge",
    "DHCP range",
    "Auto",
    "Pers",
    "IPv6",
)
LEASE_COLUMNS = ("MAC", "IP", "Hostname", "Domain", "Expires")
HOST_COLUMNS = ("MAC", "IP", "Name")


def network_key(network: NetworkInfo) -> str:
    """The row key of a network: host and name."""
    return f"{network.host}\t{network.name}"


def network_row(network: NetworkInfo) -> tuple[str, ...]:
    """A network's cells: leases in use of the range's size."""
    ipv4, ipv6 = network.config.ipv4(), network.config.ipv6()
    size = ipv4.range_size if ipv4 is not None else 0
    leases = f"{network.leases}/{size}" if size else "-"
    return (
        network.host,
        network.name,
        network.state,
        network.config.forward,
        ipv4.cidr if ipv4 is not None else "-",
        leases if network.active else "-",
        ", ".join(network.domains) or "-",
        network.config.bridge or "-",
        (ipv4.dhcp_range if ipv4 is not None else "") or "-",
        "yes" if network.autostart else "no",
        "yes" if network.persistent else "no",
        ipv6.cidr if ipv6 is not None else "-",
    )


def lease_row(lease: DhcpLease, now: float | None = None) -> tuple[str, ...]:
    """A lease's cells; the expiry as time left."""
    return (
        lease.mac,
        f"{lease.ip}/{lease.prefix}" if lease.prefix else lease.ip,
        lease.hostname or "-",
        lease.domain or "-",
        expires_in(lease.expiry, time.time() if now is None else now),
    )


def host_row(host: DhcpHost) -> tuple[str, ...]:
    """A fixed DHCP host's cells."""
    return (host.mac, host.ip, host.name or "-")


def expires_in(expiry: float, now: float) -> str:
    """``in 59m``, ``in 2h05m``, ``never``, ``expired``."""
    if not expiry:
        return "never"
    left = int(expiry - now)
    if left <= 0:
        return "expired"
    hours, rest = divmod(left, 3600)
    minutes = rest // 60
    return f"in {hours}h{minutes:02d}m" if hours else f"in {max(minutes, 1)}m"
