"""One way to say that a change was refused on a read-only host, before anything was
asked or sent (the same words for every key that changes something)."""

from __future__ import annotations

from typing import Any


def refused_read_only(notifier: Any, verb: str, host: str) -> str:
    """Tell the user (``notifier.notify``) that ``verb`` is refused on ``host``; the
    text, for the timeline."""
    text = f"cannot {verb}: {host} is read-only (opened with --readonly); nothing was sent"
    notifier.notify(text, title=f"{verb}: refused", severity="error")
    return text
