"""The networks screen's tables: columns, row keys and cells."""

from __future__ import annotations

import time

from virtui.model.network import DhcpHost, DhcpLease, NetworkInfo

NETWORK_COLUMNS = (
    "Host",
    "Network",
    "State",
    "Auto",
    "Pers",
    "Forward",
    "Bridge",
    "IPv4",
    "DHCP range",
    "Leases",
    "IPv6",
    "Domains",
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
        "yes" if network.autostart else "no",
        "yes" if network.persistent else "no",
        network.config.forward,
        network.config.bridge or "-",
        ipv4.cidr if ipv4 is not None else "-",
        (ipv4.dhcp_range if ipv4 is not None else "") or "-",
        leases if network.active else "-",
        ipv6.cidr if ipv6 is not None else "-",
        ", ".join(network.domains) or "-",
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
