"""Contract v2 flows and the issue-12 fidelity fixes: the exact call-track rows, codes and live state."""

from __future__ import annotations

import copy

import pytest

from ccdata.domain import events, views
from ccdata.domain.codes import CtiAgentState
from ccdata.domain.engine import REJECTED
from ccdata.domain.model import Phase
from support import CALL, IVR, SKILL, SKILL2, T0, A, B, C, Script, answered, rel

CONS = "1700000040-9"  # the consult call
HELD_A = (2, 2, str(A), 0, 18, 20, 25, 28, 40, SKILL)  # A's leg, closed by the consult's hold


@pytest.fixture
def s() -> Script:
    script = Script()
    script.login(A, B, C)
    return script


def consult(s: Script, target: dict, at: float = 40) -> None:
    s("call.consult", at, callId=CONS, originalCallId=CALL, agentId=A, target=target)


def no_skill(_vdn: int, skill: int) -> str:
    return f"skill-{skill}"


# --- consult calls ------------------------------------------------------------------------------------------


def test_attended_transfer_to_an_agent(s: Script) -> None:
    answered(s)
    consult(s, {"agentId": B})
    assert s.engine.call(1, CALL).phase is Phase.HELD and s.engine.call(1, CALL).consult == CONS
    assert s.engine.call(1, CONS).phase is Phase.ALERTING
    s("call.answer", 45, callId=CONS, agentId=B)
    s("call.consult.transfer", 60, callId=CONS, agentId=A)
    assert s.rows(CONS) == [(1, 2, str(A), 0, 0, 40, 40, 40, 60, 0), (-1, 2, str(B), 0, 0, 40, 40, 45, 60, 0)]
    assert {r.call_type for r in s.track(CONS)} == {51} and s.track(CONS)[-1].release_cause == 0
    assert s.engine.call(1, CONS) is None and s.engine.call(1, CALL).consult == ""
    assert s.engine.agent(1, A).mode == CtiAgentState.WORKING and s.engine.agent(1, A).calls == []
    assert s.engine.agent(1, B).calls == [CALL]
    s("call.release", 100, callId=CALL, by="customer")
    assert s.rows() == [
        (1, 3, IVR, 0, 0, 2, 2, 2, 20, 0),
        HELD_A,
        (3, 2, str(A), 9, 0, 40, None, None, 60, SKILL),
        (-1, 2, str(B), 0, 15, 60, 60, 60, 100, SKILL),
    ]
    assert s.results(CONS) == []  # an internal call has no call result
    (result,) = s.results()
    assert (result.agent_id, result.release_cause, result.leave_reason) == (A, 0, 15)


def test_consult_a_skill_joined_as_a_conference_then_the_helper_leaves(s: Script) -> None:
    answered(s)
    consult(s, {"skillId": SKILL2})
    s("call.alert", 45, callId=CONS, agentId=B)
    s("call.answer", 47, callId=CONS, agentId=B)
    s("call.consult.conference", 60, callId=CONS, agentId=A)
    assert s.rows(CONS) == [(1, 2, str(A), 0, 10, 40, 40, 40, 60, 0), (-1, 2, str(B), 0, 10, 40, 45, 47, 60, SKILL2)]
    assert {r.call_type for r in s.track(CONS)} == {52}  # help that became three-party
    assert s.send("call.evaluate", 61, callId=CONS, evaluationValue="5").reason_code == "no_call_result"
    call = s.engine.call(1, CALL)
    assert call.conference and call.phase is Phase.TALKING and call.skill_id == SKILL2
    assert s.send("call.hold", 61, callId=CALL, agentId=A).reason_code == "in_conference"
    s("call.leave", 80, callId=CALL, party={"agentId": B})
    assert not s.engine.call(1, CALL).conference
    assert s.engine.agent(1, B).mode == CtiAgentState.WORKING and s.engine.agent(1, A).calls == [CALL]
    s("call.release", 100, callId=CALL, by="agent", agentId=A)
    assert s.rows()[1:] == [
        HELD_A,
        (3, 2, str(B), 8, 16, 60, 60, 60, 80, SKILL2),
        (-1, 2, str(A), 9, 16, 40, 60, 60, 100, SKILL),
    ]


