"""The agent workbench over CC-Gateway (issue 14): a client that behaves like Huawei's Java demo drives calls through
their whole life from the gateway, and CC-CMS, the call track, DataProcess and monitoring agree at each step.

The customer's and the platform's side (a call arriving and being offered, a dialled customer answering, the
customer hanging up) comes from the event feed here, so each step's timing is the test's; with the simulator
playing that side, see the simulator's workbench tests.
"""

from __future__ import annotations

import copy
import time
from pathlib import Path
from typing import Any

import pytest

from ccdata.client import CmsClient, DataProcessClient
from ccdata.domain.codes import CtiAgentState
from javademo import DemoWorkbench, exchange
from server import Api, Running, running_server

A, B = 1001, 1002
CUSTOMER = "13800138000"


class Feed:
    """The customer's side, as contract events at the server's present."""

    def __init__(self, api: Api) -> None:
        self.api = api
        self.n = 0

    def send(self, type_: str, call_id: str, **fields: Any) -> None:
        self.n += 1
        event = {"id": f"wb-{self.n}", "type": type_, "at": time.time_ns() // 1_000_000, "ccId": 1, "vdn": 1,
                 "callId": call_id, **fields}  # fmt: skip
        self.api.ingest_ok([event])

    def incoming(self, call_id: str, agent_id: int, skill: int = 7) -> None:
        self.send("call.arrive", call_id, caller=CUSTOMER, called="650550")
        self.send("call.queue", call_id, skillId=skill)
        self.send("call.alert", call_id, agentId=agent_id)


def types(events: list[dict[str, Any]]) -> list[str]:
    return [e["eventType"] for e in events]


def ok(answer: dict[str, Any]) -> dict[str, Any]:
    assert answer["retcode"] == "0", answer
    return answer


class World:
    """What the other interfaces say, for the agreement checks."""

    def __init__(self, running: Running) -> None:
        self.running = running
        self.cms = CmsClient(running.url, "ak-all", "sk-all")
        self.dp = DataProcessClient(running.url, "app-1", "secret-app-1")

    def agent_state(self, agent_id: int) -> int:
        return self.cms.agent_status([agent_id])[0].currentState

    def skill_state(self) -> Any:
        return self.cms.skill_state_info(1, [7])[0]

    def result(self, call_id: str) -> Any:
        page = self.dp.search(1, call_id=call_id)
        assert page.total == 1, page
        return page.results[0]

    def track(self, call_id: str) -> list[Any]:
        return self.cms.call_track(1, call_id, int(time.time() * 1000))


