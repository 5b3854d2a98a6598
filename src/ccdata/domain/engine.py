"""The call engine: a pure, deterministic state machine from contract events to live state and records.

`Engine.apply(event)` either accepts the event (updating live state and returning the records it produced),
recognises it as a duplicate (a no-op), or rejects it with a reason code and message, leaving state untouched.
The engine never reads a clock: every time comes from the events. `docs/events.md` tables what each event
does to legs.

Each handler first checks everything that could reject the event and only then mutates state, so a rejection
never leaves a half-applied event behind.
"""

from __future__ import annotations

from collections import Counter, deque
from collections.abc import Callable
from typing import Final, NamedTuple

from ccdata.domain import codes
from ccdata.domain import events as ev
from ccdata.domain.codes import CtiAgentState, DeviceType, Reason
from ccdata.domain.model import Agent, Call, ControlBlockPool, Finished, LastCall, Leg, Phase
from ccdata.domain.records import LAST_ROW, CallResult, EvaluationRecord, Record, TrackRow

ACCEPTED: Final = "accepted"
DUPLICATE: Final = "duplicate"
REJECTED: Final = "rejected"

#: Seven days of event time: how long a released call still takes a late satisfaction evaluation.
DEFAULT_EVALUATION_WINDOW_MS: Final = 7 * 24 * 3600 * 1000
#: Bumped whenever the pickled form of the engine's state changes: an older snapshot is then ignored.
STATE_VERSION: Final = 8
#: How many recently accepted event IDs the engine itself remembers (the event log dedups for all time).
DEFAULT_DEDUP_WINDOW: Final = 65_536

_AFTER_CALL_STATES: Final = frozenset({CtiAgentState.BUSY, CtiAgentState.REST, CtiAgentState.STUDY})
_MODE_OF: Final = {
    "idle": CtiAgentState.IDLE,
    "busy": CtiAgentState.BUSY,
    "rest": CtiAgentState.REST,
    "study": CtiAgentState.STUDY,
    "wrapup": CtiAgentState.WORKING,
}
_ANY_PHASE: Final = tuple(Phase)
_RELEASE_REASON: Final = {"customer": Reason.USER_RELEASED, "agent": Reason.AGENT_RELEASED, "system": Reason.NORMAL}
#: A system release's leave reason follows its cause (CDR cause code -> CMS 5.9 reason) when the source gives no
#: `leaveReason`: each pair says the same thing in the two tables. Other causes keep 0 (normal).
_SYSTEM_LEAVE_REASON: Final = {
    codes.CAUSE_RESOURCES_OCCUPIED: Reason.NO_RESOURCES,
    codes.CAUSE_ABNORMAL: Reason.INTERNAL_ERROR,
    codes.CAUSE_CALLED_NO_ANSWER: Reason.USER_NO_ANSWER,
    codes.CAUSE_CALLED_REJECTED: Reason.CALLED_REJECTED,
    codes.CAUSE_CALLED_BUSY: Reason.CALLED_BUSY,
    codes.CAUSE_PHONE_OFF: Reason.PHONE_OFF,
}
# Phases in which the customer has not been answered by the device the call is at: a customer release there is
# an abandon (cause 49). IVR answers the call; an outside transfer target is checked separately.
_UNANSWERED: Final = frozenset({Phase.ROUTING, Phase.QUEUED, Phase.ALERTING})
# The only events an internal or consult call takes: no IVR, queueing, hold, transfer or conference of its own.
_INTERNAL_EVENTS: Final = frozenset(
    {
        ev.CallAlert,
        ev.CallAnswer,
        ev.CallNoAnswer,
        ev.CallDataChange,
        ev.CallMute,
        ev.CallUnmute,
        ev.CallRelease,
        ev.CallEvaluate,
        ev.CallPickup,
        ev.CallConsultTransfer,
        ev.CallConsultConference,
        ev.CallConsultCancel,
    }
)
# How the original call's consulting agent leaves at an attended transfer, as a blind transfer to the same
# target would (docs/events.md); the consulted party enters the original call with the same reason.
_TRANSFER_REASON: Final = {
    "skill": Reason.TRANSFERRED_TO_QUEUE,
    "agent": Reason.NORMAL,
    "number": Reason.TRANSFERRED_OUT,
}
# Agents in these states cannot take a call now: a call directed to them waits in their private queue.
_OCCUPIED: Final = frozenset({CtiAgentState.ANSWERING, CtiAgentState.TALKING, CtiAgentState.WORKING})


class Outcome(NamedTuple):
    status: str
    records: list[Record]
    reason_code: str | None = None
    reason: str | None = None


_DUPLICATE_OUTCOME: Final = Outcome(DUPLICATE, [])
_ACCEPTED_NOTHING: Final = Outcome(ACCEPTED, [])  # shared: callers only read an outcome's records


