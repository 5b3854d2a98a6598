"""Call-result search over N call results in PostgreSQL: p50/p99 through the HTTP API of a server on
`--store postgresql://…` against the same SQL run directly on the store (`PostgresStore.search_call_results`).

The data set is bench/search.py's (N results over 100 days, callers from a million numbers, 30 % evaluated,
track rows for the last month), loaded by COPY into the database `ccdata_bench_search_<N>` with the secondary
indexes built after the load; it is kept and reused while it holds N results.

    .venv/bin/python -m bench.postgres [N]        # $CCDATA_BENCH_POSTGRES: the server (default: local)
"""

from __future__ import annotations

import json
import os
import sys
import time

import psycopg

from bench.common import OUT, server
from bench.search import DAY, DAYS, QUERIES, START, generated_days, run_queries
from ccdata.domain.records import CallResult, TrackRow, month_of
from ccdata.store.postgres import PostgresStore

ADMIN = os.environ.get("CCDATA_BENCH_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres")


def database_url(count: int) -> str:
    return ADMIN.rsplit("/", 1)[0] + f"/ccdata_bench_search_{count}"


def build(count: int) -> str:
    """The database of `count` results (made, or found complete from an earlier run); its URL."""
    url, name = database_url(count), f"ccdata_bench_search_{count}"
    with psycopg.connect(ADMIN, autocommit=True) as admin:
        if admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            store = PostgresStore(url)
            built = store.meta("bench_built")
            store.close()
            if built == str(count):
                return url
            admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')
    store = PostgresStore(url)
    last_month = month_of(START + (DAYS - 1) * DAY)
    started = time.perf_counter()
    with store.bulk_transaction({last_month}) as conn:
        conn.execute("SET LOCAL maintenance_work_mem = '512MB'")
        indexes = _drop_secondary_indexes(conn)  # built once after the load: many times faster than row by row
        for day, (results, tracks) in enumerate(generated_days(count)):
            _copy(conn, "call_result", CallResult._fields, results)
            _copy(conn, "call_track", ("month", *TrackRow._fields), [(int(last_month), *t) for t in tracks])
            print(f"\rloading {name}: day {day + 1}/{DAYS}, {time.perf_counter() - started:.0f} s", end="", flush=True)
        print(f"\nindexing {name} …", flush=True)
        for definition in indexes:
            conn.execute(definition)
    with psycopg.connect(url, autocommit=True) as db:
        db.execute("VACUUM ANALYZE")  # the visibility map: index-only scans for counts
    store.set_meta("bench_built", str(count))
    store.close()
    print(f"built {name} in {time.perf_counter() - started:.0f} s", flush=True)
    return url


def _drop_secondary_indexes(conn: psycopg.Connection) -> list[str]:
    rows = conn.execute(
        "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'call_result' AND indexname != 'call_result_pkey'"
    ).fetchall()
    for name, _ in rows:
        conn.execute(f"DROP INDEX {name}")
    return [definition for _, definition in rows]


def _copy(conn: psycopg.Connection, table: str, columns: tuple[str, ...], rows: list[tuple]) -> None:
    with conn.cursor().copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def main(count: int = 10_000_000) -> dict[str, dict]:
    url = build(count)
    store = PostgresStore(url)
    with psycopg.connect(url) as db:
        samples = db.execute(
            "SELECT call_id, caller_no, arrived_at FROM call_result TABLESAMPLE SYSTEM (1) ORDER BY random() LIMIT %s",
            (QUERIES,),
        ).fetchall()
        tracked = db.execute(
            "SELECT call_id, arrived_at FROM call_track TABLESAMPLE SYSTEM (1) ORDER BY random() LIMIT %s", (QUERIES,)
        ).fetchall()
    with server(url) as served:
        results = run_queries(served, store, samples, tracked)
    store.close()
    return {"count": count, "queries": results}


if __name__ == "__main__":
    figures = main(int(sys.argv[1]) if len(sys.argv) > 1 else 10_000_000)
    (OUT / "postgres-search.json").write_text(json.dumps(figures, indent=1))
    for name, f in figures["queries"].items():
        print(
            f"{name:22} API p50 {f['api_p50_ms']:.2f} ms p99 {f['api_p99_ms']:.2f} ms | "
            f"SQL p50 {f['sql_p50_ms']:.2f} ms p99 {f['sql_p99_ms']:.2f} ms | overhead {f['overhead']:.0%}"
        )