@pytest.mark.parametrize("auth_mode", [1, 2])
def test_a_demo_workbench_handles_calls_from_the_gateway_alone(tmp_path: Path, auth_mode: int) -> None:
    with running_server(tmp_path, auth_mode=auth_mode) as running:
        api, world = Api(running), World(running)
        feed = Feed(api)
        a, b = DemoWorkbench(running.host, A, "secret-1"), DemoWorkbench(running.host, B, "secret-1")

        # Signed in busy, by hand (no auto-answer, wrap-up after calls).
        signed = ok(a.sign_in(status="3", autoanswer="false", autoenteridle="false"))
        assert a.guid and signed["result"]["workno"] == str(A) and isinstance(signed["result"]["vdnid"], int)
        assert types(a.events()) == ["AgentOther_InService", "AgentState_Ready", "AgentState_SetNotReady_Success"]
        assert world.agent_state(A) == CtiAgentState.BUSY
        ok(b.sign_in(autoanswer=False, autoenteridle=False))
        b.events()

        # Idle.
        ok(a.agent("POST", "sayfree"))
        assert a.events() == [
            {"eventType": "AgentState_CancelNotReady_Success", "workNo": str(A), "content": None},
            {"eventType": "AgentState_Ready", "workNo": str(A), "content": None},
        ]
        assert world.agent_state(A) == CtiAgentState.IDLE
        assert world.skill_state().agentIdleNums == 2

        # A call rings; the agent answers.
        feed.incoming("call-1", A)
        ringing = a.events()
        assert ringing == [{"eventType": "AgentEvent_Ringing", "workNo": str(A), "content": {
            "caller": CUSTOMER, "callid": "call-1", "called": "650550", "feature": "0", "type": "main",
            "mediaAbility": "1", "transfer": "no", "transfrom": "", "mediaType": "5"}}]  # fmt: skip
        assert world.agent_state(A) == CtiAgentState.ANSWERING
        ok(a.voice("PUT", "answer?callid=call-1"))
        assert types(a.events()) == ["AgentEvent_Talking"]
        assert world.cms.call_detail(1, "call-1").deviceNo == A
        assert world.cms.agent_calls(1, A) == ["call-1"]
        assert world.skill_state().agentTalkingNums == 1

        # Hold and retrieve.
        ok(a.voice("POST", "hold"))
        assert a.events() == [{"eventType": "AgentEvent_Hold", "workNo": str(A), "content": "call-1"}]
        assert ok(a.data("holdlist"))["result"][0]["callid"] == "call-1"
        ok(a.voice("POST", "gethold?callid=call-1"))
        assert types(a.events()) == ["AgentEvent_Talking"]

        # Call data.
        ok(a.call("PUT", f"/calldata/{A}/setcalldataex", {"callid": "call-1", "calldata": "ticket=42"}))
        assert ok(a.data("appdata?callId=call-1"))["result"] == "ticket=42"

        # Blind transfer to agent B; B answers.
        ok(a.voice("POST", "transfer", {"devicetype": 2, "mode": 0, "address": str(B)}))
        assert a.events() == [
            {"eventType": "AgentEvent_Call_Release", "workNo": str(A), "content": "call-1"},
            {"eventType": "AgentOther_PhoneRelease", "workNo": str(A), "content": {"phoneState": 2}},
            {"eventType": "AgentState_Work", "workNo": str(A), "content": None},
        ]
        feed.send("call.alert", "call-1", agentId=B)  # the platform offers it to B (the simulator, elsewhere)
        offered = b.events()
        assert offered[0]["eventType"] == "AgentEvent_Ringing"
        assert (offered[0]["content"]["transfer"], offered[0]["content"]["transfrom"]) == ("yes", str(A))
        ok(b.voice("PUT", "answer"))
        assert types(b.events()) == ["AgentEvent_Talking"]
        assert world.cms.call_detail(1, "call-1").deviceNo == B
        assert world.agent_state(A) == CtiAgentState.WORKING

        # The customer hangs up; B wraps up, then is idle again; so is A.
        feed.send("call.release", "call-1", by="customer")
        assert b.events() == [
            {"eventType": "AgentEvent_Customer_Release", "workNo": str(B),
             "content": {"callid": "call-1", "number": CUSTOMER}},
            {"eventType": "AgentEvent_Call_Release", "workNo": str(B), "content": "call-1"},
            {"eventType": "AgentOther_PhoneRelease", "workNo": str(B), "content": {"phoneState": 3}},
            {"eventType": "AgentState_Work", "workNo": str(B), "content": None},
        ]  # fmt: skip
        result = world.result("call-1")
        assert (result.callerNo, result.leaveReason) == (CUSTOMER, 15)  # 15: the user released
        track = world.track("call-1")
        agents = [row.deviceNo for row in track if row.deviceType == 2]
        assert agents == [str(A), str(A), str(B)]  # held and retrieved (two legs), then B
        ok(b.agent("POST", "cancelwork"))
        assert types(b.events()) == ["AgentState_CancelWork_Success", "AgentState_Ready"]
        ok(a.agent("POST", "cancelwork"))
        a.events()

        # A call out: the customer answers, the agent hangs up.
        placed = ok(a.voice("PUT", "callout", {"caller": "650550", "called": "13900139000"}))
        call_id = placed["result"]
        assert isinstance(call_id, str) and call_id
        assert a.events() == [{"eventType": "AgentEvent_Customer_Alerting", "workNo": str(A), "content": {
            "callid": call_id, "otherPhoneWorkno": "", "otherPhone": "13900139000", "type": "main"}}]  # fmt: skip
        feed.send("call.answer", call_id, party="customer")
        assert types(a.events()) == ["AgentEvent_Talking"]
        assert world.cms.is_processing_call(1, A) is True
        ok(a.voice("DELETE", "release"))
        assert types(a.events()) == ["AgentEvent_Call_Release", "AgentOther_PhoneRelease", "AgentState_Work"]
        assert world.result(call_id).calleeNo == "13900139000"

        # Consult B while the customer holds, then transfer on: B keeps the customer.
        ok(a.agent("POST", "cancelwork"))
        a.events()
        feed.incoming("call-2", A)
        a.events()
        ok(a.voice("PUT", "answer"))
        a.events()
        help_call = ok(a.voice("POST", "innerhelp", {"dstaddress": str(B), "devicetype": 2, "mode": 1}))["result"]
        assert types(a.events()) == ["AgentEvent_Hold", "AgentEvent_Customer_Alerting"]
        assert types(b.events()) == ["AgentEvent_Ringing"]
        ok(b.voice("PUT", f"answer?callid={help_call}"))
        b.events()
        ok(a.voice("POST", "transfer", {"devicetype": 2, "mode": 2, "address": str(B)}))
        assert world.cms.agent_calls(1, A) == []
        assert world.cms.agent_calls(1, B) == ["call-2"]
        feed.send("call.release", "call-2", by="customer")
        assert world.result("call-2").callerNo == CUSTOMER

        # Sign out; a second sign-out says so.
        ok(a.agent("POST", "cancelwork"))
        assert ok(a.call("DELETE", f"/onlineagent/{A}/logout"))["retcode"] == "0"
        assert a.call("DELETE", f"/onlineagent/{A}/logout")["retcode"] == "100-008"
        assert world.agent_state(A) == CtiAgentState.NOT_SIGNED_IN
        if auth_mode == 1:
            assert len(a.guids_seen) == 1
        assert not running.service.engine.rejections


