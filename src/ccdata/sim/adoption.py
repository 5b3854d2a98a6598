"""What the simulator adopts: the engine's live state of one call center, read into plain views.

A simulator started on a store that already holds events (a restarted `serve --simulate`, a backfill continued
after an interruption) must carry on the calls and agents the engine holds, or its new events collide with them.
This module only reads the engine (a pure function of its state and a start time); `ContactCenter.adopting` turns
the views into the simulator's own state and schedules what comes next.
"""

from __future__ import annotations

from typing import NamedTuple

from ccdata.domain.codes import CtiAgentState, DeviceType, Reason
from ccdata.domain.engine import Engine
from ccdata.domain.model import Agent, Call, Leg, Phase

_MODES = {
    CtiAgentState.IDLE: "idle",
    CtiAgentState.BUSY: "busy",
    CtiAgentState.REST: "rest",
    CtiAgentState.STUDY: "busy",  # the simulator has no study: it ends like a short busy spell
    CtiAgentState.WORKING: "wrapup",
}


class CallView(NamedTuple):
    """A call in progress as the simulator needs it."""

    call_id: str
    vdn: int
    called: str
    media_type: int
    arrived: int
    stage: str  # routing, ivr, queued, private, ringing, talking, held, dialing, outbound, outside; for a
    # consult call: consult-queued, consult-ringing, consult-talking, consult-other (an outside number); for an
    # internal call or a consult whose original has ended: internal
    since: int  # when the current stage began (IVR or queue entry, ring, connection, hold, dial)
    skill: int  # the skill of the last queue the call entered (0: none)
    agent_id: int  # the agent it rings at, talks to, holds for, is dialled by or waits for (0: none)
    members: tuple[int, ...]  # the other agents of a three-party conference
    talked_ms: int  # talk with the current agent so far (a held call: before the hold)
    first_wait: int  # the first queue entry, or the first ring (0: never reached the agent service)
    answered: bool  # an agent has talked to it already
    transferred: bool  # another agent talked to it first: the simulator transfers a call at most once
    from_private: bool  # it rings at an agent it waited for in that agent's private queue
    requeue_skill: int  # where a no-answer sends it back (0: nowhere in the simulator's model)
    conference: bool
    consult: str = ""  # an original call: its consult call in progress (the customer is held for it)
    consult_of: str = ""  # a consult call: its original call
    consult_by: int = 0  # a consult or internal call: the calling agent


class AgentView(NamedTuple):
    """A signed-in agent: its own state (idle, busy, rest, wrapup) since when, and what it last handled."""

    agent_id: int
    vdn: int
    mode: str
    since: int
    has_calls: bool
    last_skill: int


class EngineView(NamedTuple):
    calls: list[CallView]  # in the order they arrived
    agents: dict[int, AgentView]  # signed-in agents only
    last_number: int  # the highest n of call IDs `{second}-{n}` at or after the start's second


