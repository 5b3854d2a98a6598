"""The distributed form (issue 15) measured against its same-run baselines:

1. Ingest through NATS JetStream into PostgreSQL: N synthetic events (bench/ingest.py's) through a node's
   `ClusterPipeline` in this process (decode, append to the stream with acks, the node's replica engine, the record
   writer's commits with the log position), timed until the records are stored, against the bare work on the same
   data: the same bodies published to a JetStream stream under the same message ids (acked, pipelined), and the same
   rows (log entries, call track, call results, agent operations) COPYed into PostgreSQL in the same batches.
2. Replica lag: events published at a fixed rate through node A; the time from the publish to the moment node B
   (another process, a `ccdata serve`) has applied it, against the time for a bare JetStream subscriber to receive
   the same messages (the transport alone).
3. Reads of `queryagentcalls` (CC-CMS, signed) with wrk against one `ccdata serve` node and against two nodes of one
   deployment (wrk on each, at the same time): the ratio, and the CPU seconds per request of the server processes.

Each run makes its own databases and streams (`ccdata_bench_cluster_*`, `ccdata-bench-*`) and removes them.

    .venv/bin/python -m bench.cluster [EVENTS]     # default 200,000; rewrites its section of docs/performance.md
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import os
import secrets
import statistics
import sys
import time
from collections.abc import AsyncIterator, Iterator

import msgspec
import nats
import psycopg
from nats.js import api

from ccdata.cluster.nats_log import MAX_PENDING_ACKS, NatsEventLog
from ccdata.cluster.pipeline import ClusterPipeline
from ccdata.domain.records import AgentOperation, CallResult, TrackRow
from ccdata.pipeline import DEFAULT_BATCH
from ccdata.sim.synthetic import synthetic_events
from ccdata.store.postgres import PostgresStore

ADMIN = os.environ.get("CCDATA_BENCH_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres")
NATS_URL = os.environ.get("CCDATA_BENCH_NATS", "nats://127.0.0.1:4222")
ROUNDS = 3


@contextlib.contextmanager
def database() -> Iterator[str]:
    """A new database of this run's own; its URL. Dropped afterwards."""
    name = f"ccdata_bench_cluster_{secrets.token_hex(4)}"
    with psycopg.connect(ADMIN, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield ADMIN.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with psycopg.connect(ADMIN, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextlib.asynccontextmanager
async def stream() -> AsyncIterator[str]:
    """A JetStream stream name of this run's own; the stream is deleted afterwards (if it was made)."""
    name = f"ccdata-bench-{secrets.token_hex(4)}"
    try:
        yield name
    finally:
        nc = await nats.connect(NATS_URL)
        with contextlib.suppress(nats.js.errors.NotFoundError):
            await nc.jetstream().delete_stream(name)
        await nc.close()


# --- 1. ingest ---


async def node_ingest(lines: list[bytes]) -> tuple[float, tuple[list, ...]]:
    """Seconds for one node to take `lines` (ingest answered: applied and recorded); the rows it stored."""
    async with stream() as name:
        with database() as url:
            store = PostgresStore(url, writer="bench")
            pipeline = ClusterPipeline(store, NatsEventLog(NATS_URL, name), lease=store)
            await pipeline.start()
            tasks = [asyncio.create_task(body()) for body in pipeline.background().values()]
            gc.collect()
            started = time.perf_counter()
            report = await pipeline.ingest_async(lines)
            seconds = time.perf_counter() - started
            assert report.accepted == len(lines), (report.accepted, report.reasons)
            assert store.position() == pipeline.seq
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await pipeline.stop()
            rows = stored_rows(url)
            store.close()
    return seconds, rows


def stored_rows(url: str) -> tuple[list, ...]:
    with psycopg.connect(url) as db:
        logged = db.execute("SELECT id, type, at, body FROM event_log ORDER BY seq").fetchall()
        tracks = db.execute(f"SELECT month, {', '.join(TrackRow._fields)} FROM call_track").fetchall()
        results = db.execute(f"SELECT {', '.join(CallResult._fields)} FROM call_result").fetchall()
        operations = db.execute(f"SELECT {', '.join(AgentOperation._fields)} FROM agent_operation").fetchall()
    return logged, tracks, results, operations


async def bare_ingest(lines: list[bytes], rows: tuple[list, ...]) -> float:
    """Seconds to publish the same bodies (acked, pipelined, DEFAULT_BATCH at a time) and COPY the same rows in the
    same number of transactions: the transport and the database without ccdata."""
    logged, tracks, results, operations = rows
    ids = [row[0] for row in logged]
    count = len(lines)
    batches = range(0, count, DEFAULT_BATCH)
    n_batches = len(batches)

    def part(items: list, n: int) -> list:
        per = -(-len(items) // n_batches)
        return items[n * per : (n + 1) * per]

    async with stream() as name:
        with database() as url:
            store = PostgresStore(url)  # the schema and the months' partitions, as the node had them
            store._ensure_months({r[0] for r in tracks})
            store.close()
            nc = await nats.connect(NATS_URL)
            js = nc.jetstream(publish_async_max_pending=MAX_PENDING_ACKS)
            await js.add_stream(api.StreamConfig(name=name, subjects=[f"{name}.events"],
                                                 storage=api.StorageType.FILE, duplicate_window=120.0))  # fmt: skip
            subject = f"{name}.events"
            with psycopg.connect(url) as db:
                started = time.perf_counter()
                seq = 0
                for n, start in enumerate(batches):
                    chunk = zip(ids[start : start + DEFAULT_BATCH], lines[start : start + DEFAULT_BATCH], strict=True)
                    futures = [  # no stall timeout: nats-py would switch tasks per message (see NatsEventLog)
                        await js.publish_async(subject, body, headers={"Nats-Msg-Id": event_id})
                        for event_id, body in chunk
                    ]
                    await asyncio.gather(*futures)
                    with db.transaction():
                        events = [(seq + i, *row) for i, row in enumerate(logged[start : start + DEFAULT_BATCH], 1)]
                        seq += len(events)
                        _copy(db, "event_log", ("seq", "id", "type", "at", "body"), events)
                        _copy(db, "call_track", ("month", *TrackRow._fields), part(tracks, n))
                        _copy(db, "call_result", CallResult._fields, part(results, n))
                        _copy(db, "agent_operation", AgentOperation._fields, part(operations, n))
                        db.execute("UPDATE record_position SET seq = %s WHERE id = 1", (seq,))
                seconds = time.perf_counter() - started
            await nc.close()
    return seconds


def _copy(conn: psycopg.Connection, table: str, columns: tuple[str, ...], rows: list) -> None:
    if rows:
        with conn.cursor().copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)


def ingest(count: int) -> dict:
    encoder = msgspec.json.Encoder()
    lines = [encoder.encode(event) for event in synthetic_events(count)]
    node_rates, bare_rates = [], []
    for _ in range(ROUNDS):
        seconds, rows = asyncio.run(node_ingest(lines))
        node_rates.append(count / seconds)
        bare_rates.append(count / asyncio.run(bare_ingest(lines, rows)))
        print(f"  ingest round: node {node_rates[-1]:,.0f} events/s, bare {bare_rates[-1]:,.0f}", flush=True)
    node, bare = statistics.median(node_rates), statistics.median(bare_rates)
    return {"events": count, "node_eps": node, "bare_eps": bare,
            "ratio": statistics.median(n / b for n, b in zip(node_rates, bare_rates, strict=True))}  # fmt: skip


if __name__ == "__main__":
    print(ingest(int(sys.argv[1]) if len(sys.argv) > 1 else 200_000))
