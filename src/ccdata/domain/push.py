"""What the live stream and the webhooks push: messages derived from one accepted event and its records.

Pure and deterministic: read from the engine right after the event was applied (so an agent message carries the
state that event left the agent in, not a later one), no I/O. Kinds (docs/operations.md, "Live stream"):

- `agent`: an agent the event touched (its own event, or a call event with a leg at the agent): CTI state
  (CMS table 5.3, as `agentstatusinfobyagentids` answers it), since when, its current call;
- `call`: a call event: the call's phase after it (`released` once it is gone), skill, numbers;
- `track`: each call-track row the event closed, as `querycalltracedetail` answers it;
- `result`: each call result written, as the DataProcess search answers it;
- `evaluation`: a satisfaction result that came after the call result.
"""

from __future__ import annotations

from typing import Any, Final, NamedTuple

from ccdata.domain import events as ev
from ccdata.domain import monitoring as mon
from ccdata.domain import views
from ccdata.domain.codes import DeviceType
from ccdata.domain.engine import Engine
from ccdata.domain.records import CallResult, EvaluationRecord, Record, TrackRow

KINDS: Final = ("agent", "call", "track", "result", "evaluation")
ALL_KINDS: Final = frozenset(KINDS)
_RECORD_KIND: Final = {TrackRow: "track", CallResult: "result", EvaluationRecord: "evaluation"}


class Message(NamedTuple):
    kind: str
    vdn: int
    data: dict[str, Any]


def messages(
    event: ev.Event, records: list[Record], engine: Engine, kinds: frozenset[str] = ALL_KINDS
) -> list[Message]:
    """The messages of `kinds` one accepted event causes, in the order a client should see them."""
    found: list[Message] = []
    call_id = getattr(event, "call_id", None)
    if call_id is not None and "call" in kinds:
        found.append(_call_message(event, call_id, engine))
    for record in records:
        if _RECORD_KIND[type(record)] in kinds:
            found.append(_record_message(record))
    if "agent" in kinds:
        for agent_id in _touched_agents(event, records, engine):
            agent = engine.agent(event.cc_id, agent_id)
            if agent is not None:
                found.append(agent_message(engine, agent))
    return found


def agent_message(engine: Engine, agent: Any) -> Message:
    """An agent's live figures, as the wallboard's tile shows them (also its first picture of the agent)."""
    state = engine.agent_state(agent)
    data = {
        "agentId": agent.agent_id,
        "state": int(state),
        "since": mon.state_since(engine, agent),
        "callId": agent.calls[0] if agent.calls else "",
        "skills": list(agent.skills) if agent.signed_in else [],
    }
    return Message("agent", agent.vdn, data)


def _call_message(event: ev.Event, call_id: str, engine: Engine) -> Message:
    call = engine.call(event.cc_id, call_id)
    data: dict[str, Any] = {"callId": call_id, "event": ev.type_of(event), "at": event.at}
    if call is None:
        data["phase"] = "released"
    else:
        data.update(phase=call.phase.value, skillId=call.skill_id, callerNo=call.caller, calleeNo=call.called)
    return Message("call", event.vdn, data)


def _record_message(record: Record) -> Message:
    if type(record) is TrackRow:
        return Message("track", record.vdn, views.track_row(record))
    if type(record) is CallResult:
        return Message("result", record.vdn, views.call_result(record))
    assert type(record) is EvaluationRecord
    data = {"callId": record.call_id, "arrivedAt": record.arrived_at, "evaluationValue": record.evaluation_value}
    return Message("evaluation", record.vdn, data)


def _touched_agents(event: ev.Event, records: list[Record], engine: Engine) -> list[int]:
    """Agents whose state or current call the event may have changed: named by it, on the call, or released."""
    found: dict[int, None] = {}
    if (agent_id := getattr(event, "agent_id", None)) is not None:
        found[agent_id] = None
    for agent_id in getattr(event, "agent_ids", None) or ():
        found[agent_id] = None
    call = engine.call(event.cc_id, getattr(event, "call_id", ""))
    if call is not None:
        for leg in call.legs:
            if leg.device_type == DeviceType.AGENT and leg.agent_id:
                found[leg.agent_id] = None
    for record in records:
        if type(record) is TrackRow and record.device_type == DeviceType.AGENT and record.device_no.isdigit():
            found[int(record.device_no)] = None
    return list(found)
