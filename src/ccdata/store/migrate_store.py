"""Moving an embedded store into PostgreSQL (`ccdata migrate-store`): every table copied as it is, by COPY.

The copy reads the SQLite file in one read transaction (one consistent view) and writes PostgreSQL in one
transaction: interrupted, it leaves the target as empty as it found it, and running it again starts over. A
target that already holds anything is refused: nothing is ever merged into, or written over, a live store.
Event log positions are kept, so the snapshot copied with them stays valid and the next start replays nothing.
Call results are copied in the order they were written (exports order ties in arrival time so), and webhook
deliveries (pending and dead) with their IDs, the next ID after the highest the embedded store ever gave (receivers
dedup on them: one must never come back for another delivery).
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Final

import psycopg

from ccdata.domain.records import AgentOperation, CallResult, TrackRow
from ccdata.store.ports import RejectedInput, rejection_digest
from ccdata.store.postgres import PostgresStore

PROGRESS_EVERY: Final = 10_000
_TRACK_TABLE: Final = re.compile(r"^track_(\d{6})$")
_RESULT_COLUMNS: Final = ", ".join(CallResult._fields)
_TRACK_COLUMNS: Final = ", ".join(TrackRow._fields)
_TARGET_TABLES: Final = (
    "event_log", "rejected_input", "call_result", "call_track", "agent_operation", "snapshot", "webhook_outbox",
    "webhook_dead",
)  # fmt: skip
_OUTBOX_COLUMNS: Final = "id, webhook, kind, vdn, seq, data, attempts, next_at, last_error"
_DEAD_COLUMNS: Final = "id, webhook, kind, vdn, seq, data, attempts, died_at, last_error"


class TargetNotEmpty(Exception):
    """The PostgreSQL store already holds data."""


def open_source(path: Path) -> sqlite3.Connection:
    """The embedded store, read-only, in one read transaction."""
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, isolation_level=None)
    db.execute("BEGIN")
    return db


def months_of(db: sqlite3.Connection) -> list[str]:
    names = db.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE 'track_%'")
    return sorted(match.group(1) for (name,) in names if (match := _TRACK_TABLE.match(name)))


def _has_webhooks(db: sqlite3.Connection) -> bool:
    """A store written before webhooks has no outbox (its tables are made when a newer ccdata opens it)."""
    return (
        db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'webhook_outbox'").fetchone()
        is not None
    )


def rows_to_copy(db: sqlite3.Connection) -> int:
    """How many rows the copy writes (the progress bar's total)."""
    tables = ["event_log", "rejected_input", "call_result", "agent_operation", *(f"track_{m}" for m in months_of(db))]
    if _has_webhooks(db):
        tables += ["webhook_outbox", "webhook_dead"]
    return sum(db.execute(f"SELECT count(*) FROM {table}").fetchone()[0] for table in tables)


def copy_embedded(db: sqlite3.Connection, target: PostgresStore, advance: Callable[[int], None]) -> dict[str, int]:
    """Copy every table of `db` into the empty `target`; return the rows copied per kind."""
    months = months_of(db)
    copied: dict[str, int] = {}
    with target.bulk_transaction(set(months)) as conn:
        _refuse_non_empty(conn, target.where)
        copied["events"] = _copy(
            conn, "event_log", "seq, id, type, at, body", db.execute("SELECT seq, id, type, at, body FROM event_log "
                                                                     "ORDER BY seq"), advance)  # fmt: skip
        copied["rejected"] = _copy_rejected(conn, db, advance)
        results = db.execute(f"SELECT {_RESULT_COLUMNS} FROM call_result ORDER BY rowid")  # `written` follows it
        copied["results"] = _copy(conn, "call_result", _RESULT_COLUMNS, results, advance)
        operations = ", ".join(AgentOperation._fields)
        copied["operations"] = _copy(
            conn, "agent_operation", operations, db.execute(f"SELECT {operations} FROM agent_operation"), advance
        )
        copied["track"] = 0
        for month in months:
            rows = db.execute(f"SELECT {int(month)}, {_TRACK_COLUMNS} FROM track_{month}")
            copied["track"] += _copy(conn, "call_track", f"month, {_TRACK_COLUMNS}", rows, advance)
        copied["deliveries"] = _copy_webhooks(conn, db, advance) if _has_webhooks(db) else 0
        snapshot = db.execute("SELECT id, seq, version, blob FROM snapshot").fetchone()
        if snapshot is not None:
            conn.execute("INSERT INTO snapshot (id, seq, version, blob) VALUES (%s, %s, %s, %s)", snapshot)
        meta = db.execute("SELECT key, value FROM store_meta WHERE key != 'writer'").fetchall()
        conn.cursor().executemany("INSERT INTO store_meta (key, value) VALUES (%s, %s)", meta)
        position = dict(meta).get("log_position", "0")  # the embedded store keeps it among its facts
        conn.execute("UPDATE record_position SET seq = %s WHERE id = 1", (int(position),))
    return copied


def _refuse_non_empty(conn: psycopg.Connection, where: str) -> None:
    held = {
        table: conn.execute(f"SELECT EXISTS (SELECT 1 FROM {table})").fetchone()[0]  # type: ignore[index]
        for table in _TARGET_TABLES
    }
    if any(held.values()):
        tables = ", ".join(table for table, has in held.items() if has)
        raise TargetNotEmpty(f"{where} already holds data ({tables})")


def _copy(
    conn: psycopg.Connection, table: str, columns: str, rows: Iterable[tuple], advance: Callable[[int], None]
) -> int:
    count = 0
    with conn.cursor().copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
        for count, row in enumerate(rows, 1):
            copy.write_row(row)
            if count % PROGRESS_EVERY == 0:
                advance(PROGRESS_EVERY)
    advance(count % PROGRESS_EVERY)
    return count


def _copy_webhooks(conn: psycopg.Connection, db: sqlite3.Connection, advance: Callable[[int], None]) -> int:
    """Pending deliveries (their attempts and next attempt as they were) and dead letters, IDs kept; the outbox's
    next ID after every one the embedded store gave (AUTOINCREMENT remembers deleted ones)."""
    pending = db.execute(f"SELECT {_OUTBOX_COLUMNS} FROM webhook_outbox ORDER BY id")
    count = _copy(conn, "webhook_outbox", _OUTBOX_COLUMNS, pending, advance)
    count += _copy(
        conn, "webhook_dead", _DEAD_COLUMNS, db.execute(f"SELECT {_DEAD_COLUMNS} FROM webhook_dead"), advance
    )
    given = db.execute("SELECT seq FROM sqlite_sequence WHERE name = 'webhook_outbox'").fetchone()
    highest = max(given[0] if given else 0, *(db.execute(f"SELECT coalesce(max(id), 0) FROM {t}").fetchone()[0]
                                             for t in ("webhook_outbox", "webhook_dead")))  # fmt: skip
    if highest:
        conn.execute("SELECT setval(pg_get_serial_sequence('webhook_outbox', 'id'), %s)", (highest,))
    return count


def _copy_rejected(conn: psycopg.Connection, db: sqlite3.Connection, advance: Callable[[int], None]) -> int:
    """Rejections go in by INSERT: a store written before rejections were kept once may hold the same one twice
    (no digest yet); the copy keeps one, as the store does since."""
    count = 0
    cursor = db.execute("SELECT event_id, reason_code, reason, body FROM rejected_input ORDER BY seq")
    while rows := cursor.fetchmany(PROGRESS_EVERY):
        conn.cursor().executemany(
            "INSERT INTO rejected_input (event_id, reason_code, reason, body, digest) VALUES (%s, %s, %s, %s, %s) "
            "ON CONFLICT (digest) DO NOTHING",
            [(*row, rejection_digest(RejectedInput(*row))) for row in rows],
        )
        count += len(rows)
        advance(len(rows))
    return count