def test_the_sign_in_answer_carries_set_guid_in_the_reference_case(tmp_path: Path) -> None:
    with running_server(tmp_path) as running:
        body = b'{"password":"secret-1","status":4}'
        headers = [("Content-Type", "application/json; charset=UTF-8")]
        answer = exchange(running.host, "PUT", f"/agentgateway/resource/onlineagent/{A}", headers, body)
        assert b"\r\nSet-GUID: JSESSIONID=" in answer.raw_head
        assert answer.header("set-guid") is None  # not lower-cased anywhere


def test_rotation_reaches_a_demo_client_through_polling(tmp_path: Path) -> None:
    with running_server(tmp_path, auth_mode=2) as running:
        a = DemoWorkbench(running.host, A, "secret-1")
        ok(a.sign_in())
        deadline = time.monotonic() + 6
        while len(a.guids_seen) < 3 and time.monotonic() < deadline:
            a.poll()
        assert len(set(a.guids_seen)) >= 3  # it learnt each new GUID from Set-GUID and kept going
        ok(a.agent("POST", "saybusy"))


# --- refusals: the documented retcode, and nothing changes ---


def refused(running: Running, a: DemoWorkbench, method: str, path: str, code: str, body: Any = None) -> None:
    before, state = running.service.pipeline.seq, copy.deepcopy(running.service.engine.state())
    answer = a.call(method, path, body)
    assert answer["retcode"] == code, (path, answer)
    assert running.service.engine.state() == state, f"{path} changed something"
    if running.mode == "embedded":  # nothing committed; the shared log keeps an event the engine refused
        assert running.service.pipeline.seq == before, f"{path} committed something"


def test_each_action_refused_in_a_state_that_forbids_it(tmp_path: Path) -> None:
    with running_server(tmp_path, auth_mode=1) as running:
        api = Api(running)
        feed = Feed(api)
        a = DemoWorkbench(running.host, A, "secret-1")
        ok(a.sign_in(autoanswer=False))
        a.events()
        agent, voice = f"/onlineagent/{A}", f"/voicecall/{A}"
        refused(running, a, "PUT", agent, "100-002", {"password": "secret-1"})
        refused(running, a, "POST", f"{agent}/cancelbusy", "100-009")
        refused(running, a, "POST", f"{agent}/cancelrest", "100-009")
        refused(running, a, "POST", f"{agent}/cancelwork", "100-009")
        refused(running, a, "POST", f"{agent}/saybusy?reason=150", "000-002")
        refused(running, a, "POST", f"{agent}/rest/0/1", "000-002")
        refused(running, a, "POST", f"{agent}/rest/86400/1", "000-002")
        refused(running, a, "POST", f"{agent}/autoenteridle/toolong", "000-002")
        refused(running, a, "PUT", f"{voice}/answer", "200-002")
        refused(running, a, "POST", f"{voice}/hold", "100-007")
        refused(running, a, "POST", f"{voice}/gethold", "100-007")
        refused(running, a, "DELETE", f"{voice}/release", "100-007")
        refused(running, a, "POST", f"{voice}/beginmute", "100-007")
        refused(running, a, "POST", f"{voice}/confjoin", "200-010", {"callid": "nope"})
        refused(running, a, "POST", f"{voice}/transfer", "000-002", {"devicetype": 9, "mode": 0, "address": "7"})
        refused(running, a, "POST", f"{voice}/transfer", "000-002", {"devicetype": 1, "mode": 3, "address": "7"})
        refused(running, a, "POST", f"{voice}/transfer", "100-007", {"devicetype": 1, "mode": 0, "address": "7"})
        refused(running, a, "PUT", f"{voice}/callout", "000-002", {"called": "12ab"})
        refused(running, a, "PUT", f"{voice}/callinner", "000-002", {"called": str(A)})
        # Busy twice needs prolong; ringing forbids state changes; a held call cannot be held again.
        ok(a.agent("POST", "saybusy?reason=201"))
        refused(running, a, "POST", f"{agent}/saybusy?reason=202", "100-009")
        ok(a.agent("POST", "saybusy?reason=202&prolong=true"))
        ok(a.agent("POST", "sayfree"))
        feed.incoming("call-r", A)
        refused(running, a, "POST", f"{agent}/saybusy", "100-009")
        refused(running, a, "POST", f"{agent}/work", "100-009")
        refused(running, a, "PUT", f"{voice}/callout", "100-007", {"called": "139"})
        refused(running, a, "PUT", f"{voice}/answer?callid=other", "200-002")
        ok(a.voice("PUT", "answer"))
        ok(a.voice("POST", "hold"))
        refused(running, a, "POST", f"{voice}/hold", "100-007")
        refused(running, a, "POST", f"{voice}/confjoin", "200-011", {"callid": "call-r"})
        # Sign-out during a call is refused; a forced one releases the call.
        refused(running, a, "DELETE", f"{agent}/logout", "100-010")
        assert a.call("DELETE", f"{agent}/forcelogout")["retcode"] == "0"
        assert running.service.engine.call(1, "call-r") is None
        assert a.poll is not None and a.call("GET", f"/agentevent/{A}")["retcode"] == "100-006"


