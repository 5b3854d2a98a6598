"""One scenario per case of the engine issue: the exact call-track rows, call results and live state."""

from __future__ import annotations

import copy

import pytest

from ccdata.domain.codes import CtiAgentState
from ccdata.domain.engine import DUPLICATE, REJECTED, Engine
from ccdata.domain.model import Phase
from support import CALL, IVR, SKILL, SKILL2, T0, A, B, C, Script, answered, rel


@pytest.fixture
def s() -> Script:
    script = Script()
    script.login(A, B, C)
    return script


IVR_ROW = (1, 3, IVR, 0, 0, 2, 2, 2, 20, 0)


# --- IVR ----------------------------------------------------------------------------------------------------


def test_ivr_only_call_released_by_the_system(s: Script) -> None:
    s.arrive(1)
    s("call.ivr", 2, callId=CALL, flowId=IVR)
    s("call.release", 60, callId=CALL, by="system")
    assert s.rows() == [(-1, 3, IVR, 0, 0, 2, 2, 2, 60, 0)]
    assert s.track()[0].release_cause == 0
    assert s.results() == []  # never reached the agent service
    assert s.engine.call(1, CALL) is None


def test_abandon_in_ivr(s: Script) -> None:
    s.arrive(1)
    s("call.ivr", 2, callId=CALL, flowId=IVR)
    s("call.release", 10, callId=CALL, by="customer")
    assert s.rows() == [(-1, 3, IVR, 0, 15, 2, 2, 2, 10, 0)]


def test_ivr_flow_to_flow_jump_writes_a_row_per_flow(s: Script) -> None:
    s.arrive(1)
    s("call.ivr", 2, callId=CALL, flowId=IVR)
    s("call.ivr", 9, callId=CALL, flowId="200")
    s("call.release", 30, callId=CALL, by="system")
    assert s.rows() == [(1, 3, IVR, 0, 0, 2, 2, 2, 9, 0), (-1, 3, "200", 0, 0, 9, 9, 9, 30, 0)]


def test_release_before_any_device_writes_a_routing_row(s: Script) -> None:
    s.arrive(1)
    s("call.release", 3, callId=CALL, by="customer", cause=49)
    assert s.rows() == [(-1, 7, "0", 0, 15, 1, None, None, 3, 0)]
    assert s.track()[0].device_in == "650550"
    assert s.track()[0].release_cause == 49


# --- queue and agent ----------------------------------------------------------------------------------------


def test_ivr_queue_agent_released_by_customer(s: Script) -> None:
    answered(s)
    s("call.release", 90, callId=CALL, by="customer")
    assert s.rows() == [IVR_ROW, (-1, 2, str(A), 0, 15, 20, 25, 28, 90, SKILL)]
    (result,) = s.results()
    assert (rel(result.wait_begin), rel(result.ack_begin), rel(result.call_begin), rel(result.call_end)) == (
        20,
        25,
        28,
        90,
    )
    assert (result.leave_reason, result.agent_id, result.skill_id, result.call_type) == (15, A, SKILL, 0)
    assert result.evaluation_value is None
    agent = s.engine.agent(1, A)
    assert agent.calls == [] and agent.mode == CtiAgentState.WORKING  # wrap-up after a connected call
    assert agent.last_call.call_id == CALL and rel(agent.last_call.leg.call_end) == 90


def test_live_control_block_while_talking(s: Script) -> None:
    answered(s)
    call = s.engine.call(1, CALL)
    assert call.phase is Phase.TALKING
    assert (call.cb, call.handle, call.dsn) == (1, 0, 1)
    assert call.party_num == 3  # IVR, skill queue, agent
    assert call.queue_time_ms(T0 + 40_000) == 5_000  # 20 s -> 25 s in the queue
    assert call.talk_time_ms(T0 + 40_000) == 12_000
    assert s.engine.agent(1, A).calls == [CALL]
    assert s.engine.agent_state(s.engine.agent(1, A)) == CtiAgentState.TALKING


