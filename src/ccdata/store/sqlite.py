"""The embedded store: one SQLite file in WAL mode, zero set-up.

Tables:
- `event_log`: every accepted event, append-only, `id` unique; the source of truth for live state.
- `rejected_input`: every input not applied, with its reason (nothing sent is lost), once per distinct input and
  reason code (a client retrying a bad batch does not grow it).
- `track_YYYYMM`: call-track rows (`tbilllog`), one table per month of the call's arrival (UTC), as `logDate`
  of querycalltracedetail selects it.
- `call_result`: one row per call that reached the agent service, indexed for the DataProcess filters.
- `agent_operation`: the agent operation log (`agent/agentoprinfo`), by agent and begin time.
- `snapshot`: the engine's state at a log position, to shorten the replay at start.
- `webhook_outbox`: webhook deliveries not yet acknowledged, written with the event that owes them;
  `webhook_dead`: those that failed every attempt (`store/sqlite_webhooks.py` reads and updates both).
"""

from __future__ import annotations

import contextlib
import re
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Final

from ccdata.domain.records import AgentOperation, CallResult, EvaluationRecord, TrackRow, month_of
from ccdata.store.pages import calls_completed, chosen
from ccdata.store.ports import (
    Batch,
    CallResultQuery,
    RejectedInput,
    Snapshot,
    StoreUnavailable,
    rejection_digest,
)
from ccdata.store.search import call_result_condition

if TYPE_CHECKING:
    from ccdata.store.sqlite_webhooks import SqliteWebhookStore

_SCHEMA: Final = """
CREATE TABLE IF NOT EXISTS event_log (
    seq  INTEGER PRIMARY KEY,
    id   TEXT NOT NULL UNIQUE,
    type TEXT NOT NULL,
    at   INTEGER NOT NULL,
    body BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS rejected_input (
    seq         INTEGER PRIMARY KEY,
    event_id    TEXT,
    reason_code TEXT NOT NULL,
    reason      TEXT NOT NULL,
    body        BLOB NOT NULL,
    digest      BLOB
);
CREATE TABLE IF NOT EXISTS call_result (
    cc_id            INTEGER NOT NULL,
    vdn              INTEGER NOT NULL,
    call_id          TEXT NOT NULL,
    arrived_at       INTEGER NOT NULL,
    log_date         INTEGER NOT NULL,
    caller_no        TEXT NOT NULL,
    callee_no        TEXT NOT NULL,
    call_type        INTEGER NOT NULL,
    media_type       INTEGER NOT NULL,
    sub_media_type   INTEGER NOT NULL,
    wait_begin       INTEGER NOT NULL,
    ack_begin        INTEGER NOT NULL,
    call_begin       INTEGER NOT NULL,
    call_end         INTEGER NOT NULL,
    leave_reason     INTEGER NOT NULL,
    release_cause    INTEGER NOT NULL,
    agent_id         INTEGER NOT NULL,
    skill_id         INTEGER NOT NULL,
    evaluation_value TEXT,
    PRIMARY KEY (cc_id, call_id, arrived_at)
);
CREATE INDEX IF NOT EXISTS call_result_window ON call_result (cc_id, vdn, arrived_at, call_id, call_type);
CREATE INDEX IF NOT EXISTS call_result_caller ON call_result (cc_id, vdn, caller_no, arrived_at);
CREATE INDEX IF NOT EXISTS call_result_callee ON call_result (cc_id, vdn, callee_no, arrived_at);
CREATE INDEX IF NOT EXISTS call_result_evaluation ON call_result (cc_id, vdn, evaluation_value, arrived_at);
CREATE INDEX IF NOT EXISTS call_result_released ON call_result (cc_id, log_date);
CREATE TABLE IF NOT EXISTS agent_operation (
    cc_id          INTEGER NOT NULL,
    vdn            INTEGER NOT NULL,
    agent_id       INTEGER NOT NULL,
    operation_id   TEXT NOT NULL,
    operate_type   INTEGER NOT NULL,
    begin_at       INTEGER NOT NULL,
    end_at         INTEGER NOT NULL,
    call_id        TEXT NOT NULL,
    phone_no       TEXT NOT NULL,
    skill_id       INTEGER NOT NULL,
    media_type     INTEGER NOT NULL,
    call_type      INTEGER NOT NULL,
    operate_object INTEGER NOT NULL,
    operate_cause  INTEGER NOT NULL,
    logon_at       INTEGER NOT NULL,
    PRIMARY KEY (cc_id, agent_id, begin_at, operation_id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS store_meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS snapshot (
    id      INTEGER PRIMARY KEY CHECK (id = 1),
    seq     INTEGER NOT NULL,
    version INTEGER NOT NULL,
    blob    BLOB NOT NULL
);
"""
WEBHOOK_SCHEMA: Final = """
CREATE TABLE IF NOT EXISTS webhook_outbox (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,  -- the delivery ID: never reused, receivers dedup on it
    webhook    TEXT NOT NULL,
    kind       TEXT NOT NULL,
    vdn        INTEGER NOT NULL,
    seq        INTEGER NOT NULL,
    data       BLOB NOT NULL,
    attempts   INTEGER NOT NULL DEFAULT 0,
    next_at    INTEGER NOT NULL DEFAULT 0,  -- wall-clock ms of the next attempt
    last_error TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS webhook_outbox_due ON webhook_outbox (webhook, next_at);
CREATE TABLE IF NOT EXISTS webhook_dead (
    id         INTEGER PRIMARY KEY,
    webhook    TEXT NOT NULL,
    kind       TEXT NOT NULL,
    vdn        INTEGER NOT NULL,
    seq        INTEGER NOT NULL,
    data       BLOB NOT NULL,
    attempts   INTEGER NOT NULL,
    died_at    INTEGER NOT NULL,
    last_error TEXT NOT NULL
);
"""

