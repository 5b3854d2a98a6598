"""The push in the distributed form: stream messages carry the shared log's positions on every node, and each
webhook delivery is stored once, by the record writer, with the shared log's position."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from pathlib import Path

from ccdata import config as configuration
from ccdata.api.push import Push
from ccdata.api.stream import StreamHub, Subscriber
from ccdata.cluster.nats_log import NatsEventLog
from ccdata.domain.push import KINDS
from ccdata.service import Service
from ccdata.store.sqlite import SqliteStore
from server import TEST_CONFIG, Node
from test_cluster import NATS_URL, ThreadLease, call, login

HOOK = '\n[[webhooks]]\nname = "crm"\nurl = "http://127.0.0.1:9/"\nsecret = "12345678"\n'


async def node(tmp: Path, name: str, store: SqliteStore, lock: threading.Lock) -> Node:
    log = NatsEventLog(NATS_URL, name)
    await log.connect()
    text = TEST_CONFIG.replace("{auth_mode}", "1").replace("{heartbeat}", "60000") + HOOK
    return Node(Service(configuration.parse(text), store, event_log=log, lease=ThreadLease(lock)))


def test_stream_positions_and_webhook_deliveries_follow_the_shared_log(tmp_path: Path, stream: str) -> None:
    asyncio.run(follow_the_shared_log(tmp_path, stream))


async def follow_the_shared_log(tmp_path: Path, name: str) -> None:
    store, lock = SqliteStore(tmp_path / "records.db"), threading.Lock()
    one, two = await node(tmp_path, name, store, lock), await node(tmp_path, name, store, lock)
    hubs = [StreamHub(each.service, Push(each.service)) for each in (one, two)]
    clients = [Subscriber("wall", frozenset({1}), frozenset(KINDS), 1000) for _ in hubs]
    for hub, client in zip(hubs, clients, strict=True):
        hub.subscribe(client, None)
    await one.start()
    await two.start()
    try:
        t0 = time.time_ns() // 1_000_000 - 3_600_000
        await one.service.ingest_async(login(t0, 1001) + call("c-1", t0 + 1000) + call("c-2", t0 + 20_000))
        await two.service.pipeline._applied(one.service.pipeline.seq)
        seen = [[(e.position, e.kind, e.data) for e in client.waiting] for client in clients]
        assert seen[0] == seen[1] and len(seen[0]) > 10  # the same messages, at the same positions, on both nodes
        results = [position for position, kind, _ in seen[0] if kind == "result"]
        with sqlite3.connect(tmp_path / "records.db") as db:
            stored = db.execute("SELECT seq, kind FROM webhook_outbox ORDER BY id").fetchall()
        assert stored == [(seq, "result") for seq, _ in results]  # once each, with the shared log's position
    finally:
        for each in (one, two):
            await each.stop()
        store.close()
