"""Change requests and their comments, approvals and history."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from virtui.review.ops import NEEDS_RESTART, NET_RESTART, PENDING_RESTART, Op


class State(enum.Enum):
    """Where a change request stands; the glyph leads its line in the list."""

    DRAFT = ("draft", "·")
    OPEN = ("open", "●")
    APPROVED = ("approved", "✓")
    STALE = ("stale", "!")
    CONFLICTED = ("conflicted", "‼")
    MERGING = ("merging", "⟳")
    MERGED = ("merged", "◆")
    REJECTED = ("rejected", "✗")
    WITHDRAWN = ("withdrawn", "∅")

    def __init__(self, label: str, glyph: str) -> None:
        self.label = label
        self.glyph = glyph

    @property
    def closed(self) -> bool:
        """True when nothing more can happen to the change."""
        return self in (State.MERGED, State.REJECTED, State.WITHDRAWN)


@dataclass(frozen=True, slots=True)
class Comment:
    """A remark on one line of the diff (``line`` 0: on the change as a whole)."""

    id: int
    line: int
    anchor: str  # the text of the line it was made on, to find it again after a rebase
    author: str
    text: str
    created: float


@dataclass(frozen=True, slots=True)
class Approval:
    """Someone approved exactly this base and this proposal."""

    user: str
    base_hash: str
    proposed_hash: str
    created: float


@dataclass(frozen=True, slots=True)
class Event:
    """One line of a change's append-only history."""

    created: float
    user: str
    kind: str
    detail: str


@dataclass
class ChangeRequest:
    """A proposed configuration change of one domain or one network."""

    id: int
    title: str
    description: str
    author: str
    created: float
    host: str
    domain_uuid: str
    domain_name: str
    base_xml: str
    base_hash: str
    proposed_xml: str
    proposed_hash: str
    ops: list[Op]
    summary: list[str]
    state: State = State.DRAFT
    applied_xml: str = ""
    outcome: list[str] = field(default_factory=list)
    comments: list[Comment] = field(default_factory=list)
    approvals: list[Approval] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    uri: str = ""  # the libvirt URI the host was reached at when it was drafted
    flags: list[str] = field(default_factory=list)  # e.g. "unverified-import"
    # What the change configures: "domain", or "network" (domain_uuid and domain_name
    # then hold the network's).
    kind: str = "domain"

    @property
    def object_label(self) -> str:
        """``domain web1`` or ``network default``: what the change configures."""
        return f"{self.kind} {self.domain_name}"

    @property
    def where(self) -> str:
        """``web1@h1`` for a domain, ``network default@h1`` for a network."""
        kind = "" if self.kind == "domain" else f"{self.kind} "
        return f"{kind}{self.domain_name}@{self.host}"

    @property
    def valid_approvals(self) -> list[Approval]:
        """Approvals of the current base and proposal (a rebase voids older ones)."""
        return [
            a
            for a in self.approvals
            if a.base_hash == self.base_hash and a.proposed_hash == self.proposed_hash
        ]

    def waits_for(self, user: str) -> bool:
        """True when ``user`` has this to review: someone else's open request they have
        not approved in this version."""
        return (
            self.state is State.OPEN
            and self.author != user
            and all(a.user != user for a in self.valid_approvals)
        )


def waits_for_restart(line: str) -> bool:
    """True when a summary line of a change (what the plan or the merge said of one
    part) is a part that a running domain sees only after its next restart."""
    return line.endswith((NEEDS_RESTART, PENDING_RESTART, NET_RESTART))
