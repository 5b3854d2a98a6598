"""Helpers for writing call scripts in tests: events with unique ids at times relative to T0."""

from __future__ import annotations

from typing import Any

from ccdata.domain import events
from ccdata.domain.engine import ACCEPTED, Engine, Outcome
from ccdata.domain.records import CallResult, EvaluationRecord, Record, TrackRow

T0 = 1_700_000_000_000  # 2023-11-14T22:13:20Z
CALL = "1700000000-1"
A, B, C = 1001, 1002, 1003  # agents of the scenario tests
IVR, SKILL, SKILL2 = "100", 7, 8


class Script:
    """Applies events to an engine one by one; times are seconds after T0."""

    def __init__(self, engine: Engine | None = None, cc_id: int = 1, vdn: int = 1) -> None:
        self.engine = engine or Engine()
        self.cc_id = cc_id
        self.vdn = vdn
        self.records: list[Record] = []
        self.log: list[events.Event] = []
        self._n = 0

    def make(self, type_: str, at: float, **fields: Any) -> events.Event:
        self._n += 1
        body = {"type": type_, "id": f"ev-{self._n}", "at": T0 + int(at * 1000), "ccId": self.cc_id, "vdn": self.vdn}
        body.update(fields)
        return events.from_builtins(body)

    def __call__(self, type_: str, at: float, **fields: Any) -> Outcome:
        """Apply one event; it must be accepted."""
        outcome = self.send(type_, at, **fields)
        assert outcome.status == ACCEPTED, (type_, outcome)
        return outcome

    def send(self, type_: str, at: float, **fields: Any) -> Outcome:
        return self.apply(self.make(type_, at, **fields))

    def apply(self, event: events.Event) -> Outcome:
        outcome = self.engine.apply(event)
        self.log.append(event)
        self.records.extend(outcome.records)
        return outcome

    def login(self, *agent_ids: int, at: float = 0, skills: tuple[int, ...] = (7,)) -> None:
        for agent_id in agent_ids:
            self("agent.login", at, agentId=agent_id, skills=list(skills), phone=f"6{agent_id}")

    def arrive(self, at: float = 1, call_id: str = CALL, **fields: Any) -> None:
        self("call.arrive", at, callId=call_id, caller="88881363", called="650550", **fields)

    # --- reading records back ---

    def rows(self, call_id: str = CALL) -> list[tuple[Any, ...]]:
        """(callIdNum, deviceType, deviceNo, EnterReason, LeaveReason, waitBegin, ackBegin, callBegin, callEnd,
        CurrentSkillID) with times in seconds after T0 and None for an unset time."""
        return [
            (
                r.call_id_num,
                int(r.device_type),
                r.device_no,
                int(r.enter_reason),
                int(r.leave_reason),
                rel(r.wait_begin),
                rel(r.ack_begin),
                rel(r.call_begin),
                rel(r.call_end),
                r.current_skill_id,
            )
            for r in self.records
            if isinstance(r, TrackRow) and r.call_id == call_id
        ]

    def track(self, call_id: str = CALL) -> list[TrackRow]:
        return [r for r in self.records if isinstance(r, TrackRow) and r.call_id == call_id]

    def results(self, call_id: str = CALL) -> list[CallResult]:
        return [r for r in self.records if isinstance(r, CallResult) and r.call_id == call_id]

    def evaluations(self, call_id: str = CALL) -> list[EvaluationRecord]:
        return [r for r in self.records if isinstance(r, EvaluationRecord) and r.call_id == call_id]


def rel(ms: int) -> float | None:
    """Seconds after T0, or None for a time the reference leaves at 0 (never happened)."""
    if not ms:
        return None
    seconds = (ms - T0) / 1000
    return int(seconds) if seconds == int(seconds) else seconds


def answered(s: Script, agent: int = A) -> None:
    """The usual start of a scenario: arrive 1 s, IVR 2 s, queue 20 s (skill 7), ring 25 s, answer 28 s."""
    s.arrive(1)
    s("call.ivr", 2, callId=CALL, flowId=IVR)
    s("call.queue", 20, callId=CALL, skillId=SKILL)
    s("call.alert", 25, callId=CALL, agentId=agent)
    s("call.answer", 28, callId=CALL, agentId=agent)