def test_abandon_in_queue(s: Script) -> None:
    s.arrive(1)
    s("call.ivr", 2, callId=CALL, flowId=IVR)
    s("call.queue", 20, callId=CALL, skillId=SKILL)
    s("call.release", 50, callId=CALL, by="customer")
    assert s.rows() == [IVR_ROW, (-1, 1, str(SKILL), 0, 15, 20, None, None, 50, SKILL)]
    (result,) = s.results()
    assert (result.ack_begin, result.call_begin, result.leave_reason, result.agent_id) == (0, 0, 15, 0)


def test_abandon_while_ringing(s: Script) -> None:
    s.arrive(1)
    s("call.queue", 5, callId=CALL, skillId=SKILL)
    s("call.alert", 9, callId=CALL, agentId=A)
    assert s.engine.agent_state(s.engine.agent(1, A)) == CtiAgentState.ANSWERING
    s("call.release", 12, callId=CALL, by="customer")
    assert s.rows() == [(-1, 2, str(A), 0, 15, 5, 9, None, 12, SKILL)]
    agent = s.engine.agent(1, A)
    assert agent.calls == [] and agent.mode == CtiAgentState.IDLE  # never connected: no wrap-up


@pytest.mark.parametrize("reason", [1, 2])  # overflow, timeout
def test_queue_overflow_or_timeout_to_another_skill(s: Script, reason: int) -> None:
    s.arrive(1)
    s("call.queue", 20, callId=CALL, skillId=SKILL)
    s("call.queue", 80, callId=CALL, skillId=SKILL2, reason=reason)
    s("call.alert", 90, callId=CALL, agentId=B)
    s("call.answer", 95, callId=CALL, agentId=B)
    assert s.engine.call(1, CALL).queue_ms == 70_000
    s("call.release", 120, callId=CALL, by="customer")
    assert s.rows() == [
        (1, 1, str(SKILL), 0, reason, 20, None, None, 80, SKILL),
        (-1, 2, str(B), reason, 15, 80, 90, 95, 120, SKILL2),
    ]
    assert s.results()[0].skill_id == SKILL  # the first skill the call asked for


def test_agent_no_answer_requeues_to_the_same_skill(s: Script) -> None:
    s.arrive(1)
    s("call.queue", 20, callId=CALL, skillId=SKILL)
    s("call.alert", 25, callId=CALL, agentId=A)
    s("call.noanswer", 40, callId=CALL, agentId=A)
    call = s.engine.call(1, CALL)
    assert call.phase is Phase.QUEUED and call.legs[-1].queue_skill == SKILL
    s("call.alert", 45, callId=CALL, agentId=B)
    s("call.answer", 50, callId=CALL, agentId=B)
    s("call.release", 100, callId=CALL, by="customer")
    assert s.rows() == [
        (1, 2, str(A), 0, 5, 20, 25, None, 40, SKILL),
        (-1, 2, str(B), 5, 15, 40, 45, 50, 100, SKILL),
    ]
    assert s.engine.agent(1, A).calls == []
    assert s.engine.agent(1, A).mode == CtiAgentState.IDLE
    assert s.results()[0].agent_id == B


def test_agent_rejects_the_call(s: Script) -> None:
    s.arrive(1)
    s("call.queue", 20, callId=CALL, skillId=SKILL)
    s("call.alert", 25, callId=CALL, agentId=A)
    s("call.noanswer", 26, callId=CALL, agentId=A, reason=50)
    s("call.release", 30, callId=CALL, by="customer")
    assert s.rows() == [
        (1, 2, str(A), 0, 50, 20, 25, None, 26, SKILL),
        (-1, 1, str(SKILL), 50, 15, 26, None, None, 30, SKILL),
    ]


# --- transfers ----------------------------------------------------------------------------------------------