class Rejection(Exception):
    """An event the engine cannot apply; `code` is stable (it is counted and documented), `message` explains."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class Engine:
    """Live calls and agents of any number of call centers, keyed by (ccId, callId) and (ccId, agentId)."""

    def __init__(
        self,
        *,
        evaluation_window_ms: int = DEFAULT_EVALUATION_WINDOW_MS,
        dedup_window: int = DEFAULT_DEDUP_WINDOW,
    ) -> None:
        self.evaluation_window_ms = evaluation_window_ms
        self.dedup_window = dedup_window
        self.calls: dict[tuple[int, str], Call] = {}
        self.agents: dict[tuple[int, int], Agent] = {}
        self.pools: dict[int, ControlBlockPool] = {}
        self.finished: dict[tuple[int, str], Finished] = {}
        # Per call center: each forgets its released calls on its own event time, never on another's.
        self._finished_order: dict[int, deque[tuple[int, tuple[int, str]]]] = {}
        self._recent_ids: set[str] = set()
        self._recent_order: deque[str] = deque()
        self.clocks: dict[int, int] = {}  # per call center, the latest event time seen
        self.accepted = 0
        self.duplicates = 0
        self.rejections: Counter[str] = Counter()

    # --- snapshots --------------------------------------------------------------------------------------

    def __getstate__(self) -> dict[str, object]:
        """Plain tuples for the released calls and no second copy of the recent ids: a snapshot pickles in a
        fifth of the time (it is taken while the server runs)."""
        state = dict(self.__dict__)
        state["finished"] = (list(self.finished), [tuple(f) for f in self.finished.values()])
        del state["_recent_ids"]
        return state

    def __setstate__(self, state: dict[str, object]) -> None:
        keys, values = state["finished"]  # type: ignore[misc]
        state["finished"] = {key: Finished(*value) for key, value in zip(keys, values, strict=True)}
        state["_recent_ids"] = set(state["_recent_order"])  # type: ignore[arg-type]
        self.__dict__.update(state)

    # --- the one entry point ----------------------------------------------------------------------------

    def apply(self, event: ev.Event) -> Outcome:
        event_id = event.id
        if event_id in self._recent_ids:
            self.duplicates += 1
            return _DUPLICATE_OUTCOME
        try:
            records = _HANDLERS[type(event)](self, event)
        except Rejection as rejection:
            self.rejections[rejection.code] += 1
            return Outcome(REJECTED, [], rejection.code, rejection.message)
        self.accepted += 1
        self._recent_ids.add(event_id)
        self._recent_order.append(event_id)
        if len(self._recent_order) > self.dedup_window:
            self._recent_ids.discard(self._recent_order.popleft())
        at = event.at
        call_id = getattr(event, "call_id", None)
        if call_id is not None and (call := self.calls.get((event.cc_id, call_id))) is not None:
            call.last_at = at
        cc_id = event.cc_id
        if at > self.clocks.get(cc_id, 0):
            self.clocks[cc_id] = at
        return Outcome(ACCEPTED, records) if records else _ACCEPTED_NOTHING

    # --- read helpers for the facades -------------------------------------------------------------------

    def call(self, cc_id: int, call_id: str) -> Call | None:
        return self.calls.get((cc_id, call_id))

    def agent(self, cc_id: int, agent_id: int) -> Agent | None:
        return self.agents.get((cc_id, agent_id))

    def clock_of(self, cc_id: int) -> int:
        """The latest event time seen for a call center: its log's end, on its own clock."""
        return self.clocks.get(cc_id, 0)

    @property
    def clock(self) -> int:
        """The latest event time seen over all call centers (for display; rules use `clock_of`)."""
        return max(self.clocks.values(), default=0)

    def stale_calls(self, cc_id: int, quiet_since: int) -> list[Call]:
        """The calls of a call center in progress with no event since `quiet_since` (oldest first)."""
        stale = [c for (cc, _), c in self.calls.items() if cc == cc_id and c.last_at < quiet_since]
        return sorted(stale, key=lambda c: (c.last_at, c.call_id))

    def agent_state(self, agent: Agent) -> CtiAgentState:
        """The CTI state: answering or talking while a call is at the agent, else the agent's own mode."""
        if not agent.signed_in:
            return CtiAgentState.NOT_SIGNED_IN
        ringing = False
        for call_id in agent.calls:
            leg = self.calls[(agent.cc_id, call_id)].agent_leg(agent.agent_id)
            if leg is None:
                continue
            if leg.call_begin or leg.held:
                return CtiAgentState.TALKING
            ringing = True
        return CtiAgentState.ANSWERING if ringing else agent.mode

    def state(self) -> tuple[object, ...]:
        """Everything the engine holds, as one comparable value (equal engines hold equal state)."""
        return (
            self.calls,
            self.agents,
            self.pools,
            self.finished,
            {cc: list(order) for cc, order in self._finished_order.items()},
            list(self._recent_order),
            self.clocks,
        )

    # --- agent events -----------------------------------------------------------------------------------

    def _agent_login(self, e: ev.AgentLogin) -> list[Record]:
        agent = self.agents.get((e.cc_id, e.agent_id))
        if agent is not None:
            self._check_agent_time(agent, e)
            if agent.signed_in and not e.force:
                raise Rejection("agent_signed_in", f"agent {e.agent_id} is already signed in")
            if agent.signed_in and agent.vdn != e.vdn:
                raise Rejection("vdn_mismatch", f"agent {e.agent_id} is signed in to VDN {agent.vdn}")
        else:
            agent = self.agents[(e.cc_id, e.agent_id)] = Agent(e.cc_id, e.agent_id, e.vdn)
        agent.vdn = e.vdn
        agent.signed_in = True
        agent.login_at = e.at
        agent.skills = tuple(e.skills)
        agent.phone = e.phone
        _set_mode(agent, _MODE_OF[e.state], e.at)
        agent.next_mode = agent.next_reason = None
        agent.auto_answer = bool(e.auto_answer)
        agent.auto_enter_idle = bool(e.auto_enter_idle)
        agent.workbench = e.workbench
        agent.last_at = e.at
        return []

    def _agent_settings(self, e: ev.AgentSettings) -> list[Record]:
        agent = self._signed_in_agent(e.cc_id, e.vdn, e.agent_id)
        self._check_agent_time(agent, e)
        if e.auto_answer is not None:
            agent.auto_answer = e.auto_answer
        if e.auto_enter_idle is not None:
            agent.auto_enter_idle = e.auto_enter_idle
        agent.last_at = e.at
        return []

    def _agent_logout(self, e: ev.AgentLogout) -> list[Record]:
        agent = self._signed_in_agent(e.cc_id, e.vdn, e.agent_id)
        self._check_agent_time(agent, e)
        if agent.calls:
            raise Rejection("agent_has_calls", f"agent {e.agent_id} has calls in progress: {', '.join(agent.calls)}")
        agent.signed_in = False
        agent.workbench = False
        _set_mode(agent, CtiAgentState.NOT_SIGNED_IN, e.at)
        agent.last_at = e.at
        return []

    def _agent_state(self, e: ev.AgentState) -> list[Record]:
        agent = self._signed_in_agent(e.cc_id, e.vdn, e.agent_id)
        self._check_agent_time(agent, e)
        if e.wrapup_code is not None and agent.last_call is None:
            raise Rejection("bad_transition", f"agent {e.agent_id} has no last call to give a wrap-up code")
        agent.last_at = e.at
        mode = _MODE_OF[e.state]
        if agent.calls and self._connected_somewhere(agent):
            # Busy, rest or study asked for during a call apply when it ends; idle or wrap-up cancel that.
            agent.next_mode = mode if mode in _AFTER_CALL_STATES else None
            agent.next_reason = e.reason_code if mode in _AFTER_CALL_STATES else None
        else:
            _set_mode(agent, mode, e.at, e.reason_code)
            agent.next_mode = agent.next_reason = None
        if e.wrapup_code is not None and agent.last_call is not None:
            agent.last_call = agent.last_call._replace(wrapup_code=e.wrapup_code)
        return []

    # --- calls starting ---------------------------------------------------------------------------------

    def _call_arrive(self, e: ev.CallArrive) -> list[Record]:
        self._check_new_call(e)
        call = self._new_call(
            e,
            inbound=True,
            caller=e.caller,
            called=e.called,
            orgi_called=e.orgi_called or e.called,
            media_type=e.media_type,
            sub_media_type=e.sub_media_type,
            call_feature=e.call_feature,
            trunk_no=e.trunk_no,
            priority=e.priority,
            call_data=e.call_data,
            call_type=codes.SP_CALL_NORMAL,
            dp_call_type=codes.DP_INBOUND,
        )
        call.server, call.mid, call.place, call.key_id = e.server, e.mid, e.place, e.key_id
        call.legs.append(_routing_leg(call, e.at))
        return []

    def _call_originate(self, e: ev.CallOriginate) -> list[Record]:
        self._check_new_call(e)
        agent = None if e.agent_id is None else self._signed_in_agent(e.cc_id, e.vdn, e.agent_id)
        track_type, dp_type, feature = {
            "manual": (codes.SP_CALL_OUT, codes.DP_OUTBOUND, codes.CallFeature.FROM_AGENT),
            "preview": (codes.ICD_SP_OUTBOUND_PREVIEW, codes.DP_PREVIEWED, codes.CallFeature.PREVIEW_OUTBOUND),
            "predictive": (
                codes.ICD_SP_OUTBOUND_VIRTUAL_CALLIN,
                codes.DP_PREDICTED,
                codes.CallFeature.VIRTUAL_CALL,
            ),
        }[e.campaign]
        call = self._new_call(
            e,
            inbound=False,
            caller=e.caller,
            called=e.called,
            orgi_called=e.called,
            media_type=e.media_type,
            sub_media_type=-1,
            call_feature=int(feature) if e.call_feature is None else e.call_feature,
            trunk_no=e.trunk_no,
            priority=e.priority,
            call_data=e.call_data,
            call_type=track_type,
            dp_call_type=dp_type,
        )
        if agent is None:
            call.legs.append(_routing_leg(call, e.at))
            return []
        call.phase = Phase.DIALING
        leg = Leg(DeviceType.AGENT, str(agent.agent_id), agent.phone, Reason.NORMAL, e.at, ack_begin=e.at)
        leg.agent_id = agent.agent_id
        self._open(call, leg)
        self._mark_manual(call, wait_begin=e.at, skill_id=0)
        call.first_ack = e.at
        agent.calls.append(call.call_id)
        return []

    def _check_new_call(self, e: _NewCall) -> None:
        key = (e.cc_id, e.call_id)
        if key in self.calls:
            raise Rejection("call_exists", f"call {e.call_id} is already in progress")
        if key in self.finished:
            raise Rejection("call_released", f"call {e.call_id} was released; a call ID is not reused")

    def _new_call(self, e: _NewCall, **fields: object) -> Call:
        pool = self.pools.get(e.cc_id)
        if pool is None:
            pool = self.pools[e.cc_id] = ControlBlockPool()
        cb, handle, dsn = pool.allocate()
        call = Call(
            cc_id=e.cc_id,
            vdn=e.vdn,
            call_id=e.call_id,
            arrived_at=e.at,
            server=0,
            mid=0,
            place=0,
            key_id="",
            cb=cb,
            handle=handle,
            dsn=dsn,
            phase=Phase.ROUTING,
            last_at=e.at,
            **fields,  # type: ignore[arg-type]
        )
        self.calls[(e.cc_id, e.call_id)] = call
        return call

    # --- routing: IVR, queues, agents -------------------------------------------------------------------

    def _call_ivr(self, e: ev.CallIvr) -> list[Record]:
        call = self._live_call(e, Phase.ROUTING, Phase.IVR, Phase.QUEUED)
        records = self._leave_current(call, e.at, e.reason)
        call.phase = Phase.IVR
        self._open(call, Leg(DeviceType.IVR, e.flow_id, e.flow_id, e.reason, e.at, e.at, e.at))
        return records

    def _call_queue(self, e: ev.CallQueue) -> list[Record]:
        call = self._live_call(e, Phase.ROUTING, Phase.IVR, Phase.QUEUED)
        target = None if e.agent_id is None else self._signed_in_agent(e.cc_id, call.vdn, e.agent_id)
        records = self._leave_current(call, e.at, e.reason)
        if target is None:
            self._wait_in_skill(call, e.skill_id or 0, e.reason, e.at)
        else:
            self._wait_for_agent(call, target, e.reason, e.at)
        return records

    def _call_alert(self, e: ev.CallAlert) -> list[Record]:
        call = self._live_call(e, Phase.ROUTING, Phase.QUEUED)
        agents = [self._signed_in_agent(e.cc_id, call.vdn, agent_id) for agent_id in e.alerted]
        for agent in agents:
            if call.agent_leg(agent.agent_id) is not None:
                raise Rejection("bad_transition", f"agent {agent.agent_id} is already on call {e.call_id}")
        if call.phase is Phase.QUEUED:
            wait = call.waiting_leg()
            if wait.directed and [a.agent_id for a in agents] != [wait.agent_id]:
                raise Rejection("wrong_agent", f"call {e.call_id} waits in the private queue of agent {wait.agent_id}")
            self._stop_queue_clock(call, e.at)
            if wait.directed:
                _discard(self.agents[(call.cc_id, wait.agent_id)].private, call.call_id)
            _ring_from_wait(wait, agents[0], e.at)
            call.party_num += 1  # the agent is one more device on the call track
            for agent in agents[1:]:
                # Ringing several agents at once: each has its own leg, all reached through the same wait.
                self._open(call, _ring_leg(agent, wait.enter_reason, wait.wait_begin, e.at, wait))
        else:
            call.legs[:] = [leg for leg in call.legs if not leg.transient]  # the routing stage ends without a row
            for agent in agents:
                self._open(call, _ring_leg(agent, Reason.NORMAL, e.at, e.at))
            self._mark_manual(call, wait_begin=e.at, skill_id=0)
        if not call.first_ack:
            call.first_ack = e.at
        call.phase = Phase.ALERTING
        for agent in agents:
            agent.calls.append(call.call_id)
        return []

    def _call_answer(self, e: ev.CallAnswer) -> list[Record]:
        if e.agent_id is not None:
            call = self._live_call(e, Phase.ALERTING)
            leg = self._ringing_leg(call, e.agent_id)
            records = self._stop_ringing(call, e.at, Reason.AGENT_NO_ANSWER, keep=leg)  # first answer wins
            self._connect(call, leg, e.at)
            if not call.first_talk:
                call.first_talk, call.first_agent = e.at, e.agent_id
            if e.recording_ref is not None:
                call.recording_ref = e.recording_ref
            return records
        elif e.party == "customer":
            call = self._live_call(e, Phase.DIALING, Phase.ROUTING)
            if call.inbound:
                raise Rejection("bad_transition", f"call {e.call_id} is inbound: its customer is connected")
            if call.customer_connected_at:
                raise Rejection("bad_transition", f"the customer of call {e.call_id} has already answered")
            call.customer_connected_at = e.at
            if call.phase is Phase.DIALING:
                leg = call.legs[-1]
                self._connect(call, leg, e.at)
                call.first_talk, call.first_agent = e.at, leg.agent_id
        else:
            call = self._live_call(e, Phase.OUTSIDE)
            leg = call.legs[-1]
            if leg.call_begin:
                raise Rejection("bad_transition", f"the outside party of call {e.call_id} already answered")
            leg.call_begin = e.at
            call.talk_since = e.at
        if e.recording_ref is not None:
            call.recording_ref = e.recording_ref
        return []

    def _call_noanswer(self, e: ev.CallNoAnswer) -> list[Record]:
        call = self._live_call(e, Phase.ALERTING)
        leg = self._ringing_leg(call, e.agent_id)
        agent = self.agents[(call.cc_id, e.agent_id)]
        call.legs.remove(leg)
        records = [self._close(call, leg, e.at, e.reason)]
        self._agent_leaves(agent, call, leg, e.at)
        if any(other.ringing for other in call.legs):
            return records  # other agents still ring for the call
        if leg.queue_skill:
            self._wait_in_skill(call, leg.queue_skill, e.reason, e.at)
        elif leg.from_private:
            self._wait_for_agent(call, agent, e.reason, e.at)
        else:
            call.phase = Phase.ROUTING
            if not call.internal:  # an internal call stays with its calling agent's leg: no routing stage
                call.legs.append(_routing_leg(call, e.at))
        return records

    def _ringing_leg(self, call: Call, agent_id: int) -> Leg:
        leg = call.agent_leg(agent_id)
        if leg is None or not leg.ringing:
            ringing = [str(other.agent_id) for other in call.legs if other.ringing]
            raise Rejection("wrong_agent", f"call {call.call_id} is ringing at agent(s) {', '.join(ringing)}")
        return leg

    def _stop_ringing(self, call: Call, at: int, reason: int, keep: Leg | None = None) -> list[Record]:
        """Close every ringing leg but `keep` (in the order they opened): the call was answered elsewhere."""
        records: list[Record] = []
        for leg in [leg for leg in call.legs if leg.ringing and leg is not keep]:
            call.legs.remove(leg)
            records.append(self._close(call, leg, at, reason))
            self._agent_leaves(self.agents[(call.cc_id, leg.agent_id)], call, leg, at)
        return records

    # --- a connected call -------------------------------------------------------------------------------

    def _call_hold(self, e: ev.CallHold) -> list[Record]:
        call = self._live_call(e, Phase.TALKING)
        leg = self._connected_leg(call, e.agent_id, "hold")
        return self._hold(call, leg, e.at)

    def _hold(self, call: Call, leg: Leg, at: int) -> list[Record]:
        """The agent's leg closes (18 held); the wait for retrieval is a new leg (enter 9) keeping its origin."""
        call.legs.remove(leg)
        records: list[Record] = [self._close(call, leg, at, Reason.HELD)]
        self._stop_talk_clock(call, at)
        held = Leg(DeviceType.AGENT, leg.device_no, leg.device_in, Reason.RETRIEVE_HOLD, at, held=True)
        held.agent_id, held.skill_id, held.queue_skill = leg.agent_id, leg.skill_id, leg.queue_skill
        held.origin = leg.handling_times()
        self._open(call, held)
        call.phase = Phase.HELD
        return records

    def _call_unhold(self, e: ev.CallUnhold) -> list[Record]:
        call = self._live_call(e, Phase.HELD)
        leg = self._held_leg(call)
        if leg.agent_id != e.agent_id:
            raise Rejection("wrong_agent", f"call {e.call_id} is held by agent {leg.agent_id}")
        if call.consult:
            raise Rejection("bad_transition", f"call {e.call_id} has consult {call.consult}: complete or cancel it")
        self._retrieve(call, leg, e.at)
        return []

    def _call_mute(self, e: ev.CallMute) -> list[Record]:
        leg = self._mute_leg(e, e.agent_id)
        if leg.muted:
            raise Rejection("bad_transition", f"agent {e.agent_id} has already muted call {e.call_id}")
        leg.muted = True
        return []

    def _call_unmute(self, e: ev.CallUnmute) -> list[Record]:
        leg = self._mute_leg(e, e.agent_id)
        if not leg.muted:
            raise Rejection("bad_transition", f"agent {e.agent_id} has not muted call {e.call_id}")
        leg.muted = False
        return []

    def _mute_leg(self, e: ev.CallMute | ev.CallUnmute, agent_id: int) -> Leg:
        call = self._live_call(e, Phase.TALKING)
        leg = call.agent_leg(agent_id)
        if leg is None or not leg.call_begin:
            raise Rejection("wrong_agent", f"agent {agent_id} is not connected to call {call.call_id}")
        return leg

    @staticmethod
    def _held_leg(call: Call) -> Leg:
        return next(leg for leg in call.legs if leg.held)  # a held call has exactly one held leg

    def _retrieve(self, call: Call, leg: Leg, at: int) -> None:
        leg.held = False
        leg.ack_begin = at
        self._connect(call, leg, at)

    def _call_transfer(self, e: ev.CallTransfer) -> list[Record]:
        call = self._live_call(e, Phase.TALKING)
        leg = self._connected_leg(call, e.agent_id, "transfer")
        target = e.target
        agent = self.agents[(call.cc_id, e.agent_id)]
        target_agent = None
        if target.agent_id is not None:
            if target.agent_id == e.agent_id:
                raise Rejection("bad_transfer", f"agent {e.agent_id} cannot transfer a call to itself")
            target_agent = self._signed_in_agent(call.cc_id, call.vdn, target.agent_id)
        if target.number is not None:
            reason = Reason.TRANSFERRED_OUT
        elif target.skill_id is not None:
            reason = Reason.TRANSFERRED_TO_QUEUE
        else:
            reason = Reason.NORMAL
        call.legs.remove(leg)
        records = [self._close(call, leg, e.at, reason)]
        self._stop_talk_clock(call, e.at)
        self._agent_leaves(agent, call, leg, e.at)
        call.transferred_by = e.agent_id
        if target.skill_id is not None:
            self._wait_in_skill(call, target.skill_id, reason, e.at)
        elif target_agent is not None:
            self._wait_for_agent(call, target_agent, reason, e.at)
        elif target.flow_id is not None:
            call.phase = Phase.IVR
            self._open(call, Leg(DeviceType.IVR, target.flow_id, target.flow_id, reason, e.at, e.at, e.at))
        else:
            call.phase = Phase.OUTSIDE
            device_no = str(call.party_num + 1)
            self._open(call, Leg(DeviceType.CALL, device_no, target.number or "", reason, e.at, e.at))
        return records

    def _call_conference(self, e: ev.CallConference) -> list[Record]:
        call = self._live_call(e, Phase.TALKING)
        self._connected_leg(call, e.agent_id, "conference")
        party = e.party
        if party.agent_id is not None:
            joining = self._signed_in_agent(call.cc_id, call.vdn, party.agent_id)
            if call.agent_leg(party.agent_id) is not None:
                raise Rejection("bad_conference", f"agent {party.agent_id} is already on call {e.call_id}")
            leg = Leg(DeviceType.AGENT, str(party.agent_id), joining.phone, Reason.THREE_PARTY, e.at, e.at, e.at)
            leg.agent_id = party.agent_id
            joining.calls.append(call.call_id)
        else:
            device_no = str(call.party_num + 1)
            leg = Leg(DeviceType.CONFERENCE, device_no, party.number or "", Reason.THREE_PARTY, e.at, e.at, e.at)
        self._open(call, leg)
        call.conference = True
        return []

    def _call_data(self, e: ev.CallDataChange) -> list[Record]:
        call = self._live_call(e, *_ANY_PHASE)
        call.call_data = e.call_data
        return []

    # --- v2: consult calls, internal calls -------------------------------------------------------------

    def _call_consult(self, e: ev.CallConsult) -> list[Record]:
        original = self._live_call(e, Phase.TALKING, Phase.HELD, call_id=e.original_call_id)
        self._check_new_call(e)
        agent = self._signed_in_agent(e.cc_id, e.vdn, e.agent_id)
        if original.consult:
            raise Rejection("bad_transition", f"call {original.call_id} already has consult {original.consult}")
        if original.phase is Phase.TALKING:
            leg = self._connected_leg(original, e.agent_id, "consult")
        else:
            leg = self._held_leg(original)
            if leg.agent_id != e.agent_id:
                raise Rejection("wrong_agent", f"call {original.call_id} is held by agent {leg.agent_id}")
        target = self._internal_target(e, e.agent_id)
        records = self._hold(original, leg, e.at) if original.phase is Phase.TALKING else []
        original.last_at = e.at
        kind = _target_kind(e.target)
        # A consult of a skill or an agent is internal help (two-party until joined); of a number, an outbound call.
        track_type = codes.SP_CALL_OUT if kind == "number" else codes.ICD_SP_INTERNAL_TWO_HELP
        feature = codes.CallFeature.FROM_AGENT if kind == "number" else codes.CallFeature.INTERNAL_HELP
        consult = self._new_internal_call(e, agent, e.target, target, track_type, int(feature), e.call_data)
        consult.consult_of, original.consult = original.call_id, consult.call_id
        self._start_internal(consult, agent, e.target, target, e.at)
        return records

    def _call_internal(self, e: ev.CallInternal) -> list[Record]:
        self._check_new_call(e)
        agent = self._signed_in_agent(e.cc_id, e.vdn, e.agent_id)
        target = self._internal_target(e, e.agent_id)
        feature = int(codes.CallFeature.FROM_AGENT)
        call = self._new_internal_call(e, agent, e.target, target, codes.INTER_CALL, feature, e.call_data)
        self._start_internal(call, agent, e.target, target, e.at)
        return []

    def _internal_target(self, e: ev.CallConsult | ev.CallInternal, agent_id: int) -> Agent | None:
        if e.target.agent_id is None:
            return None
        if e.target.agent_id == agent_id:
            raise Rejection("bad_transfer", f"agent {agent_id} cannot call itself")
        return self._signed_in_agent(e.cc_id, e.vdn, e.target.agent_id)

    def _new_internal_call(
        self,
        e: ev.CallConsult | ev.CallInternal,
        agent: Agent,
        target: ev.ConsultTarget,
        target_agent: Agent | None,
        track_type: int,
        feature: int,
        call_data: str,
    ) -> Call:
        if target_agent is not None:
            called = target_agent.phone or str(target_agent.agent_id)
        else:
            called = target.number or str(target.skill_id)
        caller = agent.phone or str(agent.agent_id)
        call = self._new_call(
            e,
            inbound=False,
            caller=caller,
            called=called,
            orgi_called=called,
            media_type=int(codes.MediaType.PHONE),
            sub_media_type=codes.NO_SUB_MEDIA_TYPE,
            call_feature=feature,
            trunk_no=0,
            priority=0,
            call_data=call_data,
            call_type=track_type,
            dp_call_type=codes.DP_OUTBOUND,
        )
        call.internal, call.consult_kind = True, _target_kind(target)
        return call

    def _start_internal(
        self, call: Call, agent: Agent, target: ev.ConsultTarget, target_agent: Agent | None, at: int
    ) -> None:
        """The calling agent's leg, connected at once (it hears the ringback), then the leg of what it calls."""
        own = Leg(DeviceType.AGENT, str(agent.agent_id), agent.phone, Reason.NORMAL, at, at, at)
        own.agent_id = agent.agent_id
        self._open(call, own)
        agent.calls.append(call.call_id)
        if target.skill_id is not None:
            self._wait_in_skill(call, target.skill_id, Reason.NORMAL, at)
        elif target_agent is not None:
            self._open(call, _ring_leg(target_agent, Reason.NORMAL, at, at))
            target_agent.calls.append(call.call_id)
            call.first_ack = at
            call.phase = Phase.ALERTING
        else:
            self._open(call, Leg(DeviceType.CALL, str(call.party_num + 1), target.number or "", Reason.NORMAL, at, at))
            call.phase = Phase.OUTSIDE

    def _consult_pair(self, e: _Completion) -> tuple[Call, Call]:
        """(consult call, original call) of a completion event, checked: the consulting agent sends it."""
        consult = self._live_call(e, *_ANY_PHASE)
        if not consult.consult_of:
            raise Rejection("bad_transition", f"call {e.call_id} is not a consult of a call in progress")
        original = self._live_call(e, Phase.HELD, Phase.TALKING, call_id=consult.consult_of)
        if consult.legs[0].agent_id != e.agent_id:
            raise Rejection("wrong_agent", f"consult {e.call_id} was placed by agent {consult.legs[0].agent_id}")
        return consult, original

    def _answered_party(self, consult: Call) -> Leg:
        party = consult.legs[-1]
        if len(consult.legs) != 2 or not party.call_begin or party.held:
            raise Rejection("bad_transition", f"the consulted party of call {consult.call_id} has not answered")
        return party

    def _call_consult_transfer(self, e: ev.CallConsultTransfer) -> list[Record]:
        consult, original = self._consult_pair(e)
        party = self._answered_party(consult)
        own = original.agent_leg(e.agent_id)
        assert own is not None  # a consult's original keeps its agent's (held) leg: hold and unhold keep it
        reason = _TRANSFER_REASON[consult.consult_kind]
        records = self._hand_over(consult, party, e.at, Reason.NORMAL)
        original.legs.remove(own)
        records.append(self._close(original, own, e.at, reason))
        self._stop_talk_clock(original, e.at)
        self._agent_leaves(self.agents[(original.cc_id, e.agent_id)], original, own, e.at)
        self._join(original, consult, party, reason, e.at, conference=False)
        return records

    def _call_consult_conference(self, e: ev.CallConsultConference) -> list[Record]:
        consult, original = self._consult_pair(e)
        party = self._answered_party(consult)
        if consult.consult_kind != "number":
            consult.call_type = codes.ICD_SP_INTERNAL_THREE_HELP  # its last rows: help that became three-party
        records = self._hand_over(consult, party, e.at, Reason.THREE_PARTY)
        own = original.agent_leg(e.agent_id)
        assert own is not None
        if own.held:
            self._retrieve(original, own, e.at)
        enter = Reason.THREE_PARTY if consult.consult_kind == "number" else Reason.THREE_PARTY_HELP
        self._join(original, consult, party, enter, e.at, conference=True)
        original.conference = True
        return records

    def _call_consult_cancel(self, e: ev.CallConsultCancel) -> list[Record]:
        consult, original = self._consult_pair(e)
        own = original.agent_leg(e.agent_id)
        assert own is not None
        other = Reason.CONSULT_CANCELLED if consult.consult_kind == "number" else Reason.HELP_RELEASED
        caller = consult.legs[0]
        records = self._end_call(consult, e.at, lambda leg: Reason.AGENT_RELEASED if leg is caller else other, 0)
        if own.held:
            self._retrieve(original, own, e.at)
        original.last_at = e.at
        return records

    def _hand_over(self, consult: Call, party: Leg, at: int, reason: int) -> list[Record]:
        """The consult call ends (both legs leave with `reason`); its answered party moves to the original."""
        if party.agent_id:
            _discard(self.agents[(consult.cc_id, party.agent_id)].calls, consult.call_id)
            consult.legs.remove(party)
            consult.legs.append(_moved(party))  # closed as a copy: the party's agent is not released
        return self._end_call(consult, at, lambda leg: reason, 0)

    def _join(self, original: Call, consult: Call, party: Leg, enter: int, at: int, conference: bool) -> None:
        """The consulted party enters the original call, connected at once."""
        if consult.consult_kind == "skill":
            original.skill_id = consult.skill_id  # the call is now served by that skill (callSkill)
        if party.agent_id:
            agent = self.agents[(original.cc_id, party.agent_id)]
            leg = Leg(DeviceType.AGENT, party.device_no, party.device_in, enter, at, at, skill_id=original.skill_id)
            leg.agent_id = party.agent_id
            self._open(original, leg)
            agent.calls.append(original.call_id)
            self._connect(original, leg, at)
        else:
            # An outside number joins a conference as a conference party, or takes the call as a transfer target.
            device = DeviceType.CONFERENCE if conference else DeviceType.CALL
            leg = Leg(device, str(original.party_num + 1), party.device_in, enter, at, at, at)
            self._open(original, leg)
            original.phase = Phase.TALKING if conference else Phase.OUTSIDE
            self._stop_talk_clock(original, at)
            original.talk_since = at
        original.consult = ""
        original.last_at = at

    # --- v2: conference parties, pickup, intercept ------------------------------------------------------

    def _call_leave(self, e: ev.CallLeave) -> list[Record]:
        call = self._live_call(e, Phase.TALKING)
        if not call.conference:
            raise Rejection("bad_conference", f"call {e.call_id} is not a conference: release or transfer it")
        leg = _conference_leg(call, e.party)
        if leg is None:
            raise Rejection("bad_conference", f"the party is not in the conference of call {e.call_id}")
        staying = [other for other in call.legs if other is not leg and (other.call_begin or other.held)]
        if not any(other.device_type == DeviceType.AGENT for other in staying):
            raise Rejection("bad_conference", f"the last agent of call {e.call_id} cannot leave it: release it")
        default = Reason.AGENT_RELEASED if e.party.agent_id is not None else Reason.USER_RELEASED
        call.legs.remove(leg)
        records: list[Record] = [self._close(call, leg, e.at, default if e.reason is None else e.reason)]
        if leg.agent_id:
            self._agent_leaves(self.agents[(call.cc_id, leg.agent_id)], call, leg, e.at)
        call.conference = len(staying) > 1  # back to a two-party call: hold and transfer work again
        return records

    def _call_pickup(self, e: ev.CallPickup) -> list[Record]:
        call = self._live_call(e, Phase.ALERTING)
        agent = self._signed_in_agent(e.cc_id, call.vdn, e.agent_id)
        if call.agent_leg(e.agent_id) is not None:
            raise Rejection("bad_transition", f"agent {e.agent_id} is already on call {e.call_id}: answer it")
        ringing = next(leg for leg in call.legs if leg.ringing)
        records = self._stop_ringing(call, e.at, Reason.PICKED_UP)
        self._take_over(call, agent, ringing, Reason.PICKED_UP, e.at)
        return records

    def _call_intercept(self, e: ev.CallIntercept) -> list[Record]:
        call = self._live_call(e, Phase.TALKING)
        agent = self._signed_in_agent(e.cc_id, call.vdn, e.agent_id)
        if call.conference:
            raise Rejection("in_conference", f"call {e.call_id} is a three-party conference: no intercept")
        connected = [leg for leg in call.legs if leg.device_type == DeviceType.AGENT and leg.call_begin]
        if not connected or connected[0].agent_id == e.agent_id:
            raise Rejection("wrong_agent", f"agent {e.agent_id} cannot intercept call {e.call_id}")
        leg = connected[0]
        call.legs.remove(leg)
        records: list[Record] = [self._close(call, leg, e.at, Reason.INTERCEPTED)]
        self._stop_talk_clock(call, e.at)
        self._agent_leaves(self.agents[(call.cc_id, leg.agent_id)], call, leg, e.at)
        self._take_over(call, agent, leg, Reason.INTERCEPTED, e.at)
        return records

    def _take_over(self, call: Call, agent: Agent, previous: Leg, reason: int, at: int) -> None:
        """`agent` takes the call another agent had (ringing or connected), connected at once."""
        leg = Leg(DeviceType.AGENT, str(agent.agent_id), agent.phone, reason, at, at, skill_id=previous.skill_id)
        leg.agent_id = agent.agent_id
        self._open(call, leg)
        agent.calls.append(call.call_id)
        self._connect(call, leg, at)
        if not call.first_talk:
            call.first_talk, call.first_agent = at, agent.agent_id

    # --- the end of a call ------------------------------------------------------------------------------

    def _call_release(self, e: ev.CallRelease) -> list[Record]:
        call = self._live_call(e, *_ANY_PHASE)
        releaser = self._check_agent_release(call, e) if e.by == "agent" else 0
        cause = _release_cause(call, e)
        reasons = _release_reasons(call, e, cause, releaser)
        last_reason = reasons(call.legs[-1])  # the call result's leave reason is the last row's
        records = self._end_call(call, e.at, reasons, cause)
        if call.manual and not call.internal:
            records.append(_call_result(call, e.at, last_reason, cause))
        return records

    def _end_call(self, call: Call, at: int, reason_of: Callable[[Leg], int], cause: int) -> list[Record]:
        """Close every open leg in the order they opened (the last is -1) and forget the call in progress."""
        self._stop_queue_clock(call, at)
        self._stop_talk_clock(call, at)
        records: list[Record] = []
        legs = call.legs
        for index, leg in enumerate(legs):
            last = index == len(legs) - 1
            records.append(self._close(call, leg, at, reason_of(leg), release_cause=cause if last else None))
            if leg.directed:
                _discard(self.agents[(call.cc_id, leg.agent_id)].private, call.call_id)
            elif leg.device_type == DeviceType.AGENT and leg.agent_id:
                self._agent_leaves(self.agents[(call.cc_id, leg.agent_id)], call, leg, at)
        legs.clear()
        self._unlink_consult(call)
        del self.calls[(call.cc_id, call.call_id)]
        self.pools[call.cc_id].release(call.cb)
        self._remember_finished(call, at)
        return records

    def _unlink_consult(self, call: Call) -> None:
        # An original call that ends leaves its consult going on its own (it can no longer be completed); a
        # consult that ends leaves its original held, for its agent to retrieve.
        linked = self.calls.get((call.cc_id, call.consult_of or call.consult))
        if linked is not None:
            if linked.consult == call.call_id:
                linked.consult = ""
            if linked.consult_of == call.call_id:
                linked.consult_of = ""

    def _check_agent_release(self, call: Call, e: ev.CallRelease) -> int:
        """The releasing agent: the one named, else the first agent on the call (a conference's chairperson)."""
        agents = [leg.agent_id for leg in call.legs if leg.agent_id and not leg.directed]
        if not agents:
            raise Rejection("bad_transition", f"no agent is on call {e.call_id} to release it")
        if e.agent_id is not None and e.agent_id not in agents:
            raise Rejection("wrong_agent", f"agent {e.agent_id} is not on call {e.call_id}")
        return e.agent_id if e.agent_id is not None else agents[0]

    def _call_evaluate(self, e: ev.CallEvaluate) -> list[Record]:
        key = (e.cc_id, e.call_id)
        call = self.calls.get(key)
        if call is not None:
            self._check_call_event(call, e)
            call.evaluation = e.evaluation_value
            return []
        finished = self.finished.get(key)
        # An expired entry may linger until the next release evicts it; it is gone all the same.
        if finished is None or finished.released_at < max(e.at, self.clock_of(e.cc_id)) - self.evaluation_window_ms:
            raise Rejection(
                "unknown_call",
                f"no call {e.call_id} in progress or released in the last {self.evaluation_window_ms // 3_600_000} h",
            )
        if finished.vdn != e.vdn:
            raise Rejection("vdn_mismatch", f"call {e.call_id} belongs to VDN {finished.vdn}")
        if not finished.has_result:
            raise Rejection("no_call_result", f"call {e.call_id} never reached the agent service")
        return [EvaluationRecord(e.cc_id, e.vdn, e.call_id, finished.arrived_at, e.evaluation_value)]

    # --- leg mechanics ----------------------------------------------------------------------------------

    def _open(self, call: Call, leg: Leg) -> None:
        call.legs.append(leg)
        call.party_num += 1

    def _close(self, call: Call, leg: Leg, at: int, leave_reason: int, release_cause: int | None = None) -> TrackRow:
        """Close a leg (already taken off the call's open legs) and number its row: 1..n, or -1 for the last."""
        leg.call_end = at
        leg.leave_reason = leave_reason
        if release_cause is None:
            call.rows_written += 1
            number = call.rows_written
        else:
            number = LAST_ROW
        return TrackRow(
            call.cc_id,
            call.vdn,
            call.call_id,
            number,
            call.arrived_at,
            call.caller,
            call.called,
            call.media_type,
            call.sub_media_type,
            leg.wait_begin,
            leg.ack_begin,
            leg.call_begin,
            at,
            0,
            leg.device_type,
            leg.device_no,
            leg.device_in,
            call.call_type,
            release_cause,
            leg.enter_reason,
            leave_reason,
            leg.skill_id,
        )

    def _leave_current(self, call: Call, at: int, reason: int) -> list[Record]:
        """The call leaves the routing stage (no row), an IVR flow or a queue wait (a row) for another device."""
        leg = call.legs.pop()
        if leg.transient:
            return []
        if leg.is_wait:
            self._stop_queue_clock(call, at)
            if leg.directed:
                _discard(self.agents[(call.cc_id, leg.agent_id)].private, call.call_id)
        return [self._close(call, leg, at, reason)]

    def _wait_in_skill(self, call: Call, skill_id: int, reason: int, at: int) -> None:
        leg = Leg(DeviceType.SKILL_QUEUE, str(skill_id), str(skill_id), reason, at, skill_id=skill_id)
        leg.queue_skill = skill_id
        self._open(call, leg)
        call.skill_id = skill_id
        call.phase = Phase.QUEUED
        call.queue_since = at
        self._mark_manual(call, wait_begin=at, skill_id=skill_id)

    def _wait_for_agent(self, call: Call, agent: Agent, reason: int, at: int) -> None:
        # The call keeps its skill (callSkill) on its way to one agent: the leg's CurrentSkillID says the same.
        leg = Leg(DeviceType.AGENT, str(agent.agent_id), agent.phone, reason, at, directed=True, skill_id=call.skill_id)
        leg.agent_id = agent.agent_id
        self._open(call, leg)
        call.phase = Phase.QUEUED
        call.queue_since = at
        self._mark_manual(call, wait_begin=at, skill_id=0)
        if self.agent_state(agent) in _OCCUPIED:
            agent.private.append(call.call_id)

    def _connect(self, call: Call, leg: Leg, at: int) -> None:
        leg.call_begin = at
        call.phase = Phase.TALKING
        call.talk_since = at

    def _connected_leg(self, call: Call, agent_id: int, action: str) -> Leg:
        if call.conference:
            raise Rejection("in_conference", f"call {call.call_id} is a three-party conference: no {action}")
        leg = call.agent_leg(agent_id)
        if leg is None or not leg.call_begin:
            raise Rejection("wrong_agent", f"agent {agent_id} is not connected to call {call.call_id}")
        return leg

    def _agent_leaves(self, agent: Agent, call: Call, leg: Leg, at: int) -> None:
        """The call leaves an agent: it is no longer current there; a connected agent goes to wrap-up."""
        _discard(agent.calls, call.call_id)
        agent.last_call = LastCall(
            call.call_id,
            call.vdn,
            call.caller,
            call.called,
            call.orgi_called,
            call.call_feature,
            call.call_type,
            call.call_data,
            leg.skill_id,
            call.priority,
            call.trunk_no,
            call.media_type,
            call.queue_time_ms(at),
            leg,
            at,
        )
        if (leg.call_begin or leg.held) and not agent.calls:
            default = CtiAgentState.IDLE if agent.auto_enter_idle else CtiAgentState.WORKING
            _set_mode(agent, agent.next_mode or default, at, agent.next_reason if agent.next_mode else None)
            agent.next_mode = agent.next_reason = None

    def _connected_somewhere(self, agent: Agent) -> bool:
        """The agent talks on (or holds) one of its calls, rather than only being rung."""
        for call_id in agent.calls:
            leg = self.calls[(agent.cc_id, call_id)].agent_leg(agent.agent_id)
            if leg is not None and (leg.call_begin or leg.held):
                return True
        return False

    def _mark_manual(self, call: Call, wait_begin: int, skill_id: int) -> None:
        if not call.manual:
            call.manual = True
            call.first_wait = wait_begin
        if skill_id and not call.first_skill:
            call.first_skill = skill_id

    @staticmethod
    def _stop_queue_clock(call: Call, at: int) -> None:
        if call.queue_since:
            call.queue_ms += at - call.queue_since
            call.queue_since = 0

    @staticmethod
    def _stop_talk_clock(call: Call, at: int) -> None:
        if call.talk_since:
            call.talk_ms += at - call.talk_since
            call.talk_since = 0

    # --- checks -----------------------------------------------------------------------------------------

    def _live_call(self, e: ev.Event, *phases: Phase, call_id: str | None = None) -> Call:
        """The call in progress an event is for (`call_id`, else the event's own), in one of `phases`."""
        call_id = call_id or e.call_id  # type: ignore[union-attr]
        call = self.calls.get((e.cc_id, call_id))
        if call is None:
            if (e.cc_id, call_id) in self.finished:
                raise Rejection("call_released", f"call {call_id} has been released")
            raise Rejection("unknown_call", f"no call {call_id} is in progress")
        self._check_call_event(call, e)
        if call.internal and type(e) not in _INTERNAL_EVENTS:
            raise Rejection("bad_transition", f"{ev.type_of(e)} is impossible on internal call {call.call_id}")
        if call.phase not in phases:
            raise Rejection(
                "bad_transition",
                f"{ev.type_of(e)} is impossible while call {call.call_id} is {call.phase.value}",
            )
        return call

    @staticmethod
    def _check_call_event(call: Call, e: ev.Event) -> None:
        if call.vdn != e.vdn:
            raise Rejection("vdn_mismatch", f"call {call.call_id} belongs to VDN {call.vdn}")
        if e.at < call.last_at:
            raise Rejection(
                "time_regression", f"event time {e.at} is before call {call.call_id}'s last event ({call.last_at})"
            )

    def _signed_in_agent(self, cc_id: int, vdn: int, agent_id: int) -> Agent:
        agent = self.agents.get((cc_id, agent_id))
        if agent is None or not agent.signed_in:
            raise Rejection("agent_not_signed_in", f"agent {agent_id} is not signed in")
        if agent.vdn != vdn:
            raise Rejection("vdn_mismatch", f"agent {agent_id} is signed in to VDN {agent.vdn}")
        return agent

    @staticmethod
    def _check_agent_time(agent: Agent, e: ev.Event) -> None:
        if e.at < agent.last_at:
            raise Rejection("time_regression", f"event time {e.at} is before agent {agent.agent_id}'s last event")

    # --- memory windows ---------------------------------------------------------------------------------

    def _remember_finished(self, call: Call, at: int) -> None:
        key = (call.cc_id, call.call_id)
        self.finished[key] = Finished(call.vdn, call.arrived_at, at, call.manual and not call.internal)
        order = self._finished_order.get(call.cc_id)
        if order is None:
            order = self._finished_order[call.cc_id] = deque()
        order.append((at, key))
        self._evict_finished(order, max(at, self.clock_of(call.cc_id)))

    def _evict_finished(self, order: deque[tuple[int, tuple[int, str]]], now: int) -> None:
        horizon = now - self.evaluation_window_ms
        while order and order[0][0] < horizon:
            _, old = order.popleft()
            finished = self.finished.get(old)
            if finished is not None and finished.released_at < horizon:
                del self.finished[old]


