"""One inbound call, step by step, over a real socket: every seed interface answers consistently at each step."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ccdata.domain.records import month_of
from server import Api, running_server

CALL = "1767258001-17"
A, B = 1001, 1002


class Feed:
    """Contract events with unique ids and times a little before the server's clock."""

    def __init__(self) -> None:
        self.t0 = time.time_ns() // 1_000_000 - 600_000
        self.n = 0

    def __call__(self, type_: str, offset_s: float, **fields: Any) -> dict[str, Any]:
        self.n += 1
        return {"id": f"e2e-{self.n}", "type": type_, "at": self.t0 + int(offset_s * 1000), "ccId": 1, "vdn": 1,
                "callId": CALL, **fields}  # fmt: skip

    def at(self, offset_s: float) -> int:
        return self.t0 + int(offset_s * 1000)


@pytest.fixture
def api(tmp_path: Path) -> Iterator[Api]:
    with running_server(tmp_path) as running:
        yield Api(running)


def detail(api: Api) -> dict[str, Any]:
    return api.cms_ok("/v1/openapi/calldata/querydetailcallinfo", {"ccId": 1, "vdn": 1, "callId": CALL})


def agent_calls(api: Api, agent: int) -> list[str]:
    return api.cms_ok("/v1/openapi/agent/queryagentcalls", {"ccId": 1, "vdn": 1, "agentId": agent})


def batch(api: Api) -> dict[int, list[dict[str, Any]]]:
    rows = api.cms_ok("/v1/openapi/agentgroup/queryagentcalls", {"ccId": 1, "vdn": 1, "agentIds": [A, B]})
    return {row["agentId"]: row["callList"] for row in rows}


