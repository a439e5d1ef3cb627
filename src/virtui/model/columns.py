"""The columns of the domains table, by key: one list for the table, the ``:cols``
command, saved settings and the batch CSV to agree on."""

from __future__ import annotations

DOMAIN_COLUMN_KEYS = (
    "host",
    "name",
    "state",
    "vcpus",
    "cpu",
    "mem",
    "memp",
    "time",
    "rd",  # disk bytes read per second
    "wr",  # disk bytes written per second
    "rdrq",  # disk read requests per second
    "wrrq",  # disk write requests per second
    "rx",  # network bytes received per second
    "tx",  # network bytes sent per second
    "auto",  # autostart
    "ip",  # a guest address (DHCP lease, guest agent or ARP)
)

# Shown instead of rd/wr when ``B`` switches the disk columns to requests (virt-top's B).
DISK_BYTES, DISK_REQUESTS = ("rd", "wr"), ("rdrq", "wrrq")
DEFAULT_HIDDEN = DISK_REQUESTS
