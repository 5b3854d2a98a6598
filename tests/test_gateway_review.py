"""Review findings on agent events across nodes: two servers in the distributed mode on one place (the same
database, JetStream stream and Redis prefix: `running_server` on the same `tmp`), or one embedded server."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from server import Api, running_server


def drained(api: Api, agent_id: int) -> list[str]:
    return api.events(agent_id)


@pytest.mark.distributed_only("two nodes share sessions in the distributed mode only")
def test_an_old_guid_cached_on_another_node_does_not_take_the_new_sessions_events(tmp_path: Path, mode: str) -> None:
    """A forcelogin on node A replaces the session; the old workbench polling node B (whose copy of the old
    session still matches its GUID) must be refused as on one node (000-003), not handed the new session's events."""
    with running_server(tmp_path, auth_mode=1) as node_a, running_server(tmp_path, auth_mode=1) as node_b:
        a, b = Api(node_a), Api(node_b)
        assert a.sign_in(1001).json()["retcode"] == "0"
        b.guids[1001] = old = a.guids[1001]
        assert b.poll(1001)["eventType"] == "AgentOther_InService"  # node B now holds a copy of the session
        assert drained(b, 1001) == ["AgentState_Ready"]
        assert a.sign_in(1001, force=True).json()["retcode"] == "0"
        new = a.guids[1001]
        assert new != old
        time.sleep(0.3)  # node B applied the new login
        stale = b.gateway("GET", "/agentevent/1001", 1001, guid=old).json()
        assert stale["retcode"] == "000-003", stale
        assert drained(a, 1001)[:1] == ["AgentOther_InService"]  # the new workbench gets its own events


@pytest.mark.distributed_only("two nodes share sessions in the distributed mode only")
def test_an_old_guid_cached_on_another_node_cannot_sign_the_new_session_out(tmp_path: Path, mode: str) -> None:
    """The old workbench's page, closed after a forcelogin on node A, sends its logout to node B: refused as on one
    node (000-003); the new session and its agent stay signed in."""
    with running_server(tmp_path, auth_mode=1) as node_a, running_server(tmp_path, auth_mode=1) as node_b:
        a, b = Api(node_a), Api(node_b)
        assert a.sign_in(1001).json()["retcode"] == "0"
        b.guids[1001] = old = a.guids[1001]
        assert b.call_info(1001)["retcode"] == "0"  # node B now holds a copy of the session
        assert a.sign_in(1001, force=True).json()["retcode"] == "0"
        time.sleep(0.3)  # node B applied the new login
        refused = b.gateway("DELETE", "/onlineagent/1001/logout", 1001, guid=old).json()
        assert refused["retcode"] == "000-003", refused
        assert node_a.service.engine.agent(1, 1001).signed_in
        assert a.poll(1001)["eventType"] == "AgentOther_InService"


@pytest.mark.distributed_only("two nodes share sessions in the distributed mode only")
def test_an_old_guid_cached_on_another_node_cannot_rotate_the_new_session_away(tmp_path: Path, mode: str) -> None:
    """The old workbench's heartbeat on node B, past the GUID interval, after a forcelogin on node A: refused as on one
    node (000-003), and the new workbench's GUID still holds (the stale copy's rotation is not stored over it)."""
    with running_server(tmp_path) as node_a, running_server(tmp_path) as node_b:
        a, b = Api(node_a), Api(node_b)
        assert a.sign_in(1001).json()["retcode"] == "0"
        b.guids[1001] = old = a.guids[1001]
        assert b.call_info(1001)["retcode"] == "0"  # node B now holds a copy of the session
        assert a.sign_in(1001, force=True).json()["retcode"] == "0"
        time.sleep(1.6)  # past guid_interval_ms: node B's copy is due for a rotation
        beat = b.gateway("PUT", "/onlineagent/1001/heartbeat", 1001, guid=old).json()
        assert beat["retcode"] == "000-003", beat
        assert a.poll(1001)["eventType"] == "AgentOther_InService"


@pytest.mark.distributed_only("two nodes share sessions in the distributed mode only")
def test_syncagentinfo_on_a_lagging_node_keeps_the_events_its_answer_does_not_show(tmp_path: Path, mode: str) -> None:
    """syncagentinfo answers from its node's engine and drops the queued events: on a node behind the log it must
    not drop the events queued (by another node) after the state it answered with."""
    import asyncio

    from test_gateway_sessions import call_for

    with running_server(tmp_path, auth_mode=1) as node_a, running_server(tmp_path, auth_mode=1) as node_b:
        a, b = Api(node_a), Api(node_b)
        assert a.sign_in(1001).json()["retcode"] == "0"
        b.guids[1001] = a.guids[1001]
        assert a.events(1001) == ["AgentOther_InService", "AgentState_Ready"]
        time.sleep(0.3)  # node B applied the sign-in
        pipeline = node_b.service.pipeline
        apply, held = pipeline._apply_logged, []
        pipeline._apply_logged = lambda seq, body: held.append((seq, body))  # node B falls behind the log
        try:
            a.ingest_ok(call_for(1001, "c-1"))
            time.sleep(0.3)  # node A queued the ringing
            synced = b.gateway("POST", "/onlineagent/1001/syncagentinfo", 1001).json()
            assert synced["retcode"] == "0" and synced["result"]["callinfo"] == "", synced  # node B's state
            assert a.poll(1001)["eventType"] == "AgentEvent_Ringing"  # not shown by the answer: still owed
        finally:
            del pipeline._apply_logged

            async def catch_up() -> None:
                for seq, body in held:
                    apply(seq, body)

            asyncio.run_coroutine_threadsafe(catch_up(), node_b.loop).result(10)


