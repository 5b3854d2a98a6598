"""The agent events the CC-Gateway's polling interface returns, derived from each contract event right after the
engine applied it (the pipeline's `derive_agent_events` hook), so a batch gives the events of each of its steps.

Event names and `content` shapes are those of the CC-Gateway reference (gateway-and-monitoring-notes §B): `content`
is `null`, a bare call-ID string or an object exactly where the reference says; every value inside an object is a
string except where the reference shows a number. `docs/compatibility.md` lists the mapping and the orderings
ccdata chose where the reference shows none.

State events depend on the state an agent leaves (`sayfree` from busy is `AgentState_CancelNotReady_Success`, from
wrap-up `AgentState_CancelWork_Success`): the engine keeps it (`prev_mode`), so the events are a function of the
log alone and every node derives the same ones (the gateway keys them by log position: api/gateway.py).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from ccdata.domain import codes, views
from ccdata.domain import events as ev
from ccdata.domain.codes import CtiAgentState, DeviceType
from ccdata.domain.engine import Engine
from ccdata.domain.model import Agent, Call
from ccdata.domain.records import Record, TrackRow

AgentEvent = dict[str, Any]

#: How an agent leaves a state for idle (A.2): the cancel event, then `AgentState_Ready`.
_CANCEL_EVENT = {
    CtiAgentState.BUSY: "AgentState_CancelNotReady_Success",
    CtiAgentState.STUDY: "AgentState_CancelNotReady_Success",
    CtiAgentState.REST: "AgentState_CancelRest_Success",
    CtiAgentState.WORKING: "AgentState_CancelWork_Success",
}

# Contract v2 events that close agent legs: each such agent gets the release.
_CLOSING = (
    ev.CallTransfer
    | ev.CallRelease
    | ev.CallConsultTransfer
    | ev.CallConsultConference
    | ev.CallConsultCancel
    | ev.CallLeave
    | ev.CallPickup
    | ev.CallIntercept
)


class AgentEventFeed:
    """Turns committed contract events into (agentId, agent event) pairs, in the order the agent sees them."""

    def __init__(self, engine_of: Callable[[], Engine], auto_answer: bool = True) -> None:
        self._engine_of = engine_of  # the pipeline's engine: a rebuild from the log replaces it
        self.auto_answer = auto_answer  # the platform answers for auto-answer agents: they never hear a ringing

    @property
    def engine(self) -> Engine:
        return self._engine_of()

    def events(self, e: ev.Event, records: Sequence[Record]) -> list[tuple[int, AgentEvent]]:
        """The agent events of `e`, with the engine as `e` left it (called right after it was applied)."""
        if isinstance(e, ev.AgentLogin | ev.AgentLogout | ev.AgentState):
            return self._agent_state_events(e)
        out: list[tuple[int, AgentEvent]] = []
        call = self.engine.call(e.cc_id, getattr(e, "call_id", ""))
        if isinstance(e, ev.CallAlert):
            out += [(a, self._offered(e.cc_id, a, call)) for a in e.alerted]
        elif isinstance(e, ev.CallOriginate) and e.agent_id is not None:
            out.append((e.agent_id, _event("AgentEvent_Customer_Alerting", e.agent_id, _alerting(e.call_id, e.called))))
        elif isinstance(e, ev.CallInternal | ev.CallConsult):
            out += self._consulting(e, call)
        elif isinstance(e, ev.CallAnswer | ev.CallUnhold) and call is not None:
            agents = [e.agent_id] if e.agent_id is not None else _connected_agents(call)
            out += [(a, _event("AgentEvent_Talking", a, _talking(call))) for a in agents]
        elif isinstance(e, ev.CallHold):
            out.append((e.agent_id, _event("AgentEvent_Hold", e.agent_id, e.call_id)))
        elif isinstance(e, ev.CallNoAnswer):
            out.append((e.agent_id, _event("AgentEvent_No_Answer", e.agent_id, e.call_id)))
        elif isinstance(e, ev.CallConference) and call is not None:
            out += _conference(call)
        if isinstance(e, ev.CallConsultConference) and call is not None:
            original = self.engine.call(e.cc_id, call.consult_of) or call
            out += _conference(original)
        if isinstance(e, _CLOSING):
            out += self._released(e, records)
        return out

    # --- agent states ---

    def _agent_state_events(self, e: ev.AgentLogin | ev.AgentLogout | ev.AgentState) -> list[tuple[int, AgentEvent]]:
        agent = self.engine.agent(e.cc_id, e.agent_id)
        a = e.agent_id
        if isinstance(e, ev.AgentLogout):
            login = str(agent.login_at) if agent is not None else "0"
            return [(a, _event("AgentOther_ShutdownService", a, {"loginTime": login}))]
        if isinstance(e, ev.AgentLogin):
            out = [(a, _event("AgentOther_InService", a, None)), (a, _event("AgentState_Ready", a, None))]
            return out + self._now_in(agent) if e.state != "idle" and agent is not None else out
        if agent is None:
            return []
        if agent.calls and agent.next_mode is not None:  # asked for during a call: it applies when the call ends
            return [(a, _set_event(a, agent.next_mode, agent.next_reason))]
        if agent.calls:
            return []
        return self._now_in(agent, cancels=True)

    def _now_in(self, agent: Agent, cancels: bool = False) -> list[tuple[int, AgentEvent]]:
        """The events that tell an agent without calls the state it is in now; going idle by its own request
        (`cancels`), first the cancel of the state it left."""
        a = agent.agent_id
        mode = agent.mode
        if mode == CtiAgentState.IDLE:
            cancel = _CANCEL_EVENT.get(agent.prev_mode) if cancels else None
            ready = [(a, _event("AgentState_Ready", a, None))]
            return [(a, _event(cancel, a, None)), *ready] if cancel else ready
        if mode == CtiAgentState.WORKING:
            return [(a, _event("AgentState_Work", a, None))]
        return [(a, _set_event(a, mode, agent.mode_reason))]

    # --- calls ---

    def _offered(self, cc_id: int, agent_id: int, call: Call | None) -> AgentEvent:
        agent = self.engine.agent(cc_id, agent_id)
        if agent is not None and agent.auto_answer and self.auto_answer:
            return _event("AgentEvent_Auto_Answer", agent_id, _ringing(call, media_type_as_number=True))
        return _event("AgentEvent_Ringing", agent_id, _ringing(call))

    def _consulting(self, e: ev.CallInternal | ev.CallConsult, call: Call | None) -> list[tuple[int, AgentEvent]]:
        """The consulting agent hears the target alerted (its customer's call was held: `AgentEvent_Hold`); an
        agent target hears its phone ring."""
        a = e.agent_id
        target = e.target
        other = str(target.agent_id or target.skill_id or target.number or "")
        out = []
        if isinstance(e, ev.CallConsult):
            original = self.engine.call(e.cc_id, e.original_call_id)
            if original is not None and original.phase.value == "held":
                out.append((a, _event("AgentEvent_Hold", a, e.original_call_id)))
        out.append((a, _event("AgentEvent_Customer_Alerting", a, _alerting(e.call_id, other))))
        if target.agent_id is not None and call is not None:  # the engine rings an agent target at once
            out.append((target.agent_id, self._offered(e.cc_id, target.agent_id, call)))
        return out

    def _released(self, e: ev.Event, records: Sequence[Record]) -> list[tuple[int, AgentEvent]]:
        """Each agent whose leg the event closed: the release (the customer's first when they hung up), the phone's
        release, then the state it is in now (wrap-up, idle, or the busy or rest it asked for during the call)."""
        out: list[tuple[int, AgentEvent]] = []
        for row in records:
            if not isinstance(row, TrackRow) or row.device_type != DeviceType.AGENT or not row.ack_begin:
                continue
            if row.leave_reason == codes.Reason.HELD:
                continue  # a hold closes the leg but not the agent's handling of the call
            a = int(row.device_no)
            by_agent = _left_by(e) == a
            if not by_agent and isinstance(e, ev.CallRelease):
                content = {"callid": row.call_id, "number": _customer_number(row)}
                out.append((a, _event("AgentEvent_Customer_Release", a, content)))
            out.append((a, _event("AgentEvent_Call_Release", a, row.call_id)))
            out.append((a, _event("AgentOther_PhoneRelease", a, {"phoneState": 2 if by_agent else 3})))
            agent = self.engine.agent(e.cc_id, a)
            if agent is not None and agent.signed_in and not agent.calls:
                out += self._now_in(agent)
        return out


def _left_by(e: ev.Event) -> int | None:
    """The agent whose own action the event is (it hung up, transferred, left), if any."""
    if isinstance(e, ev.CallRelease):
        return e.agent_id if e.by == "agent" else None
    if isinstance(e, ev.CallLeave):
        return e.party.agent_id
    return getattr(e, "agent_id", None)


def _customer_number(row: TrackRow) -> str:
    """The other end of the agent's call: the called party of an outbound call, else the caller."""
    return row.callee_no if row.call_type == codes.SP_CALL_OUT else row.caller_no


def _set_event(agent_id: int, mode: CtiAgentState, reason: int | None) -> AgentEvent:
    name = "AgentState_SetRest_Success" if mode == CtiAgentState.REST else "AgentState_SetNotReady_Success"
    return _event(name, agent_id, {"reason": str(reason or 0)})


def _connected_agents(call: Call) -> list[int]:
    return [leg.agent_id for leg in call.legs if leg.device_type == DeviceType.AGENT and leg.call_begin]


def _conference(call: Call) -> list[tuple[int, AgentEvent]]:
    """Every agent of a three-party call hears who the other parties are."""
    parties = [leg for leg in call.legs if leg.call_begin and leg.device_type != DeviceType.SKILL_QUEUE]
    out = []
    for leg in parties:
        if leg.device_type != DeviceType.AGENT:
            continue
        partner = ",".join(p.device_in or p.device_no for p in parties if p is not leg)
        partner = ",".join(filter(None, [call.caller if not call.internal else "", partner]))
        out.append((leg.agent_id, _event("AgentEvent_Conference", leg.agent_id,
                                         {"callid": call.call_id, "partner": partner})))  # fmt: skip
    return out


def _alerting(call_id: str, other_phone: str) -> dict[str, str]:
    return {"callid": call_id, "otherPhoneWorkno": "", "otherPhone": other_phone, "type": "main"}


def _talking(call: Call) -> dict[str, str]:
    return {
        "caller": call.caller,
        "callid": call.call_id,
        "called": call.called,
        "feature": str(views.gateway_call_type(call.call_type, call.call_feature)),
        "type": "main",
        "mediaAbility": str(codes.MEDIA_ABILITY.get(call.media_type, 1)),
    }


def _ringing(call: Call | None, media_type_as_number: bool = False) -> dict[str, Any]:
    """`AgentEvent_Ringing` (every field of §B, all strings); `AgentEvent_Auto_Answer` has the same keys, with
    `mediaType` a number as in its example."""
    if call is None:
        return {}
    content: dict[str, Any] = {
        **_talking(call),
        "transfer": "yes" if call.transferred_by else "no",
        "transfrom": str(call.transferred_by) if call.transferred_by else "",
        "mediaType": call.media_type if media_type_as_number else str(call.media_type),
    }
    return content


def _event(event_type: str, agent_id: int, content: Any) -> AgentEvent:
    return {"eventType": event_type, "workNo": str(agent_id), "content": content}
