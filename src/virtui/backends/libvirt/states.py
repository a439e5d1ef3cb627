"""Words for libvirt's state reasons, as virsh domstate --reason prints them."""

from __future__ import annotations

_REASONS: dict[int, tuple[str, ...]] = {
    1: (  # running
        "unknown",
        "booted",
        "migrated",
        "restored",
        "from snapshot",
        "unpaused",
        "migration canceled",
        "save canceled",
        "woken up",
        "crashed",
        "post-copy",
        "post-copy failed",
    ),
    2: ("unknown",),  # blocked
    3: (  # paused
        "unknown",
        "user",
        "migrating",
        "saving",
        "dumping",
        "I/O error",
        "watchdog",
        "from snapshot",
        "shutting down",
        "creating snapshot",
        "starting up",
        "post-copy",
        "post-copy failed",
        "api error",
    ),
    4: ("unknown", "user"),  # shutdown
    5: (  # shut off
        "unknown",
        "shutdown",
        "destroyed",
        "crashed",
        "migrated",
        "saved",
        "failed",
        "from snapshot",
        "daemon",
    ),
    6: ("unknown", "panicked"),  # crashed
    7: ("unknown",),  # pmsuspended
}


def reason_text(state: int, reason: int) -> str:
    """The reason a domain is in its state, in words."""
    reasons = _REASONS.get(state, ())
    return reasons[reason] if 0 <= reason < len(reasons) else f"reason {reason}"
