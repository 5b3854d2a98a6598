"""The PostgreSQL store's schema, as numbered migrations applied once each, in order, at start.

`schema_version` lists the migrations a database has had. Each one runs in its own transaction under an advisory
lock, so two processes starting together apply it once, and a migration that fails leaves no half of itself.
A database whose schema is newer than this ccdata, or that holds tables of something else, is refused.

Differences from the embedded schema, and why:
- `call_track` is one table partitioned by the month of the call's arrival (`month`, YYYYMM: the `logDate` month
  of querycalltracedetail), one partition per month, instead of one SQLite table per month; its key holds the
  month, so a call ID is unique within a month as in the SQLite tables.
- `record_position` holds the shared event log's position the records are complete up to (`Batch.position`),
  written in the same transaction as those rows (a record writer's standby resumes from it); the embedded store
  keeps it in `store_meta` (`log_position`).
- Integers are BIGINT throughout (SQLite's INTEGER is 64-bit; nothing the contract accepts is cut).
- `webhook_outbox` has a claim (`claimed_by`, `claimed_until`): several nodes may dispatch from one database, and
  a claimed delivery is one dispatcher's alone until it says how its attempt went, the claim runs out, or that
  dispatcher dies (`store/postgres_webhooks.py`).
- Call IDs are compared by their bytes (`COLLATE "C"`), as SQLite compares text, whatever the database's locale:
  call-track rows are exported, and call results paged, in the same order from either store. `call_result` keeps
  the order its rows were written in (`written`, SQLite's rowid): an export's ties in arrival time follow it.
"""

from __future__ import annotations

from typing import Final, NamedTuple

import psycopg

MIGRATION_LOCK: Final = 0x63636461_7461_0001  # "ccdata" + 1: one migrator at a time per database
COMMIT_LOCK: Final = 0x63636461_7461_0002  # one commit (or partition creation) at a time per database


class Migration(NamedTuple):
    version: int
    description: str
    sql: str


class SchemaError(Exception):
    """The database cannot hold a ccdata store (another application's, or a newer ccdata's)."""


_TRACK_FIELDS: Final = """
    cc_id BIGINT NOT NULL, vdn BIGINT NOT NULL, call_id TEXT NOT NULL, call_id_num BIGINT NOT NULL,
    arrived_at BIGINT NOT NULL, caller_no TEXT NOT NULL, callee_no TEXT NOT NULL, media_type BIGINT NOT NULL,
    sub_media_type BIGINT NOT NULL, wait_begin BIGINT NOT NULL, ack_begin BIGINT NOT NULL,
    call_begin BIGINT NOT NULL, call_end BIGINT NOT NULL, sub_cc_no BIGINT NOT NULL,
    device_type BIGINT NOT NULL, device_no TEXT NOT NULL, device_in TEXT NOT NULL, call_type BIGINT NOT NULL,
    release_cause BIGINT, enter_reason BIGINT NOT NULL, leave_reason BIGINT NOT NULL,
    current_skill_id BIGINT NOT NULL"""

