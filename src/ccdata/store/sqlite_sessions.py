"""The embedded `SessionStore`: the CC-Gateway's sessions in a table of the store's own SQLite file.

`gateway_session` holds one row per session: its fields, the rotated-out GUIDs and the undelivered agent events
(JSON, oldest first). A session is always written whole, so a row is never half of one state and half of
another. The connection is the session store's own (the record store's belongs to the pipeline); the file is
already in WAL mode, so the two never block each other's readers, and a writer waits for the other's commit
(`timeout`) instead of failing. The file has one write lock: a session write (a few rows, one sync) can delay a
pipeline commit by that long.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Final

import msgspec

from ccdata.store.ports import SessionStore, Store, StoredSession
from ccdata.store.sqlite import SqliteStore

_SCHEMA: Final = """
CREATE TABLE IF NOT EXISTS gateway_session (
    agent_id  INTEGER PRIMARY KEY,
    vdn       INTEGER NOT NULL,
    guid      TEXT NOT NULL,
    issued_at INTEGER NOT NULL,
    last_poll INTEGER NOT NULL,
    previous  BLOB NOT NULL,
    events    BLOB NOT NULL
)
"""
_COLUMNS: Final = "agent_id, vdn, guid, issued_at, last_poll, previous, events"


class SqliteSessionStore:
    """The `SessionStore` port on one SQLite file (`:memory:` keeps sessions for the process's life only)."""

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=10)
        self._db.execute("PRAGMA journal_mode=WAL")
        # FULL: a session written before its agent.login is committed must not be lost by a power cut that
        # keeps the login (the record store syncs its commits in full too).
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.execute(_SCHEMA)
        # The gateway calls from one thread at a time; the lock makes that a guarantee rather than a habit.
        self._lock = threading.Lock()

    def load_sessions(self) -> list[StoredSession]:
        with self._lock:
            rows = self._db.execute(f"SELECT {_COLUMNS} FROM gateway_session ORDER BY agent_id").fetchall()
        return [_session(row) for row in rows]

    def put_sessions(self, sessions: Sequence[StoredSession]) -> None:
        rows = [_row(s) for s in sessions]  # encoded before the transaction, to keep the write lock short
        if rows:
            self._write(f"INSERT OR REPLACE INTO gateway_session ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)", rows)

    def delete_sessions(self, agent_ids: Sequence[int]) -> None:
        if agent_ids:
            self._write("DELETE FROM gateway_session WHERE agent_id = ?", [(a,) for a in agent_ids])

    def _write(self, sql: str, rows: list[tuple[object, ...]]) -> None:
        """One statement over many rows, in one transaction: all of it or none."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                self._db.executemany(sql, rows)
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise

    def close(self) -> None:
        with self._lock:
            self._db.close()


def session_store_beside(store: Store) -> SessionStore:
    """The session store for a record store: the same SQLite file when it has one, else kept in memory."""
    return SqliteSessionStore(store.path if isinstance(store, SqliteStore) else ":memory:")


def _row(s: StoredSession) -> tuple[object, ...]:
    previous, events = msgspec.json.encode(s.previous), msgspec.json.encode(s.events)
    return (s.agent_id, s.vdn, s.guid, s.issued_at, s.last_poll, previous, events)


def _session(row: tuple) -> StoredSession:
    agent_id, vdn, guid, issued_at, last_poll, previous, events = row
    decode = msgspec.json.decode
    return StoredSession(agent_id, vdn, guid, issued_at, last_poll, decode(previous), decode(events))