def test_consult_a_number_cancelled_retrieves_the_customer(s: Script) -> None:
    answered(s)
    consult(s, {"number": "13900001111"})
    assert s.engine.call(1, CONS).phase is Phase.OUTSIDE
    s("call.consult.cancel", 50, callId=CONS, agentId=A)
    assert s.rows(CONS) == [(1, 2, str(A), 0, 16, 40, 40, 40, 50, 0), (-1, 5, "2", 0, 41, 40, 40, None, 50, 0)]
    assert s.track(CONS)[-1].device_in == "13900001111" and s.track(CONS)[0].call_type == 7
    assert s.engine.call(1, CALL).phase is Phase.TALKING
    s("call.release", 90, callId=CALL, by="customer")
    assert s.rows()[1:] == [HELD_A, (-1, 2, str(A), 9, 15, 40, 50, 50, 90, SKILL)]


def test_internal_help_cancelled_by_the_requester(s: Script) -> None:
    answered(s)
    consult(s, {"agentId": B})
    s("call.answer", 45, callId=CONS, agentId=B)
    s("call.consult.cancel", 50, callId=CONS, agentId=A)
    assert s.rows(CONS) == [(1, 2, str(A), 0, 16, 40, 40, 40, 50, 0), (-1, 2, str(B), 0, 11, 40, 40, 45, 50, 0)]
    assert s.engine.agent(1, B).mode == CtiAgentState.WORKING  # B talked: wrap-up
    assert s.engine.agent(1, A).calls == [CALL] and s.engine.agent(1, A).mode == CtiAgentState.IDLE


def test_attended_transfer_to_a_number(s: Script) -> None:
    answered(s)
    consult(s, {"number": "13900001111"})
    s("call.answer", 45, callId=CONS, party="outside")
    s("call.consult.transfer", 60, callId=CONS, agentId=A)
    assert s.rows(CONS) == [(1, 2, str(A), 0, 0, 40, 40, 40, 60, 0), (-1, 5, "2", 0, 0, 40, 40, 45, 60, 0)]
    assert s.engine.call(1, CALL).phase is Phase.OUTSIDE
    s("call.release", 100, callId=CALL, by="customer")
    assert s.rows()[1:] == [
        HELD_A,
        (3, 2, str(A), 9, 17, 40, None, None, 60, SKILL),
        (-1, 5, "5", 17, 15, 60, 60, 60, 100, 0),
    ]
    assert s.track()[-1].device_in == "13900001111" and s.track()[-1].release_cause == 0


def test_consult_released_by_the_consulted_agent_leaves_the_customer_held(s: Script) -> None:
    answered(s)
    consult(s, {"agentId": B})
    s("call.answer", 45, callId=CONS, agentId=B)
    s("call.release", 50, callId=CONS, by="agent", agentId=B)
    assert s.rows(CONS) == [(1, 2, str(A), 0, 16, 40, 40, 40, 50, 0), (-1, 2, str(B), 0, 16, 40, 40, 45, 50, 0)]
    assert s.engine.call(1, CALL).phase is Phase.HELD and s.engine.call(1, CALL).consult == ""
    s("call.unhold", 55, callId=CALL, agentId=A)
    s("call.release", 70, callId=CALL, by="customer")
    assert s.rows()[-1] == (-1, 2, str(A), 9, 15, 40, 55, 55, 70, SKILL)


def test_customer_hangs_up_during_a_consult(s: Script) -> None:
    answered(s)
    consult(s, {"agentId": B})
    s("call.release", 42, callId=CALL, by="customer")
    assert s.rows()[-1] == (-1, 2, str(A), 9, 15, 40, None, None, 42, SKILL)
    assert s.engine.call(1, CONS).consult_of == ""  # the consult goes on alone; it can no longer be completed
    s("call.answer", 45, callId=CONS, agentId=B)
    assert s.send("call.consult.transfer", 46, callId=CONS, agentId=A).reason_code == "bad_transition"
    s("call.release", 50, callId=CONS, by="agent", agentId=A)
    assert s.engine.agent(1, A).calls == [] and s.engine.agent(1, A).mode == CtiAgentState.WORKING