def test_an_inbound_call_through_every_interface(api: Api) -> None:
    feed = Feed()
    for agent in (A, B):
        assert api.sign_in(agent).json()["retcode"] == "0"
        assert api.events(agent) == ["AgentOther_InService", "AgentState_Ready"]

    # Arrives, IVR, queued: no agent has it yet.
    api.ingest_ok([
        feed("call.arrive", 0, caller="13800138000", called="650550", trunkNo=582),
        feed("call.ivr", 1, flowId="100"),
        feed("call.queue", 20, skillId=7),
    ])  # fmt: skip
    queued = detail(api)
    assert (queued["deviceType"], queued["deviceNo"], queued["callSkill"]) == (1, 7, "defaultAudioSkill")
    assert (queued["callingNum"], queued["calledNum"], queued["trunkNo"]) == ("13800138000", "650550", 582)
    assert queued["partyNum"] == 2 and queued["time"] == feed.at(0) // 1000
    assert agent_calls(api, A) == []

    # Rings at agent A, then A answers.
    api.ingest_ok([feed("call.alert", 25, agentId=A)])
    assert agent_calls(api, A) == [CALL]
    assert batch(api)[A] == [{"callId": CALL, "callStatus": 4, "callInOut": 0, "submediaType": "-1", "mediaType": 5}]
    assert api.events(A) == ["AgentEvent_Ringing"]
    api.ingest_ok([feed("call.answer", 28, agentId=A)])
    assert api.events(A) == ["AgentEvent_Talking"]
    talking = detail(api)
    assert (talking["deviceType"], talking["deviceNo"], talking["partyNum"]) == (2, A, 3)
    assert talking["waitTime"] == 5 and talking["totalTalkingTimes"] >= 500
    assert talking["logonTimes"] >= 0 and talking["mediaType"] == "MEDIA_TYPE_PHONE"
    info = api.call_info(A)["result"]
    assert (info["callid"], info["caller"], info["called"], info["callskill"]) == (CALL, "13800138000", "650550",
                                                                                   "defaultAudioSkill")  # fmt: skip
    assert info["trace"]["waitBeginTime"] == feed.at(20)
    assert info["trace"]["answerBeginTime"] == feed.at(25) == info["begintime"]
    assert info["trace"]["talkBeginTime"] == feed.at(28)
    assert info["trace"]["talkEndTime"] is None and info["endtime"] is None

    # Held, then retrieved.
    api.ingest_ok([feed("call.hold", 40, agentId=A)])
    assert batch(api)[A][0]["callStatus"] == 6
    assert api.events(A) == ["AgentEvent_Hold"]
    api.ingest_ok([feed("call.unhold", 50, agentId=A)])
    assert batch(api)[A][0]["callStatus"] == 5
    assert api.events(A) == ["AgentEvent_Talking"]

    # Transferred to agent B (idle: it rings at once, no private queue).
    api.ingest_ok([feed("call.transfer", 60, agentId=A, target={"agentId": B})])
    assert agent_calls(api, A) == []
    assert api.cms_ok("/v1/openapi/agent/agentprivatecall", {"ccId": 1, "vdn": 1, "agentId": B}) == []
    assert api.events(A) == ["AgentEvent_Call_Release", "AgentState_Work"]
    api.ingest_ok([feed("call.alert", 61, agentId=B), feed("call.answer", 63, agentId=B)])
    assert agent_calls(api, B) == [CALL]
    assert detail(api)["deviceNo"] == B
    last_of_a = api.call_info(A, last=True)["result"]
    assert last_of_a["callid"] == CALL and last_of_a["endtime"] == feed.at(60)

    # Released by the customer.
    api.ingest_ok([feed("call.release", 120, by="customer")])
    assert agent_calls(api, A) == agent_calls(api, B) == []
    gone = api.cms("/v1/openapi/calldata/querydetailcallinfo", {"ccId": 1, "vdn": 1, "callId": CALL}).json()
    assert gone["resultCode"] == "0100001"
    assert api.call_info(B, last=False)["result"] is None
    last = api.call_info(B, last=True)["result"]
    assert (last["callid"], last["caller"], last["begintime"], last["endtime"]) == (CALL, "13800138000", feed.at(61),
                                                                                   feed.at(120))  # fmt: skip
    assert last["trace"]["talkBeginTime"] == feed.at(63) and last["trace"]["leaveReason"] is None
    assert api.events(B)[-2:] == ["AgentEvent_Call_Release", "AgentState_Work"]

    # The call track of the month of its arrival.
    rows = api.cms_ok("/v1/openapi/vdn/querycalltracedetail",
                      {"ccId": 1, "vdn": 1, "callId": CALL, "logDate": str(feed.at(0))})  # fmt: skip
    assert [(r["callIdNum"], r["deviceType"], r["deviceNo"], r["EnterReason"], r["LeaveReason"]) for r in rows] == [
        ("1", "3", "100", "0", "0"),
        ("2", "2", "1001", "0", "18"),
        ("3", "2", "1001", "9", "0"),
        ("-1", "2", "1002", "0", "15"),
    ]
    assert rows[-1]["waitBegin"] == str(feed.at(60)) and rows[-1]["callEnd"] == str(feed.at(120))
    assert rows[-1]["releaseCause"] == "0" and rows[0]["releaseCause"] == ""
    other_month = feed.at(0) - 40 * 86_400_000
    assert month_of(other_month) != month_of(feed.at(0))
    assert api.cms_ok("/v1/openapi/vdn/querycalltracedetail",
                      {"ccId": 1, "vdn": 1, "callId": CALL, "logDate": other_month}) == []  # fmt: skip

    # DataProcess: the call result, then its evaluation.
    found = api.results({"subCcNo": "1", "vdn": "1", "callId": CALL}).json()
    assert found["total"] == 1
    (result,) = found["results"]
    assert (result["callId"], result["callerNo"], result["calleeNo"], result["vdn"]) == (CALL, "13800138000",
                                                                                         "650550", 1)  # fmt: skip
    assert (result["waitBegin"], result["ackBegin"], result["callBegin"], result["callEnd"]) == (
        str(feed.at(20)), str(feed.at(25)), str(feed.at(28)), str(feed.at(120)))  # fmt: skip
    assert result["leaveReason"] == "15" and result["evaluationValue"] == ""
    api.ingest_ok([feed("call.evaluate", 150, evaluationValue="5")])
    window = {"subCcNo": 1, "vdn": 1, "beginDate": feed.at(-1), "endDate": feed.at(1), "evaluationValue": "5"}
    assert [r["callId"] for r in api.results(window).json()["results"]] == [CALL]


def test_a_busy_target_gets_the_transfer_in_its_private_queue(api: Api) -> None:
    feed = Feed()
    api.sign_in(A)
    api.sign_in(B)
    other = {"callId": "1767258000-3"}
    api.ingest_ok([
        {**feed("call.arrive", 0, caller="1", called="2"), **other},
        {**feed("call.alert", 1, agentId=B), **other},
        {**feed("call.answer", 2, agentId=B), **other},
        feed("call.arrive", 3, caller="3", called="4"),
        feed("call.alert", 4, agentId=A),
        feed("call.answer", 5, agentId=A),
        feed("call.transfer", 9, agentId=A, target={"agentId": B}),
    ])  # fmt: skip
    private = api.cms_ok("/v1/openapi/agent/agentprivatecall", {"ccId": 1, "vdn": 1, "agentId": B})
    assert private == [CALL]
    assert detail(api)["deviceType"] == 2 and detail(api)["deviceNo"] == B
