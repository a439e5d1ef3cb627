"""The review store's SQLite file: created private (0600, WAL files too), its schema
brought up to date, every write one transaction that also appends to the history, and
SQLite's errors turned into readable StoreErrors."""

from __future__ import annotations

import contextlib
import os
import sqlite3
import stat
import threading
import time
from collections.abc import Iterator
from pathlib import Path

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
CREATE TABLE IF NOT EXISTS merge_locks (
    host TEXT NOT NULL, domain_uuid TEXT NOT NULL, change_id INTEGER NOT NULL,
    user TEXT NOT NULL, pid INTEGER NOT NULL, machine TEXT NOT NULL, expires REAL NOT NULL,
    PRIMARY KEY (host, domain_uuid)
);
CREATE TRIGGER IF NOT EXISTS events_append_only_update BEFORE UPDATE ON events
    BEGIN SELECT RAISE(ABORT, 'the history is append-only'); END;
CREATE TRIGGER IF NOT EXISTS events_append_only_delete BEFORE DELETE ON events
    BEGIN SELECT RAISE(ABORT, 'the history is append-only'); END;
"""

# Columns added after the first release: added to older stores when they are opened.
_ADDED_COLUMNS = {
    "uri": "TEXT NOT NULL DEFAULT ''",
    "flags": "TEXT NOT NULL DEFAULT '[]'",
    "kind": "TEXT NOT NULL DEFAULT 'domain'",
}
LOCK_LEASE_S = 600.0


class StoreError(Exception):
    """The store could not do what was asked; the message says why, in a user's words."""


class StateChanged(StoreError):
    """A transition found the change in another state than it expected (another process
    got there first)."""


class LockHeld(StoreError):
    """Another process is merging a change of the same domain."""


def explain(error: sqlite3.Error, path: Path) -> str:
    code = getattr(error, "sqlite_errorcode", None)
    if code == sqlite3.SQLITE_FULL:
        return f"disk full: nothing recorded ({path})"
    if code in (sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB) or "malformed" in str(error):
        return f"the review store at {path} is damaged ({error}); move it aside to start anew"
    if code in (sqlite3.SQLITE_READONLY, sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_IOERR):
        return f"the review store at {path} cannot be written: {error}"
    return f"the review store at {path}: {error}"


def process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def shared_folder(folder: Path) -> bool:
    """True for a team's folder (``virtui review init-shared``): set-group-ID and open
    to its group, so every file made in it belongs to that group."""
    try:
        mode = folder.stat().st_mode
    except OSError:
        return False
    return bool(mode & stat.S_ISGID) and mode & 0o070 == 0o070


def _own_mode(path: Path, mode: int) -> None:
    """Set ``mode`` on a file this account owns (another member's file is left as made)."""
    if path.exists() and path.stat().st_uid == os.geteuid():
        os.chmod(path, mode)


class StoreFile:
    """One open store file; ReviewStore adds what the rows mean.

    A user's own store is 0600 in a 0700 folder. In a team's shared folder it is 0660,
    and so are the WAL files SQLite makes beside it (it gives them the database's mode;
    the folder gives them its group).
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self.shared = shared_folder(path.parent)
        self._mode = 0o660 if self.shared else 0o600
        try:
            if not self.shared:
                path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            os.close(os.open(path, os.O_CREAT | os.O_RDWR, self._mode))
            _own_mode(path, self._mode)
        except OSError as error:
            raise StoreError(f"the review store at {path}: {error.strerror}") from error
        try:
            # Another process may hold the write lock through a merge's define: wait.
            self._db = sqlite3.connect(
                path, check_same_thread=False, isolation_level=None, timeout=30.0
            )
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.execute("PRAGMA foreign_keys=ON")
            self._db.executescript(SCHEMA)
            present = {row[1] for row in self._db.execute("PRAGMA table_info(changes)")}
            for column, kind in _ADDED_COLUMNS.items():
                if column not in present:
                    self._db.execute(f"ALTER TABLE changes ADD COLUMN {column} {kind}")
            check = str(self._db.execute("PRAGMA quick_check").fetchone()[0])
        except sqlite3.Error as error:
            raise StoreError(explain(error, path)) from error
        if check != "ok":
            raise StoreError(f"the review store at {path} is damaged ({check})")
        for suffix in ("-wal", "-shm"):  # created by WAL mode: secure XML lands there too
            _own_mode(path.with_name(path.name + suffix), self._mode)

    def close(self) -> None:
        """Close the database."""
        with self._lock:
            self._db.close()

    @contextlib.contextmanager
    def _reading(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            try:
                yield self._db
            except sqlite3.Error as error:
                raise StoreError(explain(error, self.path)) from error

    def _write(
        self,
        change_id: int | None,
        user: str,
        kind: str,
        detail: str,
        sql: list[tuple[str, tuple[object, ...]]],
        *,
        must_change: bool = False,
    ) -> int:
        """Run ``sql`` and append one event, in one transaction; returns the change id.
        With ``must_change``, an UPDATE that touches no row rolls everything back and
        raises StateChanged (a compare-and-swap another process won)."""
        with self._lock:
            try:
                self._db.execute("BEGIN IMMEDIATE")
                for statement, args in sql:
                    cursor = self._db.execute(statement, args)
                    if change_id is None:
                        change_id = int(cursor.lastrowid or 0)
                    if must_change and statement.startswith("UPDATE") and cursor.rowcount == 0:
                        raise StateChanged(f"#{change_id} changed meanwhile")
                self._db.execute(
                    "INSERT INTO events (change_id, created, user, kind, detail) "
                    "VALUES (?, ?, ?, ?, ?)",
                    (change_id, time.time(), user, kind, detail),
                )
                self._db.execute("COMMIT")
            except BaseException as error:
                # SQLite ends the transaction itself on some errors (a full disk).
                if self._db.in_transaction:
                    with contextlib.suppress(sqlite3.Error):
                        self._db.execute("ROLLBACK")
                if isinstance(error, sqlite3.Error):
                    raise StoreError(explain(error, self.path)) from error
                raise
        assert change_id is not None
        return change_id

    def data_version(self) -> int:
        """A number that changes whenever another connection (another virtui, another
        user's) committed to the store: polled to show their changes at once."""
        with self._reading() as db:
            return int(db.execute("PRAGMA data_version").fetchone()[0])

    def rows_written(self) -> int:
        """How many rows this connection has written since it opened: with
        ``data_version``, a count that moves whenever the store changed, here or elsewhere
        (a desk service's members watch it)."""
        with self._reading() as db:
            return int(db.total_changes)

    def integrity(self) -> str:
        """SQLite's own integrity check ("ok" when the file is sound)."""
        with self._reading() as db:
            return str(db.execute("PRAGMA integrity_check").fetchone()[0])