_NewCall = ev.CallArrive | ev.CallOriginate | ev.CallConsult | ev.CallInternal
_Completion = ev.CallConsultTransfer | ev.CallConsultConference | ev.CallConsultCancel


def _target_kind(target: ev.ConsultTarget) -> str:
    return "skill" if target.skill_id is not None else "agent" if target.agent_id is not None else "number"


def _ring_leg(agent: Agent, enter_reason: int, wait_begin: int, at: int, wait: Leg | None = None) -> Leg:
    """An agent leg ringing from `at`; reached through `wait` (a queue), it keeps that queue's skill."""
    leg = Leg(DeviceType.AGENT, str(agent.agent_id), agent.phone, enter_reason, wait_begin, ack_begin=at)
    leg.agent_id = agent.agent_id
    if wait is not None:
        leg.skill_id, leg.queue_skill = wait.skill_id, wait.queue_skill
    return leg


def _ring_from_wait(wait: Leg, agent: Agent, at: int) -> None:
    """A queue wait becomes the leg of the agent it rings at (a wait that ends at an agent is that agent's leg)."""
    wait.device_type = DeviceType.AGENT
    wait.device_no = str(agent.agent_id)
    wait.device_in = agent.phone
    wait.from_private = wait.directed
    wait.directed = False
    wait.ack_begin = at
    wait.agent_id = agent.agent_id