def test_transfer_agent_to_skill(s: Script) -> None:
    answered(s)
    s("call.transfer", 60, callId=CALL, agentId=A, target={"skillId": SKILL2})
    assert s.engine.agent(1, A).calls == []
    assert s.engine.agent(1, A).mode == CtiAgentState.WORKING
    assert s.engine.agent(1, A).last_call.call_id == CALL
    s("call.alert", 70, callId=CALL, agentId=B)
    s("call.answer", 72, callId=CALL, agentId=B)
    s("call.release", 100, callId=CALL, by="customer")
    assert s.rows() == [
        IVR_ROW,
        (2, 2, str(A), 0, 28, 20, 25, 28, 60, SKILL),
        (-1, 2, str(B), 28, 15, 60, 70, 72, 100, SKILL2),
    ]
    assert s.engine.call(1, CALL) is None


def test_transfer_to_a_busy_agent_waits_in_its_private_queue(s: Script) -> None:
    other = "1700000000-2"
    s.arrive(1, call_id=other)
    s("call.queue", 2, callId=other, skillId=SKILL)
    s("call.alert", 3, callId=other, agentId=B)
    s("call.answer", 4, callId=other, agentId=B)
    answered(s)
    s("call.transfer", 60, callId=CALL, agentId=A, target={"agentId": B})
    assert s.engine.agent(1, B).private == [CALL]  # B is talking: the call waits in B's private queue
    s("call.release", 80, callId=other, by="customer")
    assert s.engine.agent(1, B).private == [CALL]  # still private while B wraps up
    s("call.alert", 90, callId=CALL, agentId=B)
    assert s.engine.agent(1, B).private == []
    assert s.engine.agent(1, B).calls == [CALL]
    s("call.answer", 91, callId=CALL, agentId=B)
    s("call.release", 120, callId=CALL, by="agent", agentId=B)
    assert s.rows() == [
        IVR_ROW,
        (2, 2, str(A), 0, 0, 20, 25, 28, 60, SKILL),
        (-1, 2, str(B), 0, 16, 60, 90, 91, 120, SKILL),  # the call's skill goes with it (issue 12)
    ]
    assert s.engine.agent(1, B).last_call.skill_id == SKILL


def test_transfer_to_an_idle_agent_is_not_private(s: Script) -> None:
    answered(s)
    s("call.transfer", 60, callId=CALL, agentId=A, target={"agentId": B})
    assert s.engine.agent(1, B).private == []
    s("call.alert", 61, callId=CALL, agentId=B)
    rejected = s.send("call.alert", 62, callId=CALL, agentId=C)
    assert rejected.reason_code == "bad_transition"


def test_private_call_abandoned_leaves_the_private_queue(s: Script) -> None:
    other = "1700000000-2"
    s.arrive(1, call_id=other)
    s("call.alert", 2, callId=other, agentId=B)
    s("call.answer", 3, callId=other, agentId=B)
    answered(s)
    s("call.transfer", 60, callId=CALL, agentId=A, target={"agentId": B})
    wrong = s.send("call.alert", 61, callId=CALL, agentId=C)
    assert wrong.reason_code == "wrong_agent"
    s("call.release", 70, callId=CALL, by="customer")
    assert s.engine.agent(1, B).private == []
    assert s.rows()[-1] == (-1, 2, str(B), 0, 15, 60, None, None, 70, SKILL)


def test_transfer_agent_to_outside_number(s: Script) -> None:
    answered(s)
    s("call.transfer", 60, callId=CALL, agentId=A, target={"number": "13900001111"})
    assert s.engine.call(1, CALL).phase is Phase.OUTSIDE
    s("call.answer", 65, callId=CALL, party="outside")
    s("call.release", 120, callId=CALL, by="customer")
    assert s.rows() == [IVR_ROW, (2, 2, str(A), 0, 17, 20, 25, 28, 60, SKILL), (-1, 5, "4", 17, 15, 60, 60, 65, 120, 0)]
    assert s.track()[-1].device_in == "13900001111"


def test_transfer_to_ivr(s: Script) -> None:
    answered(s)
    s("call.transfer", 60, callId=CALL, agentId=A, target={"flowId": "900"})
    s("call.release", 75, callId=CALL, by="system")
    assert s.rows()[-2:] == [(2, 2, str(A), 0, 0, 20, 25, 28, 60, SKILL), (-1, 3, "900", 0, 0, 60, 60, 60, 75, 0)]


