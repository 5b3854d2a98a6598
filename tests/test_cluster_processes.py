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
import msgspec
import pytest

from backends import REDIS_URL, postgres_database, redis_prefix
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


def state(served: Served, token: dict[str, str] = TOKEN) -> dict[str, Any]:
    return httpx.get(f"{served.url}/ccdata/v1/state/digest", headers=token, timeout=30).json()


def ready(served: Served) -> dict[str, Any]:
    return httpx.get(f"{served.url}/ccdata/v1/health/ready", timeout=30).json()


def settled(nodes: list[Served], seq: int, token: dict[str, str] = TOKEN) -> list[dict[str, Any]]:
    """Every node's state once it has applied the log up to `seq`."""
    deadline = time.monotonic() + 30
    while True:
        states = [state(n, token) for n in nodes]
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


# --- a workbench across nodes while the simulator runs ---

DEMO_CONFIG = (Path(__file__).parents[1] / "src" / "ccdata" / "default.toml").read_text()
SIM_TOKEN = {"Authorization": "Bearer ccdata-demo-ingest"}
AGENT = 1901  # an interactive agent of the demo contact center: its calls ring until a workbench answers


class Workbench:
    """A CC-Gateway client that signs in on one node and then uses whichever node it is pointed at, following
    `Set-GUID` as Huawei's demo does; it keeps every agent event it polls."""

    def __init__(self, password: str) -> None:
        self.password = password
        self.guid = ""
        self.events: list[dict[str, Any]] = []

    def call(self, served: Served, method: str, path: str, **kw: Any) -> dict[str, Any]:
        response = httpx.request(method, f"{served.url}/agentgateway/resource{path}", headers={"Guid": self.guid},
                                 timeout=30, **kw)  # fmt: skip
        if "Set-GUID" in response.headers:
            self.guid = response.headers["Set-GUID"].removeprefix("JSESSIONID=")
        return response.json()

    def sign_in(self, served: Served) -> None:
        body = {"password": self.password, "status": 4, "phonenum": f"6{AGENT}", "autoanswer": False}
        assert self.call(served, "PUT", f"/onlineagent/{AGENT}", json=body)["retcode"] == "0"

    def poll_until(self, served: Served, event_type: str, call_id: str | None = None) -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            answer = self.call(served, "GET", f"/agentevent/{AGENT}")
            assert answer["retcode"] == "0", answer
            if (event := answer["event"]) is not None:
                self.events.append(event)
                content = event["content"]
                called = content.get("callid") if isinstance(content, dict) else content
                if event["eventType"] == event_type and call_id in (None, called):
                    return
        raise AssertionError(f"no {event_type} for {call_id} within 30 s; got {self.events[-5:]}")

    def drain(self, served: Served) -> None:
        while (event := self.call(served, "GET", f"/agentevent/{AGENT}")["event"]) is not None:
            self.events.append(event)


def handle_a_call(bench: Workbench, simulator: Served, poll: Served, query: Served) -> None:
    """The simulator offers a call; the workbench answers and releases it on `poll`; `query` shows it meanwhile."""
    offered = httpx.post(f"{simulator.url}/ccdata/v1/simulator/ring", json={"agentId": AGENT}, headers=SIM_TOKEN,
                         timeout=30)  # fmt: skip
    assert offered.status_code == 202, offered.text
    call_id = offered.json()["callId"]
    bench.poll_until(poll, "AgentEvent_Ringing", call_id)
    assert bench.call(poll, "PUT", f"/voicecall/{AGENT}/answer")["retcode"] == "0"
    bench.poll_until(poll, "AgentEvent_Talking", call_id)
    assert bench.call(query, "GET", f"/calldata/{AGENT}/callinfo")["result"]["callid"] == call_id
    assert bench.call(poll, "DELETE", f"/voicecall/{AGENT}/release")["retcode"] == "0"
    bench.poll_until(poll, "AgentState_Ready")


def owed_agent_events(config: Path, bodies: list[bytes], db: Path) -> list[dict[str, Any]]:
    """The agent events the log owes the workbench: an embedded engine applies the logged events one at a time
    and derives them, from the agent's last sign-in through the gateway."""
    from ccdata.api.gateway_events import AgentEventFeed
    from ccdata.domain import events as ev

    service = Service(configuration.load(config), SqliteStore(db))
    feed = AgentEventFeed(lambda: service.engine, auto_answer=False)
    owed: list[dict[str, Any]] = []

    def derive(item: Any) -> None:
        if isinstance(item.event, ev.AgentLogin) and item.event.agent_id == AGENT and item.event.workbench:
            owed.clear()
        owed.extend(event for agent, event in feed.events(item.event, item.records) if agent == AGENT)

    service.subscribe(derive)
    for body in bodies:
        assert service.ingest([msgspec.json.decode(body)]).accepted == 1
    service.close()
    return owed


