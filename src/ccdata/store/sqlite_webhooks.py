"""Webhook deliveries in the store's own SQLite file: the outbox the pipeline fills, the dead letters.

The pipeline writes `webhook_outbox` rows in the transaction of the event that owes them (`SqliteStore.commit`),
so a pending delivery survives any restart. This module is the other side: the dispatcher takes due rows,
deletes a row once its receiver acknowledged it, pushes its next attempt back, or moves it to `webhook_dead`
after its last attempt; `ccdata webhooks` lists and replays the dead letters. Its connection is its own (the
record store's belongs to the pipeline); WAL keeps each side's reads free of the other's writes.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path

from ccdata.store.ports import DeadLetter, Delivery
from ccdata.store.sqlite import WEBHOOK_SCHEMA

_OUTBOX = "id, webhook, kind, vdn, seq, data, attempts, last_error"
_BURY = """INSERT OR REPLACE INTO webhook_dead (id, webhook, kind, vdn, seq, data, attempts, died_at, last_error)
SELECT id, webhook, kind, vdn, seq, data, ?, ?, ? FROM webhook_outbox WHERE id = ?"""


__all__ = ["DeadLetter", "Delivery", "SqliteWebhookStore"]


class SqliteWebhookStore:
    """The `WebhookStore` of the store at `path`; every method is one short transaction, safe from any one thread.

    One dispatcher at a time: the store's one writing server runs it (`due` needs no claim)."""

    def __init__(self, path: str | Path, *, busy_timeout_s: float = 10.0) -> None:
        self._db = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False, timeout=busy_timeout_s)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.executescript(WEBHOOK_SCHEMA)  # a store older than webhooks gets its tables here
        self._db.execute("PRAGMA synchronous=FULL")  # an acknowledged delivery stays deleted after a power cut
        self._lock = threading.Lock()

    def due(self, webhook: str, now_ms: int, limit: int = 100, claim_ms: int = 300_000) -> list[Delivery]:
        """The deliveries of `webhook` whose attempt is due, oldest first (`claim_ms`: no other dispatcher
        shares this file, there is nothing to claim)."""
        sql = f"SELECT {_OUTBOX} FROM webhook_outbox WHERE webhook = ? AND next_at <= ? ORDER BY id LIMIT ?"
        with self._lock:
            return [Delivery(*row) for row in self._db.execute(sql, (webhook, now_ms, limit))]

    def next_due(self, webhook: str) -> int | None:
        """When the earliest pending delivery of `webhook` is due (wall ms), or None if none is pending."""
        with self._lock:
            row = self._db.execute("SELECT min(next_at) FROM webhook_outbox WHERE webhook = ?", (webhook,)).fetchone()
        return row[0]

    def delivered(self, ids: Sequence[int]) -> None:
        with self._lock:
            self._db.executemany("DELETE FROM webhook_outbox WHERE id = ?", [(i,) for i in ids])

    def retry_later(self, delivery_id: int, attempts: int, next_at: int, error: str) -> None:
        sql = "UPDATE webhook_outbox SET attempts = ?, next_at = ?, last_error = ? WHERE id = ?"
        with self._lock:
            self._db.execute(sql, (attempts, next_at, error[:500], delivery_id))

    def bury(self, delivery_id: int, attempts: int, now_ms: int, error: str) -> None:
        """Move a delivery that failed its last attempt to the dead letters, in one transaction."""
        with self._lock, self._transaction():
            self._db.execute(_BURY, (attempts, now_ms, error[:500], delivery_id))
            self._db.execute("DELETE FROM webhook_outbox WHERE id = ?", (delivery_id,))

    def dead(self, limit: int = 1000) -> list[DeadLetter]:
        sql = f"SELECT {_OUTBOX}, died_at FROM webhook_dead ORDER BY id LIMIT ?"
        with self._lock:
            return [DeadLetter(Delivery(*row[:-1]), row[-1]) for row in self._db.execute(sql, (limit,))]

    def replay(self, ids: Sequence[int] | None = None) -> int:
        """Put dead letters (those of `ids`, or all) back in the outbox, due now, attempts from zero; how many."""
        where, args = ("", ()) if ids is None else (f"WHERE id IN ({','.join('?' * len(ids))})", tuple(ids))
        with self._lock, self._transaction():
            moved = self._db.execute(
                "INSERT INTO webhook_outbox (id, webhook, kind, vdn, seq, data, attempts, next_at, last_error) "
                f"SELECT id, webhook, kind, vdn, seq, data, 0, 0, last_error FROM webhook_dead {where}",
                args,
            ).rowcount
            self._db.execute(f"DELETE FROM webhook_dead {where}", args)
        return moved

    def pending(self) -> dict[str, int]:
        """Deliveries waiting, per webhook."""
        with self._lock:
            rows = self._db.execute("SELECT webhook, count(*) FROM webhook_outbox GROUP BY webhook").fetchall()
        return dict(rows)

    def close(self) -> None:
        self._db.close()

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[None]:
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")
