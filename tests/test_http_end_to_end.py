"""One inbound call, step by step, over a real socket: every seed interface answers consistently at each step.

The requests go through the client SDK (`ccdata.client`), as an integrator's code sends them.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import msgspec
import pytest

from ccdata.client import CmsClient, CmsError, DataProcessClient, GatewayClient
from ccdata.client.types import CallDetail
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


class Clients:
    """The three SDK clients on one server, plus the ingest endpoint for the feed."""

    def __init__(self, api: Api) -> None:
        url = api.running.url
        self.ingest_ok = api.ingest_ok
        self.cms = CmsClient(url, "ak-all", "sk-all")
        self.dp = DataProcessClient(url, "app-1", "secret-app-1")
        self.agents = {a: GatewayClient(url, a, "secret-1") for a in (A, B)}

    def events(self, agent: int) -> list[str]:
        seen = []
        while (event := self.agents[agent].poll()) is not None:
            seen.append(event.eventType)
        return seen

    def detail(self) -> CallDetail:
        return self.cms.call_detail(1, CALL)

    def batch(self) -> dict[int, list[dict[str, Any]]]:
        return {row.agentId: msgspec.to_builtins(row.callList) for row in self.cms.agent_group_calls(1, [A, B])}


@pytest.fixture
def api(tmp_path: Path) -> Iterator[Clients]:
    with running_server(tmp_path) as running:
        yield Clients(Api(running))


def test_an_inbound_call_through_every_interface(api: Clients) -> None:
    feed = Feed()
    for agent in (A, B):
        assert api.agents[agent].sign_in(auto_enter_idle=False).workno == str(agent)
        assert api.agents[agent].guid
        assert api.events(agent) == ["AgentOther_InService", "AgentState_Ready"]

    # Arrives, IVR, queued: no agent has it yet.
    api.ingest_ok([
        feed("call.arrive", 0, caller="13800138000", called="650550", trunkNo=582),
        feed("call.ivr", 1, flowId="100"),
        feed("call.queue", 20, skillId=7),
    ])  # fmt: skip
    queued = api.detail()
    assert (queued.deviceType, queued.deviceNo, queued.callSkill) == (1, 7, "defaultAudioSkill")
    assert (queued.callingNum, queued.calledNum, queued.trunkNo) == ("13800138000", "650550", 582)
    assert queued.partyNum == 2 and queued.time == feed.at(0) // 1000
    assert api.cms.agent_calls(1, A) == []

    # Rings at agent A, then A answers.
    api.ingest_ok([feed("call.alert", 25, agentId=A)])
    assert api.cms.agent_calls(1, A) == [CALL]
    assert api.batch()[A] == [{"callId": CALL, "callStatus": 4, "callInOut": 0, "mediaType": 5, "submediaType": "-1"}]
    assert api.events(A) == ["AgentEvent_Ringing"]
    api.ingest_ok([feed("call.answer", 28, agentId=A)])
    assert api.events(A) == ["AgentEvent_Talking"]
    talking = api.detail()
    assert (talking.deviceType, talking.deviceNo, talking.partyNum) == (2, A, 3)
    assert talking.waitTime == 5 and talking.totalTalkingTimes >= 500
    assert talking.logonTimes >= 0 and talking.mediaType == "MEDIA_TYPE_PHONE"
    info = api.agents[A].call_info()
    assert (info.callid, info.caller, info.called, info.callskill) == (CALL, "13800138000", "650550",
                                                                       "defaultAudioSkill")  # fmt: skip
    assert info.trace.waitBeginTime == feed.at(20)
    assert info.trace.answerBeginTime == feed.at(25) == info.begintime
    assert info.trace.talkBeginTime == feed.at(28)
    assert info.trace.talkEndTime is None and info.endtime is None

    # Held, then retrieved.
    api.ingest_ok([feed("call.hold", 40, agentId=A)])
    assert api.batch()[A][0]["callStatus"] == 6
    assert api.events(A) == ["AgentEvent_Hold"]
    api.ingest_ok([feed("call.unhold", 50, agentId=A)])
    assert api.batch()[A][0]["callStatus"] == 5
    assert api.events(A) == ["AgentEvent_Talking"]

    # Transferred to agent B (idle: it rings at once, no private queue).
    api.ingest_ok([feed("call.transfer", 60, agentId=A, target={"agentId": B})])
    assert api.cms.agent_calls(1, A) == []
    assert api.cms.private_calls(1, B) == []
    assert api.events(A) == ["AgentEvent_Call_Release", "AgentOther_PhoneRelease", "AgentState_Work"]
    api.ingest_ok([feed("call.alert", 61, agentId=B), feed("call.answer", 63, agentId=B)])
    assert api.cms.agent_calls(1, B) == [CALL]
    assert api.detail().deviceNo == B
    last_of_a = api.agents[A].call_info(include_last=True)
    assert last_of_a.callid == CALL and last_of_a.endtime == feed.at(60)

    # Released by the customer.
    api.ingest_ok([feed("call.release", 120, by="customer")])
    assert api.cms.agent_calls(1, A) == api.cms.agent_calls(1, B) == []
    with pytest.raises(CmsError) as gone:
        api.detail()
    assert gone.value.code == "0100001"
    assert api.agents[B].call_info(include_last=False) is None
    last = api.agents[B].call_info(include_last=True)
    assert (last.callid, last.caller, last.begintime, last.endtime) == (CALL, "13800138000", feed.at(61),
                                                                       feed.at(120))  # fmt: skip
    assert last.trace.talkBeginTime == feed.at(63) and last.trace.leaveReason is None
    assert api.events(B)[-4:] == ["AgentEvent_Customer_Release", "AgentEvent_Call_Release", "AgentOther_PhoneRelease",
                                  "AgentState_Work"]  # fmt: skip

    # The call track of the month of its arrival.
    rows = api.cms.call_track(1, CALL, feed.at(0))
    assert [(r.callIdNum, r.deviceType, r.deviceNo, r.EnterReason, r.LeaveReason) for r in rows] == [
        (1, 3, "100", 0, 0),
        (2, 2, "1001", 0, 18),
        (3, 2, "1001", 9, 0),
        (-1, 2, "1002", 0, 15),
    ]
    assert rows[-1].waitBegin == feed.at(60) and rows[-1].callEnd == feed.at(120)
    assert rows[-1].releaseCause == "0" and rows[0].releaseCause == "0"
    other_month = feed.at(0) - 40 * 86_400_000
    assert month_of(other_month) != month_of(feed.at(0))
    assert api.cms.call_track(1, CALL, other_month) == []

    # DataProcess: the call result, then its evaluation.
    found = api.dp.search(1, call_id=CALL)
    assert found.total == 1
    (result,) = found.results
    assert (result.callId, result.callerNo, result.calleeNo, result.vdn) == (CALL, "13800138000", "650550", 1)
    assert (result.waitBegin, result.ackBegin, result.callBegin, result.callEnd) == (
        feed.at(20), feed.at(25), feed.at(28), feed.at(120))  # fmt: skip
    assert result.leaveReason == 15 and result.evaluationValue == ""
    api.ingest_ok([feed("call.evaluate", 150, evaluationValue="5")])
    evaluated = api.dp.search(1, begin=feed.at(-1), end=feed.at(1), evaluation="5")
    assert [r.callId for r in evaluated.results] == [CALL]


def test_a_busy_target_gets_the_transfer_in_its_private_queue(api: Clients) -> None:
    feed = Feed()
    api.agents[A].sign_in()
    api.agents[B].sign_in()
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
    assert api.cms.private_calls(1, B) == [CALL]
    assert (api.detail().deviceType, api.detail().deviceNo) == (2, B)
