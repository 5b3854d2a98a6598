"""CC-Gateway sessions across a restart: a real server on a loopback port, stopped and started again on the same
store (the SQLite file; the distributed mode's database, stream and Redis prefix). The test config: GUID interval
1.5 s, GUID timeout 3 s, long-poll wait 0.3 s."""

from __future__ import annotations

import logging
import sqlite3
import time
from pathlib import Path
from typing import Any

import msgspec
import pytest
import redis

from backends import REDIS_URL, current_mode, distributed_place
from ccdata.api import gateway as gateway_api
from ccdata.domain import events
from ccdata.pipeline import Committed
from ccdata.store.ports import StoredSession
from server import Api, offline_service, running_server, sessions_at, sql_at


def stored(tmp: Path) -> dict[int, StoredSession]:
    """The sessions stored, read on a connection of our own (what a restart would load)."""
    store = sessions_at(tmp)
    try:
        return {s.agent_id: s for s in store.load_sessions()}
    finally:
        store.close()


def queued(tmp: Path, agent_id: int) -> list[str]:
    """The types of the agent events queued in the session store for the agent, in key order, read as they lie
    there: the SQLite table, or the agent's sorted set in Redis (its members are "<key> <event JSON>")."""
    if current_mode() == "distributed":
        client = redis.Redis.from_url(REDIS_URL)
        members = client.zrange(f"{distributed_place(str(tmp)).prefix}:gateway-events:{agent_id}", 0, -1)
        client.close()
        bodies = [member.partition(b" ")[2] for member in members]
    else:
        with sqlite3.connect(tmp / "server.db") as db:
            rows = db.execute("SELECT event FROM gateway_agent_event WHERE agent_id = ? ORDER BY key", (agent_id,))
            bodies = [event for (event,) in rows]
    return [msgspec.json.decode(body)["eventType"] for body in bodies]


def logged(tmp: Path, agent_id: int) -> list[str]:
    """The agent's sign-in and sign-out events in the log, in order."""
    rows = sql_at(tmp, "SELECT type, body FROM event_log WHERE type LIKE 'agent.log%' ORDER BY seq")
    return [t for t, body in rows if msgspec.json.decode(bytes(body))["agentId"] == agent_id]


def call_for(agent_id: int, call_id: str, answered: bool = False) -> list[dict[str, Any]]:
    at = time.time_ns() // 1_000_000 - 60_000
    head = {"ccId": 1, "vdn": 1, "callId": call_id}
    script = [
        {"id": f"{call_id}-a", "type": "call.arrive", "at": at, **head, "caller": "1", "called": "2"},
        {"id": f"{call_id}-b", "type": "call.alert", "at": at + 1, **head, "agentId": agent_id},
    ]
    if answered:
        script.append({"id": f"{call_id}-c", "type": "call.answer", "at": at + 2, **head, "agentId": agent_id})
    return script


def test_a_polling_workbench_keeps_its_guid_and_gets_each_event_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with running_server(tmp_path, auth_mode=1) as running:
        api = Api(running)
        assert api.sign_in(1001).json()["retcode"] == "0"
        guid = api.guids[1001]
        assert api.poll(1001)["eventType"] == "AgentOther_InService"
        api.ingest_ok(call_for(1001, "c-1"))
        time.sleep(0.2)  # queued events are written through by the store's thread: on disk while the server runs
        assert queued(tmp_path, 1001) == ["AgentState_Ready", "AgentEvent_Ringing"]
        assert api.poll(1001)["eventType"] == "AgentState_Ready"
    # From here on nothing is written behind during a run, only at shutdown: the next runs test that last flush.
    monkeypatch.setattr(gateway_api, "FLUSH_INTERVAL_S", 60.0)
    with running_server(tmp_path, auth_mode=1) as running:
        api = Api(running)
        api.guids[1001] = guid
        assert api.sign_in(1001).json()["retcode"] == "100-002"  # and polling agrees: the session is back
        assert api.events(1001) == ["AgentEvent_Ringing"]
        assert api.guids[1001] == guid
        assert api.call_info(1001)["result"]["callid"] == "c-1"
    with running_server(tmp_path, auth_mode=1) as running:
        api = Api(running)
        api.guids[1001] = guid
        assert api.poll(1001) is None  # delivered before the last restart: not again
        api.ingest_ok([{"id": "r-1", "type": "call.release", "at": time.time_ns() // 1_000_000, "ccId": 1,
                        "vdn": 1, "callId": "c-1", "by": "customer"}])  # fmt: skip
        assert api.gateway("DELETE", "/onlineagent/1001/logout", 1001).json()["retcode"] == "0"
        assert 1001 not in stored(tmp_path)  # written through before the answer
        assert api.sign_in(1001).json()["retcode"] == "0"