CONSULT_REJECTIONS = [
    ("call.unhold", {"callId": CALL, "agentId": A}, "bad_transition"),  # complete or cancel the consult first
    ("call.consult.transfer", {"callId": CONS, "agentId": A}, "bad_transition"),  # B has not answered
    ("call.consult.cancel", {"callId": CONS, "agentId": B}, "wrong_agent"),
    ("call.hold", {"callId": CONS, "agentId": A}, "bad_transition"),  # no v1 call control on a consult
    ("call.transfer", {"callId": CONS, "agentId": A, "target": {"skillId": 9}}, "bad_transition"),
    (
        "call.consult",
        {"callId": "c-2", "originalCallId": CALL, "agentId": A, "target": {"agentId": C}},
        "bad_transition",
    ),
    ("call.consult", {"callId": CONS, "originalCallId": CALL, "agentId": A, "target": {"agentId": C}}, "call_exists"),
    ("call.consult.transfer", {"callId": CALL, "agentId": A}, "bad_transition"),  # not a consult
]


@pytest.mark.parametrize(("type_", "fields", "code"), CONSULT_REJECTIONS)
def test_impossible_consult_events_change_nothing(s: Script, type_: str, fields: dict, code: str) -> None:
    answered(s)
    consult(s, {"agentId": B})
    before = copy.deepcopy(s.engine.state())
    outcome = s.send(type_, 41, **fields)
    assert (outcome.status, outcome.reason_code) == (REJECTED, code)
    assert s.engine.state() == before


def test_a_consult_needs_a_connected_agent_and_a_new_call_id(s: Script) -> None:
    answered(s)
    s("call.conference", 30, callId=CALL, agentId=A, party={"number": "139"})
    before = copy.deepcopy(s.engine.state())
    outcome = s.send("call.consult", 31, callId=CONS, originalCallId=CALL, agentId=A, target={"agentId": B})
    assert outcome.reason_code == "in_conference"
    with pytest.raises(events.InvalidEvent):
        s.make("call.consult", 31, callId=CALL, originalCallId=CALL, agentId=A, target={"agentId": B})
    assert s.engine.state() == before


# --- internal calls ------------------------------------------------------------------------------------------


def test_internal_call_between_agents(s: Script) -> None:
    s("call.internal", 1, callId=CALL, agentId=A, target={"agentId": B})
    assert s.engine.agent_state(s.engine.agent(1, B)) == CtiAgentState.ANSWERING
    s("call.answer", 3, callId=CALL, agentId=B)
    s("call.release", 30, callId=CALL, by="agent", agentId=A)
    assert s.rows() == [(1, 2, str(A), 0, 16, 1, 1, 1, 30, 0), (-1, 2, str(B), 0, 16, 1, 1, 3, 30, 0)]
    assert {r.call_type for r in s.track()} == {6} and s.results() == []
    assert (s.track()[0].caller_no, s.track()[0].callee_no) == (f"6{A}", f"6{B}")


def test_internal_call_not_answered(s: Script) -> None:
    s("call.internal", 1, callId=CALL, agentId=A, target={"agentId": B})
    s("call.noanswer", 10, callId=CALL, agentId=B)
    assert s.engine.call(1, CALL).phase is Phase.ROUTING
    s("call.release", 12, callId=CALL, by="agent")
    assert s.rows() == [(1, 2, str(B), 0, 5, 1, 1, None, 10, 0), (-1, 2, str(A), 0, 16, 1, 1, 1, 12, 0)]
    assert s.engine.agent(1, A).calls == [] and s.engine.agent(1, A).mode == CtiAgentState.WORKING


# --- ringing several agents, pickup, intercept ---------------------------------------------------------------


