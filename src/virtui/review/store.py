"""ReviewStore: change requests in SQLite (WAL, mode 0600: it holds secure XML).

Every change of a request is one transaction that also appends to its history, so a
process killed at any point leaves each request whole, as it was before or after. The
events table refuses updates and deletes (append-only, enforced by triggers).
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import sqlite3
import time

from virtui.review.model import Approval, ChangeRequest, Comment, Event, State
from virtui.review.ops import Op, ops_from_json, ops_to_json
from virtui.review.storefile import (
    LOCK_LEASE_S,
    LockHeld,
    StateChanged,
    StoreError,
    StoreFile,
    explain,
    process_alive,
)

__all__ = ["LOCK_LEASE_S", "LockHeld", "ReviewStore", "StateChanged", "StoreError"]

_STATES = {state.label: state for state in State}
STEP = "merge step"  # the event kind of a merge's journal


def merge_steps(change: ChangeRequest) -> list[str]:
    """The steps journaled since the change's last merge began, in order."""
    steps: list[str] = []
    for event in change.events:
        if event.kind == "merging":
            steps = []
        elif event.kind == STEP:
            steps.append(event.detail)
    return steps


# A merge's lock outlives a process on another machine for this long at most; on this
# machine a lock whose process is gone is taken over at once.


class ReviewStore(StoreFile):
    """The change requests of this user, shared by every virtui they run."""

    # -- writing ------------------------------------------------------------------------

    def create(self, change: ChangeRequest) -> int:
        """Store a new change request; returns its number."""
        return self._write(
            None,
            change.author,
            "created",
            change.title,
            [
                (
                    "INSERT INTO changes (title, description, author, created, host, "
                    "domain_uuid, domain_name, base_xml, base_hash, proposed_xml, "
                    "proposed_hash, ops, summary, state, uri, flags, kind) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        change.title,
                        change.description,
                        change.author,
                        change.created,
                        change.host,
                        change.domain_uuid,
                        change.domain_name,
                        change.base_xml,
                        change.base_hash,
                        change.proposed_xml,
                        change.proposed_hash,
                        ops_to_json(change.ops),
                        json.dumps(change.summary),
                        change.state.label,
                        change.uri,
                        json.dumps(change.flags),
                        change.kind,
                    ),
                )
            ],
        )

    def set_state(
        self,
        change_id: int,
        state: State,
        user: str,
        kind: str,
        detail: str = "",
        *,
        resume: State | None = None,
        expect: tuple[State, ...] = (),
    ) -> None:
        """Move a change to ``state``, recording why. With ``expect``, only from one of
        those states (else StateChanged: another process moved it first)."""
        where, args = _expecting(change_id, expect)
        self._write(
            change_id,
            user,
            kind,
            detail,
            [
                (
                    f"UPDATE changes SET state = ?, resume_state = ? WHERE {where}",
                    (state.label, resume.label if resume else "", *args),
                )
            ],
            must_change=bool(expect),
        )

    def step(self, change_id: int, user: str, what: str) -> None:
        """Journal one step of a merge before it is taken (``volume POOL/NAME``,
        ``define``, ``start``): recovery after a kill knows what may have been done."""
        self._write(change_id, user, STEP, what, [])

    def comment(self, change_id: int, line: int, anchor: str, user: str, text: str) -> None:
        """Add a comment."""
        self._write(
            change_id,
            user,
            "commented",
            f"line {line}: {text}" if line else text,
            [
                (
                    "INSERT INTO comments (change_id, line, anchor, author, text, created) "
                    "VALUES (?, ?, ?, ?, ?, ?)",
                    (change_id, line, anchor, user, text, time.time()),
                )
            ],
        )

    def approve(self, change: ChangeRequest, user: str, state: State) -> None:
        """Record an approval of the change's current base and proposal (refused with
        StateChanged when either moved, or the change left open/approved, meanwhile)."""
        self._write(
            change.id,
            user,
            "approved",
            change.proposed_hash[:12],
            [
                (
                    "UPDATE changes SET state = ? WHERE id = ? AND state IN (?, ?) "
                    "AND base_hash = ? AND proposed_hash = ?",
                    (
                        state.label,
                        change.id,
                        State.OPEN.label,
                        State.APPROVED.label,
                        change.base_hash,
                        change.proposed_hash,
                    ),
                ),
                (
                    "INSERT INTO approvals (change_id, user, base_hash, proposed_hash, created) "
                    "VALUES (?, ?, ?, ?, ?)",
                    (change.id, user, change.base_hash, change.proposed_hash, time.time()),
                ),
            ],
            must_change=True,
        )

    def replace_proposal(
        self,
        change: ChangeRequest,
        base_xml: str,
        proposed_xml: str,
        ops: list[Op],
        summary: list[str],
        state: State,
        user: str,
        detail: str,
    ) -> None:
        """A rebase or a resolved conflict: new base and proposal (older approvals stop
        counting), only if the change is still as ``change`` shows it."""
        from virtui.review.xmlsafe import sha256

        self._write(
            change.id,
            user,
            "rebased",
            detail,
            [
                (
                    "UPDATE changes SET base_xml = ?, base_hash = ?, proposed_xml = ?, "
                    "proposed_hash = ?, ops = ?, summary = ?, state = ? "
                    "WHERE id = ? AND state = ? AND proposed_hash = ?",
                    (
                        base_xml,
                        sha256(base_xml),
                        proposed_xml,
                        sha256(proposed_xml),
                        ops_to_json(ops),
                        json.dumps(summary),
                        state.label,
                        change.id,
                        change.state.label,
                        change.proposed_hash,
                    ),
                )
            ],
            must_change=True,
        )

    def merged(
        self,
        change_id: int,
        applied_xml: str,
        outcome: list[str],
        user: str,
        detail: str,
        kind: str = "merged",
    ) -> None:
        """The change is in: keep what libvirt stored and how each part went (only from
        merging: a change is recorded merged once)."""
        self._write(
            change_id,
            user,
            kind,
            detail,
            [
                (
                    "UPDATE changes SET state = ?, resume_state = '', applied_xml = ?, "
                    "outcome = ? WHERE id = ? AND state = ?",
                    (
                        State.MERGED.label,
                        applied_xml,
                        json.dumps(outcome),
                        change_id,
                        State.MERGING.label,
                    ),
                )
            ],
            must_change=True,
        )

    # -- merge locks ----------------------------------------------------------------------

    def lock_domain(self, host: str, uuid: str, change_id: int, user: str) -> None:
        """Take the merge lock of one domain (raises LockHeld while another live process
        holds it). Held from the drift check through define and read-back."""
        machine = socket.gethostname()
        now = time.time()
        with self._lock:
            try:
                self._db.execute("BEGIN IMMEDIATE")
                row = self._db.execute(
                    "SELECT change_id, user, pid, machine, expires FROM merge_locks "
                    "WHERE host = ? AND domain_uuid = ?",
                    (host, uuid),
                ).fetchone()
                if row is not None:
                    other, who, pid, where, expires = row
                    alive = process_alive(pid) if where == machine else expires > now
                    if alive and not (where == machine and pid == os.getpid()):
                        self._db.execute("ROLLBACK")
                        raise LockHeld(
                            f"{who} (pid {pid} on {where}) is merging #{other} of this domain"
                        )
                self._db.execute(
                    "INSERT OR REPLACE INTO merge_locks (host, domain_uuid, change_id, user, "
                    "pid, machine, expires) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (host, uuid, change_id, user, os.getpid(), machine, now + LOCK_LEASE_S),
                )
                self._db.execute("COMMIT")
            except sqlite3.Error as error:
                if self._db.in_transaction:
                    with contextlib.suppress(sqlite3.Error):
                        self._db.execute("ROLLBACK")
                raise StoreError(explain(error, self.path)) from error

    def merging_now(self, host: str, uuid: str) -> bool:
        """True while a live process (this one or another) holds the domain's lock."""
        with self._reading() as db:
            row = db.execute(
                "SELECT pid, machine, expires FROM merge_locks WHERE host = ? AND domain_uuid = ?",
                (host, uuid),
            ).fetchone()
        if row is None:
            return False
        pid, where, expires = row
        return process_alive(pid) if where == socket.gethostname() else expires > time.time()

    def unlock_domain(self, host: str, uuid: str) -> None:
        """Give this process's merge lock of a domain back."""
        with self._reading() as db:
            db.execute(
                "DELETE FROM merge_locks WHERE host = ? AND domain_uuid = ? AND pid = ? "
                "AND machine = ?",
                (host, uuid, os.getpid(), socket.gethostname()),
            )

    # -- reading ------------------------------------------------------------------------

    def get(self, change_id: int) -> ChangeRequest | None:
        """One change request with its comments, approvals and history."""
        with self._reading() as db:
            row = db.execute("SELECT * FROM changes WHERE id = ?", (change_id,)).fetchone()
            if row is None:
                return None
            names = [d[0] for d in db.execute("SELECT * FROM changes LIMIT 0").description]
            record = dict(zip(names, row, strict=True))
            comments = db.execute(
                "SELECT id, line, anchor, author, text, created FROM comments "
                "WHERE change_id = ? ORDER BY id",
                (change_id,),
            ).fetchall()
            approvals = db.execute(
                "SELECT user, base_hash, proposed_hash, created FROM approvals "
                "WHERE change_id = ? ORDER BY id",
                (change_id,),
            ).fetchall()
            events = db.execute(
                "SELECT created, user, kind, detail FROM events WHERE change_id = ? ORDER BY id",
                (change_id,),
            ).fetchall()
        return ChangeRequest(
            id=int(record["id"]),
            title=record["title"],
            description=record["description"],
            author=record["author"],
            created=record["created"],
            host=record["host"],
            domain_uuid=record["domain_uuid"],
            domain_name=record["domain_name"],
            base_xml=record["base_xml"],
            base_hash=record["base_hash"],
            proposed_xml=record["proposed_xml"],
            proposed_hash=record["proposed_hash"],
            ops=ops_from_json(record["ops"]),
            summary=json.loads(record["summary"]),
            state=_STATES[record["state"]],
            applied_xml=record["applied_xml"],
            outcome=json.loads(record["outcome"]),
            uri=record["uri"],
            flags=json.loads(record["flags"]),
            kind=record["kind"],
            comments=[Comment(*c) for c in comments],
            approvals=[Approval(*a) for a in approvals],
            events=[Event(*e) for e in events],
        )

    def resume_state(self, change_id: int) -> State | None:
        """The state a change was in before a merge began (for recovery)."""
        with self._reading() as db:
            row = db.execute(
                "SELECT resume_state FROM changes WHERE id = ?", (change_id,)
            ).fetchone()
        return _STATES.get(row[0]) if row and row[0] else None

    def ids(self, states: tuple[State, ...] = ()) -> list[int]:
        """Change numbers, newest first (only those in ``states`` when given)."""
        with self._reading() as db:
            if states:
                marks = ",".join("?" * len(states))
                rows = db.execute(
                    f"SELECT id FROM changes WHERE state IN ({marks}) ORDER BY id DESC",
                    tuple(s.label for s in states),
                ).fetchall()
            else:
                rows = db.execute("SELECT id FROM changes ORDER BY id DESC").fetchall()
        return [int(r[0]) for r in rows]


def _expecting(change_id: int, states: tuple[State, ...]) -> tuple[str, tuple[object, ...]]:
    if not states:
        return "id = ?", (change_id,)
    marks = ",".join("?" * len(states))
    return f"id = ? AND state IN ({marks})", (change_id, *(s.label for s in states))