MIGRATIONS: Final = (
    Migration(
        1,
        "event log, rejected inputs, call track by month, call results, snapshot, store facts",
        f"""
CREATE TABLE event_log (
    seq  BIGINT PRIMARY KEY,
    id   TEXT NOT NULL UNIQUE,
    type TEXT NOT NULL,
    at   BIGINT NOT NULL,
    body BYTEA NOT NULL
);
CREATE TABLE rejected_input (
    seq         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    event_id    TEXT,
    reason_code TEXT NOT NULL,
    reason      TEXT NOT NULL,
    body        BYTEA NOT NULL,
    digest      BYTEA NOT NULL UNIQUE
);
CREATE TABLE call_track (
    month INTEGER NOT NULL,
    {_TRACK_FIELDS},
    PRIMARY KEY (cc_id, call_id, call_id_num, month)
) PARTITION BY RANGE (month);
CREATE TABLE call_result (
    cc_id            BIGINT NOT NULL,
    vdn              BIGINT NOT NULL,
    call_id          TEXT NOT NULL,
    arrived_at       BIGINT NOT NULL,
    log_date         BIGINT NOT NULL,
    caller_no        TEXT NOT NULL,
    callee_no        TEXT NOT NULL,
    call_type        BIGINT NOT NULL,
    media_type       BIGINT NOT NULL,
    sub_media_type   BIGINT NOT NULL,
    wait_begin       BIGINT NOT NULL,
    ack_begin        BIGINT NOT NULL,
    call_begin       BIGINT NOT NULL,
    call_end         BIGINT NOT NULL,
    leave_reason     BIGINT NOT NULL,
    release_cause    BIGINT NOT NULL,
    agent_id         BIGINT NOT NULL,
    skill_id         BIGINT NOT NULL,
    evaluation_value TEXT,
    PRIMARY KEY (cc_id, call_id, arrived_at)
);
-- The window index carries the page order (arrived_at, call_id) and the two low-cardinality filters (callType,
-- mediaType), so that a day's count and its first page are read from the index alone.
CREATE INDEX call_result_window ON call_result (cc_id, vdn, arrived_at, call_id) INCLUDE (call_type, media_type);
CREATE INDEX call_result_caller ON call_result (cc_id, vdn, caller_no, arrived_at);
CREATE INDEX call_result_callee ON call_result (cc_id, vdn, callee_no, arrived_at);
CREATE INDEX call_result_evaluation ON call_result (cc_id, vdn, evaluation_value, arrived_at);
CREATE INDEX call_result_released ON call_result (cc_id, log_date);
CREATE TABLE snapshot (
    id      INTEGER PRIMARY KEY CHECK (id = 1),
    seq     BIGINT NOT NULL,
    version INTEGER NOT NULL,
    blob    BYTEA NOT NULL
);
CREATE TABLE store_meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE record_position (
    id  INTEGER PRIMARY KEY CHECK (id = 1),
    seq BIGINT NOT NULL
);
INSERT INTO record_position VALUES (1, 0);
""",
    ),
    Migration(
        2,
        "the agent operation log (agent/agentoprinfo)",
        """
CREATE TABLE agent_operation (
    cc_id          BIGINT NOT NULL,
    vdn            BIGINT NOT NULL,
    agent_id       BIGINT NOT NULL,
    operation_id   TEXT NOT NULL,
    operate_type   BIGINT NOT NULL,
    begin_at       BIGINT NOT NULL,
    end_at         BIGINT NOT NULL,
    call_id        TEXT NOT NULL,
    phone_no       TEXT NOT NULL,
    skill_id       BIGINT NOT NULL,
    media_type     BIGINT NOT NULL,
    call_type      BIGINT NOT NULL,
    operate_object BIGINT NOT NULL,
    operate_cause  BIGINT NOT NULL,
    logon_at       BIGINT NOT NULL,
    PRIMARY KEY (cc_id, agent_id, begin_at, operation_id)
);
""",
    ),
    Migration(
        3,
        "webhook deliveries: the outbox (with a dispatcher's claim) and the dead letters",
        """
CREATE TABLE webhook_outbox (
    id            BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,  -- the delivery ID: never reused
    webhook       TEXT NOT NULL,
    kind          TEXT NOT NULL,
    vdn           BIGINT NOT NULL,
    seq           BIGINT NOT NULL,
    data          BYTEA NOT NULL,
    attempts      INTEGER NOT NULL DEFAULT 0,
    next_at       BIGINT NOT NULL DEFAULT 0,  -- wall-clock ms of the next attempt
    last_error    TEXT NOT NULL DEFAULT '',
    claimed_by    TEXT NOT NULL DEFAULT '',  -- the dispatcher attempting it ('' none)
    claimed_until BIGINT NOT NULL DEFAULT 0  -- wall-clock ms: that dispatcher's alone until then
);
CREATE INDEX webhook_outbox_due ON webhook_outbox (webhook, next_at);
CREATE TABLE webhook_dead (
    id         BIGINT PRIMARY KEY,
    webhook    TEXT NOT NULL,
    kind       TEXT NOT NULL,
    vdn        BIGINT NOT NULL,
    seq        BIGINT NOT NULL,
    data       BYTEA NOT NULL,
    attempts   INTEGER NOT NULL,
    died_at    BIGINT NOT NULL,
    last_error TEXT NOT NULL
);
""",
    ),
    Migration(
        4,
        "exports in SQLite's order: call IDs compared by their bytes, call results in the order written",
        """
ALTER TABLE call_track ALTER COLUMN call_id TYPE TEXT COLLATE "C";
ALTER TABLE call_result ALTER COLUMN call_id TYPE TEXT COLLATE "C",
    ADD COLUMN written BIGINT GENERATED BY DEFAULT AS IDENTITY;
""",
    ),
)

LATEST: Final = MIGRATIONS[-1].version


def migrate(conn: psycopg.Connection) -> list[int]:
    """Apply the migrations `conn`'s database has not had; return their versions. `conn` is in autocommit."""
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK,))
        _check_is_ccdata_database(conn)
        conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, description TEXT NOT NULL, "
            "applied_at TIMESTAMPTZ NOT NULL DEFAULT now())"
        )
    applied = []
    for migration in MIGRATIONS:
        with conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK,))
            done = {v for (v,) in conn.execute("SELECT version FROM schema_version")}
            newest = max(done, default=0)
            if newest > LATEST:
                raise SchemaError(f"the database's schema is version {newest}, newer than this ccdata's ({LATEST})")
            if migration.version in done:
                continue
            conn.execute(migration.sql.encode())  # bytes: the text holds no parameters, % signs are SQL's own
            conn.execute(
                "INSERT INTO schema_version (version, description) VALUES (%s, %s)",
                (migration.version, migration.description),
            )
            applied.append(migration.version)
    return applied


def version(conn: psycopg.Connection) -> int:
    row = conn.execute("SELECT coalesce(max(version), 0) FROM schema_version").fetchone()
    return row[0] if row else 0


def _check_is_ccdata_database(conn: psycopg.Connection) -> None:
    """Never add tables to another application's database: one with tables but no `schema_version` is refused."""
    tables = {
        name
        for (name,) in conn.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()"
        )
    }
    if tables and "schema_version" not in tables:
        shown = ", ".join(sorted(tables)[:5])
        raise SchemaError(f"the database holds tables of something else ({shown}), not a ccdata store")