def read_engine(engine: Engine, cc_id: int, start: int) -> EngineView:
    """The live state of call center `cc_id` at `start`, which must not be before any of its events."""
    calls = [call for (cc, _), call in engine.calls.items() if cc == cc_id]
    agents = [agent for (cc, _), agent in engine.agents.items() if cc == cc_id and agent.signed_in]
    latest = max([c.last_at for c in calls] + [a.last_at for a in agents], default=0)
    if latest >= start:
        raise ValueError(f"cannot adopt call center {cc_id} at {start}: it has an event at {latest}")
    views = {agent.agent_id: _agent_view(agent) for agent in agents}
    known = [call_id for (cc, call_id) in (*engine.calls, *engine.finished) if cc == cc_id]
    return EngineView([_call_view(call, start) for call in calls], views, _last_number(known, start // 1000))


def own_state(agent: Agent) -> str:
    """The simulator's name of an agent's own state: off, idle, busy, rest or wrapup."""
    return _MODES.get(agent.mode, "idle") if agent.signed_in else "off"


def _agent_view(agent: Agent) -> AgentView:
    last_skill = agent.last_call.skill_id if agent.last_call else 0
    return AgentView(agent.agent_id, agent.vdn, own_state(agent), agent.mode_since, bool(agent.calls), last_skill)


def _call_view(call: Call, start: int) -> CallView:
    if call.internal:
        return _internal_view(call)
    legs = [leg for leg in call.legs if leg.device_type == DeviceType.AGENT and not leg.directed]
    primary = next((leg for leg in legs if leg.enter_reason != Reason.THREE_PARTY), legs[0] if legs else None)
    members = tuple(leg.agent_id for leg in legs if leg is not primary and leg.agent_id)
    last = call.legs[-1] if call.legs else None
    stage, since, agent_id = _stage(call, last, primary)
    talked = 0
    if stage == "held":
        talked = call.talk_ms
    elif stage in ("talking", "outbound") and primary is not None:
        # After a retrieval the leg's connection is the unhold: the talk before the hold is in the call's clock.
        retrieved = primary.enter_reason == Reason.RETRIEVE_HOLD
        talked = call.talk_time_ms(start) if retrieved else start - primary.call_begin
    return CallView(
        call.call_id, call.vdn, call.called, call.media_type, call.arrived_at, stage, since, call.skill_id,
        agent_id, members, talked, call.first_wait, bool(call.first_talk),
        bool(call.first_talk) and call.first_agent != agent_id,
        bool(primary and primary.from_private), primary.queue_skill if primary else 0, call.conference,
        call.consult,
    )  # fmt: skip


def _internal_view(call: Call) -> CallView:
    """A consult (or internal) call: its calling agent's leg first, then what it reached (queue, agent, number)."""
    caller = call.legs[0].agent_id if call.legs else 0
    party = call.legs[-1] if len(call.legs) == 2 else None
    stage, since, agent_id = "internal", call.last_at, 0
    if call.consult_of and party is not None:
        if call.phase is Phase.QUEUED and party.device_type == DeviceType.SKILL_QUEUE:
            stage, since = "consult-queued", party.wait_begin
        elif call.phase is Phase.ALERTING and party.agent_id:
            stage, since, agent_id = "consult-ringing", party.ack_begin, party.agent_id
        elif call.phase is Phase.TALKING and party.agent_id:
            stage, since, agent_id = "consult-talking", party.call_begin, party.agent_id
        else:
            stage = "consult-other"
    return CallView(
        call.call_id, call.vdn, call.called, call.media_type, call.arrived_at, stage, since, call.skill_id, agent_id,
        (), 0, call.first_wait, False, False, False, 0, False, "", call.consult_of, caller,
    )  # fmt: skip


def _stage(call: Call, last: Leg | None, primary: Leg | None) -> tuple[str, int, int]:
    """The simulator's stage of a call, when it began, and the agent it is at (or waits for)."""
    phase = call.phase
    if last is None or phase is Phase.ROUTING:
        return "routing", call.last_at, 0
    if phase is Phase.IVR:
        return "ivr", last.wait_begin, 0
    if phase is Phase.QUEUED:
        return ("private", last.wait_begin, last.agent_id) if last.directed else ("queued", last.wait_begin, 0)
    if phase is Phase.OUTSIDE:
        return "outside", last.wait_begin, 0
    if primary is None:  # an agent stage without an agent leg cannot happen; end it like an outside party
        return "outside", call.last_at, 0
    if phase is Phase.ALERTING:
        return "ringing", primary.ack_begin, primary.agent_id
    if phase is Phase.HELD:
        return "held", primary.wait_begin, primary.agent_id
    if phase is Phase.DIALING:
        return "dialing", primary.ack_begin, primary.agent_id
    return ("talking" if call.inbound else "outbound"), primary.call_begin, primary.agent_id


def _last_number(call_ids: list[str], second: int) -> int:
    """New call IDs are `{second}-{n}` with a rising n: start above every n already used from `second` on."""
    highest = 0
    for call_id in call_ids:
        head, _, tail = call_id.partition("-")
        if head.isdigit() and tail.isdigit() and int(head) >= second:
            highest = max(highest, int(tail))
    return highest