def _moved(leg: Leg) -> Leg:
    """A copy of an agent leg that no longer names its agent: closing it does not release the agent."""
    copy = Leg(leg.device_type, leg.device_no, leg.device_in, leg.enter_reason, leg.wait_begin, leg.ack_begin)
    copy.call_begin, copy.skill_id = leg.call_begin, leg.skill_id
    return copy


def _conference_leg(call: Call, party: ev.ConferenceParty) -> Leg | None:
    if party.agent_id is not None:
        leg = call.agent_leg(party.agent_id)
        return leg if leg is not None and leg.call_begin else None
    return next(
        (leg for leg in call.legs if leg.device_type == DeviceType.CONFERENCE and leg.device_in == party.number), None
    )


def _release_cause(call: Call, e: ev.CallRelease) -> int:
    """The cause given, else 49 ("user released before answer") for an abandon, else 0 (normal release)."""
    if e.cause is not None:
        return e.cause
    if e.by != "customer":
        return codes.CAUSE_NORMAL
    outside_ringing = call.phase is Phase.OUTSIDE and not call.legs[-1].call_begin
    if call.phase in _UNANSWERED or outside_ringing:
        return codes.CAUSE_RELEASED_BEFORE_ANSWER
    return codes.CAUSE_NORMAL


def _release_reasons(call: Call, e: ev.CallRelease, cause: int, releaser: int) -> Callable[[Leg], int]:
    """Each closing leg's leave reason: as given, else by who released (a system release: by its cause)."""
    if e.leave_reason is not None:
        given = e.leave_reason
        return lambda leg: given
    if e.by == "system":
        reason = _SYSTEM_LEAVE_REASON.get(cause, Reason.NORMAL)
        return lambda leg: reason
    if e.by == "agent" and call.conference:
        # One agent ends a conference: its own leg is released by the agent, the others' by the conference's end.
        return lambda leg: Reason.AGENT_RELEASED if leg.agent_id == releaser else Reason.CONFERENCE_RELEASED
    reason = _RELEASE_REASON[e.by]
    return lambda leg: reason