_WINDOW_COLUMNS: Final = ("cc_id", "vdn", "arrived_at", "call_id", "call_type")
_TRACK_COLUMNS: Final = (
    "cc_id, vdn, call_id, call_id_num, arrived_at, caller_no, callee_no, media_type, sub_media_type, "
    "wait_begin, ack_begin, call_begin, call_end, sub_cc_no, device_type, device_no, device_in, call_type, "
    "release_cause, enter_reason, leave_reason, current_skill_id"
)
_TRACK_TABLE: Final = """
CREATE TABLE IF NOT EXISTS {table} (
    cc_id INTEGER NOT NULL, vdn INTEGER NOT NULL, call_id TEXT NOT NULL, call_id_num INTEGER NOT NULL,
    arrived_at INTEGER NOT NULL, caller_no TEXT NOT NULL, callee_no TEXT NOT NULL, media_type INTEGER NOT NULL,
    sub_media_type INTEGER NOT NULL, wait_begin INTEGER NOT NULL, ack_begin INTEGER NOT NULL,
    call_begin INTEGER NOT NULL, call_end INTEGER NOT NULL, sub_cc_no INTEGER NOT NULL,
    device_type INTEGER NOT NULL, device_no TEXT NOT NULL, device_in TEXT NOT NULL, call_type INTEGER NOT NULL,
    release_cause INTEGER, enter_reason INTEGER NOT NULL, leave_reason INTEGER NOT NULL,
    current_skill_id INTEGER NOT NULL,
    PRIMARY KEY (cc_id, call_id, call_id_num)
) WITHOUT ROWID
"""
# -1 is the last row of a call: sort it after 1..n.
_TRACK_ORDER: Final = "ORDER BY call_id_num = -1, call_id_num"
_MONTH: Final = re.compile(r"^\d{6}$")


DEFAULT_WAL_MAX_BYTES: Final = 64 * 1024 * 1024
EXPORT_PAGE: Final = 5000  # rows per read of an export


