"""Two cluster nodes on one NATS stream and one PostgreSQL database, each with a store of its own (as on two
machines), the record writer's lease being the PostgreSQL advisory lock of `PostgresStore`."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from backends import postgres_database
from ccdata.cluster.nats_log import NatsEventLog
from ccdata.service import Service
from ccdata.store.postgres import PostgresStore
from server import Node
from test_cluster import NATS_URL, call, config, login


async def pg_node(tmp: Path, stream_name: str, url: str) -> Node:
    log = NatsEventLog(NATS_URL, stream_name)
    await log.connect()
    store = PostgresStore(url)
    return Node(Service(config(tmp), store, event_log=log, lease=store))


def test_a_standby_node_takes_the_postgresql_lease_and_writes_what_is_missing(
    tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    stream_name = request.getfixturevalue("stream")  # conftest's: a NATS stream of this test's own
    with postgres_database() as url:
        asyncio.run(take_over(tmp_path, stream_name, url))


async def take_over(tmp_path: Path, stream_name: str, url: str) -> None:
    one, two = await pg_node(tmp_path, stream_name, url), await pg_node(tmp_path, stream_name, url)
    await one.start()
    await two.start()
    reader = PostgresStore(url)
    try:
        t0 = time.time_ns() // 1_000_000 - 3_600_000
        report = await one.service.ingest_async(login(t0, 1001, 1002) + call("c-1", t0 + 1000))
        assert (report.accepted, report.rejected) == (7, 0)
        assert [r.call_id for r in reader.call_results(1, "c-1")] == ["c-1"]
        assert reader.position() == one.service.pipeline.seq
        writers = [n for n in (one, two) if n.service.pipeline.writer]
        assert len(writers) == 1  # the advisory lock admits one
        writer, standby = (one, two) if writers[0] is one else (two, one)
        await writer.stop()  # its store closes: the lease goes with its connection
        await standby.service.ingest_async(call("c-3", t0 + 40_000, agent=1002))
        assert standby.service.pipeline.writer
        assert [r.call_id for r in reader.call_results(1, "c-3")] == ["c-3"]
        assert reader.count("results") == 2 and reader.count("events") == 12  # each once
        assert reader.position() == standby.service.pipeline.seq
    finally:
        reader.close()
        for each in (one, two):
            await each.stop()