def test_a_workbench_signs_in_on_one_node_and_polls_others_through_kills(
    tmp_path: Path, deployment: str, redis_keys: str
) -> None:
    config = tmp_path / "ccdata.toml"
    text = DEMO_CONFIG.replace("guid_interval_ms = 60000", "guid_interval_ms = 2000")
    text = text.replace("guid_timeout_ms = 120000", "guid_timeout_ms = 4000").replace(
        "poll_wait_ms = 10000", "poll_wait_ms = 500"
    )
    config.write_text(text + f'\n[cluster]\ndeployment = "{redis_keys}"\n')
    bench = Workbench(next(a.password for a in configuration.load(config).agents if a.id == AGENT))
    with postgres_database() as url:

        def start(name: str, *extra: str) -> Served:
            return start_serve("--config", config, "--store", url, "--events", NATS_URL, "--sessions", REDIS_URL,
                               *extra, log=tmp_path / f"{name}.log", ready_s=90)  # fmt: skip

        n3 = start("node3")  # the first node takes the record writer's lease
        n1 = start("node1", "--simulate", "--speed", "2")
        n2 = start("node2")
        nodes = [n1, n2, n3]
        try:
            bench.sign_in(n1)
            handle_a_call(bench, n1, poll=n2, query=n3)
            n2.kill()  # mid-traffic: the workbench goes on through node 3, as a load balancer would send it
            handle_a_call(bench, n1, poll=n3, query=n1)
            nodes[1] = n2 = start("node2-again")
            handle_a_call(bench, n1, poll=n2, query=n3)
            writer = next(i for i, n in enumerate(nodes) if ready(n)["recordWriter"])
            assert writer == 2, "node 3 started first and holds the lease"
            n3.kill()  # the record writer dies: a standby takes the lease
            handle_a_call(bench, n1, poll=n2, query=n1)
            nodes[2] = n3 = start("node3-again")
            handle_a_call(bench, n1, poll=n3, query=n2)
            n1.stop()  # the simulator ends; the node comes back without it so that the log stops growing
            nodes[0] = n1 = start("node1-again")
            bench.drain(n2)
            last = max(state(n, SIM_TOKEN)["seq"] for n in nodes)
            states = settled(nodes, last, SIM_TOKEN)
            assert {s["seq"] for s in states} == {last}
            assert len({s["digest"] for s in states}) == 1, states
            assert sum(ready(n)["recordWriter"] for n in nodes) == 1
            bench.drain(n3)
        finally:
            for n in nodes:
                n.stop()
        reader = PostgresStore(url)
        deadline = time.monotonic() + 30
        while reader.position() < last and time.monotonic() < deadline:
            time.sleep(0.1)
        bodies = [body for _, body in reader.events_after(0)]
        call_ids = {msgspec.json.decode(b).get("callId") for b in bodies} - {None}
        distributed = sorted(r for cid in call_ids for r in reader.call_results(1, cid))
        distributed_track = sorted(r for cid in call_ids for r in reader.find_track_rows(1, cid))
        reader.close()
    assert len(bodies) == len({msgspec.json.decode(b)["id"] for b in bodies})  # no event twice
    owed = owed_agent_events(config, bodies, tmp_path / "embedded.db")
    assert [e["eventType"] for e in bench.events] == [e["eventType"] for e in owed]
    assert bench.events == owed  # every agent event once, in order, whichever node delivered it
    embedded = SqliteStore(tmp_path / "embedded.db")
    assert sorted(r for cid in call_ids for r in embedded.call_results(1, cid)) == distributed
    assert sorted(r for cid in call_ids for r in embedded.find_track_rows(1, cid)) == distributed_track
    assert sum(e["eventType"] == "AgentEvent_Talking" for e in bench.events) == 5
    embedded.close()


@pytest.fixture
def redis_keys(deployment: str) -> Iterator[str]:
    """The deployment's Redis keys (its sessions and agent-event queues), removed afterwards."""
    with redis_prefix(deployment):
        yield deployment
