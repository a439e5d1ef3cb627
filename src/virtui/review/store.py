"""ReviewStore: change requests in SQLite (WAL, mode 0600: it holds secure XML).

Every change of a request is one transaction that also appends to its history, so a
process killed at any point leaves each request whole, as it was before or after. The
events table refuses updates and deletes (append-only, enforced by triggers).
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import time
from pathlib import Path

from virtui.review.model import Approval, ChangeRequest, Comment, Event, State
from virtui.review.ops import Op, ops_from_json, ops_to_json

SCHEMA = """
CREATE TABLE IF NOT EXISTS changes (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    title TEXT NOT NULL, description TEXT NOT NULL, author TEXT NOT NULL,
    created REAL NOT NULL, host TEXT NOT NULL, domain_uuid TEXT NOT NULL,
    domain_name TEXT NOT NULL, base_xml TEXT NOT NULL, base_hash TEXT NOT NULL,
    proposed_xml TEXT NOT NULL, proposed_hash TEXT NOT NULL, ops TEXT NOT NULL,
    summary TEXT NOT NULL, state TEXT NOT NULL, resume_state TEXT NOT NULL DEFAULT '',
    applied_xml TEXT NOT NULL DEFAULT '', outcome TEXT NOT NULL DEFAULT '[]'
);
CREATE TABLE IF NOT EXISTS comments (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    change_id INTEGER NOT NULL REFERENCES changes(id), line INTEGER NOT NULL,
    anchor TEXT NOT NULL, author TEXT NOT NULL, text TEXT NOT NULL, created REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS approvals (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    change_id INTEGER NOT NULL REFERENCES changes(id), user TEXT NOT NULL,
    base_hash TEXT NOT NULL, proposed_hash TEXT NOT NULL, created REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    change_id INTEGER NOT NULL REFERENCES changes(id), created REAL NOT NULL,
    user TEXT NOT NULL, kind TEXT NOT NULL, detail TEXT NOT NULL
);
CREATE TRIGGER IF NOT EXISTS events_append_only_update BEFORE UPDATE ON events
    BEGIN SELECT RAISE(ABORT, 'the history is append-only'); END;
CREATE TRIGGER IF NOT EXISTS events_append_only_delete BEFORE DELETE ON events
    BEGIN SELECT RAISE(ABORT, 'the history is append-only'); END;
"""

_STATES = {state.label: state for state in State}


class ReviewStore:
    """The change requests of this user, shared by every virtui they run."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        os.close(os.open(path, os.O_CREAT | os.O_RDWR, 0o600))
        os.chmod(path, 0o600)
        self.path = path
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.execute("PRAGMA foreign_keys=ON")
        self._db.executescript(SCHEMA)
        for suffix in ("-wal", "-shm"):  # created by WAL mode: secure XML lands there too
            side = path.with_name(path.name + suffix)
            if side.exists():
                os.chmod(side, 0o600)

    def close(self) -> None:
        """Close the database."""
        with self._lock:
            self._db.close()

    def _write(
        self,
        change_id: int | None,
        user: str,
        kind: str,
        detail: str,
        sql: list[tuple[str, tuple[object, ...]]],
    ) -> int:
        """Run ``sql`` and append one event, in one transaction; returns the change id."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                for statement, args in sql:
                    cursor = self._db.execute(statement, args)
                    if change_id is None:
                        change_id = int(cursor.lastrowid or 0)
                self._db.execute(
                    "INSERT INTO events (change_id, created, user, kind, detail) "
                    "VALUES (?, ?, ?, ?, ?)",
                    (change_id, time.time(), user, kind, detail),
                )
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
        assert change_id is not None
        return change_id

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
                    "proposed_hash, ops, summary, state) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
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
    ) -> None:
        """Move a change to ``state``, recording why."""
        self._write(
            change_id,
            user,
            kind,
            detail,
            [
                (
                    "UPDATE changes SET state = ?, resume_state = ? WHERE id = ?",
                    (state.label, resume.label if resume else "", change_id),
                )
            ],
        )

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
        """Record an approval of the change's current base and proposal."""
        self._write(
            change.id,
            user,
            "approved",
            change.proposed_hash[:12],
            [
                (
                    "INSERT INTO approvals (change_id, user, base_hash, proposed_hash, created) "
                    "VALUES (?, ?, ?, ?, ?)",
                    (change.id, user, change.base_hash, change.proposed_hash, time.time()),
                ),
                ("UPDATE changes SET state = ? WHERE id = ?", (state.label, change.id)),
            ],
        )

    def replace_proposal(
        self,
        change_id: int,
        base_xml: str,
        base_hash: str,
        proposed_xml: str,
        proposed_hash: str,
        ops: list[Op],
        summary: list[str],
        user: str,
        detail: str,
    ) -> None:
        """A rebase: new base and proposal, state open (older approvals stop counting)."""
        self._write(
            change_id,
            user,
            "rebased",
            detail,
            [
                (
                    "UPDATE changes SET base_xml = ?, base_hash = ?, proposed_xml = ?, "
                    "proposed_hash = ?, ops = ?, summary = ?, state = ? WHERE id = ?",
                    (
                        base_xml,
                        base_hash,
                        proposed_xml,
                        proposed_hash,
                        ops_to_json(ops),
                        json.dumps(summary),
                        State.OPEN.label,
                        change_id,
                    ),
                )
            ],
        )

    def merged(
        self, change_id: int, applied_xml: str, outcome: list[str], user: str, detail: str
    ) -> None:
        """The change is in: keep what libvirt stored and how each part went."""
        self._write(
            change_id,
            user,
            "merged",
            detail,
            [
                (
                    "UPDATE changes SET state = ?, resume_state = '', applied_xml = ?, "
                    "outcome = ? WHERE id = ?",
                    (State.MERGED.label, applied_xml, json.dumps(outcome), change_id),
                )
            ],
        )

    # -- reading ------------------------------------------------------------------------

    def get(self, change_id: int) -> ChangeRequest | None:
        """One change request with its comments, approvals and history."""
        with self._lock:
            row = self._db.execute("SELECT * FROM changes WHERE id = ?", (change_id,)).fetchone()
            if row is None:
                return None
            names = [d[0] for d in self._db.execute("SELECT * FROM changes LIMIT 0").description]
            record = dict(zip(names, row, strict=True))
            comments = self._db.execute(
                "SELECT id, line, anchor, author, text, created FROM comments "
                "WHERE change_id = ? ORDER BY id",
                (change_id,),
            ).fetchall()
            approvals = self._db.execute(
                "SELECT user, base_hash, proposed_hash, created FROM approvals "
                "WHERE change_id = ? ORDER BY id",
                (change_id,),
            ).fetchall()
            events = self._db.execute(
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
            comments=[Comment(*c) for c in comments],
            approvals=[Approval(*a) for a in approvals],
            events=[Event(*e) for e in events],
        )

    def resume_state(self, change_id: int) -> State | None:
        """The state a change was in before a merge began (for recovery)."""
        with self._lock:
            row = self._db.execute(
                "SELECT resume_state FROM changes WHERE id = ?", (change_id,)
            ).fetchone()
        return _STATES.get(row[0]) if row and row[0] else None

    def ids(self, states: tuple[State, ...] = ()) -> list[int]:
        """Change numbers, newest first (only those in ``states`` when given)."""
        with self._lock:
            if states:
                marks = ",".join("?" * len(states))
                rows = self._db.execute(
                    f"SELECT id FROM changes WHERE state IN ({marks}) ORDER BY id DESC",
                    tuple(s.label for s in states),
                ).fetchall()
            else:
                rows = self._db.execute("SELECT id FROM changes ORDER BY id DESC").fetchall()
        return [int(r[0]) for r in rows]

    def integrity(self) -> str:
        """SQLite's own integrity check ("ok" when the file is sound)."""
        with self._lock:
            return str(self._db.execute("PRAGMA integrity_check").fetchone()[0])
