"""`ccdata ring` and `POST /ccdata/v1/simulator/ring` over real sockets: a workbench gets a call now, and every
refusal says why."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import msgspec

from processes import ccdata
from server import Api, Running, running_server

RING = """
[[agents]]
id = 1901
vdn = 1
password = "secret-live"
skills = [8]
interactive = true
"""
PATH = "/ccdata/v1/simulator/ring"


def ring(running: Running, tmp: Path, *args: str) -> Any:
    return ccdata("ring", *args, "--url", running.url, "--token", "ingest-token", "--config", tmp / "ccdata.toml")


def wait_for(api: Api, agent_id: int, *event_types: str, limit_s: float = 10) -> dict[str, Any]:
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        event = api.poll(agent_id)
        if event is not None and event["eventType"] in event_types:
            return event
    raise AssertionError(f"none of {event_types} within {limit_s} s")


def test_ccdata_ring_rings_a_signed_in_workbench_now_and_each_refusal_is_clear(tmp_path: Path) -> None:
    with running_server(tmp_path, extra=RING, live_speed=1) as running:
        api = Api(running)
        refused = {agent: ring(running, tmp_path, agent) for agent in ("1901", "1001", "4242")}
        assert {agent: (p.returncode, p.stderr.split(":")[1].strip()) for agent, p in refused.items()} == {
            "1901": (1, "not_signed_in"), "1001": (1, "not_interactive"), "4242": (1, "unknown_agent"),
        }  # fmt: skip
        assert api.sign_in(1901, password="secret-live").json()["retcode"] == "0"
        wait_for(api, 1901, "AgentState_Ready")
        asked = time.monotonic()
        done = ring(running, tmp_path, "1901", "--caller", "13800000001")
        assert done.returncode == 0, done.stderr
        call_id = done.stdout.split()[1]
        # Ringing, or (an agent signed in with auto-answer, where the gateway has it) answered at once.
        ringing = wait_for(api, 1901, "AgentEvent_Ringing", "AgentEvent_Auto_Answer")
        assert ringing["content"]["callid"] == call_id and time.monotonic() - asked < 5  # now, not in minutes
        assert ringing["content"]["caller"] == "13800000001"
        busy = ring(running, tmp_path, "1901")
        assert busy.returncode == 1 and "not_idle" in busy.stderr
        # Over HTTP: a bad field names itself, a wrong token is refused, nothing rings.
        http = api.http
        bad = http.post(PATH, json={"agentId": "1901"}, headers={"Authorization": "Bearer ingest-token"})
        assert bad.status_code == 400 and bad.json()["code"] == "bad_field" and "$.agentId" in bad.json()["message"]
        media = http.post(
            PATH, json={"agentId": 1901, "media": "fax"}, headers={"Authorization": "Bearer ingest-token"}
        )
        assert media.status_code == 400 and "$.media" in media.json()["message"]
        assert http.post(PATH, json={"agentId": 1901}, headers={"Authorization": "Bearer nope"}).status_code == 401
        # The call is a normal one: it came through the skill queue, and the CMS sees it at the agent.
        call = running.service.engine.call(1, call_id)
        assert call is not None and call.skill_id == 8 and call.caller == "13800000001"
        assert not running.service.engine.rejections


def test_ring_without_a_simulator_says_so(tmp_path: Path) -> None:
    with running_server(tmp_path, extra=RING) as running:
        response = Api(running).http.post(
            PATH, json={"agentId": 1901}, headers={"Authorization": "Bearer ingest-token"}
        )
        assert response.status_code == 409 and response.json()["code"] == "no_simulator"
        assert "serve --simulate" in response.json()["message"]


WORKBENCH = (
    RING
    + """
[simulator.workbench]
no_answer_timeout_s = 120  # 6 s at speed 20: time for the test's answer on a loaded machine
callout_ring_time = { kind = "fixed", mean = 4 }
callout_answer_rate = 1.0
callout_talk_time = { kind = "fixed", mean = 30 }

[[simulator.skills]]
skill = 8
handle_time = { kind = "fixed", mean = 20 }
"""
)


def test_a_workbench_over_the_gateway_answers_a_rung_call_and_calls_out_and_the_customers_hang_up(
    tmp_path: Path,
) -> None:
    with running_server(tmp_path, extra=WORKBENCH, live_speed=20) as running:
        api = Api(running)
        assert api.sign_in(1901, password="secret-live", autoanswer=False, autoenteridle=True).json()["retcode"] == "0"
        wait_for(api, 1901, "AgentState_Ready")
        ring_now = http_ring(api, 1901)
        ringing = wait_for(api, 1901, "AgentEvent_Ringing")
        assert ringing["content"]["callid"] == ring_now
        time.sleep(0.5)  # ten simulated seconds: nobody answers for the agent
        assert running.service.engine.call(1, ring_now).phase.value == "alerting"
        assert api.gateway("PUT", "/voicecall/1901/answer", 1901).json()["retcode"] == "0"
        wait_for(api, 1901, "AgentEvent_Talking")
        wait_for(api, 1901, "AgentEvent_Customer_Release", "AgentEvent_Call_Release")  # 20 s talk: 1 s here
        # Its records, read as a CRM reads them once the workbench saw the call end.
        (result,) = api.results({"subCcNo": 1, "vdn": 1, "callId": ring_now}).json()["results"]
        assert int(result["callEnd"]) - int(result["callBegin"]) == 20_000
        detail = api.cms_ok("/v1/openapi/calldata/querycalldetailbyid", {"ccId": 1, "isCallin": "true",
                                                                          "callId": ring_now})  # fmt: skip
        assert detail["agentId"] == 1901
        out = api.gateway("PUT", "/voicecall/1901/callout", 1901, json={"called": "13800138000"}).json()
        assert out["retcode"] == "0", out
        wait_for(api, 1901, "AgentEvent_Talking")  # the customer answered (4 s)
        wait_for(api, 1901, "AgentEvent_Customer_Release", "AgentEvent_Call_Release")  # and hung up (30 s)
        answered = [e for e in logged(running) if e["type"] == "call.answer" and e["callId"] == out["result"]]
        assert [e.get("party") for e in answered] == ["customer"]
        assert not running.service.engine.rejections


def http_ring(api: Api, agent_id: int) -> str:
    response = api.http.post(PATH, json={"agentId": agent_id}, headers={"Authorization": "Bearer ingest-token"})
    assert response.status_code == 202, response.text
    return response.json()["callId"]


def logged(running: Running) -> list[dict[str, Any]]:
    running.records_current()  # a cluster node stores what it applied a write later
    return [msgspec.json.decode(body) for _, body in running.service.store.events_after(0)]
