"""The embedded `SessionStore`: the CC-Gateway's sessions in tables of the store's own SQLite file.

`gateway_session` holds one row per session (its fields, the rotated-out GUIDs, the cursor of the agent-event
queue); `gateway_agent_event` holds the queued agent events by (agent, key). A call is one transaction, so a
session is never half of one state and half of another. The connection is the session store's own (the record
store's belongs to the pipeline); the file is already in WAL mode, so the two never block each other's readers,
and a writer waits for the other's commit (`timeout`) instead of failing. The file has one write lock: a session
write (a few rows, one sync) can delay a pipeline commit by that long.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Final

import msgspec

from ccdata.store.ports import QueuedEvent, SessionStore, Store, StoredSession
from ccdata.store.sqlite import SqliteStore

_SCHEMA: Final = """
CREATE TABLE IF NOT EXISTS gateway_session (
    agent_id  INTEGER PRIMARY KEY,
    vdn       INTEGER NOT NULL,
    guid      TEXT NOT NULL,
    issued_at INTEGER NOT NULL,
    last_poll INTEGER NOT NULL,
    previous  BLOB NOT NULL,
    events    BLOB NOT NULL DEFAULT '[]',
    cursor    INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS gateway_agent_event (
    agent_id INTEGER NOT NULL,
    key      INTEGER NOT NULL,
    event    BLOB NOT NULL,
    PRIMARY KEY (agent_id, key)
) WITHOUT ROWID;
"""
_COLUMNS: Final = "agent_id, vdn, guid, issued_at, last_poll, previous, cursor"
# Fields replaced; the heartbeat and the cursor only move forward (another node's older copy keeps the newer).
# `events` given: a file of the earlier version keeps that column NOT NULL without the default.
_PUT: Final = f"""INSERT INTO gateway_session ({_COLUMNS}, events) VALUES (?, ?, ?, ?, ?, ?, ?, '[]')
ON CONFLICT (agent_id) DO UPDATE SET vdn = excluded.vdn, guid = excluded.guid, issued_at = excluded.issued_at,
    previous = excluded.previous, last_poll = max(last_poll, excluded.last_poll),
    cursor = max(cursor, excluded.cursor)"""
_TRIM: Final = """DELETE FROM gateway_agent_event
WHERE agent_id = ? AND key <= (SELECT cursor FROM gateway_session WHERE agent_id = ?)"""
_PUSH: Final = """INSERT OR IGNORE INTO gateway_agent_event (agent_id, key, event)
SELECT ?, ?, ? WHERE EXISTS (SELECT 1 FROM gateway_session WHERE agent_id = ? AND cursor < ?)"""


class SqliteSessionStore:
    """The `SessionStore` port on one SQLite file (`:memory:` keeps sessions for the process's life only)."""

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=10)
        self._db.execute("PRAGMA journal_mode=WAL")
        # FULL: a session written before its agent.login is committed must not be lost by a power cut that
        # keeps the login (the record store syncs its commits in full too).
        self._db.execute("PRAGMA synchronous=FULL")
        # The gateway calls from one thread at a time; the lock makes that a guarantee rather than a habit.
        self._lock = threading.Lock()
        with self._lock:
            self._db.executescript(_SCHEMA)
        self._upgrade()

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction under the lock: all of it or none."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise

    def _upgrade(self) -> None:
        """A file of an earlier version: its sessions gain a cursor, their queued events move to the queue."""
        columns = {row[1] for row in self._db.execute("PRAGMA table_info(gateway_session)")}
        if "cursor" in columns:
            return
        with self._transaction() as db:
            db.execute("ALTER TABLE gateway_session ADD COLUMN cursor INTEGER NOT NULL DEFAULT 0")
            for agent_id, events in db.execute("SELECT agent_id, events FROM gateway_session").fetchall():
                queued = [
                    (agent_id, key, msgspec.json.encode(e)) for key, e in enumerate(msgspec.json.decode(events), 1)
                ]
                db.executemany("INSERT INTO gateway_agent_event VALUES (?, ?, ?)", queued)
            db.execute("UPDATE gateway_session SET events = '[]'")

    def load_sessions(self) -> list[StoredSession]:
        with self._lock:
            rows = self._db.execute(f"SELECT {_COLUMNS} FROM gateway_session ORDER BY agent_id").fetchall()
        return [_session(row) for row in rows]

    def load_session(self, agent_id: int) -> StoredSession | None:
        with self._lock:
            row = self._db.execute(f"SELECT {_COLUMNS} FROM gateway_session WHERE agent_id = ?", (agent_id,)).fetchone()
        return None if row is None else _session(row)

    def put_sessions(self, sessions: Sequence[StoredSession]) -> None:
        rows = [_row(s) for s in sessions]  # encoded before the transaction, to keep the write lock short
        if rows:
            self._write((_PUT, rows), (_TRIM, [(s.agent_id, s.agent_id) for s in sessions]))

    def record_polls(self, polls: Mapping[int, int]) -> None:
        if polls:
            rows = [(at, agent_id) for agent_id, at in polls.items()]
            self._write(("UPDATE gateway_session SET last_poll = max(last_poll, ?) WHERE agent_id = ?", rows))

    def delete_sessions(self, agent_ids: Sequence[int]) -> None:
        if agent_ids:
            rows = [(a,) for a in agent_ids]
            self._write(
                ("DELETE FROM gateway_session WHERE agent_id = ?", rows),
                ("DELETE FROM gateway_agent_event WHERE agent_id = ?", rows),
            )

    def push_agent_events(self, events: Sequence[QueuedEvent]) -> None:
        if events:
            self._write((_PUSH, [(e.agent_id, e.key, e.event, e.agent_id, e.key) for e in events]))

    def take_agent_event(self, agent_id: int, guid: str | None = None) -> QueuedEvent | bool | None:
        with self._transaction():
            return self._take(agent_id, guid)

    def _take(self, agent_id: int, guid: str | None) -> QueuedEvent | bool | None:
        session = self._db.execute(
            "SELECT cursor, guid, previous FROM gateway_session WHERE agent_id = ?", (agent_id,)
        ).fetchone()
        if session is None:
            return False
        if guid is not None and guid != session[1] and guid not in msgspec.json.decode(session[2]):
            return False  # another session of the agent's
        row = self._db.execute(
            "SELECT key, event FROM gateway_agent_event WHERE agent_id = ? AND key > ? ORDER BY key LIMIT 1",
            (agent_id, session[0]),
        ).fetchone()
        if row is None:
            return None
        key, event = row
        self._db.execute("UPDATE gateway_session SET cursor = ? WHERE agent_id = ?", (key, agent_id))
        self._db.execute("DELETE FROM gateway_agent_event WHERE agent_id = ? AND key <= ?", (agent_id, key))
        return QueuedEvent(agent_id, key, bytes(event))

    def skip_agent_events(self, agent_id: int, up_to: int) -> None:
        moved = ("UPDATE gateway_session SET cursor = max(cursor, ?) WHERE agent_id = ?", [(up_to, agent_id)])
        self._write(moved, (_TRIM, [(agent_id, agent_id)]))

    def _write(self, *statements: tuple[str, Iterable[tuple[object, ...]]]) -> None:
        """Statements over many rows, in one transaction: all of it or none."""
        with self._transaction() as db:
            for sql, rows in statements:
                db.executemany(sql, rows)

    def close(self) -> None:
        with self._lock:
            self._db.close()


def session_store_beside(store: Store) -> SessionStore:
    """The session store for a record store: the same SQLite file when it has one, else kept in memory."""
    return SqliteSessionStore(store.path if isinstance(store, SqliteStore) else ":memory:")


def _row(s: StoredSession) -> tuple[object, ...]:
    return (s.agent_id, s.vdn, s.guid, s.issued_at, s.last_poll, msgspec.json.encode(s.previous), s.cursor)


def _session(row: tuple) -> StoredSession:
    agent_id, vdn, guid, issued_at, last_poll, previous, cursor = row
    return StoredSession(agent_id, vdn, guid, issued_at, last_poll, msgspec.json.decode(previous), cursor)
