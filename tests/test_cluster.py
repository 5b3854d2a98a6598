"""The distributed form (issue 15): nodes replicating one NATS JetStream event log, one record writer at a time.

Each test run has its own stream (conftest's `stream`, removed afterwards). Two nodes run in this process over the
real NATS server and one record store; the multi-process test with PostgreSQL is in test_cluster_processes.
"""

from __future__ import annotations

import asyncio
import threading
import time
from pathlib import Path
from typing import Any

from backends import NATS_URL
from ccdata import config as configuration
from ccdata.cluster.nats_log import NatsEventLog
from ccdata.service import Service
from ccdata.store.sqlite import SqliteStore
from server import TEST_CONFIG, Node


class ThreadLease:
    """One writer among the nodes of this process."""

    def __init__(self, lock: threading.Lock) -> None:
        self.lock = lock
        self.held = False

    def try_acquire(self) -> bool:
        self.held = self.held or self.lock.acquire(blocking=False)
        return self.held

    def release(self) -> None:
        if self.held:
            self.held = False
            self.lock.release()


def config(tmp: Path) -> configuration.Config:
    path = tmp / "ccdata.toml"
    path.write_text(TEST_CONFIG.replace("{auth_mode}", "1").replace("{heartbeat}", "60000"))
    return configuration.load(path)


async def node(tmp: Path, stream: str, store: SqliteStore, lock: threading.Lock) -> Node:
    log = NatsEventLog(NATS_URL, stream)
    await log.connect()
    return Node(Service(config(tmp), store, event_log=log, lease=ThreadLease(lock)))


def call(call_id: str, at: int, agent: int = 1001) -> list[dict[str, Any]]:
    head = {"ccId": 1, "vdn": 1, "callId": call_id}
    return [
        {"id": f"{call_id}-1", "type": "call.arrive", "at": at, **head, "caller": "139", "called": "650550"},
        {"id": f"{call_id}-2", "type": "call.queue", "at": at + 1000, **head, "skillId": 7},
        {"id": f"{call_id}-3", "type": "call.alert", "at": at + 2000, **head, "agentId": agent},
        {"id": f"{call_id}-4", "type": "call.answer", "at": at + 3000, **head, "agentId": agent},
        {"id": f"{call_id}-5", "type": "call.release", "at": at + 9000, **head, "by": "customer"},
    ]


def login(at: int, *agents: int) -> list[dict[str, Any]]:
    return [{"id": f"login-{a}-{at}", "type": "agent.login", "at": at, "ccId": 1, "vdn": 1, "agentId": a,
             "skills": [7]} for a in agents]  # fmt: skip


def test_nodes_replicate_the_log_and_one_writer_stores_the_records(tmp_path: Path, stream: str) -> None:
    asyncio.run(replicate_and_write(tmp_path, stream))


async def replicate_and_write(tmp_path: Path, stream: str) -> None:
    store, lock = SqliteStore(tmp_path / "records.db"), threading.Lock()
    one, two = await node(tmp_path, stream, store, lock), await node(tmp_path, stream, store, lock)
    await one.start()
    await two.start()
    try:
        t0 = time.time_ns() // 1_000_000 - 3_600_000
        report = await one.service.ingest_async(login(t0, 1001, 1002) + call("c-1", t0 + 1000))
        assert (report.accepted, report.rejected, report.duplicates) == (7, 0, 0)
        # Read-your-writes on the node that took them; the other node follows the same log.
        assert one.engine.agent(1, 1001).last_call.call_id == "c-1"
        await two.service.pipeline._applied(one.service.pipeline.seq)
        assert two.engine.state() == one.engine.state()
        # Records are stored once, by whichever node holds the lease, before the ingest is answered.
        assert [r.call_id for r in store.call_results(1, "c-1")] == ["c-1"]
        assert store.position() == one.service.pipeline.seq

        # The same events through the other node: duplicates; an id reused for another event: a conflict.
        again = await two.service.ingest_async(call("c-1", t0 + 1000))
        assert (again.accepted, again.duplicates) == (0, 5)
        reused = call("c-2", t0 + 20_000)
        reused[0]["id"] = "c-1-1"
        conflict = await two.service.ingest_async(reused[:1])
        assert [n.code for n in conflict.notes] == ["id_conflict"]
        # An event the engine refuses is refused on every node alike and stored once, with its reason.
        refused = await two.service.ingest_async([{**call("c-9", t0)[3], "id": "late-answer"}])
        assert [n.code for n in refused.notes] == ["unknown_call"]
        await one.service.pipeline._applied(two.service.pipeline.seq)
        assert one.engine.rejections["unknown_call"] == two.engine.rejections["unknown_call"] == 1

        # The writer goes away; the other node takes the lease and goes on from the stored position.
        writer, standby = (one, two) if one.service.pipeline.writer else (two, one)
        await writer.stop()
        await standby.service.ingest_async(call("c-3", t0 + 40_000, agent=1002))
        assert standby.service.pipeline.writer
        assert [r.call_id for r in store.call_results(1, "c-3")] == ["c-3"]
        assert store.count("results") == 2  # c-1 and c-3, each once
        # The agent operation log, derived by every node alike, is stored once too: each agent's talk, and the
        # idle period its wrap-up ended, once.
        day = (t0, t0 + 3_600_000)
        for agent in (1001, 1002):
            kinds = [o.operate_type for o in store.agent_operations(1, agent, *day)]
            assert sorted(kinds) == [1, 2, 4], (agent, kinds)
        assert [r.event_id for r in store.rejected_inputs()].count("late-answer") == 1
    finally:
        for each in (one, two):
            await each.stop()
        store.close()


def test_a_new_node_starts_from_the_central_snapshot_and_the_log(tmp_path: Path, stream: str) -> None:
    asyncio.run(start_late(tmp_path, stream))


async def start_late(tmp_path: Path, stream: str) -> None:
    store, lock = SqliteStore(tmp_path / "records.db"), threading.Lock()
    first = await node(tmp_path, stream, store, lock)
    await first.start()
    t0 = time.time_ns() // 1_000_000 - 3_600_000
    try:
        await first.service.ingest_async(login(t0, 1001) + call("c-1", t0 + 1000))
        await first.service.pipeline._snapshot()  # as the record writer does when one is due
        await first.service.ingest_async(call("c-2", t0 + 20_000))
        late = await node(tmp_path, stream, store, lock)
        await late.start()
        assert late.service.pipeline.snapshot_seq == 6
        assert late.service.pipeline.replayed == 5  # only the log after the snapshot
        assert late.engine.state() == first.engine.state()
        await late.stop()
    finally:
        await first.stop()
        store.close()
