"""What to do when libvirt's socket refuses this account (a non-root admin's first try)."""

from __future__ import annotations

import grp
import os
import re

from virtui.account import account_name

_SOCKET = re.compile(r"connect socket to '([^']+)': Permission denied")


def permission_hint(message: str) -> str:
    """Advice to add to libvirt's "Permission denied" on a daemon's socket, naming the
    group that owns the socket (Debian's ``libvirt``) and this account; "" for any other
    message."""
    found = _SOCKET.search(message)
    if found is None:
        return ""
    account = account_name()
    try:
        group = grp.getgrgid(os.stat(found.group(1)).st_gid).gr_name
    except (OSError, KeyError):
        group = ""
    if group and group != "root":
        way = (
            f"the socket belongs to group {group}: an admin runs "
            f"`usermod -aG {group} {account}` (it takes effect at {account}'s next login)"
        )
    else:
        way = (
            "only root may use that socket: an admin can give it to a group "
            "(unix_sock_group in libvirtd.conf, Debian's is libvirt)"
        )
    return (
        f" — {way}. Meanwhile --readonly watches through the read-only socket, and "
        "qemu:///session is this account's own libvirt."
    )