@pytest.mark.distributed_only("two nodes share sessions in the distributed mode only")
def test_a_guid_rotated_out_on_one_node_expires_on_the_others_too(tmp_path: Path, mode: str) -> None:
    """Dynamic mode: node A rotates the GUID; past guid_timeout_ms the old GUID is refused on node B too (000-003),
    as on one node, though node B's copy still has it as its current one."""
    with running_server(tmp_path) as node_a, running_server(tmp_path) as node_b:
        a, b = Api(node_a), Api(node_b)
        assert a.sign_in(1001).json()["retcode"] == "0"
        signed_in = time.monotonic()
        b.guids[1001] = first = a.guids[1001]
        assert b.call_info(1001)["retcode"] == "0"  # node B now holds a copy of the session
        time.sleep(1.6)  # past guid_interval_ms
        assert a.gateway("GET", "/agentevent/1001", 1001).headers.get("set-guid")  # rotated on node A
        time.sleep(max(0.0, signed_in + 3.2 - time.monotonic()))  # the first GUID is past guid_timeout_ms
        assert a.call_info(1001)["retcode"] == "0"
        late = b.gateway("GET", "/calldata/1001/callinfo", 1001, guid=first).json()
        assert late["retcode"] == "000-003", late


@pytest.mark.embedded_only("the session file of the earlier version is the embedded form's")
def test_a_workbench_polling_across_the_upgrade_still_gets_its_agent_events(tmp_path: Path) -> None:
    """The earlier version's gateway logged agent.login without `workbench` and kept its sessions (the upgrade keeps
    them, so that a polling workbench polls on): that workbench's agent events are still queued after the upgrade."""
    from ccdata.store.ports import StoredSession
    from server import sessions_at
    from test_gateway_sessions import call_for

    now = time.time_ns() // 1_000_000
    with running_server(tmp_path, auth_mode=1) as running:  # the log as the earlier version wrote it
        Api(running).ingest_ok([{"id": "old-login", "type": "agent.login", "at": now, "ccId": 1, "vdn": 1,
                                 "agentId": 1001, "skills": [7], "phone": "61001", "state": "idle"}])  # fmt: skip
    old = sessions_at(tmp_path)  # and its session, as the upgrade of its file leaves it
    old.put_sessions([StoredSession(1001, 1, "old.AgentGateway0", now, now)])
    old.close()
    with running_server(tmp_path, auth_mode=1) as running:
        api = Api(running)
        api.guids[1001] = "old.AgentGateway0"
        assert api.poll(1001) is None  # the session is back
        api.ingest_ok(call_for(1001, "c-1"))
        assert api.events(1001) == ["AgentEvent_Ringing"]


@pytest.mark.distributed_only("two nodes share sessions in the distributed mode only")
def test_a_node_starting_during_a_sign_in_on_another_keeps_that_session(tmp_path: Path, mode: str) -> None:
    """A sign-in on node A stores its session, then emits agent.login; node B starting in between must not drop the
    session as an orphan (its login is on its way), or the workbench that just signed in gets 100-006."""
    import threading

    with running_server(tmp_path, auth_mode=1) as node_a:
        a = Api(node_a)
        service = node_a.service
        emit = service.emit_async

        async def slow_emit(type_: str, vdn: int, **fields: object) -> object:
            if type_ == "agent.login":
                await __import__("asyncio").sleep(4)  # the session is stored; its login is not emitted yet
            return await emit(type_, vdn, **fields)

        service.emit_async = slow_emit
        answers: list[str] = []
        signing_in = threading.Thread(target=lambda: answers.append(a.sign_in(1001).json()["retcode"]))
        signing_in.start()
        try:
            time.sleep(0.3)
            with running_server(tmp_path, auth_mode=1):  # node B starts meanwhile
                signing_in.join(10)
                assert answers == ["0"]
                polled = a.gateway("GET", "/agentevent/1001", 1001).json()
                assert polled["retcode"] == "0", polled
        finally:
            signing_in.join(10)
            del service.emit_async


@pytest.mark.distributed_only("two nodes share sessions in the distributed mode only")
def test_a_forcelogin_on_a_lagging_node_gets_nothing_owed_to_the_old_session(tmp_path: Path, mode: str) -> None:
    """docs/compatibility.md: "nothing owed to the previous session is delivered to the new one". A forcelogin on a
    node behind the log starts the new session's queue after the events another node queued for the old one."""
    import asyncio
    import threading

    from test_gateway_sessions import call_for

    with running_server(tmp_path, auth_mode=1) as node_a, running_server(tmp_path, auth_mode=1) as node_b:
        a, b = Api(node_a), Api(node_b)
        assert a.sign_in(1001).json()["retcode"] == "0"
        assert a.events(1001) == ["AgentOther_InService", "AgentState_Ready"]
        time.sleep(0.3)  # node B applied the sign-in
        pipeline = node_b.service.pipeline
        apply, held = pipeline._apply_logged, []
        pipeline._apply_logged = lambda seq, body: held.append((seq, body))  # node B falls behind the log
        a.ingest_ok(call_for(1001, "c-1"))
        time.sleep(0.3)  # node A queued the ringing for the old session
        answers: list[str] = []
        forced = threading.Thread(target=lambda: answers.append(b.sign_in(1001, force=True).json()["retcode"]))
        forced.start()
        time.sleep(0.5)  # the new session is stored, its login appended to the log
        del pipeline._apply_logged

        async def catch_up() -> None:
            for seq, body in held:
                apply(seq, body)
            pipeline._applied_event.set()  # as the log follower does after applying

        asyncio.run_coroutine_threadsafe(catch_up(), node_b.loop).result(10)
        forced.join(10)
        assert answers == ["0"]
        assert b.poll(1001)["eventType"] != "AgentEvent_Ringing"
