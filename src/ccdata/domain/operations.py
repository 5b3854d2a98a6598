"""The agent operation log (`agent/agentoprinfo`): operation records derived from contract events.

Pure and deterministic. The pipeline asks `opening` for the modes of the agents an event may touch (a mode's record
is written when it ends), applies the event, then asks `derive` for the records of what the event did, from the
event, those modes, the engine's state after it and the track rows it closed:

- an agent's own mode (idle 2, busy 3, rest 26, wrap-up 27, study 34): one record per period, from the event that
  set it to the event that ended it (another state, a sign-out, a forced sign-in, leaving a call after talking,
  which puts the agent in wrap-up);
- sign-in (1) at the sign-in; sign-out (0) from the sign-in to the sign-out;
- talking (4): each connected stretch of an agent on a call (a closed agent leg of the call track that was
  answered), from its answer to its end;
- instant call operations (begin = end): hold 38, mute 32, three-party 10, internal help 40, internal call 41,
  intercept 43, internal transfer 45, transfer out 46, transfer to another device (a queue, an IVR) 55.

Codes: CMS reference 5.12 (`codes.AgentOperationType`); docs/compatibility.md, "agent/agentoprinfo".
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final, NamedTuple

from ccdata.domain import events as ev
from ccdata.domain.codes import (
    BUSY_BY_AGENT,
    SIGN_OUT_BY_AGENT,
    SIGN_OUT_BY_NEW_SIGN_IN,
    US_NO_USE,
    CtiAgentState,
    DeviceType,
    MediaType,
)
from ccdata.domain.codes import AgentOperationType as Op
from ccdata.domain.engine import ACCEPTED, Engine, Outcome
from ccdata.domain.records import AgentOperation, Record, TrackRow

NO_CALL_TYPE = -1
_AGENT_DEVICE: Final = int(DeviceType.AGENT)
_PHONE: Final = int(MediaType.PHONE)

_MODE_OPERATION = {
    CtiAgentState.IDLE: Op.IDLE,
    CtiAgentState.BUSY: Op.BUSY,
    CtiAgentState.REST: Op.REST,
    CtiAgentState.WORKING: Op.WORK,
    CtiAgentState.STUDY: Op.STUDY,
}


class Opening(NamedTuple):
    """A signed-in agent's own mode before an event that may end it."""

    mode: CtiAgentState
    since: int
    reason: int | None
    login_at: int


Openings = dict[int, Opening]  # agent ID -> its mode before the event


#: Events that never end an agent's mode (no connected agent leaves a call, no agent event): nothing to capture
#: before them. The common ones of every call are here, so that the log costs the ingest little.
_NEVER_ENDS_A_MODE: Final = frozenset(
    {ev.CallArrive, ev.CallOriginate, ev.CallIvr, ev.CallQueue, ev.CallAlert, ev.CallAnswer, ev.CallHold,
     ev.CallUnhold, ev.CallDataChange, ev.CallEvaluate, ev.CallConference, ev.CallConsult, ev.CallInternal,
     ev.CallMute, ev.CallUnmute, ev.AgentSettings}
)  # fmt: skip
_NOTHING: Final[Openings] = {}  # shared, never written to


def apply(engine: Engine, event: ev.Event) -> tuple[Outcome, list[AgentOperation]]:
    """Apply an event to the engine, and derive the operation records it wrote (none unless it was accepted)."""
    before = opening(engine, event)
    outcome = engine.apply(event)
    if outcome.status != ACCEPTED:
        return outcome, []
    return outcome, derive(engine, event, before, outcome.records)


def opening(engine: Engine, event: ev.Event) -> Openings:
    """The modes an event may end: its agent's, and those of the agents on its call (leaving a call after talking
    puts an agent in wrap-up)."""
    if type(event) in _NEVER_ENDS_A_MODE:
        return _NOTHING
    cc_id, found = event.cc_id, {}
    agent_id = getattr(event, "agent_id", None)
    if agent_id is not None:
        _open(engine, cc_id, agent_id, found)
    call_id = getattr(event, "call_id", None)
    if call_id is not None and (call := engine.calls.get((cc_id, call_id))) is not None:
        for leg in call.legs:
            if leg.agent_id:
                _open(engine, cc_id, leg.agent_id, found)
    return found