def test_ringing_several_agents_first_answer_wins(s: Script) -> None:
    s.arrive(1)
    s("call.queue", 5, callId=CALL, skillId=SKILL)
    s("call.alert", 10, callId=CALL, agentIds=[A, B, C])
    assert all(s.engine.agent_state(s.engine.agent(1, a)) == CtiAgentState.ANSWERING for a in (A, B, C))
    s("call.noanswer", 12, callId=CALL, agentId=C)
    assert s.engine.call(1, CALL).phase is Phase.ALERTING  # the others still ring
    outcome = s("call.answer", 15, callId=CALL, agentId=B)
    assert [r.device_no for r in outcome.records] == [str(A)]
    s("call.release", 60, callId=CALL, by="customer")
    assert s.rows() == [
        (1, 2, str(C), 0, 5, 5, 10, None, 12, SKILL),
        (2, 2, str(A), 0, 5, 5, 10, None, 15, SKILL),
        (-1, 2, str(B), 0, 15, 5, 10, 15, 60, SKILL),
    ]
    assert s.engine.call is not None and s.engine.agent(1, A).mode == CtiAgentState.IDLE
    (result,) = s.results()
    assert (result.agent_id, rel(result.ack_begin), rel(result.call_begin)) == (B, 10, 15)


def test_ringing_several_agents_nobody_answers_requeues(s: Script) -> None:
    s.arrive(1)
    s("call.queue", 5, callId=CALL, skillId=SKILL)
    s("call.alert", 10, callId=CALL, agentIds=[A, B])
    s("call.noanswer", 20, callId=CALL, agentId=A)
    s("call.noanswer", 21, callId=CALL, agentId=B, reason=50)
    assert s.engine.call(1, CALL).phase is Phase.QUEUED
    s("call.release", 30, callId=CALL, by="customer")
    assert s.rows() == [
        (1, 2, str(A), 0, 5, 5, 10, None, 20, SKILL),
        (2, 2, str(B), 0, 50, 5, 10, None, 21, SKILL),
        (-1, 1, str(SKILL), 50, 15, 21, None, None, 30, SKILL),
    ]
    assert s.track()[-1].release_cause == 49


def test_ringing_several_agents_rejections(s: Script) -> None:
    s.arrive(1)
    with pytest.raises(events.InvalidEvent):
        events.from_builtins(
            {"type": "call.alert", "id": "x", "at": T0, "ccId": 1, "vdn": 1, "callId": CALL, "agentIds": [A, A]}
        )
    with pytest.raises(events.InvalidEvent):
        events.from_builtins(
            {
                "type": "call.alert",
                "id": "x",
                "at": T0,
                "ccId": 1,
                "vdn": 1,
                "callId": CALL,
                "agentId": A,
                "agentIds": [B, C],
            }
        )
    assert s.send("call.alert", 2, callId=CALL, agentIds=[A, 4242]).reason_code == "agent_not_signed_in"
    assert s.engine.agent(1, A).calls == []


def test_pickup_of_a_ringing_call(s: Script) -> None:
    s.arrive(1)
    s("call.queue", 5, callId=CALL, skillId=SKILL)
    s("call.alert", 10, callId=CALL, agentId=A)
    assert s.send("call.pickup", 12, callId=CALL, agentId=A).reason_code == "bad_transition"
    s("call.pickup", 14, callId=CALL, agentId=B)
    s("call.release", 50, callId=CALL, by="customer")
    assert s.rows() == [(1, 2, str(A), 0, 13, 5, 10, None, 14, SKILL), (-1, 2, str(B), 13, 15, 14, 14, 14, 50, SKILL)]
    assert s.results()[0].agent_id == B and s.engine.agent(1, A).mode == CtiAgentState.IDLE


def test_intercept_of_a_connected_call(s: Script) -> None:
    answered(s)
    s("call.intercept", 40, callId=CALL, agentId=C)
    assert s.engine.agent(1, A).mode == CtiAgentState.WORKING
    s("call.release", 70, callId=CALL, by="agent")
    assert s.rows()[1:] == [
        (2, 2, str(A), 0, 12, 20, 25, 28, 40, SKILL),
        (-1, 2, str(C), 12, 16, 40, 40, 40, 70, SKILL),
    ]
    assert s.results()[0].agent_id == A  # the first agent who connected


