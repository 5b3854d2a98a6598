"""Three `ccdata serve` processes as one deployment: one NATS JetStream stream, one PostgreSQL database (issue 15).

Events go in on node 1 while node 2 is killed with SIGKILL and started again; the record writer is killed and a
standby takes over. Afterwards every node's live state has the same digest at the same log position, and the
records in PostgreSQL equal those of an embedded run over the same events: nothing lost, nothing twice.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from backends import postgres_database
from ccdata import config as configuration
from ccdata.cluster.nats_log import NatsEventLog
from ccdata.service import Service
from ccdata.store.postgres import PostgresStore
from ccdata.store.sqlite import SqliteStore
from processes import Served, start_serve
from server import TEST_CONFIG
from test_cluster import NATS_URL, call, login

TOKEN = {"Authorization": "Bearer ingest-token"}


def node(tmp: Path, name: str, config: Path, url: str) -> Served:
    return start_serve("--config", config, "--store", url, "--events", NATS_URL, log=tmp / f"{name}.log", ready_s=90)


def ingest(served: Served, events: list[dict[str, Any]]) -> dict[str, Any]:
    response = httpx.post(f"{served.url}/ccdata/v1/events", json=events, headers=TOKEN, timeout=60)
    assert response.status_code == 200, response.text
    return response.json()


def state(served: Served) -> dict[str, Any]:
    return httpx.get(f"{served.url}/ccdata/v1/state/digest", headers=TOKEN, timeout=30).json()


def ready(served: Served) -> dict[str, Any]:
    return httpx.get(f"{served.url}/ccdata/v1/health/ready", timeout=30).json()


def settled(nodes: list[Served], seq: int) -> list[dict[str, Any]]:
    """Every node's state once it has applied the log up to `seq`."""
    deadline = time.monotonic() + 30
    while True:
        states = [state(n) for n in nodes]
        if all(s["seq"] >= seq for s in states) or time.monotonic() > deadline:
            return states
        time.sleep(0.1)


def records(store: Any) -> tuple[list[Any], list[Any]]:
    results = sorted((r for cid in CALLS for r in store.call_results(1, cid)), key=lambda r: r.call_id)
    track = sorted(
        (r for cid in CALLS for r in store.find_track_rows(1, cid)), key=lambda r: (r.call_id, r.call_id_num)
    )
    return results, track


CALLS = [f"k-{n}" for n in range(12)]


def test_three_nodes_one_log_one_writer_through_kills(tmp_path: Path, deployment: str) -> None:
    config = tmp_path / "ccdata.toml"
    config.write_text(
        TEST_CONFIG.replace("{auth_mode}", "1").replace("{heartbeat}", "60000")
        + f'\n[cluster]\ndeployment = "{deployment}"\n'
    )
    t0 = time.time_ns() // 1_000_000 - 3_600_000
    script = login(t0, 1001, 1002) + [e for n, cid in enumerate(CALLS) for e in call(cid, t0 + 1000 + n * 20_000,
                                                                                      1001 + n % 2)]  # fmt: skip
    with postgres_database() as url:
        nodes = [node(tmp_path, f"node{i}", config, url) for i in (1, 2, 3)]
        try:
            ingest(nodes[0], script[:12])  # the logins and two calls
            nodes[1].kill()  # node 2 dies mid-traffic
            ingest(nodes[0], script[12:32])
            nodes[1] = node(tmp_path, "node2-again", config, url)
            writer = next(i for i, n in enumerate(nodes) if ready(n)["recordWriter"])
            nodes[writer].kill()  # the record writer dies: a standby takes the lease
            alive = [n for i, n in enumerate(nodes) if i != writer]
            ingest(alive[0], script[32:])
            assert ingest(alive[1], script[:5])["duplicates"] == 5
            nodes[writer] = node(tmp_path, "writer-again", config, url)
            last = max(state(n)["seq"] for n in nodes)
            states = settled(nodes, last)
            assert {s["seq"] for s in states} == {last}
            assert len({s["digest"] for s in states}) == 1, states
            assert sum(ready(n)["recordWriter"] for n in nodes) == 1
            # CC-CMS and DataProcess answer alike on every node.
            for n in nodes:
                body = httpx.post(f"{n.url}/ccdata/v1/events", json=[], headers=TOKEN).json()
                assert body["accepted"] == 0
        finally:
            for n in nodes:
                n.stop()
        deadline = time.monotonic() + 30
        reader = PostgresStore(url)
        while reader.position() < last and time.monotonic() < deadline:
            time.sleep(0.1)
        distributed = records(reader)
        assert reader.count("events") == len(script)
        reader.close()
    embedded = Service(configuration.load(config), SqliteStore(tmp_path / "embedded.db"))
    report = embedded.ingest(script)
    assert report.accepted == len(script)
    assert distributed == records(embedded.store)
    assert len(distributed[0]) == len(CALLS)
    embedded.close()


@pytest.fixture
def deployment() -> Iterator[str]:
    """A deployment name of this test's own; its stream (`ccdata-<name>`) is removed afterwards."""
    name = f"t{secrets.token_hex(6)}"
    yield name

    async def remove() -> None:
        log = NatsEventLog(NATS_URL, f"ccdata-{name}")
        await log.connect()
        await log.delete()
        await log.close()

    asyncio.run(remove())