# --- hold and conference ------------------------------------------------------------------------------------


def test_hold_and_unhold(s: Script) -> None:
    answered(s)
    s("call.hold", 40, callId=CALL, agentId=A)
    call = s.engine.call(1, CALL)
    assert call.phase is Phase.HELD and call.talk_ms == 12_000
    assert s.engine.agent_state(s.engine.agent(1, A)) == CtiAgentState.TALKING
    s("call.unhold", 50, callId=CALL, agentId=A)
    s("call.release", 90, callId=CALL, by="agent")
    assert s.rows() == [
        IVR_ROW,
        (2, 2, str(A), 0, 18, 20, 25, 28, 40, SKILL),
        (-1, 2, str(A), 9, 16, 40, 50, 50, 90, SKILL),
    ]
    assert s.results()[0].call_begin == T0 + 28_000


def test_customer_hangs_up_while_held(s: Script) -> None:
    answered(s)
    s("call.hold", 40, callId=CALL, agentId=A)
    s("call.release", 45, callId=CALL, by="customer")
    assert s.rows()[-1] == (-1, 2, str(A), 9, 15, 40, None, None, 45, SKILL)
    assert s.engine.agent(1, A).mode == CtiAgentState.WORKING


def test_three_party_conference_with_an_agent(s: Script) -> None:
    answered(s)
    s("call.conference", 60, callId=CALL, agentId=A, party={"agentId": B})
    assert s.engine.agent(1, B).calls == [CALL]
    assert s.engine.call(1, CALL).party_num == 4
    assert s.send("call.hold", 61, callId=CALL, agentId=A).reason_code == "in_conference"
    s("call.release", 100, callId=CALL, by="agent", agentId=A)
    assert s.rows() == [
        IVR_ROW,
        (2, 2, str(A), 0, 16, 20, 25, 28, 100, SKILL),
        (-1, 2, str(B), 10, 52, 60, 60, 60, 100, 0),  # the chairperson ended the conference (issue 12)
    ]
    for agent_id in (A, B):
        assert s.engine.agent(1, agent_id).calls == []
        assert s.engine.agent(1, agent_id).mode == CtiAgentState.WORKING


def test_three_party_conference_with_an_outside_number(s: Script) -> None:
    answered(s)
    s("call.conference", 60, callId=CALL, agentId=A, party={"number": "13900002222"})
    s("call.release", 100, callId=CALL, by="customer")
    assert s.rows()[-1] == (-1, 15, "4", 10, 15, 60, 60, 60, 100, 0)
    assert s.track()[-1].device_in == "13900002222"


# --- outbound -----------------------------------------------------------------------------------------------


def test_agent_outbound_call(s: Script) -> None:
    s("call.originate", 1, callId=CALL, agentId=A, caller="650550", called="13900003333")
    assert s.engine.call(1, CALL).phase is Phase.DIALING
    s("call.answer", 10, callId=CALL, party="customer")
    s("call.release", 60, callId=CALL, by="agent")
    assert s.rows() == [(-1, 2, str(A), 0, 16, 1, 1, 10, 60, 0)]
    assert s.track()[0].call_type == 7  # SP_CALL_OUT
    (result,) = s.results()
    assert (result.call_type, result.agent_id, rel(result.call_begin)) == (1, A, 10)


def test_agent_outbound_not_answered(s: Script) -> None:
    s("call.originate", 1, callId=CALL, agentId=A, caller="650550", called="13900003333", campaign="preview")
    s("call.release", 30, callId=CALL, by="system", cause=8, leaveReason=26)
    assert s.rows() == [(-1, 2, str(A), 0, 26, 1, 1, None, 30, 0)]
    assert s.track()[0].call_type == 44 and s.track()[0].release_cause == 8
    assert s.results()[0].call_type == 3
    assert s.engine.agent(1, A).mode == CtiAgentState.IDLE


