"""The distributed store: the `Store` port on PostgreSQL (psycopg 3, a connection pool for the readers).

The same tables as the embedded store (`postgres_schema.py` says where they differ), the same semantics:
- A commit is one transaction under a transaction-level advisory lock, so log positions are gapless and each
  commit's own, as with SQLite's `BEGIN IMMEDIATE`; its rows go in by COPY when there are many.
- The call track is partitioned by month; a month's partition is created before the first commit that reaches
  it, with the next month's, and at start the current and the next month's, outside the commit's transaction
  (creating a partition locks the parent table: readers never wait on it behind a large commit).
- One record writer at a time: a process that writes takes the writer's lease, a session-level advisory lock on
  its write connection, so it is free again the moment that connection or process dies. A second writer is
  refused with the holder's name (`StoreLocked`), or waits for the lease as a standby (`standby=True`); a
  cluster node polls it (`try_acquire`, the cluster pipeline's `Lease`). A write connection that was lost takes
  the lease again before it writes: a writer that lost it to a standby stops.
- `record_position` holds the shared log's position the records are complete up to (`Batch.position`), written
  in the commit's transaction; so are the batch's webhook deliveries (`webhook_outbox`, each with its event's
  position: the shared log's, or the one the commit gives it), which `webhook_store()` dispatches.
- Exports read a window page by page, each page its own short read, in the embedded store's order (call IDs by
  their bytes, results' ties in the order written), so that both stores export the same bytes.
- Connection loss or refusal, a lock not had within `busy_timeout_s`, a full disk: `StoreUnavailable`, with
  nothing written; the pipeline retries, readiness says so meanwhile.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import socket
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Final, ParamSpec, TypeVar

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict
from psycopg_pool import ConnectionPool

from ccdata.domain.records import AgentOperation, CallResult, EvaluationRecord, TrackRow, month_of
from ccdata.store.lock import StoreLocked
from ccdata.store.pages import calls_completed, chosen
from ccdata.store.ports import (
    Batch,
    CallResultQuery,
    OutboxEntry,
    RejectedInput,
    Snapshot,
    StoreUnavailable,
    rejection_digest,
)
from ccdata.store.postgres_schema import COMMIT_LOCK, migrate
from ccdata.store.search import call_result_condition

if TYPE_CHECKING:
    from ccdata.store.postgres_webhooks import PostgresWebhookStore

LEASE_LOCK: Final = 0x63636461_7461_0003  # the record writer's lease: one writer per database
COPY_FROM_ROWS: Final = 32  # fewer rows go in by one pipelined INSERT: a COPY's set-up costs more than it saves
STANDBY_POLL_S: Final = 0.5
EXPORT_PAGE: Final = 5000  # rows per read of an export

_TRACK_COLUMNS: Final = ", ".join(TrackRow._fields)
_RESULT_COLUMNS: Final = ", ".join(CallResult._fields)
_TRACK_ORDER: Final = "ORDER BY call_id_num = -1, call_id_num"  # -1 is a call's last row: after 1..n
_TABLES: Final = {"events": "event_log", "rejected": "rejected_input", "results": "call_result", "track": "call_track"}

P = ParamSpec("P")
R = TypeVar("R")


def where(url: str) -> str:
    """A store URL as messages show it: host, port and database, never a password."""
    try:
        info = conninfo_to_dict(url)
    except psycopg.ProgrammingError:
        return "postgresql (an unreadable URL)"
    host = info.get("host") or "localhost"
    return f"postgresql://{host}:{info.get('port') or 5432}/{info.get('dbname') or info.get('user') or ''}"


def unavailable(method: Callable[P, R]) -> Callable[P, R]:
    """A server that cannot be reached, or refuses the work for now, is `StoreUnavailable`, as SQLite's lock."""

    @functools.wraps(method)
    def guarded(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return method(*args, **kwargs)
        except psycopg.OperationalError as exc:
            raise StoreUnavailable(f"{args[0].where}: {_first_line(exc)}") from exc  # type: ignore[attr-defined]

    return guarded


class PostgresStore:
    """The `Store` port on one PostgreSQL database. Every method may be called from any thread: the write side
    (one pipeline) uses its own connection, reads take one from the pool."""

    def __init__(
        self,
        url: str,
        *,
        writer: str | None = None,
        standby: bool = False,
        busy_timeout_s: float = 5.0,
        pool_size: int = 4,
        on_standby: Callable[[dict[str, Any]], None] | None = None,
    ) -> None:
        """`writer`: the command that writes (it takes the lease); None opens for reading (and tests' writers)."""
        self.url = url
        self.where = where(url)
        self.busy_timeout_s = busy_timeout_s
        self.writer = writer
        self._leased = False  # this store's write connection holds the record writer's lease
        self._holder: dict[str, Any] = {}
        self._write_lock = threading.RLock()  # the write connection serves one caller at a time
        self._conn: psycopg.Connection | None = None
        self._unsure: Batch | None = None  # a batch whose commit lost its connection: maybe committed
        try:
            conn = self._connect()
            self.migrated = migrate(conn)  # the versions this start applied
            self._conn = conn
            if writer is not None:
                self._take_lease(conn, standby, on_standby)
            self._pool = ConnectionPool(
                url,
                min_size=1,
                max_size=pool_size,
                kwargs={"autocommit": True, "connect_timeout": max(1, round(busy_timeout_s))},
                check=ConnectionPool.check_connection,  # a connection the server dropped is replaced, not used
                timeout=max(busy_timeout_s, 1.0),
                open=True,
                name="ccdata-readers",
            )
            self._months = self._existing_months(conn)
            self._ensure_months({_month_number(month_of(int(time.time() * 1000)))})
        except psycopg.OperationalError as exc:
            self._close_write_connection()
            raise StoreUnavailable(f"{self.where}: {_first_line(exc)}") from exc

    # --- connections and the writer's lease ---

    def _connect(self) -> psycopg.Connection:
        conn = psycopg.connect(self.url, autocommit=True, connect_timeout=max(1, round(self.busy_timeout_s)))
        # A commit waits this long for another writer's lock, then gives up for a retry (SQLite's busy timeout).
        conn.execute(f"SET lock_timeout = {int(self.busy_timeout_s * 1000)}")
        conn.execute("SET application_name = 'ccdata'")
        # psycopg prepares a statement run five times; PostgreSQL then keeps a generic plan, chosen while the tables
        # were small (a store's first commits): the evaluations' UPDATE by primary key became a sequential scan per
        # row, 3.5 ms each at 20,000 call results (bench.cluster). The write side re-plans each with its values.
        conn.execute("SET plan_cache_mode = force_custom_plan")
        return conn

    def _write_connection(self) -> psycopg.Connection:
        """The write connection, connected again (and the lease taken again) if it was lost."""
        conn = self._conn
        if conn is not None and not conn.closed and not conn.broken:
            return conn
        self._close_write_connection()
        conn = self._connect()
        if self._leased:
            try:
                self._take_lease(conn, standby=False, on_standby=None)
            except StoreLocked as exc:  # a standby took over while we were cut off: it writes now, not us
                self._leased = False
                raise StoreUnavailable(f"{exc}; this process lost the writer's lease") from None
        self._conn = conn
        return conn

    def _take_lease(
        self, conn: psycopg.Connection, standby: bool, on_standby: Callable[[dict[str, Any]], None] | None
    ) -> None:
        told = False
        while not _try_lock(conn):
            holder = self._lease_holder(conn)
            if not standby:
                conn.close()
                raise StoreLocked(self.where, holder)
            if on_standby is not None and not told:
                on_standby(holder)
                told = True
            time.sleep(STANDBY_POLL_S)
        self._claim(conn)

    def _claim(self, conn: psycopg.Connection) -> None:
        """The lease is ours: say who holds it (what a refused second writer is told)."""
        self._leased = True
        self._holder = {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "command": self.writer or "serve",
            "url": self._holder.get("url"),
            "since": datetime.now(UTC).isoformat(timespec="seconds"),
        }
        self._set_meta(conn, "writer", json.dumps(self._holder))

    def _lease_holder(self, conn: psycopg.Connection) -> dict[str, Any]:
        row = conn.execute("SELECT value FROM store_meta WHERE key = 'writer'").fetchone()
        try:
            holder = json.loads(row[0]) if row else {}
        except ValueError:
            holder = {}
        return holder if isinstance(holder, dict) else {}

    @unavailable
    def update(self, url: str | None = None) -> None:
        """Say where the lease holder serves (what a refused second writer is told), as `WriterLock.update`."""
        self._holder["url"] = url
        with self._write_lock:
            self._set_meta(self._write_connection(), "writer", json.dumps(self._holder))

    def try_acquire(self) -> bool:
        """Take the record writer's lease if it is free: the `Lease` port of the cluster pipeline (a node polls it
        until it holds it, and writes only then)."""
        with self._write_lock:
            if self._leased:
                return True
            try:
                conn = self._write_connection()
                if not _try_lock(conn):
                    return False
                self._claim(conn)
            except psycopg.OperationalError:
                return False  # no server now: not the writer; asked again later
            return True

    def release(self) -> None:
        """Give the lease up (it goes with the write connection): the `WriterLock` interface of the CLI and the
        `Lease` port of the cluster pipeline."""
        with self._write_lock:
            self._leased = False
            self._close_write_connection()

    def _close_write_connection(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    # --- the event log ---

    @unavailable
    def stored_events(self, event_ids: Sequence[str]) -> dict[str, bytes]:
        if not event_ids:
            return {}
        query, args = "SELECT id, body FROM event_log WHERE id = ANY(%s)", (list(event_ids),)
        with self._write_lock:
            try:
                return dict(self._write_connection().execute(query, args).fetchall())
            except psycopg.OperationalError:
                if self._conn is None or not self._conn.broken:
                    raise
            # The connection was cut (a server restart, a failover): a read is safely asked again on a new one.
            return dict(self._write_connection().execute(query, args).fetchall())

    @unavailable
    def commit(self, batch: Batch) -> int:
        with self._write_lock:
            conn = self._write_connection()
            if batch is self._unsure:
                # The last attempt lost its connection, maybe after the server committed it: its first event in
                # the log says so (no other writer holds the lease, and the pipeline looked it up before).
                self._unsure = None
                done = self._committed_last(conn, batch)
                if done is not None:
                    return done
            tracks, results, evaluations, operations = _split(batch)
            self._ensure_months({_month_number(month_of(row.arrived_at)) for row in tracks}, conn)
            try:
                with conn.transaction():
                    conn.execute("SELECT pg_advisory_xact_lock(%s)", (COMMIT_LOCK,))
                    last = conn.execute("SELECT coalesce(max(seq), 0) FROM event_log").fetchone()[0]  # type: ignore[index]
                    events = [(last + n, *event) for n, event in enumerate(batch.events, 1)]
                    _insert(conn, "event_log", "seq, id, type, at, body", events)
                    _write_rejected(conn, batch.rejected)
                    _insert(conn, "call_track", f"month, {_TRACK_COLUMNS}", [_track_row(r) for r in tracks])
                    _insert(conn, "call_result", _RESULT_COLUMNS, results)
                    _write_evaluations(conn, evaluations)
                    _insert(conn, "agent_operation", ", ".join(AgentOperation._fields), operations)
                    _write_outbox(conn, batch.outbox, events)
                    last += len(events)
                    if batch.position is not None:  # the shared log's position, with the rows it covers
                        conn.execute("UPDATE record_position SET seq = %s WHERE id = 1", (batch.position,))
            except psycopg.OperationalError:
                self._unsure = batch if conn.broken else None
                raise
        return last

    @staticmethod
    def _committed_last(conn: psycopg.Connection, batch: Batch) -> int | None:
        """The log position of the batch's last event if the batch is in the log (it is all there, or none)."""
        if not batch.events:
            return None
        row = conn.execute("SELECT seq FROM event_log WHERE id = %s", (batch.events[0].event_id,)).fetchone()
        return None if row is None else row[0] + len(batch.events) - 1

    @contextlib.contextmanager
    def bulk_transaction(self, months: set[str]) -> Iterator[psycopg.Connection]:
        """The write connection in one transaction under the commit lock, those months' partitions made: for a
        bulk load (`ccdata migrate-store`), all of it or nothing."""
        with self._write_lock:
            try:
                conn = self._write_connection()
                self._ensure_months({_month_number(m) for m in months}, conn)
                with conn.transaction():
                    conn.execute("SELECT pg_advisory_xact_lock(%s)", (COMMIT_LOCK,))
                    yield conn
            except psycopg.OperationalError as exc:
                raise StoreUnavailable(f"{self.where}: {_first_line(exc)}") from exc

    def events_after(self, seq: int) -> Iterator[tuple[int, bytes]]:
        try:
            with self._pool.connection() as conn, conn.transaction():
                cursor = conn.cursor(name="ccdata_events_after")  # on the server: the log is never all in memory
                cursor.itersize = 5000
                cursor.execute("SELECT seq, body FROM event_log WHERE seq > %s ORDER BY seq", (seq,))
                yield from cursor
        except psycopg.OperationalError as exc:
            raise StoreUnavailable(f"{self.where}: {_first_line(exc)}") from exc

    @unavailable
    def last_seq(self) -> int:
        return self._read_one("SELECT coalesce(max(seq), 0) FROM event_log")

    @unavailable
    def position(self) -> int:
        """The shared log's position the records are complete up to (0 until a batch carries one)."""
        return self._read_one("SELECT seq FROM record_position WHERE id = 1")

    # --- snapshots ---

    @unavailable
    def save_snapshot(self, snapshot: Snapshot) -> None:
        with self._write_lock:
            self._write_connection().execute(
                "INSERT INTO snapshot (id, seq, version, blob) VALUES (1, %s, %s, %s) "
                "ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, version = excluded.version, blob = excluded.blob",
                snapshot,
            )

    @unavailable
    def load_snapshot(self) -> Snapshot | None:
        with self._pool.connection() as conn:
            row = conn.execute("SELECT seq, version, blob FROM snapshot WHERE id = 1").fetchone()
        return None if row is None else Snapshot(*row)

    # --- facts about the store itself ---

    @unavailable
    def meta(self, key: str) -> str | None:
        with self._pool.connection() as conn:
            row = conn.execute("SELECT value FROM store_meta WHERE key = %s", (key,)).fetchone()
        return None if row is None else row[0]

    @unavailable
    def set_meta(self, key: str, value: str) -> None:
        with self._write_lock:
            self._set_meta(self._write_connection(), key, value)

    @staticmethod
    def _set_meta(conn: psycopg.Connection, key: str, value: str) -> None:
        conn.execute(
            "INSERT INTO store_meta (key, value) VALUES (%s, %s) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (key, value),
        )

    # --- records ---

    @unavailable
    def track_rows(self, cc_id: int, vdn: int, call_id: str, month: str) -> list[TrackRow]:
        number = _month_number(month)
        query = (
            f"SELECT {_TRACK_COLUMNS} FROM call_track "
            f"WHERE month = %s AND cc_id = %s AND call_id = %s AND vdn = %s {_TRACK_ORDER}"
        )
        with self._pool.connection() as conn:
            return [TrackRow(*row) for row in conn.execute(query, (number, cc_id, call_id, vdn))]

    @unavailable
    def find_track_rows(self, cc_id: int, call_id: str) -> list[TrackRow]:
        query = f"SELECT {_TRACK_COLUMNS} FROM call_track WHERE cc_id = %s AND call_id = %s ORDER BY month, " + (
            _TRACK_ORDER.removeprefix("ORDER BY ")
        )
        with self._pool.connection() as conn:
            return [TrackRow(*row) for row in conn.execute(query, (cc_id, call_id))]

    @unavailable
    def call_results(self, cc_id: int, call_id: str) -> list[CallResult]:
        query = f"SELECT {_RESULT_COLUMNS} FROM call_result WHERE cc_id = %s AND call_id = %s ORDER BY arrived_at"
        with self._pool.connection() as conn:
            return [CallResult(*row) for row in conn.execute(query, (cc_id, call_id))]

    @unavailable
    def call_results_released_since(self, cc_id: int, since: int) -> Iterator[CallResult]:
        query = (
            f"SELECT {_RESULT_COLUMNS} FROM call_result WHERE cc_id = %s AND log_date >= %s ORDER BY log_date, call_id"
        )
        with self._pool.connection() as conn:
            rows = conn.execute(query, (cc_id, since)).fetchall()
        return (CallResult(*row) for row in rows)

    @unavailable
    def search_call_results(self, query: CallResultQuery) -> tuple[int, list[CallResult]]:
        condition, args = call_result_condition(query, "%s")
        with self._pool.connection() as conn, conn.transaction():
            conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")  # count and page: one view
            total = conn.execute(f"SELECT count(*) FROM call_result WHERE {condition}", args).fetchone()[0]  # type: ignore[index]
            page = conn.execute(
                f"SELECT {_RESULT_COLUMNS} FROM call_result WHERE {condition} "
                "ORDER BY arrived_at, call_id LIMIT %s OFFSET %s",
                [*args, query.limit, query.offset],
            ).fetchall()
        return total, [CallResult(*row) for row in page]

    # --- exports: a time window page by page, each page its own short read ---

    def call_result_pages(
        self,
        cc_id: int,
        begin: int,
        end: int,
        vdn: int | None = None,
        page: int = EXPORT_PAGE,
        fields: Sequence[str] | None = None,
    ) -> Iterator[list]:
        """Call results arrived in [begin, end), of `vdn` or of each VDN in turn, in arrival order, ties in the
        order written (`written`, as SQLite's rowid): SqliteStore's order. Keyset pagination: each page is one
        short read on the window index (its arrival order, ties sorted within each arrival time), so memory holds
        one page and no transaction stays open during an export. With `fields`, tuples of those fields."""
        columns = chosen(fields, CallResult._fields)
        query = (
            f"SELECT {', '.join(columns)}, arrived_at, written FROM call_result WHERE cc_id = %s AND vdn = %s "
            "AND arrived_at >= %s AND (arrived_at, written) > (%s, %s) AND arrived_at < %s "
            "ORDER BY arrived_at, written LIMIT %s"
        )
        for each in [vdn] if vdn is not None else self._vdns(cc_id):
            after = (begin, -(2**63))
            while rows := self._read_all(query, (cc_id, each, after[0], *after, end, page)):
                after = rows[-1][-2:]  # arrived_at, written of the last row
                yield [row[:-2] for row in rows] if fields else [CallResult(*row[:-2]) for row in rows]

    @unavailable
    def count_call_results(self, cc_id: int, begin: int, end: int, vdn: int | None = None) -> int:
        query = (
            "SELECT count(*) FROM call_result WHERE cc_id = %s AND vdn = %s AND arrived_at >= %s AND arrived_at < %s"
        )
        vdns = [vdn] if vdn is not None else self._vdns(cc_id)
        return sum(self._read_all(query, (cc_id, each, begin, end))[0][0] for each in vdns)

    def track_row_pages(
        self,
        cc_id: int,
        begin: int,
        end: int,
        vdn: int | None = None,
        page: int = EXPORT_PAGE,
        fields: Sequence[str] | None = None,
    ) -> Iterator[list]:
        """Call-track rows of the calls arrived in [begin, end) (of `vdn`, or of every VDN), month by month, by
        call ID (its bytes), each call's rows in callIdNum order with -1 last: SqliteStore's order. Keyset
        pagination on each month's partition's primary key; a call cut by a page boundary is completed first."""
        with self._pool.connection() as conn:
            existing = self._existing_months(conn)  # this process may not have made them: ask
        first, last = _month_number(month_of(begin)), _month_number(month_of(max(begin, end - 1)))
        make = (lambda row: row[:-2]) if fields else (lambda row: TrackRow(*row[:-2]))
        for month in sorted(m for m in existing if first <= m <= last):
            yield from calls_completed(self._track_pages(month, cc_id, begin, end, vdn, page, fields), make)

    def _track_pages(
        self, month: int, cc_id: int, begin: int, end: int, vdn: int | None, page: int, fields: Sequence[str] | None
    ) -> Iterator[list[tuple]]:
        in_vdn = "" if vdn is None else "AND vdn = %s "
        query = (
            f"SELECT {', '.join(chosen(fields, TrackRow._fields))}, call_id, call_id_num FROM call_track "
            "WHERE month = %s AND cc_id = %s AND (call_id, call_id_num) > (%s, %s) "
            f"AND arrived_at >= %s AND arrived_at < %s {in_vdn}ORDER BY call_id, call_id_num LIMIT %s"
        )
        after: tuple[str, int] = ("", -(2**63))
        scope = (begin, end) if vdn is None else (begin, end, vdn)
        while rows := self._read_all(query, (month, cc_id, *after, *scope, page)):
            after = rows[-1][-2:]  # call_id, call_id_num of the last row
            yield rows

    def _vdns(self, cc_id: int) -> list[int]:
        """The VDNs with call results, one index seek each (no scan of the results)."""
        found: list[int] = []
        query = "SELECT min(vdn) FROM call_result WHERE cc_id = %s AND vdn > %s"
        while (vdn := self._read_all(query, (cc_id, found[-1] if found else -1))[0][0]) is not None:
            found.append(vdn)
        return found

    @unavailable
    def _read_all(self, query: str, args: Sequence[object]) -> list[tuple]:
        with self._pool.connection() as conn:
            return conn.execute(query, args).fetchall()

    @unavailable
    def agent_operations(
        self, cc_id: int, agent_id: int, begin: int, end: int, operate_type: int | None = None
    ) -> list[AgentOperation]:
        # Periods that overlap [begin, end]; none is longer than a sign-in, so begin_at bounds the index range.
        sql = (
            f"SELECT {', '.join(AgentOperation._fields)} FROM agent_operation "
            "WHERE cc_id = %s AND agent_id = %s AND begin_at <= %s AND end_at >= %s"
        )
        args: list[object] = [cc_id, agent_id, end, begin]
        if operate_type is not None:
            sql += " AND operate_type = %s"
            args.append(operate_type)
        with self._pool.connection() as conn:
            rows = conn.execute(sql + " ORDER BY begin_at, end_at, operation_id", args)
            return [AgentOperation(*row) for row in rows]

    @unavailable
    def rejected_inputs(self, limit: int = 100) -> list[RejectedInput]:
        with self._pool.connection() as conn:
            rows = conn.execute(
                "SELECT event_id, reason_code, reason, body FROM rejected_input ORDER BY seq LIMIT %s", (limit,)
            )
            return [RejectedInput(*row) for row in rows]

    @unavailable
    def count(self, what: str) -> int:
        return self._read_one(f"SELECT count(*) FROM {_TABLES[what]}")

    def webhook_store(self) -> PostgresWebhookStore:
        """The webhook deliveries in this database (its commits write the outbox), through a pool of their own:
        several nodes may dispatch from it at once (`PostgresWebhookStore` says how they share the work)."""
        from ccdata.store.postgres_webhooks import PostgresWebhookStore

        return PostgresWebhookStore(self.url, busy_timeout_s=self.busy_timeout_s)

    def close(self) -> None:
        with self._write_lock:
            self._close_write_connection()
        pool = getattr(self, "_pool", None)
        if pool is not None:
            pool.close()

    def _read_one(self, query: str) -> int:
        with self._pool.connection() as conn:
            return conn.execute(query).fetchone()[0]  # type: ignore[index]

    # --- monthly partitions ---

    def _ensure_months(self, months: set[int], conn: psycopg.Connection | None = None) -> None:
        """Each month's partition, and the next month's (made ahead, so the common case finds it there)."""
        wanted = {m for month in months for m in (month, _next_month(month))} - self._months
        if not wanted:
            return
        with self._write_lock:
            conn = conn or self._write_connection()
            with conn.transaction():
                conn.execute("SELECT pg_advisory_xact_lock(%s)", (COMMIT_LOCK,))  # one creator at a time
                for month in sorted(wanted):
                    conn.execute(
                        sql.SQL(
                            "CREATE TABLE IF NOT EXISTS {} PARTITION OF call_track FOR VALUES FROM ({}) TO ({})"
                        ).format(sql.Identifier(f"call_track_{month}"), month, _next_month(month))
                    )
        self._months |= wanted

    @staticmethod
    def _existing_months(conn: psycopg.Connection) -> set[int]:
        rows = conn.execute(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "WHERE i.inhparent = 'call_track'::regclass"
        )
        return {int(name.removeprefix("call_track_")) for (name,) in rows}


def _try_lock(conn: psycopg.Connection) -> bool:
    return conn.execute("SELECT pg_try_advisory_lock(%s)", (LEASE_LOCK,)).fetchone()[0]  # type: ignore[index]


def _split(
    batch: Batch,
) -> tuple[list[TrackRow], list[CallResult], list[EvaluationRecord], list[AgentOperation]]:
    tracks: list[TrackRow] = []
    results: list[CallResult] = []
    evaluations: list[EvaluationRecord] = []
    operations: list[AgentOperation] = []
    for record in batch.records:
        if type(record) is TrackRow:
            tracks.append(record)
        elif type(record) is CallResult:
            results.append(record)
        elif type(record) is AgentOperation:
            operations.append(record)
        else:
            evaluations.append(record)  # type: ignore[arg-type]
    return tracks, results, evaluations, operations


def _insert(conn: psycopg.Connection, table: str, columns: str, rows: Sequence[Sequence[object]]) -> None:
    if len(rows) >= COPY_FROM_ROWS:
        # Binary, the columns' types given: psycopg then dumps each value with one fixed C dumper instead of
        # looking one up per value and formatting text (a third of the record writer's interpreter time). Stricter
        # than the INSERT below: a value must be of its column's Python type (int, str, bytes or None), as the
        # records are (the distributed tests store simulated traffic of every record kind through here).
        types = _copy_types(conn, table, columns)
        with conn.cursor().copy(f"COPY {table} ({columns}) FROM STDIN (FORMAT BINARY)") as copy:
            copy.set_types(types)
            for row in rows:
                copy.write_row(row)
    elif rows:
        marks = ", ".join(["%s"] * len(rows[0]))
        conn.cursor().executemany(f"INSERT INTO {table} ({columns}) VALUES ({marks})", rows)


_COPY_TYPES: dict[tuple[str, str], list[int]] = {}


def _copy_types(conn: psycopg.Connection, table: str, columns: str) -> list[int]:
    """The type OIDs of a table's columns, as the server says (built-in types: the same on every server)."""
    key = (table, columns)
    if key not in _COPY_TYPES:
        description = conn.execute(f"SELECT {columns} FROM {table} LIMIT 0").description or []
        _COPY_TYPES[key] = [column.type_code for column in description]
    return _COPY_TYPES[key]


def _write_outbox(conn: psycopg.Connection, outbox: list[OutboxEntry], events: list[tuple]) -> None:
    """The webhook deliveries, each with its event's log position: the shared log's (given, the distributed form)
    or the one this commit gives the event (`events`: (seq, id, ...)); an event of an earlier commit is looked up."""
    if not outbox:
        return
    seq_of = {event[1]: event[0] for event in events}
    missing = [o.event_id for o in outbox if o.seq is None and o.event_id not in seq_of]
    if missing:
        seq_of.update(conn.execute("SELECT id, seq FROM event_log WHERE id = ANY(%s)", (missing,)).fetchall())
    rows = [(o.webhook, o.kind, o.vdn, seq_of[o.event_id] if o.seq is None else o.seq, o.data) for o in outbox]
    _insert(conn, "webhook_outbox", "webhook, kind, vdn, seq, data", rows)


def _write_rejected(conn: psycopg.Connection, rejected: list[RejectedInput]) -> None:
    if rejected:
        conn.cursor().executemany(
            "INSERT INTO rejected_input (event_id, reason_code, reason, body, digest) "
            "VALUES (%s, %s, %s, %s, %s) ON CONFLICT (digest) DO NOTHING",
            [(*r, rejection_digest(r)) for r in rejected],
        )


def _write_evaluations(conn: psycopg.Connection, evaluations: list[EvaluationRecord]) -> None:
    """One UPDATE for the batch (an UPDATE per evaluation cost a round of the server's work each); a call
    evaluated twice in the batch keeps the later value, as in order."""
    if evaluations:
        latest = {(e.cc_id, e.call_id, e.arrived_at): e.evaluation_value for e in evaluations}
        conn.execute(
            "UPDATE call_result AS c SET evaluation_value = v.value "
            "FROM unnest(%s::bigint[], %s::text[], %s::bigint[], %s::text[]) AS v(cc_id, call_id, arrived_at, value) "
            "WHERE c.cc_id = v.cc_id AND c.call_id = v.call_id AND c.arrived_at = v.arrived_at",
            [[k[0] for k in latest], [k[1] for k in latest], [k[2] for k in latest], list(latest.values())],
        )


def _track_row(row: TrackRow) -> tuple[object, ...]:
    return (_month_number(month_of(row.arrived_at)), *row)


def _month_number(month: str) -> int:
    # A month comes from a request: only six ASCII digits are one.
    if len(month) != 6 or not (month.isascii() and month.isdigit()):
        raise ValueError(f"not a YYYYMM month: {month!r}")
    return int(month)


def _next_month(month: int) -> int:
    year, number = divmod(month, 100)
    return (year + 1) * 100 + 1 if number >= 12 else month + 1


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