def test_a_dynamic_guid_keeps_rotating_across_a_restart(tmp_path: Path) -> None:
    with running_server(tmp_path) as running:
        api = Api(running)
        signed_in = time.monotonic()
        api.sign_in(1001)
        first = api.guids[1001]
        time.sleep(1.6)  # past guid_interval_ms
        second = api.gateway("GET", "/agentevent/1001", 1001).headers["set-guid"].removeprefix("JSESSIONID=")
        rotated = time.monotonic()
        assert stored(tmp_path)[1001].guid == second  # written through with the rotation
    with running_server(tmp_path) as running:
        api = Api(running)
        assert time.monotonic() - signed_in < 2.8, "the restart took too long to check the grace period"
        assert api.gateway("GET", "/calldata/1001/callinfo", 1001, guid=second).json()["retcode"] == "0"
        assert api.gateway("GET", "/calldata/1001/callinfo", 1001, guid=first).json()["retcode"] == "0"  # grace
        time.sleep(max(0.0, signed_in + 3.2 - time.monotonic()))  # the first GUID is now past guid_timeout_ms
        assert api.gateway("GET", "/calldata/1001/callinfo", 1001, guid=first).json()["retcode"] == "000-003"
        time.sleep(max(0.0, rotated + 1.6 - time.monotonic()))
        third = api.gateway("GET", "/agentevent/1001", 1001, guid=second).headers["set-guid"]
        assert third.removeprefix("JSESSIONID=") not in (first, second)


def test_a_heartbeat_that_lapsed_while_down_signs_the_agent_out_at_start(tmp_path: Path) -> None:
    with running_server(tmp_path, heartbeat_ms=1000) as running:
        api = Api(running)
        api.sign_in(1001)
        api.sign_in(1002)
        api.ingest_ok(call_for(1002, "c-2", answered=True))
        api.poll(1001)
        api.poll(1002)
    time.sleep(1.2)  # longer than heartbeat_timeout_ms: both workbenches lost their heartbeat
    with running_server(tmp_path, heartbeat_ms=1000) as running:
        api = Api(running)
        # At once, before the sweeper's first tick: the start signed 1001 out by an event.
        assert not running.service.engine.agent(1, 1001).signed_in
        assert logged(tmp_path, 1001) == ["agent.login", "agent.logout"]
        assert api.gateway("GET", "/agentevent/1001", 1001).json()["retcode"] == "100-006"
        # 1002 is on a call: its sign-out waits for the call's end, and its session stays stored until then.
        assert running.service.engine.agent(1, 1002).signed_in
        assert api.gateway("GET", "/agentevent/1002", 1002).json()["retcode"] == "100-006"
        assert 1001 not in stored(tmp_path) and 1002 in stored(tmp_path)
        api.ingest_ok([{"id": "r-2", "type": "call.release", "at": time.time_ns() // 1_000_000, "ccId": 1,
                        "vdn": 1, "callId": "c-2", "by": "customer"}])  # fmt: skip
        deadline = time.monotonic() + 3
        while running.service.engine.agent(1, 1002).signed_in and time.monotonic() < deadline:
            time.sleep(0.05)
        running.records_current()  # a cluster node stores what it applied a write later
        assert logged(tmp_path, 1002) == ["agent.login", "agent.logout"]
        time.sleep(0.1)
        assert stored(tmp_path) == {}
        assert api.sign_in(1001).json()["retcode"] == "0"