def test_predictive_campaign_call(s: Script) -> None:
    s("call.originate", 1, callId=CALL, caller="650550", called="13900004444", campaign="predictive")
    s("call.answer", 10, callId=CALL, party="customer")
    s("call.queue", 11, callId=CALL, skillId=SKILL)
    s("call.alert", 12, callId=CALL, agentId=A)
    s("call.answer", 13, callId=CALL, agentId=A)
    s("call.release", 60, callId=CALL, by="customer")
    assert s.rows() == [(-1, 2, str(A), 0, 15, 11, 12, 13, 60, SKILL)]
    assert s.track()[0].call_type == 43
    assert s.results()[0].call_type == 2


def test_predictive_call_not_answered_has_no_call_result(s: Script) -> None:
    s("call.originate", 1, callId=CALL, caller="650550", called="13900004444", campaign="predictive")
    s("call.release", 31, callId=CALL, by="system", cause=8)
    assert s.rows() == [(-1, 7, "0", 0, 26, 1, None, None, 31, 0)]  # cause 8 "called no answer": 26
    assert s.results() == []


# --- release by whom ----------------------------------------------------------------------------------------


def test_release_by_system_with_an_explicit_leave_reason(s: Script) -> None:
    s.arrive(1)
    s("call.queue", 5, callId=CALL, skillId=SKILL)
    s("call.release", 65, callId=CALL, by="system", cause=1, leaveReason=25)
    assert s.rows() == [(-1, 1, str(SKILL), 0, 25, 5, None, None, 65, SKILL)]
    assert s.track()[0].release_cause == 1
    assert s.results()[0].release_cause == 1


def test_release_by_agent_needs_an_agent_on_the_call(s: Script) -> None:
    s.arrive(1)
    s("call.ivr", 2, callId=CALL, flowId=IVR)
    assert s.send("call.release", 3, callId=CALL, by="agent").reason_code == "bad_transition"


# --- evaluations --------------------------------------------------------------------------------------------


def test_evaluation_before_release_lands_in_the_call_result(s: Script) -> None:
    answered(s)
    s("call.evaluate", 50, callId=CALL, evaluationValue="4")
    s("call.release", 90, callId=CALL, by="customer")
    assert s.results()[0].evaluation_value == "4"


def test_evaluation_after_release_updates_the_call_result(s: Script) -> None:
    answered(s)
    s("call.release", 90, callId=CALL, by="customer")
    outcome = s("call.evaluate", 150, callId=CALL, evaluationValue="5")
    (update,) = outcome.records
    assert (update.call_id, update.evaluation_value, update.arrived_at) == (CALL, "5", T0 + 1000)


def test_evaluation_of_an_ivr_only_call_is_rejected(s: Script) -> None:
    s.arrive(1)
    s("call.ivr", 2, callId=CALL, flowId=IVR)
    s("call.release", 9, callId=CALL, by="system")
    assert s.send("call.evaluate", 20, callId=CALL, evaluationValue="5").reason_code == "no_call_result"


def test_evaluation_after_the_window_is_rejected() -> None:
    s = Script(engine=Engine(evaluation_window_ms=60_000))
    s.login(A)
    answered(s)
    s("call.release", 90, callId=CALL, by="customer")
    s.arrive(200, call_id="1700000200-1")  # event time moves on past the window
    assert s.send("call.evaluate", 201, callId=CALL, evaluationValue="5").reason_code == "unknown_call"


# --- duplicates and rejections ------------------------------------------------------------------------------


def test_duplicate_event_is_a_no_op(s: Script) -> None:
    s.arrive(1)
    event = s.make("call.queue", 5, callId=CALL, skillId=SKILL)
    s.apply(event)
    before = copy.deepcopy(s.engine.state())
    outcome = s.apply(event)
    assert outcome.status == DUPLICATE and outcome.records == []
    assert s.engine.state() == before
    assert s.engine.duplicates == 1