def _open(engine: Engine, cc_id: int, agent_id: int, found: Openings) -> None:
    agent = engine.agents.get((cc_id, agent_id))
    if agent is not None and agent.signed_in:
        found[agent_id] = Opening(agent.mode, agent.mode_since, agent.mode_reason, agent.login_at)


def derive(engine: Engine, event: ev.Event, before: Openings, records: list[Record]) -> list[AgentOperation]:
    """The operation records of an accepted event, numbered `<event id>#<n>`."""
    handler = _HANDLERS.get(type(event))
    if not before and handler is None and not records:
        return []
    rows: list[tuple] = []
    for agent_id, was in before.items():
        agent = engine.agents[(event.cc_id, agent_id)]
        if agent.mode != was.mode or agent.mode_since != was.since or not agent.signed_in:
            rows += _mode(event, agent_id, agent.vdn, was)
    if handler is not None:
        rows += handler(engine, event, before.get(getattr(event, "agent_id", 0)), records)
    for record in records:
        if type(record) is TrackRow and record.device_type == _AGENT_DEVICE and record.call_begin:
            rows.append(_talk(engine, record))
    if not rows:
        return []
    event_id, new = event.id, tuple.__new__  # plain tuple construction: this runs for a third of all events
    return [new(AgentOperation, (*row[:3], f"{event_id}#{n}", *row[3:])) for n, row in enumerate(rows, 1)]


# --- agent events ---


def _mode(e: ev.Event, agent_id: int, vdn: int, before: Opening) -> list[tuple]:
    """The record of a mode the event ended."""
    if before.mode not in _MODE_OPERATION:
        return []
    kind = _MODE_OPERATION[before.mode]
    cause = {Op.BUSY: before.reason if before.reason is not None else BUSY_BY_AGENT, Op.REST: before.reason or 0,
             Op.WORK: 0}.get(kind, US_NO_USE)  # fmt: skip
    target = agent_id if kind == Op.REST else US_NO_USE  # the reference's object of a rest: the agent's ID
    return [_agent_row(e, agent_id, vdn, kind, before.since, target, cause, before.login_at)]


def _agent_row(
    e: ev.Event, agent_id: int, vdn: int, kind: int, begin: int, target: int, cause: int, logon: int
) -> tuple:
    return (e.cc_id, vdn, agent_id, int(kind), begin, e.at, "", "", 0, _PHONE, NO_CALL_TYPE,
            target, cause, logon)  # fmt: skip


def _login(engine: Engine, e: ev.AgentLogin, before: Opening | None, records: list[Record]) -> list[tuple]:
    rows = []
    if before is not None:  # a forced sign-in replaces the live session: that session signs out first
        rows.append(_agent_row(e, e.agent_id, e.vdn, Op.SIGN_OUT, before.login_at, US_NO_USE, SIGN_OUT_BY_NEW_SIGN_IN,
                               before.login_at))  # fmt: skip
    rows.append(_agent_row(e, e.agent_id, e.vdn, Op.SIGN_IN, e.at, US_NO_USE, US_NO_USE, e.at))
    return rows


def _logout(engine: Engine, e: ev.AgentLogout, before: Opening | None, records: list[Record]) -> list[tuple]:
    if before is None:
        return []
    return [_agent_row(e, e.agent_id, e.vdn, Op.SIGN_OUT, before.login_at, US_NO_USE, SIGN_OUT_BY_AGENT,
                       before.login_at)]  # fmt: skip


# --- call events ---


def _call_row(engine: Engine, e: ev.Event, agent_id: int, kind: int, target: int, call_id: str = "") -> tuple:
    """An instant operation of an agent on a call (the call as it is after the event)."""
    call_id = call_id or e.call_id  # type: ignore[attr-defined]
    call = engine.call(e.cc_id, call_id)
    agent = engine.agent(e.cc_id, agent_id)
    phone, skill, media, call_type = (
        (call.caller, call.skill_id, call.media_type, call.call_type) if call else ("", 0, _PHONE, NO_CALL_TYPE)
    )
    logon = agent.login_at if agent else 0
    return (e.cc_id, e.vdn, agent_id, int(kind), e.at, e.at, call_id, phone, skill, int(media), call_type, target,
            US_NO_USE, logon)  # fmt: skip


