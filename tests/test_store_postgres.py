"""What only the PostgreSQL store has: versioned migrations, monthly partitions made ahead, the record position in
the commit's transaction, the record writer's lease, and a server that goes away."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import psycopg
import pytest

from backends import postgres_database
from ccdata.domain.records import month_of
from ccdata.pipeline import CommitPolicy, Pipeline
from ccdata.store.lock import StoreLocked
from ccdata.store.ports import Batch, CallResultQuery, LoggedEvent, StoreUnavailable
from ccdata.store.postgres import PostgresStore
from ccdata.store.postgres_schema import LATEST, SchemaError
from ccdata.store.search import call_result_condition
from support import T0
from test_pipeline_store import JAN_31_2359, answered_call


@pytest.fixture
def url() -> Iterator[str]:
    with postgres_database() as database:
        yield database


def query(url: str, sql: str) -> list[tuple]:
    with psycopg.connect(url) as db:
        return db.execute(sql).fetchall()


def test_migrations_are_applied_once_and_recorded(url: str) -> None:
    PostgresStore(url).close()
    PostgresStore(url).close()  # a second start applies nothing again
    assert query(url, "SELECT version FROM schema_version") == [(v,) for v in range(1, LATEST + 1)]


def test_a_database_of_something_else_or_of_a_newer_ccdata_is_refused(url: str) -> None:
    with psycopg.connect(url, autocommit=True) as db:
        db.execute("CREATE TABLE invoices (id INT)")
    with pytest.raises(SchemaError, match="invoices"):
        PostgresStore(url)
    with psycopg.connect(url, autocommit=True) as db:
        db.execute("DROP TABLE invoices")
    PostgresStore(url).close()
    with psycopg.connect(url, autocommit=True) as db:
        db.execute("INSERT INTO schema_version (version, description) VALUES (%s, 'from the future')", (LATEST + 1,))
    with pytest.raises(SchemaError, match="newer"):
        PostgresStore(url)


def partitions(url: str) -> list[str]:
    rows = query(
        url,
        "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
        "WHERE i.inhparent = 'call_track'::regclass ORDER BY 1",
    )
    return [name for (name,) in rows]


def test_a_months_partition_and_the_next_are_there_before_its_first_row(url: str) -> None:
    store = PostgresStore(url)
    now = month_of(int(time.time() * 1000))
    assert f"call_track_{now}" in partitions(url)  # made at start, with the next month's
    assert len(partitions(url)) == 2
    Pipeline(store).ingest(answered_call(t=JAN_31_2359))  # a call of January 2026, released in February
    assert {"call_track_202601", "call_track_202602"} <= set(partitions(url))
    assert query(url, "SELECT count(*) FROM call_track_202601") == [(1,)]
    store.close()


def test_the_log_position_is_committed_with_the_rows_or_not_at_all(url: str) -> None:
    store = PostgresStore(url, busy_timeout_s=0.05)
    store.commit(Batch(events=[LoggedEvent("x-1", "agent.login", T0, b"{}")], position=41))
    assert store.position() == 41
    with psycopg.connect(url) as blocker:  # the rows are refused: nor does the position move
        blocker.execute("LOCK TABLE event_log IN EXCLUSIVE MODE")
        with pytest.raises(StoreUnavailable, match="lock timeout"):
            store.commit(Batch(events=[LoggedEvent("x-2", "agent.login", T0, b"{}")], position=42))
    assert (store.position(), store.count("events")) == (41, 1)
    store.commit(Batch(events=[LoggedEvent("x-2", "agent.login", T0, b"{}")], position=42))
    assert (store.position(), store.count("events")) == (42, 2)
    store.close()


def test_a_second_writer_is_refused_with_the_holders_name(url: str) -> None:
    first = PostgresStore(url, writer="serve")
    first.update("http://10.0.0.5:8043")
    with pytest.raises(StoreLocked, match=r"ccdata serve \(PID \d+\) at http://10.0.0.5:8043"):
        PostgresStore(url, writer="ingest")
    reader = PostgresStore(url)  # reading needs no lease
    assert reader.count("events") == 0
    reader.close()
    first.close()
    PostgresStore(url, writer="ingest").close()  # free again once its holder is gone


def test_a_standby_writer_takes_over_when_the_lease_holder_goes(url: str) -> None:
    active = PostgresStore(url, writer="serve")
    Pipeline(active).ingest(answered_call()[:2])
    waiting: list[dict] = []
    took_over: list[PostgresStore] = []
    standby = threading.Thread(
        target=lambda: took_over.append(PostgresStore(url, writer="serve", standby=True, on_standby=waiting.append))
    )
    standby.start()
    time.sleep(1.0)
    assert waiting and not took_over  # it said whom it waits for, and waits
    assert waiting[0]["command"] == "serve"
    active.close()  # the holder dies: its connection, and with it the lease, goes
    standby.join(10)
    (successor,) = took_over
    pipeline = Pipeline(successor)
    assert pipeline.seq == 2  # it resumes from the log, nothing written twice
    assert pipeline.ingest(answered_call()).duplicates == 2
    assert successor.count("events") == successor.last_seq() == 6
    successor.close()


def terminate_ccdata_connections(url: str) -> None:
    with psycopg.connect(url, autocommit=True) as admin:
        admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )


def test_a_writer_whose_connections_are_cut_reconnects_and_loses_nothing(url: str) -> None:
    store = PostgresStore(url, writer="serve")
    pipeline = Pipeline(store, commit_policy=CommitPolicy(first_delay_s=0.01, give_up_after_s=10))
    pipeline.ingest(answered_call()[:3])
    terminate_ccdata_connections(url)  # as a server restart or a failover of PostgreSQL does
    report = pipeline.ingest(answered_call()[3:])
    assert report.accepted == 3
    assert pipeline.health.writable  # the lookup before the commit connected again: no commit failed
    assert store.count("events") == store.last_seq() == 6
    with pytest.raises(StoreLocked):  # the lease came back with the connection
        PostgresStore(url, writer="ingest")
    store.close()


def test_a_writer_that_lost_its_lease_to_a_standby_writes_no_more(url: str) -> None:
    old = PostgresStore(url, writer="serve")
    pipeline = Pipeline(old, commit_policy=CommitPolicy(first_delay_s=0.01, give_up_after_s=0.2))
    terminate_ccdata_connections(url)
    new = PostgresStore(url, writer="serve")  # the standby took the lease meanwhile
    with pytest.raises(StoreUnavailable, match="written by ccdata serve"):
        pipeline.ingest(answered_call())
    assert new.count("events") == 0
    new.close()
    old.close()


def test_an_unreachable_server_is_store_unavailable() -> None:
    with pytest.raises(StoreUnavailable, match=r"127\.0\.0\.1:1/"):
        PostgresStore("postgresql://postgres@127.0.0.1:1/ccdata", busy_timeout_s=1)


def test_a_commit_whose_connection_broke_after_the_server_committed_it_is_not_written_twice(url: str) -> None:
    """The outcome of a COMMIT whose answer was lost is unknown to the client: the retry of the same batch finds
    its first event in the log and reports the batch's position instead of failing on a duplicate id."""
    store = PostgresStore(url, writer="serve")
    pipeline = Pipeline(store)
    pipeline.ingest(answered_call()[:2])
    batch = Batch(events=[LoggedEvent("x-1", "agent.login", T0, b"{}"), LoggedEvent("x-2", "agent.login", T0, b"{}")])
    assert store.commit(batch) == 4
    terminate_ccdata_connections(url)
    with pytest.raises(StoreUnavailable):  # the write connection is found cut by the next statement on it
        store.commit(Batch(events=[LoggedEvent("x-3", "agent.login", T0, b"{}")]))
    store._unsure = batch  # as if that cut had come while `batch`'s COMMIT was under way, after the server's
    assert store.commit(batch) == 4
    assert store.count("events") == 4
    store.close()


