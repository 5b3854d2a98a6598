"""The agent events the CC-Gateway's polling interface returns, derived from committed contract events.

Event names and content keys are those of the CC-Gateway reference (`AgentEvent_Ringing`, `AgentEvent_Talking`,
`AgentEvent_Call_Release`, `AgentState_Ready`, ...); `docs/compatibility.md` lists the mapping.
"""

from __future__ import annotations

from typing import Any

from ccdata.domain import codes, views
from ccdata.domain import events as ev
from ccdata.domain.codes import DeviceType
from ccdata.domain.engine import Engine
from ccdata.domain.records import TrackRow
from ccdata.pipeline import Committed

_STATE_EVENT = {
    "idle": "AgentState_Ready",
    "busy": "AgentState_SetNotReady_Success",
    "rest": "AgentState_SetRest_Success",
    "study": "AgentState_SetNotReady_Success",
    "wrapup": "AgentState_Work",
}

# Contract v2 events that close agent legs: each such agent gets the release (richer v2 agent events, e.g.
# consult alerting, are left to the gateway's own work).
_V2_CLOSING = (
    ev.CallConsultTransfer
    | ev.CallConsultConference
    | ev.CallConsultCancel
    | ev.CallLeave
    | ev.CallPickup
    | ev.CallIntercept
)


def agent_events(item: Committed, engine: Engine) -> list[tuple[int, dict[str, Any]]]:
    """(agentId, event) pairs, in the order the agent should see them."""
    e = item.event
    if isinstance(e, ev.AgentLogin):
        return [(e.agent_id, _event("AgentOther_InService", e.agent_id, {})),
                (e.agent_id, _event(_STATE_EVENT[e.state], e.agent_id, {}))]  # fmt: skip
    if isinstance(e, ev.AgentLogout):
        return [(e.agent_id, _event("AgentOther_ShutdownService", e.agent_id, {}))]
    if isinstance(e, ev.AgentState):
        return [(e.agent_id, _event(_STATE_EVENT[e.state], e.agent_id, {}))]
    call = engine.call(e.cc_id, getattr(e, "call_id", ""))
    if isinstance(e, ev.CallAlert):
        return [(a, _event("AgentEvent_Ringing", a, _call_content(call))) for a in e.alerted]
    if isinstance(e, ev.CallOriginate) and e.agent_id is not None:
        content = {"callid": e.call_id, "otherPhoneWorkno": "", "otherPhone": e.called, "type": "main"}
        return [(e.agent_id, _event("AgentEvent_Customer_Alerting", e.agent_id, content))]
    if isinstance(e, ev.CallAnswer | ev.CallUnhold) and call is not None:
        agents = [e.agent_id] if e.agent_id is not None else _connected_agents(call)
        return [(a, _event("AgentEvent_Talking", a, _call_content(call))) for a in agents]
    if isinstance(e, ev.CallConference) and e.party.agent_id is not None:
        return [(e.party.agent_id, _event("AgentEvent_Talking", e.party.agent_id, _call_content(call)))]
    if isinstance(e, ev.CallHold):
        return [(e.agent_id, _event("AgentEvent_Hold", e.agent_id, {"callid": e.call_id}))]
    if isinstance(e, ev.CallNoAnswer):
        return [(e.agent_id, _event("AgentEvent_No_Answer", e.agent_id, {"callid": e.call_id}))]
    if isinstance(e, ev.CallTransfer | ev.CallRelease | _V2_CLOSING):
        return _released(item, engine)
    return []


def _released(item: Committed, engine: Engine) -> list[tuple[int, dict[str, Any]]]:
    """Each agent whose leg the event closed gets the release, then its new state."""
    out = []
    for row in item.records:
        if not isinstance(row, TrackRow) or row.device_type != DeviceType.AGENT or not row.ack_begin:
            continue
        agent_id = int(row.device_no)
        out.append((agent_id, _event("AgentEvent_Call_Release", agent_id, {"callid": row.call_id})))
        agent = engine.agent(item.event.cc_id, agent_id)
        if agent is not None and not agent.calls and agent.mode == codes.CtiAgentState.WORKING:
            out.append((agent_id, _event("AgentState_Work", agent_id, {})))
    return out


def _connected_agents(call: Any) -> list[int]:
    return [leg.agent_id for leg in call.legs if leg.device_type == DeviceType.AGENT and leg.call_begin]


def _call_content(call: Any) -> dict[str, Any]:
    if call is None:
        return {}
    feature = views.gateway_call_type(call.call_type, call.call_feature)
    return {
        "caller": call.caller,
        "callid": call.call_id,
        "called": call.called,
        "feature": str(feature),
        "type": "main",
        "mediaAbility": str(codes.MEDIA_ABILITY.get(call.media_type, 1)),
    }


def _event(event_type: str, agent_id: int, content: dict[str, Any]) -> dict[str, Any]:
    return {"eventType": event_type, "workNo": str(agent_id), "content": content}
