"""The account this process runs as, by name: what an admin types (usermod, ssh user@)."""

from __future__ import annotations

import os
import pwd


def account_name() -> str:
    """The effective user's name, never $USER (which anyone can set); its number when
    the account has no name (a container's)."""
    uid = os.geteuid()
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return str(uid)
