"""Guests' addresses: from the network's DHCP leases, else the guest agent, else the
host's ARP table (``interfaceAddresses`` with each source), saying which answered; and a
cache that keeps the domains table's address column fresh at a bounded cost per poll."""

from __future__ import annotations

import contextlib
import heapq
import time

import libvirt

from virtui.backends.libvirt.handle import describe
from virtui.model import DomainSample
from virtui.model.network import GuestAddress, GuestAddresses

SOURCES = (
    ("lease", libvirt.VIR_DOMAIN_INTERFACE_ADDRESSES_SRC_LEASE),
    ("agent", libvirt.VIR_DOMAIN_INTERFACE_ADDRESSES_SRC_AGENT),
    ("arp", getattr(libvirt, "VIR_DOMAIN_INTERFACE_ADDRESSES_SRC_ARP", 2)),
)
REFRESH_S = 30.0  # how old a domain's address may get in the table
BUDGET = 8  # domains resolved per poll at most: the cost stays flat at 1,000 domains


def resolve(dom: libvirt.virDomain) -> GuestAddresses:
    """The domain's addresses from the first source that has any; ``tried`` says what
    the others answered."""
    tried: list[str] = []
    for source, flag in SOURCES:
        try:
            answer = dom.interfaceAddresses(flag, 0) or {}
        except libvirt.libvirtError as error:
            tried.append(f"{source}: {describe(error)}")
            continue
        found = tuple(
            GuestAddress(
                mac=str(facts.get("hwaddr") or "").lower(),
                address=f"{address['addr']}/{address['prefix']}",
                source=source,
                interface=name,
            )
            for name, facts in sorted(answer.items())
            for address in (facts.get("addrs") or [])
        )
        if found:
            return GuestAddresses(found, tuple(tried))
        tried.append(f"{source}: no address")
    return GuestAddresses((), tuple(tried))


def first_address(addresses: GuestAddresses) -> tuple[str, str]:
    """(address without prefix, source) the table shows: an IPv4 one when there is."""
    ordered = sorted(addresses.addresses, key=lambda a: ":" in a.address)
    if not ordered:
        return "", ""
    return ordered[0].address.partition("/")[0], ordered[0].source


class AddressCache:
    """Each running domain's first address, resolved a few domains per poll (new ones
    first, then the oldest), kept ``REFRESH_S``; shut-off domains have none."""

    def __init__(self) -> None:
        self._known: dict[str, tuple[float, str, str]] = {}  # uuid -> (read, address, source)

    def fill(self, conn: libvirt.virConnect, samples: list[DomainSample]) -> None:
        """Set ``address`` and ``address_source`` on the running samples."""
        now = time.monotonic()
        running = {s.key.uuid: s for s in samples if s.state.is_active}
        for uuid in [u for u in self._known if u not in running]:
            del self._known[uuid]
        due = [
            u for u in running if now - self._known.get(u, (-REFRESH_S * 2, "", ""))[0] > REFRESH_S
        ]
        # The BUDGET oldest (new ones first), as sorted(due)[:BUDGET] would give them,
        # without sorting every due domain: on a large host nearly all of them are due.
        oldest = heapq.nsmallest(BUDGET, due, key=lambda u: self._known.get(u, (-1.0, "", ""))[0])
        for uuid in oldest:
            address, source = "", ""
            with contextlib.suppress(libvirt.libvirtError):
                address, source = first_address(resolve(conn.lookupByUUIDString(uuid)))
            self._known[uuid] = (now, address, source)
        for uuid, sample in running.items():
            known = self._known.get(uuid)
            if known is not None:
                sample.address, sample.address_source = known[1], known[2]
