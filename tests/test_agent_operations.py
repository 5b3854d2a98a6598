"""The agent operation log derived from contract events (ccdata.domain.operations), without I/O: each operation
type, object and cause of CMS reference 5.12 that the events can tell."""

from __future__ import annotations

import pytest

from ccdata.domain import events, operations
from ccdata.domain.engine import ACCEPTED, Outcome
from ccdata.domain.records import AgentOperation
from support import CALL, SKILL, SKILL2, T0, A, B, Script, answered

CONS = "1700000040-9"
NO = 65535


class Logged(Script):
    """A script whose accepted events also write their operation records, as the pipeline does."""

    def __init__(self) -> None:
        super().__init__()
        self.operations: list[AgentOperation] = []

    def apply(self, event: events.Event) -> Outcome:
        outcome, written = operations.apply(self.engine, event)
        self.log.append(event)
        self.records.extend(outcome.records)
        self.operations += written
        return outcome

    def seen(self, agent: int | None = None) -> list[tuple[int, float, float, int, int]]:
        """(type, begin s, end s, object, cause) of the records written so far, in writing order."""
        return [(o.operate_type, (o.begin_at - T0) / 1000, (o.end_at - T0) / 1000, o.operate_object, o.operate_cause)
                for o in self.operations if agent is None or o.agent_id == agent]  # fmt: skip


@pytest.fixture
def s() -> Logged:
    script = Logged()
    script.login(A, B)
    return script


def test_modes_sign_out_and_forced_sign_in(s: Logged) -> None:
    s("agent.state", 10, agentId=A, state="busy")
    s("agent.state", 20, agentId=A, state="study")
    s("agent.login", 30, agentId=A, skills=[SKILL], force=True)
    s("agent.state", 40, agentId=A, state="rest", reasonCode=7)
    s("agent.state", 50, agentId=A, state="idle")
    s("agent.logout", 60, agentId=A)
    assert s.seen(A) == [
        (1, 0, 0, NO, NO),
        (2, 0, 10, NO, NO),
        (3, 10, 20, NO, 1),  # busy, no reason given: "the agent indicates busy"
        (34, 20, 30, NO, NO),  # study, ended by the forced sign-in
        (0, 0, 30, NO, 264),  # that session signs out: replaced by a new sign-in
        (1, 30, 30, NO, NO),
        (2, 30, 40, NO, NO),
        (26, 40, 50, A, 7),
        (2, 50, 60, NO, NO),
        (0, 30, 60, NO, 258),
    ]
    assert len({o.operation_id for o in s.operations}) == len(s.operations)
    assert {o.logon_at for o in s.operations if o.agent_id == A and o.begin_at >= T0 + 30_000} == {T0 + 30_000}


def test_a_rejected_event_writes_nothing(s: Logged) -> None:
    written = len(s.operations)
    assert s.send("agent.logout", 5, agentId=1777).status != ACCEPTED
    assert s.send("agent.login", 5, agentId=A, skills=[SKILL]).status != ACCEPTED  # already signed in
    assert len(s.operations) == written


def test_talk_hold_and_wrap_up(s: Logged) -> None:
    answered(s)
    s("call.hold", 40, callId=CALL, agentId=A)
    s("call.unhold", 50, callId=CALL, agentId=A)
    s("call.mute", 55, callId=CALL, agentId=A)
    s("call.unmute", 56, callId=CALL, agentId=A)  # the end of a mute writes no record (5.12: "-")
    s("call.release", 70, callId=CALL, by="customer")
    talks = [o for o in s.operations if o.operate_type == 4]
    assert [(o.begin_at - T0, o.end_at - T0) for o in talks] == [(28_000, 40_000), (50_000, 70_000)]
    assert {(o.call_id, o.phone_no, o.skill_id, o.media_type) for o in talks} == {(CALL, "88881363", SKILL, 5)}
    # The hold closes the first stretch; the release the second, and the idle period (the agent goes to wrap-up).
    assert s.seen(A)[-5:] == [(38, 40, 40, A, NO), (4, 28, 40, NO, 0), (32, 55, 55, NO, NO), (2, 0, 70, NO, NO),
                              (4, 50, 70, NO, 0)]  # fmt: skip


@pytest.mark.parametrize(
    ("target", "kind", "target_object"),
    [({"agentId": B}, 45, B), ({"number": "13900001111"}, 46, NO), ({"skillId": SKILL2}, 55, NO),
     ({"flowId": "900"}, 55, NO)],
)  # fmt: skip
def test_transfers(s: Logged, target: dict, kind: int, target_object: int) -> None:
    answered(s)
    s("call.transfer", 40, callId=CALL, agentId=A, target=target)
    assert (kind, 40, 40, target_object, NO) in s.seen(A)


def test_intercept(s: Logged) -> None:
    answered(s)
    s("call.intercept", 40, callId=CALL, agentId=B)
    assert s.seen(B)[-1] == (43, 40, 40, A, NO)  # B took A's call
    assert (4, 28, 40, NO, 0) in s.seen(A)


def test_consult_and_its_conference(s: Logged) -> None:
    answered(s)
    s("call.consult", 40, callId=CONS, originalCallId=CALL, agentId=A, target={"agentId": B})
    s("call.answer", 45, callId=CONS, agentId=B)
    s("call.consult.conference", 60, callId=CONS, agentId=A)
    kinds = {(o.operate_type, o.agent_id, o.operate_object) for o in s.operations}
    assert {(40, A, B), (10, A, NO)} <= kinds
    consult = next(o for o in s.operations if o.operate_type == 40)
    assert (consult.call_id, consult.phone_no) == (CALL, "88881363")  # the customer's call it consults for


def test_conference_and_internal_call(s: Logged) -> None:
    answered(s)
    s("call.conference", 40, callId=CALL, agentId=A, party={"agentId": B})
    assert (10, 40, 40, B, NO) in s.seen(A)
    s.login(1701, 1702, at=45)
    s("call.internal", 50, callId="1700000050-1", agentId=1701, target={"agentId": 1702})
    assert s.seen(1701)[-1] == (41, 50, 50, 1702, NO)
