"""What every typed edit shares: how a summary line says when a part takes effect, the
plan item it makes, and the conflict it raises on a rebase."""

from __future__ import annotations

from dataclasses import dataclass

from virtui.model.config import LiveChange

# How a summary line ends when a running domain sees that part only after a restart: the
# plan says so before a merge, the merge after one whose live part failed.
NEEDS_RESTART = "needs restart"
PENDING_RESTART = "pending restart"


class Conflict(ValueError):
    """The new base changed what the operation changes; the message says what."""


@dataclass(frozen=True, slots=True)
class PlanItem:
    """One line of a change's summary: what changes and how it takes effect."""

    text: str
    live: LiveChange | None  # how to apply it to a running domain; None: needs a restart


# How a network's summary line ends when the part is seen only after the network restarts.
NET_RESTART = "at next network restart"