class SqliteStore:
    """The `Store` port on one SQLite file.

    One writer (the pipeline) owns the main connection. The read methods the APIs call (`track_rows`,
    `search_call_results`, `call_results`, `find_track_rows`, `count`) may run in any thread: each thread reads
    through a connection of its own (WAL lets readers run beside the writer and see committed data only).
    """

    def __init__(
        self,
        path: str | Path,
        *,
        durable: bool = True,
        busy_timeout_s: float = 5.0,
        wal_max_bytes: int = DEFAULT_WAL_MAX_BYTES,
    ) -> None:
        self.path = str(path)  # its folder must exist: a mistyped path is an error, not a new folder tree
        self.busy_timeout_s = busy_timeout_s
        # The writer's connection; reads use one connection per thread (`_reader`), so that a reader never
        # waits behind the writer's connection while it waits for a lock (WAL lets readers go on meanwhile).
        self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=busy_timeout_s)
        self._readers = threading.local()
        self._reader_connections: list[sqlite3.Connection] = []
        self._db.execute("PRAGMA journal_mode=WAL")
        # FULL syncs the WAL at every commit: an acknowledged event survives a power cut, not only a crash.
        self._db.execute(f"PRAGMA synchronous={'FULL' if durable else 'NORMAL'}")
        # The ingest updates several indexes per batch: a 64 MiB page cache keeps their hot pages, and rarer
        # checkpoints (every ~40 MiB of WAL) copy each page once instead of many times.
        self._db.execute("PRAGMA cache_size=-65536")
        self._db.execute("PRAGMA wal_autocheckpoint=10000")
        self._db.execute("PRAGMA temp_store=MEMORY")
        self.limit_wal(wal_max_bytes)
        self._db.executescript(_SCHEMA + WEBHOOK_SCHEMA)
        self._migrate()
        self._months = self._existing_months()
        self._new_months: set[str] = set()

    def limit_wal(self, max_bytes: int) -> None:
        """After a checkpoint the WAL file is cut back to `max_bytes` (it otherwise keeps its largest size)."""
        self._db.execute(f"PRAGMA journal_size_limit={int(max_bytes)}")

    def _migrate(self) -> None:
        columns = {row[1] for row in self._db.execute("PRAGMA table_info(rejected_input)")}
        if "digest" not in columns:  # a store written before rejections were kept once
            self._db.execute("ALTER TABLE rejected_input ADD COLUMN digest BLOB")
        self._db.execute("CREATE UNIQUE INDEX IF NOT EXISTS rejected_input_digest ON rejected_input (digest)")
        # The window index holds call ID and call type (it held neither before): a VDN's day of calls, inbound or
        # outbound, is then counted and paged in the index, in the order answered, without reading the rows
        # (CC-CMS querycalls at 10M results: p99 83 ms -> see docs/performance.md). Rebuilt once, at start.
        window = [row[2] for row in self._db.execute("PRAGMA index_info(call_result_window)")]
        if window != list(_WINDOW_COLUMNS):
            self._db.execute("DROP INDEX IF EXISTS call_result_window")
            self._db.execute(f"CREATE INDEX call_result_window ON call_result ({', '.join(_WINDOW_COLUMNS)})")

    def _reader(self) -> sqlite3.Connection:
        if self.path == ":memory:":
            return self._db  # a second connection would open another, empty, database
        db = getattr(self._readers, "db", None)
        if db is None:
            db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=self.busy_timeout_s)
            db.execute("PRAGMA query_only = 1")
            self._readers.db = db
            self._reader_connections.append(db)
        return db

    # --- the event log ---

    def stored_events(self, event_ids: Sequence[str]) -> dict[str, bytes]:
        found: dict[str, bytes] = {}
        for start in range(0, len(event_ids), 500):
            chunk = event_ids[start : start + 500]
            marks = ",".join("?" * len(chunk))
            rows = self._db.execute(f"SELECT id, body FROM event_log WHERE id IN ({marks})", chunk)
            found.update(rows.fetchall())
        return found

    def commit(self, batch: Batch) -> int:
        db = self._db
        try:
            db.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:  # locked by another connection, or the file is unusable
            raise StoreUnavailable(f"{self.path}: {exc}") from exc
        try:
            db.executemany("INSERT INTO event_log (id, type, at, body) VALUES (?, ?, ?, ?)", batch.events)
            db.executemany(
                "INSERT OR IGNORE INTO rejected_input (event_id, reason_code, reason, body, digest) "
                "VALUES (?, ?, ?, ?, ?)",
                [(*r, rejection_digest(r)) for r in batch.rejected],
            )
            self._new_months.clear()
            self._write_records(batch)
            if batch.outbox:  # each delivery with its event's log position (written just above, if not given)
                db.executemany(
                    "INSERT INTO webhook_outbox (webhook, kind, vdn, seq, data) "
                    "VALUES (?, ?, ?, coalesce(?, (SELECT seq FROM event_log WHERE id = ?)), ?)",
                    [(o.webhook, o.kind, o.vdn, o.seq, o.event_id, o.data) for o in batch.outbox],
                )
            if batch.position is not None:
                db.execute("INSERT OR REPLACE INTO store_meta (key, value) VALUES ('log_position', ?)",
                           (str(batch.position),))  # fmt: skip
            # Inside the transaction, so that it is this batch's own last position (nothing else can write now).
            last = db.execute("SELECT coalesce(max(seq), 0) FROM event_log").fetchone()[0]
            db.execute("COMMIT")
            self._months |= self._new_months
        except BaseException as exc:
            if db.in_transaction:
                db.execute("ROLLBACK")
            self._months = self._existing_months()  # a monthly table created in the batch is gone too
            self._new_months.clear()
            if isinstance(exc, sqlite3.OperationalError):  # disk full, I/O error, lock lost: nothing was written
                raise StoreUnavailable(f"{self.path}: {exc}") from exc
            raise
        return last

    def _write_records(self, batch: Batch) -> None:
        by_month: dict[str, list[TrackRow]] = {}
        results: list[CallResult] = []
        evaluations: list[EvaluationRecord] = []
        operations: list[AgentOperation] = []
        for record in batch.records:
            if type(record) is TrackRow:
                by_month.setdefault(month_of(record.arrived_at), []).append(record)
            elif type(record) is CallResult:
                results.append(record)
            elif type(record) is AgentOperation:
                operations.append(record)
            else:
                evaluations.append(record)  # type: ignore[arg-type]
        for month, rows in by_month.items():
            table = self._track_table(month, create=True)
            self._db.executemany(f"INSERT INTO {table} ({_TRACK_COLUMNS}) VALUES ({','.join('?' * 22)})", rows)
        self._db.executemany(f"INSERT INTO call_result VALUES ({','.join('?' * 19)})", results)
        self._db.executemany(f"INSERT INTO agent_operation VALUES ({','.join('?' * 15)})", operations)
        self._db.executemany(
            "UPDATE call_result SET evaluation_value = ? WHERE cc_id = ? AND call_id = ? AND arrived_at = ?",
            [(e.evaluation_value, e.cc_id, e.call_id, e.arrived_at) for e in evaluations],
        )

    def events_after(self, seq: int) -> Iterator[tuple[int, bytes]]:
        cursor = self._db.execute("SELECT seq, body FROM event_log WHERE seq > ? ORDER BY seq", (seq,))
        while rows := cursor.fetchmany(5000):
            yield from rows

    def last_seq(self) -> int:
        return self._db.execute("SELECT coalesce(max(seq), 0) FROM event_log").fetchone()[0]

    # --- snapshots ---

    def save_snapshot(self, snapshot: Snapshot) -> None:
        try:
            self._db.execute(
                "INSERT OR REPLACE INTO snapshot (id, seq, version, blob) VALUES (1, ?, ?, ?)",
                (snapshot.seq, snapshot.version, snapshot.blob),
            )
        except sqlite3.OperationalError as exc:
            raise StoreUnavailable(f"{self.path}: {exc}") from exc

    def load_snapshot(self) -> Snapshot | None:
        row = self._db.execute("SELECT seq, version, blob FROM snapshot WHERE id = 1").fetchone()
        return None if row is None else Snapshot(*row)

    def position(self) -> int:
        return int(self.meta("log_position") or 0)

    # --- facts about the store itself (who created it) ---

    def meta(self, key: str) -> str | None:
        row = self._db.execute("SELECT value FROM store_meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else row[0]

    def set_meta(self, key: str, value: str) -> None:
        self._db.execute("INSERT OR REPLACE INTO store_meta (key, value) VALUES (?, ?)", (key, value))

    # --- records ---

    def track_rows(self, cc_id: int, vdn: int, call_id: str, month: str) -> list[TrackRow]:
        table = self._track_table(month, create=False)
        if table is None:
            return []
        sql = f"SELECT {_TRACK_COLUMNS} FROM {table} WHERE cc_id = ? AND call_id = ? AND vdn = ? {_TRACK_ORDER}"
        return [TrackRow(*row) for row in self._reader().execute(sql, (cc_id, call_id, vdn))]

    def find_track_rows(self, cc_id: int, call_id: str) -> list[TrackRow]:
        rows: list[TrackRow] = []
        for month in sorted(self._months):
            sql = f"SELECT {_TRACK_COLUMNS} FROM track_{month} WHERE cc_id = ? AND call_id = ? {_TRACK_ORDER}"
            rows.extend(TrackRow(*row) for row in self._reader().execute(sql, (cc_id, call_id)))
        return rows

    def call_results(self, cc_id: int, call_id: str) -> list[CallResult]:
        sql = "SELECT * FROM call_result WHERE cc_id = ? AND call_id = ? ORDER BY arrived_at"
        return [CallResult(*row) for row in self._reader().execute(sql, (cc_id, call_id))]

    def call_results_released_since(self, cc_id: int, since: int) -> Iterator[CallResult]:
        sql = "SELECT * FROM call_result WHERE cc_id = ? AND log_date >= ? ORDER BY log_date, call_id"
        return (CallResult(*row) for row in self._reader().execute(sql, (cc_id, since)))

    def search_call_results(self, query: CallResultQuery) -> tuple[int, list[CallResult]]:
        condition, args = call_result_condition(query, "?")
        db = self._reader()
        db.execute("BEGIN")  # the count and the page from one snapshot
        try:
            total = db.execute(f"SELECT count(*) FROM call_result WHERE {condition}", args).fetchone()[0]
            page = db.execute(
                f"SELECT * FROM call_result WHERE {condition} ORDER BY arrived_at, call_id LIMIT ? OFFSET ?",
                [*args, query.limit, query.offset],
            ).fetchall()
        finally:
            db.execute("COMMIT")
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
        """Call results arrived in [begin, end), of `vdn` or of each VDN in turn, in arrival order (ties in the
        order written). Keyset pagination on the window index: memory holds one page whatever the window, and
        no read transaction stays open beside a writer (the WAL can be checkpointed during a long export).
        With `fields`, tuples of those fields in that order instead of records (an export's columns straight
        from the query: a third faster than records picked apart)."""
        columns = chosen(fields, CallResult._fields)
        sql = (
            f"SELECT {', '.join(columns)}, arrived_at, rowid FROM call_result WHERE cc_id = ? AND vdn = ? "
            "AND (arrived_at, rowid) > (?, ?) AND arrived_at < ? ORDER BY arrived_at, rowid LIMIT ?"
        )
        for each in [vdn] if vdn is not None else self._vdns(cc_id):
            after = (begin, -(2**63))
            while rows := self._reader().execute(sql, (cc_id, each, *after, end, page)).fetchall():
                after = rows[-1][-2:]  # arrived_at, rowid of the last row
                yield [row[:-2] for row in rows] if fields else [CallResult(*row[:-2]) for row in rows]

    def count_call_results(self, cc_id: int, begin: int, end: int, vdn: int | None = None) -> int:
        sql = "SELECT count(*) FROM call_result WHERE cc_id = ? AND vdn = ? AND arrived_at >= ? AND arrived_at < ?"
        vdns = [vdn] if vdn is not None else self._vdns(cc_id)
        return sum(self._reader().execute(sql, (cc_id, each, begin, end)).fetchone()[0] for each in vdns)

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
        call ID, each call's rows in callIdNum order with -1 last (as querycalltracedetail answers). Keyset
        pagination on each monthly table's primary key; a call cut by a page boundary is completed first.
        With `fields`, tuples of those fields instead of records (as `call_result_pages`)."""
        months = [m for m in sorted(self._months) if month_of(begin) <= m <= month_of(max(begin, end - 1))]
        make = (lambda row: row[:-2]) if fields else (lambda row: TrackRow(*row[:-2]))
        for month in months:
            yield from calls_completed(self._track_pages(f"track_{month}", cc_id, begin, end, vdn, page, fields), make)

    def _track_pages(
        self, table: str, cc_id: int, begin: int, end: int, vdn: int | None, page: int, fields: Sequence[str] | None
    ) -> Iterator[list[tuple]]:
        in_vdn = "" if vdn is None else "AND vdn = ? "
        sql = (
            f"SELECT {', '.join(chosen(fields, TrackRow._fields))}, call_id, call_id_num FROM {table} "
            "WHERE cc_id = ? AND (call_id, call_id_num) > (?, ?) "
            f"AND arrived_at >= ? AND arrived_at < ? {in_vdn}ORDER BY call_id, call_id_num LIMIT ?"
        )
        after: tuple[str, int] = ("", -(2**63))
        scope = (begin, end) if vdn is None else (begin, end, vdn)
        while rows := self._reader().execute(sql, (cc_id, *after, *scope, page)).fetchall():
            after = rows[-1][-2:]  # call_id, call_id_num of the last row
            yield rows

    def _vdns(self, cc_id: int) -> list[int]:
        """The VDNs with call results, one index seek each (no scan of the results)."""
        found: list[int] = []
        sql = "SELECT min(vdn) FROM call_result WHERE cc_id = ? AND vdn > ?"
        while (vdn := self._reader().execute(sql, (cc_id, found[-1] if found else -1)).fetchone()[0]) is not None:
            found.append(vdn)
        return found

    def agent_operations(
        self, cc_id: int, agent_id: int, begin: int, end: int, operate_type: int | None = None
    ) -> list[AgentOperation]:
        # Periods that overlap [begin, end]; none is longer than a sign-in, so begin_at bounds the index range.
        sql = "SELECT * FROM agent_operation WHERE cc_id = ? AND agent_id = ? AND begin_at <= ? AND end_at >= ?"
        args: list[object] = [cc_id, agent_id, end, begin]
        if operate_type is not None:
            sql += " AND operate_type = ?"
            args.append(operate_type)
        rows = self._reader().execute(sql + " ORDER BY begin_at, end_at, operation_id", args)
        return [AgentOperation(*row) for row in rows]

    def rejected_inputs(self, limit: int = 100) -> list[RejectedInput]:
        sql = "SELECT event_id, reason_code, reason, body FROM rejected_input ORDER BY seq LIMIT ?"
        return [RejectedInput(*row) for row in self._reader().execute(sql, (limit,))]

    def count(self, what: str) -> int:
        if what == "track":
            return sum(self._reader().execute(f"SELECT count(*) FROM track_{m}").fetchone()[0] for m in self._months)
        table = {"events": "event_log", "rejected": "rejected_input", "results": "call_result"}[what]
        return self._reader().execute(f"SELECT count(*) FROM {table}").fetchone()[0]

    def webhook_store(self) -> SqliteWebhookStore:
        """The deliveries of this store: its outbox is written by its commits, so they are read in the same file,
        through a second connection (none is possible to `:memory:`)."""
        from ccdata.store.sqlite_webhooks import SqliteWebhookStore

        if self.path == ":memory:":
            raise ValueError("webhooks need the embedded store on a file (its outbox is read by a second connection)")
        return SqliteWebhookStore(self.path)

    def close(self) -> None:
        for db in self._reader_connections:
            db.close()
        with contextlib.suppress(sqlite3.Error):  # leave no large WAL behind (another process may still read)
            self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        self._db.close()

    # --- monthly tables ---

    def _track_table(self, month: str, *, create: bool) -> str | None:
        if not _MONTH.match(month):  # the name goes into SQL: only six digits ever do
            raise ValueError(f"not a YYYYMM month: {month!r}")
        if month not in self._months and month not in self._new_months:
            if not create:
                return None
            self._db.execute(_TRACK_TABLE.format(table=f"track_{month}"))
            self._new_months.add(month)  # readers see it once the transaction creating it is committed
        return f"track_{month}"

    def _existing_months(self) -> set[str]:
        names = self._db.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE 'track_%'")
        return {name[len("track_") :] for (name,) in names if _MONTH.match(name[len("track_") :])}