# --- conference parties ------------------------------------------------------------------------------------


def test_a_number_leaves_the_conference_and_the_call_goes_on(s: Script) -> None:
    answered(s)
    s("call.conference", 60, callId=CALL, agentId=A, party={"number": "13900002222"})
    assert s.send("call.leave", 65, callId=CALL, party={"agentId": A}).reason_code == "bad_conference"  # last agent
    s("call.leave", 70, callId=CALL, party={"number": "13900002222"})
    s("call.hold", 80, callId=CALL, agentId=A)  # a two-party call again
    s("call.unhold", 85, callId=CALL, agentId=A)
    s("call.release", 90, callId=CALL, by="customer")
    assert s.rows()[1:] == [
        (2, 15, "4", 10, 15, 60, 60, 60, 70, 0),
        (3, 2, str(A), 0, 18, 20, 25, 28, 80, SKILL),
        (-1, 2, str(A), 9, 15, 80, 85, 85, 90, SKILL),
    ]


def test_conference_released_by_the_joined_agent_gives_the_others_52(s: Script) -> None:
    answered(s)
    s("call.conference", 60, callId=CALL, agentId=A, party={"agentId": B})
    s("call.release", 100, callId=CALL, by="agent", agentId=B)
    assert s.rows()[1:] == [(2, 2, str(A), 0, 52, 20, 25, 28, 100, SKILL), (-1, 2, str(B), 10, 16, 60, 60, 60, 100, 0)]


def test_conference_released_by_the_customer(s: Script) -> None:
    answered(s)
    s("call.conference", 60, callId=CALL, agentId=A, party={"agentId": B})
    s("call.release", 100, callId=CALL, by="customer")
    assert [r[4] for r in s.rows()[1:]] == [15, 15]


# --- release causes and leave reasons ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("steps", "cause"),
    [
        ([], 49),  # routing
        ([("call.queue", {"skillId": SKILL})], 49),
        ([("call.queue", {"skillId": SKILL}), ("call.alert", {"agentId": A})], 49),
        ([("call.ivr", {"flowId": IVR})], 0),  # the IVR answered the call
        ([("call.alert", {"agentId": A}), ("call.answer", {"agentId": A})], 0),
    ],
)
def test_customer_release_cause(s: Script, steps: list, cause: int) -> None:
    s.arrive(1)
    for n, (type_, fields) in enumerate(steps):
        s(type_, 2 + n, callId=CALL, **fields)
    s("call.release", 10, callId=CALL, by="customer")
    assert s.track()[-1].release_cause == cause and s.track()[-1].leave_reason == 15
    assert all(r.release_cause == cause for r in s.results())


def test_an_explicit_cause_is_kept_and_survives_the_log_encoding(s: Script) -> None:
    s.arrive(1)
    s("call.queue", 2, callId=CALL, skillId=SKILL)
    event = s.make("call.release", 3, callId=CALL, by="customer", cause=0)
    assert events.decode(events.encode(event)) == event
    s.apply(event)
    assert s.track()[-1].release_cause == 0


@pytest.mark.parametrize(("cause", "reason"), [(0, 0), (1, 25), (3, 19), (8, 26), (9, 27), (47, 20), (48, 22), (7, 0)])
def test_system_release_reason_follows_the_cause(s: Script, cause: int, reason: int) -> None:
    s("call.originate", 1, callId=CALL, agentId=A, caller="650550", called="139")
    s("call.release", 30, callId=CALL, by="system", cause=cause)
    assert s.rows() == [(-1, 2, str(A), 0, reason, 1, 1, None, 30, 0)]
    assert s.track()[0].release_cause == cause and s.results()[0].leave_reason == reason


# --- live views ---------------------------------------------------------------------------------------------


