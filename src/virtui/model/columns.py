"""The columns of the domains table: key, label, width and order in one list, for the
table, the ``:cols`` command, saved settings and the batch CSV to agree on."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Column:
    """One column: key, header label, width (None: fit the longest value), alignment."""

    key: str
    label: str
    width: int | None
    right: bool = False
    descending: bool = False  # the natural first sort direction
    drop: int = 0  # > 0: left out when the terminal is too narrow, highest first


DOMAIN_COLUMNS = (
    Column("host", "HOST", 10),
    Column("name", "NAME", None),
    Column("state", "STATE", 11),
    Column("vcpus", "VCPU", 5, right=True, descending=True),
    Column("cpu", "%CPU", 7, right=True, descending=True),
    Column("mem", "MEM", 8, right=True, descending=True),
    Column("memp", "%MEM", 5, right=True, descending=True),
    Column("time", "TIME", 11, right=True, descending=True),
    Column("rd", "RD/s", 6, right=True, descending=True, drop=4),  # disk bytes read
    Column("wr", "WR/s", 6, right=True, descending=True, drop=3),  # disk bytes written
    Column("rdrq", "RDRQ/s", 7, right=True, descending=True, drop=4),  # read requests
    Column("wrrq", "WRRQ/s", 7, right=True, descending=True, drop=3),  # write requests
    Column("rx", "RX/s", 6, right=True, descending=True, drop=2),  # network bytes in
    Column("tx", "TX/s", 6, right=True, descending=True, drop=1),  # network bytes out
    Column("auto", "AUTO", 5, drop=5),  # autostart
    Column("ip", "IP", 15, drop=6),  # a guest address (DHCP lease, guest agent or ARP)
    # The age of the domain's last good backup; shown only with [backup] dir configured.
    Column("backup", "BACKUP", 7, right=True, descending=True, drop=7),
)
DOMAIN_COLUMN_KEYS = tuple(column.key for column in DOMAIN_COLUMNS)
# The sort column's label carries an arrow: every label fits with it, never cut.
assert all(c.width is None or c.width > len(c.label) for c in DOMAIN_COLUMNS), "label cut"

# Shown instead of rd/wr when ``B`` switches the disk columns to requests (virt-top's B).
DISK_BYTES, DISK_REQUESTS = ("rd", "wr"), ("rdrq", "wrrq")
DEFAULT_HIDDEN = DISK_REQUESTS