REJECTIONS = [
    ("call.answer", {"callId": "nope-1", "agentId": A}, "unknown_call"),
    ("call.hold", {"callId": CALL, "agentId": A}, "bad_transition"),
    ("call.alert", {"callId": CALL, "agentId": 4242}, "agent_not_signed_in"),
    ("call.answer", {"callId": CALL, "agentId": B}, "bad_transition"),
    ("call.arrive", {"callId": CALL, "caller": "1", "called": "2"}, "call_exists"),
    ("call.transfer", {"callId": CALL, "agentId": A, "target": {"skillId": 9}}, "bad_transition"),
    ("call.unhold", {"callId": CALL, "agentId": A}, "bad_transition"),
    ("agent.login", {"agentId": A}, "agent_signed_in"),
    ("agent.state", {"agentId": 4242, "state": "idle"}, "agent_not_signed_in"),
]


@pytest.mark.parametrize(("type_", "fields", "code"), REJECTIONS)
def test_impossible_events_are_rejected_and_change_nothing(s: Script, type_: str, fields: dict, code: str) -> None:
    s.arrive(1)
    s("call.queue", 5, callId=CALL, skillId=SKILL)
    before = copy.deepcopy(s.engine.state())
    outcome = s.send(type_, 6, **fields)
    assert (outcome.status, outcome.reason_code) == (REJECTED, code)
    assert outcome.reason  # a human-readable reason
    assert s.engine.state() == before
    assert s.engine.rejections[code] == 1


def test_rejections_that_fail_late_leave_no_trace(s: Script) -> None:
    """Checks that run after the call is found (agent, time) must not touch the call either."""
    answered(s)
    before = copy.deepcopy(s.engine.state())
    assert s.send("call.transfer", 30, callId=CALL, agentId=A, target={"agentId": 4242}).status == REJECTED
    assert s.send("call.conference", 30, callId=CALL, agentId=A, party={"agentId": A}).status == REJECTED
    assert s.send("call.release", 10, callId=CALL, by="customer").reason_code == "time_regression"
    assert s.engine.state() == before


def test_events_of_a_released_call_are_rejected(s: Script) -> None:
    s.arrive(1)
    s("call.release", 2, callId=CALL, by="customer")
    assert s.send("call.ivr", 3, callId=CALL, flowId=IVR).reason_code == "call_released"
    assert s.send("call.arrive", 4, callId=CALL, caller="1", called="2").reason_code == "call_released"


def test_other_vdn_cannot_touch_a_call() -> None:
    s = Script()
    s.arrive(1)
    other = Script(engine=s.engine, vdn=2)
    other._n = 1000
    assert other.send("call.release", 2, callId=CALL, by="customer").reason_code == "vdn_mismatch"


def test_logout_with_a_call_in_progress_is_rejected(s: Script) -> None:
    answered(s)
    assert s.send("agent.logout", 30, agentId=A).reason_code == "agent_has_calls"
    s("call.release", 40, callId=CALL, by="customer")
    s("agent.logout", 50, agentId=A)
    assert s.engine.agent_state(s.engine.agent(1, A)) == CtiAgentState.NOT_SIGNED_IN


def test_forced_sign_in_replaces_the_session(s: Script) -> None:
    s("agent.login", 100, agentId=A, force=True, state="wrapup")
    agent = s.engine.agent(1, A)
    assert agent.login_at == T0 + 100_000 and agent.mode == CtiAgentState.WORKING


# --- control blocks -----------------------------------------------------------------------------------------


def test_control_blocks_are_reused_and_counted(s: Script) -> None:
    s.arrive(1, call_id="c-1")
    s.arrive(2, call_id="c-2")
    s("call.release", 3, callId="c-1", by="customer")
    s.arrive(4, call_id="c-3")
    blocks = {c: (s.engine.call(1, c).cb, s.engine.call(1, c).handle, s.engine.call(1, c).dsn) for c in ("c-2", "c-3")}
    assert blocks == {"c-2": (2, 0, 2), "c-3": (1, 1, 3)}
