"""What the two floors that do virtui's visible work share: the bulk call's stat groups,
the columns, the state names and the host's facts.

Written out here rather than imported from virtui (its modules would count in the
floors' memory), and kept apart from both floors (the work floor's module loads
``DataTable``, which would count in the lean floor's).
"""

from __future__ import annotations

import libvirt

# virtui's BULK_STATS, written out.
STATS = (
    libvirt.VIR_DOMAIN_STATS_STATE
    | libvirt.VIR_DOMAIN_STATS_CPU_TOTAL
    | libvirt.VIR_DOMAIN_STATS_VCPU
    | libvirt.VIR_DOMAIN_STATS_BALLOON
    | libvirt.VIR_DOMAIN_STATS_BLOCK
    | libvirt.VIR_DOMAIN_STATS_INTERFACE
)
COLUMNS = (
    *("HOST", "NAME", "STATE", "VCPU", "%CPU", "MEM", "%MEM", "TIME"),
    *("RD/s", "WR/s", "RX/s", "TX/s", "AUTO"),
)
STATES = {1: "running", 3: "paused", 5: "shut off"}


def host_facts(connection: libvirt.virConnect) -> tuple[str, int, int]:
    """The host's short name (as the HOST column shows it), memory in KiB and CPUs."""
    info = connection.getInfo()
    return connection.getHostname().split(".")[0][:10], info[1] * 1024, info[2]