def _talk(engine: Engine, row: TrackRow) -> tuple:
    """A connected stretch of an agent on a call: its closed, answered agent leg."""
    agent_id = int(row.device_no)
    agent = engine.agent(row.cc_id, agent_id)
    logon = agent.login_at if agent else 0
    return (row.cc_id, row.vdn, agent_id, int(Op.TALKING), row.call_begin, row.call_end, row.call_id, row.caller_no,
            row.current_skill_id, row.media_type, row.call_type, US_NO_USE, 0, logon)  # fmt: skip


def _hold(engine: Engine, e: ev.CallHold, before: Opening | None, records: list[Record]) -> list[tuple]:
    return [_call_row(engine, e, e.agent_id, Op.HOLD, e.agent_id)]


def _mute(engine: Engine, e: ev.CallMute, before: Opening | None, records: list[Record]) -> list[tuple]:
    return [_call_row(engine, e, e.agent_id, Op.MUTE, US_NO_USE)]


def _intercept(engine: Engine, e: ev.CallIntercept, before: Opening | None, records: list[Record]) -> list[tuple]:
    """The intercepting agent's operation; its object the agent whose call it took (whose leg the event closed)."""
    taken = [int(r.device_no) for r in records if type(r) is TrackRow and r.device_type == DeviceType.AGENT]
    return [_call_row(engine, e, e.agent_id, Op.INTERCEPT, taken[0] if taken else US_NO_USE)]


def _conference(engine: Engine, e: ev.CallConference, before: Opening | None, records: list[Record]) -> list[tuple]:
    target = e.party.agent_id if e.party.agent_id is not None else US_NO_USE
    return [_call_row(engine, e, e.agent_id, Op.THREE_PARTY, target)]


def _consult_conference(
    engine: Engine, e: ev.CallConsultConference, before: Opening | None, records: list[Record]
) -> list[tuple]:
    return [_call_row(engine, e, e.agent_id, Op.THREE_PARTY, US_NO_USE)]


def _consult(engine: Engine, e: ev.CallConsult, before: Opening | None, records: list[Record]) -> list[tuple]:
    target = e.target.agent_id if e.target.agent_id is not None else US_NO_USE
    return [_call_row(engine, e, e.agent_id, Op.INTERNAL_HELP, target, e.original_call_id)]


def _internal(engine: Engine, e: ev.CallInternal, before: Opening | None, records: list[Record]) -> list[tuple]:
    target = e.target.agent_id if e.target.agent_id is not None else US_NO_USE
    return [_call_row(engine, e, e.agent_id, Op.INTERNAL_CALL, target)]


def _transfer(engine: Engine, e: ev.CallTransfer, before: Opening | None, records: list[Record]) -> list[tuple]:
    target = e.target
    if target.agent_id is not None:
        return [_call_row(engine, e, e.agent_id, Op.INTERNAL_TRANSFER, target.agent_id)]
    kind = Op.TRANSFER_OUT if target.number is not None else Op.TRANSFER_TO_DEVICE
    return [_call_row(engine, e, e.agent_id, kind, US_NO_USE)]


def _consult_transfer(
    engine: Engine, e: ev.CallConsultTransfer, before: Opening | None, records: list[Record]
) -> list[tuple]:
    return [_call_row(engine, e, e.agent_id, Op.INTERNAL_TRANSFER, US_NO_USE)]


_HANDLERS: dict[type, Callable[[Engine, ev.Event, Opening | None, list[Record]], list[tuple]]] = {
    ev.AgentLogin: _login,  # type: ignore[dict-item]
    ev.AgentLogout: _logout,  # type: ignore[dict-item]
    ev.CallHold: _hold,  # type: ignore[dict-item]
    ev.CallMute: _mute,  # type: ignore[dict-item]
    ev.CallIntercept: _intercept,  # type: ignore[dict-item]
    ev.CallConference: _conference,  # type: ignore[dict-item]
    ev.CallConsultConference: _consult_conference,  # type: ignore[dict-item]
    ev.CallConsult: _consult,  # type: ignore[dict-item]
    ev.CallInternal: _internal,  # type: ignore[dict-item]
    ev.CallTransfer: _transfer,  # type: ignore[dict-item]
    ev.CallConsultTransfer: _consult_transfer,  # type: ignore[dict-item]
}