def _routing_leg(call: Call, at: int) -> Leg:
    return Leg(DeviceType.TEMP_ROUTING, "0", call.called, Reason.NORMAL, at, transient=True)


def _discard(items: list[str], item: str) -> None:
    if item in items:
        items.remove(item)


def _call_result(call: Call, at: int, leave_reason: int, cause: int) -> CallResult:
    return CallResult(
        call.cc_id,
        call.vdn,
        call.call_id,
        call.arrived_at,
        at,
        call.caller,
        call.called,
        call.dp_call_type,
        call.media_type,
        call.sub_media_type,
        call.first_wait,
        call.first_ack,
        call.first_talk,
        at,
        leave_reason,
        cause,
        call.first_agent,
        call.first_skill,
        call.evaluation,
    )


def _set_mode(agent: Agent, mode: CtiAgentState, at: int, reason: int | None = None) -> None:
    """The agent's own state changes; the one it leaves is kept (CMS `prevState`, the gateway's cancel events)."""
    agent.prev_mode, agent.prev_mode_since = agent.mode, agent.mode_since
    agent.mode, agent.mode_since, agent.mode_reason = mode, at, reason


# The dispatch table: class-level functions, so that an engine holds no reference cycle through bound methods
# (it is freed as soon as it is dropped, and pickles as plain data).
_HANDLERS: Final[dict[type, Callable[[Engine, ev.Event], list[Record]]]] = {
    ev.AgentLogin: Engine._agent_login,
    ev.AgentLogout: Engine._agent_logout,
    ev.AgentState: Engine._agent_state,
    ev.AgentSettings: Engine._agent_settings,
    ev.CallArrive: Engine._call_arrive,
    ev.CallOriginate: Engine._call_originate,
    ev.CallIvr: Engine._call_ivr,
    ev.CallQueue: Engine._call_queue,
    ev.CallAlert: Engine._call_alert,
    ev.CallAnswer: Engine._call_answer,
    ev.CallNoAnswer: Engine._call_noanswer,
    ev.CallHold: Engine._call_hold,
    ev.CallUnhold: Engine._call_unhold,
    ev.CallMute: Engine._call_mute,
    ev.CallUnmute: Engine._call_unmute,
    ev.CallTransfer: Engine._call_transfer,
    ev.CallConference: Engine._call_conference,
    ev.CallDataChange: Engine._call_data,
    ev.CallRelease: Engine._call_release,
    ev.CallEvaluate: Engine._call_evaluate,
    ev.CallConsult: Engine._call_consult,
    ev.CallConsultTransfer: Engine._call_consult_transfer,
    ev.CallConsultConference: Engine._call_consult_conference,
    ev.CallConsultCancel: Engine._call_consult_cancel,
    ev.CallLeave: Engine._call_leave,
    ev.CallPickup: Engine._call_pickup,
    ev.CallIntercept: Engine._call_intercept,
    ev.CallInternal: Engine._call_internal,
}
