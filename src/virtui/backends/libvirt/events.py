"""Words for libvirt's lifecycle events."""

from __future__ import annotations

_EVENTS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("defined", ("added", "updated", "renamed", "from snapshot")),
    ("undefined", ("removed", "renamed")),
    ("started", ("booted", "migrated", "restored", "from snapshot", "woken up")),
    (
        "suspended",
        (
            "paused",
            "migrated",
            "I/O error",
            "watchdog",
            "restored",
            "from snapshot",
            "api error",
            "post-copy",
            "post-copy failed",
        ),
    ),
    ("resumed", ("unpaused", "migrated", "from snapshot", "post-copy")),
    (
        "stopped",
        ("shutdown", "destroyed", "crashed", "migrated", "saved", "failed", "from snapshot"),
    ),
    ("shutdown", ("finished", "guest request", "host request")),
    ("pmsuspended", ("memory", "disk")),
    ("crashed", ("panicked", "crashloaded")),
)


def lifecycle_words(event: int, detail: int) -> tuple[str, str]:
    """(kind, detail) for a VIR_DOMAIN_EVENT_* number and its detail number."""
    if not 0 <= event < len(_EVENTS):
        return f"event {event}", str(detail)
    kind, details = _EVENTS[event]
    return kind, details[detail] if 0 <= detail < len(details) else str(detail)