@pytest.fixture(scope="module")
def planned() -> Iterator[str]:
    """A store of 100 days of 500 call results a day, analysed: what the planner sees of a real one (it plans an
    empty table any way at all)."""
    with postgres_database() as database:
        PostgresStore(database).close()
        with psycopg.connect(database, autocommit=True) as db:
            db.execute(
                "INSERT INTO call_result SELECT 1, 1, 'c-' || n, %s + n * 172800::bigint, "
                "%s + n * 172800::bigint + 60000, '1' || (n * 7919 %% 1000000), "
                "CASE WHEN n %% 50 = 0 THEN '650550' ELSE '6' || (n %% 997) END, n %% 3, 5, -1, 0, 0, 0, 0, 15, 0, "
                "1001, 1, CASE WHEN n %% 3 = 0 THEN (n %% 5 + 1)::text END FROM generate_series(1, 50000) AS n",
                (T0, T0),
            )
            db.execute("ANALYZE call_result")
        yield database


@pytest.mark.parametrize(
    ("filters", "index"),
    [
        ({"begin": T0, "end": T0 + 86_400_000}, "call_result_window"),
        ({"begin": T0, "end": T0 + 86_400_000, "call_type": 0, "media_type": 5}, "call_result_window"),
        ({"begin": T0, "caller_no": "88881363"}, "call_result_caller"),
        ({"callee_no": "6123"}, "call_result_callee"),
        ({"begin": T0, "evaluation_value": "5"}, "call_result_evaluation"),
        ({"call_id": "1700000000-1"}, "call_result_pkey"),
    ],
)
def test_every_search_filter_has_its_index(planned: str, filters: dict, index: str) -> None:
    condition, args = call_result_condition(CallResultQuery(cc_id=1, vdn=1, **filters), "%s")
    with psycopg.connect(planned) as db:
        plan = db.execute(f"EXPLAIN SELECT count(*) FROM call_result WHERE {condition}", args).fetchall()
    assert index in " ".join(line for (line,) in plan)
