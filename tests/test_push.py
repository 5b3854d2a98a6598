"""The push messages one event causes (domain/push.py): read from the engine as that event left it."""

from __future__ import annotations

from ccdata.domain import push
from ccdata.domain.codes import CtiAgentState
from support import CALL, Script


def messages_of(s: Script, type_: str, at: float, **fields: object) -> list[push.Message]:
    event = s.make(type_, at, **fields)
    outcome = s.apply(event)
    return push.messages(event, outcome.records, s.engine)


def test_agent_and_call_messages_follow_a_call() -> None:
    s = Script()
    [login] = messages_of(s, "agent.login", 0, agentId=101, skills=[7], phone="6101", state="idle")
    assert login == push.Message("agent", 1, {"agentId": 101, "state": 1, "since": login.data["since"],
                                              "callId": "", "skills": [7]})  # fmt: skip
    s.arrive(1)
    queued = messages_of(s, "call.queue", 1, callId=CALL, skillId=7)
    assert [(m.kind, m.data["phase"]) for m in queued] == [("call", "queued")]
    ringing = messages_of(s, "call.alert", 3, callId=CALL, agentId=101)
    assert [m.kind for m in ringing] == ["call", "agent"]
    assert ringing[1].data["state"] == CtiAgentState.ANSWERING and ringing[1].data["callId"] == CALL
    talking = messages_of(s, "call.answer", 4, callId=CALL, agentId=101)
    assert talking[1].data["state"] == CtiAgentState.TALKING
    released = messages_of(s, "call.release", 30, callId=CALL, by="customer")
    kinds = [m.kind for m in released]
    assert kinds[0] == "call" and released[0].data["phase"] == "released"
    assert "track" in kinds and "result" in kinds and kinds[-1] == "agent"
    assert released[-1].data["callId"] == "" and released[-1].data["state"] != CtiAgentState.TALKING
    result = next(m for m in released if m.kind == "result")
    assert result.data["callId"] == CALL and result.vdn == 1


def test_evaluation_after_the_result() -> None:
    s = Script()
    s.login(101, skills=(7,))
    s.arrive(1)
    s("call.queue", 1, callId=CALL, skillId=7)
    s("call.alert", 2, callId=CALL, agentId=101)
    s("call.answer", 3, callId=CALL, agentId=101)
    s("call.release", 10, callId=CALL, by="customer")
    call, evaluation = messages_of(s, "call.evaluate", 20, callId=CALL, evaluationValue="5")
    assert call.kind == "call" and call.data["phase"] == "released"
    assert evaluation.kind == "evaluation" and evaluation.data["evaluationValue"] == "5"