def test_gateway_view_of_a_retrieved_call_keeps_its_begin_and_talk_times(s: Script) -> None:
    answered(s)
    s("call.hold", 40, callId=CALL, agentId=A)
    s("call.unhold", 50, callId=CALL, agentId=A)
    agent = s.engine.agent(1, A)
    info = views.gateway_call_info(s.engine, agent, s.engine.call(1, CALL), no_skill, T0 + 60_000)
    assert info["begintime"] == T0 + 25_000
    trace = info["trace"]
    assert (trace["waitBeginTime"], trace["answerBeginTime"], trace["talkBeginTime"]) == (
        T0 + 20_000,
        T0 + 25_000,
        T0 + 28_000,
    )
    s("call.release", 90, callId=CALL, by="customer")
    last = views.gateway_call_info(s.engine, agent, agent.last_call, no_skill, T0 + 95_000)
    assert (last["begintime"], last["trace"]["talkBeginTime"]) == (T0 + 25_000, T0 + 28_000)
    assert s.rows()[-1] == (-1, 2, str(A), 9, 15, 40, 50, 50, 90, SKILL)  # the track is as before


def test_agent_transfer_keeps_call_skill_and_current_skill_in_step(s: Script) -> None:
    answered(s)
    s("call.transfer", 40, callId=CALL, agentId=A, target={"agentId": B})
    s("call.alert", 41, callId=CALL, agentId=B)
    s("call.answer", 42, callId=CALL, agentId=B)
    call = s.engine.call(1, CALL)
    assert call.skill_id == call.agent_leg(B).skill_id == SKILL
    assert views.detail_call_info(s.engine, call, no_skill, T0 + 50_000)["callSkill"] == f"skill-{SKILL}"
    s("call.release", 50, callId=CALL, by="customer")
    assert s.rows()[-1] == (-1, 2, str(B), 0, 15, 40, 41, 42, 50, SKILL)


def test_batch_agent_calls_lists_a_private_call(s: Script) -> None:
    other = "1700000000-2"
    s.arrive(1, call_id=other)
    s("call.alert", 2, callId=other, agentId=B)
    s("call.answer", 3, callId=other, agentId=B)
    answered(s)
    s("call.transfer", 40, callId=CALL, agentId=A, target={"agentId": B})
    listed = views.agent_call_list(s.engine, s.engine.agent(1, B))
    assert [(c["callId"], c["callStatus"]) for c in listed] == [(other, 5), (CALL, 3)]


def test_release_cause_of_rows_other_than_the_last(s: Script) -> None:
    answered(s)
    s("call.release", 90, callId=CALL, by="customer")
    assert [views.track_row(r)["releaseCause"] for r in s.track()] == ["0", "0"]


# --- agents: rest reasons, wrap-up codes; recording references; versions ------------------------------------


def test_rest_reason_and_wrapup_code(s: Script) -> None:
    answered(s)
    assert s.send("agent.state", 29, agentId=B, state="idle", wrapupCode="X").reason_code == "bad_transition"
    s("call.release", 90, callId=CALL, by="customer")
    s("agent.state", 95, agentId=A, state="idle", wrapupCode="SALE")
    assert s.engine.agent(1, A).last_call.wrapup_code == "SALE"
    s("agent.state", 100, agentId=A, state="rest", reasonCode=3)
    assert (s.engine.agent(1, A).mode, s.engine.agent(1, A).mode_reason) == (CtiAgentState.REST, 3)
    s("agent.state", 110, agentId=A, state="idle")
    assert s.engine.agent(1, A).mode_reason is None
    with pytest.raises(events.InvalidEvent):
        s.make("agent.state", 120, agentId=A, state="idle", reasonCode=3)


def test_recording_reference(s: Script) -> None:
    s.arrive(1)
    s("call.alert", 2, callId=CALL, agentId=A)
    s("call.answer", 3, callId=CALL, agentId=A, recordingRef="s3://rec/1700000000-1.wav")
    assert s.engine.call(1, CALL).recording_ref == "s3://rec/1700000000-1.wav"


def test_version_field(s: Script) -> None:
    s("call.arrive", 1, callId=CALL, caller="1", called="2", v=1)
    s("call.alert", 2, callId=CALL, agentIds=[A, B], v=2)
    with pytest.raises(events.InvalidEvent):
        s.make("call.release", 3, callId=CALL, by="customer", v=3)