def test_a_stored_session_whose_agent_is_not_signed_in_is_dropped_at_start(tmp_path: Path) -> None:
    with running_server(tmp_path, auth_mode=1) as running:
        api = Api(running)
        api.sign_in(1001)
        guid = api.guids[1001]
    # While the server is down, a feed signs 1001 out; and 1002's session was stored but its agent.login never
    # committed (a crash between the two).
    with offline_service(tmp_path) as service:
        assert service.emit("agent.logout", 1, agentId=1001) is None
    orphans = sessions_at(tmp_path)
    orphans.put_sessions([StoredSession(1002, 1, "orphan.AgentGateway0", 1, time.time_ns() // 1_000_000)])
    orphans.close()
    assert set(stored(tmp_path)) == {1001, 1002}
    with running_server(tmp_path, auth_mode=1) as running:
        api = Api(running)
        assert stored(tmp_path) == {}
        assert api.gateway("GET", "/agentevent/1001", 1001, guid=guid).json()["retcode"] == "100-006"
        assert api.gateway("GET", "/agentevent/1002", 1002, guid="orphan.AgentGateway0").json()["retcode"] == "100-006"
        assert api.sign_in(1001).json()["retcode"] == "0"
        assert api.sign_in(1002).json()["retcode"] == "0"
        assert logged(tmp_path, 1002) == ["agent.login"]


def test_a_sign_in_is_stored_before_its_login_is_committed(tmp_path: Path) -> None:
    with running_server(tmp_path, auth_mode=1) as running:
        api = Api(running)
        at_commit: dict[int, dict[int, str]] = {}

        def look(item: Committed) -> None:
            if isinstance(item.event, events.AgentLogin):
                at_commit[item.event.agent_id] = {a: s.guid for a, s in stored(tmp_path).items()}

        running.service.subscribe(look)
        assert api.sign_in(1001).json()["retcode"] == "0"
        assert at_commit[1001] == {1001: api.guids[1001]}
        # An agent signed in by another source (a feed, the simulator) has no gateway session, and keeps none.
        api.ingest_ok([{"id": "l-3", "type": "agent.login", "at": time.time_ns() // 1_000_000, "ccId": 1,
                        "vdn": 1, "agentId": 1003, "skills": [7]}])  # fmt: skip
    with running_server(tmp_path, auth_mode=1) as running:
        api = Api(running)
        assert running.service.engine.agent(1, 1003).signed_in  # not the gateway's to sign out
        assert api.sign_in(1003).json()["retcode"] == "100-002"
        assert api.sign_in(1003, force=True).json()["retcode"] == "0"
        assert set(stored(tmp_path)) == {1001, 1003}
        assert api.poll(1003)["eventType"] == "AgentOther_InService"


@pytest.mark.embedded_only("session writes are made to fail by dropping the SQLite session table")
def test_a_session_that_cannot_be_stored_refuses_the_sign_in_loudly(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with running_server(tmp_path) as running:
        api = Api(running)
        with sqlite3.connect(tmp_path / "server.db") as db:
            db.execute("DROP TABLE gateway_session")  # every session write fails from now on
        with caplog.at_level(logging.ERROR, logger="ccdata.gateway"):
            assert api.sign_in(1001).json()["retcode"] == "100-003"
        assert "could not save the session of agent 1001" in caplog.text
        assert running.service.engine.agent(1, 1001) is None and logged(tmp_path, 1001) == []  # no login
        assert api.gateway("GET", "/agentevent/1001", 1001).json()["retcode"] == "100-006"


def test_a_call_ingested_in_one_batch_gives_the_agent_events_of_each_step(tmp_path: Path) -> None:
    """Agent events are derived as each event is applied, not from the state the whole batch left."""
    with running_server(tmp_path, auth_mode=1) as running:
        api = Api(running)
        assert api.sign_in(1001).json()["retcode"] == "0"
        assert api.events(1001) == ["AgentOther_InService", "AgentState_Ready"]
        release = {"id": "c-9-d", "type": "call.release", "at": time.time_ns() // 1_000_000, "ccId": 1, "vdn": 1,
                   "callId": "c-9", "by": "customer"}  # fmt: skip
        api.ingest_ok([*call_for(1001, "c-9", answered=True), release])
        seen = []
        while (event := api.poll(1001)) is not None:
            seen.append(event)
        assert [e["eventType"] for e in seen] == [
            "AgentEvent_Ringing", "AgentEvent_Talking", "AgentEvent_Customer_Release", "AgentEvent_Call_Release",
            "AgentOther_PhoneRelease", "AgentState_Ready",
        ]  # fmt: skip
        assert seen[0]["content"]["callid"] == seen[1]["content"]["callid"] == "c-9"  # the call as it rang