@pytest.mark.parametrize(
    ("field", "value", "code"),
    [
        ("status", "7", "100-011"),
        ("agenttype", "5", "100-012"),
        ("ip", "::1", "100-016"),
        ("phonenum", "12ab", "100-013"),
        ("autoanswer", "maybe", "100-011"),
    ],
)
def test_sign_in_fields_are_checked(tmp_path: Path, field: str, value: str, code: str) -> None:
    with running_server(tmp_path) as running:
        a = DemoWorkbench(running.host, A, "secret-1")
        assert a.sign_in(**{field: value})["retcode"] == code
        assert running.service.engine.agent(1, A) is None  # nothing signed in


def test_busy_asked_for_during_a_call_applies_when_it_ends(tmp_path: Path) -> None:
    with running_server(tmp_path, auth_mode=1) as running:
        api, world = Api(running), World(running)
        feed = Feed(api)
        a = DemoWorkbench(running.host, A, "secret-1")
        ok(a.sign_in(autoanswer=False))
        a.events()
        feed.incoming("call-p", A)
        ok(a.voice("PUT", "answer"))
        a.events()
        ok(a.agent("POST", "saybusy?reason=205"))
        assert a.events() == [{"eventType": "AgentState_SetNotReady_Success", "workNo": str(A),
                               "content": {"reason": "205"}}]  # fmt: skip
        assert ok(a.agent("POST", "syncagentinfo"))["result"]["agentStateInfo"]["preBusy"] is True
        assert world.agent_state(A) == CtiAgentState.TALKING
        feed.send("call.release", "call-p", by="customer")
        assert types(a.events())[-1] == "AgentState_SetNotReady_Success"
        assert world.agent_state(A) == CtiAgentState.BUSY


def test_rest_reminds_when_its_time_is_over(tmp_path: Path) -> None:
    with running_server(tmp_path, auth_mode=1) as running:
        a = DemoWorkbench(running.host, A, "secret-1")
        ok(a.sign_in())
        a.events()
        ok(a.agent("POST", "rest/1/3"))
        assert a.events() == [{"eventType": "AgentState_SetRest_Success", "workNo": str(A),
                               "content": {"reason": "3"}}]  # fmt: skip
        deadline = time.monotonic() + 5
        seen: list[str] = []
        while "AgentState_Rest_Timeout" not in seen and time.monotonic() < deadline:
            seen += types(a.events())
        assert "AgentState_Rest_Timeout" in seen
        assert World(running).agent_state(A) == CtiAgentState.REST  # a reminder: still resting
        ok(a.agent("POST", "cancelrest"))
        assert types(a.events()) == ["AgentState_CancelRest_Success", "AgentState_Ready"]


def test_the_guid_header_is_read_whatever_its_case(tmp_path: Path) -> None:
    with running_server(tmp_path, auth_mode=1) as running:
        a = DemoWorkbench(running.host, A, "secret-1")
        ok(a.sign_in())
        for name in ("guid", "Guid", "GUID", "gUiD"):
            headers = [(name, a.guid), ("Cookie", "JSESSIONID=from-a-balancer; route=2")]
            answer = exchange(running.host, "GET", f"/agentgateway/resource/onlineagent/{A}/agentstatus", headers)
            assert answer.json()["retcode"] == "0", name
