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
STATE_VERSION: Final = 5
#: How many recently accepted event IDs the engine itself remembers (the event log dedups for all time).
DEFAULT_DEDUP_WINDOW: Final = 65_536

_MODE_OF: Final = {
    "idle": CtiAgentState.IDLE,
    "busy": CtiAgentState.BUSY,
    "rest": CtiAgentState.REST,
    "study": CtiAgentState.STUDY,
    "wrapup": CtiAgentState.WORKING,
}
_ANY_PHASE: Final = tuple(Phase)
_RELEASE_REASON: Final = {"customer": Reason.USER_RELEASED, "agent": Reason.AGENT_RELEASED, "system": Reason.NORMAL}
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
        agent.mode = _MODE_OF[e.state]
        agent.mode_since = e.at
        agent.last_at = e.at
        return []

    def _agent_logout(self, e: ev.AgentLogout) -> list[Record]:
        agent = self._signed_in_agent(e.cc_id, e.vdn, e.agent_id)
        self._check_agent_time(agent, e)
        if agent.calls:
            raise Rejection("agent_has_calls", f"agent {e.agent_id} has calls in progress: {', '.join(agent.calls)}")
        agent.signed_in = False
        agent.mode = CtiAgentState.NOT_SIGNED_IN
        agent.mode_since = e.at
        agent.last_at = e.at
        return []

    def _agent_state(self, e: ev.AgentState) -> list[Record]:
        agent = self._signed_in_agent(e.cc_id, e.vdn, e.agent_id)
        self._check_agent_time(agent, e)
        agent.mode = _MODE_OF[e.state]
        agent.mode_since = e.at
        agent.last_at = e.at
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

    def _check_new_call(self, e: ev.CallArrive | ev.CallOriginate) -> None:
        key = (e.cc_id, e.call_id)
        if key in self.calls:
            raise Rejection("call_exists", f"call {e.call_id} is already in progress")
        if key in self.finished:
            raise Rejection("call_released", f"call {e.call_id} was released; a call ID is not reused")

    def _new_call(self, e: ev.CallArrive | ev.CallOriginate, **fields: object) -> Call:
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
        agent = self._signed_in_agent(e.cc_id, call.vdn, e.agent_id)
        if call.phase is Phase.QUEUED:
            leg = call.waiting_leg()
            if leg.directed and leg.agent_id != e.agent_id:
                raise Rejection("wrong_agent", f"call {e.call_id} waits in the private queue of agent {leg.agent_id}")
            self._stop_queue_clock(call, e.at)
            if leg.directed:
                _discard(self.agents[(call.cc_id, leg.agent_id)].private, call.call_id)
            leg.device_type = DeviceType.AGENT
            leg.device_no = str(agent.agent_id)
            leg.device_in = agent.phone
            leg.from_private = leg.directed
            leg.directed = False
            leg.ack_begin = e.at
            call.party_num += 1  # the agent is one more device on the call track
        else:
            call.legs.clear()  # the routing stage ends without a row
            leg = Leg(DeviceType.AGENT, str(agent.agent_id), agent.phone, Reason.NORMAL, e.at, ack_begin=e.at)
            self._open(call, leg)
            self._mark_manual(call, wait_begin=e.at, skill_id=0)
        leg.agent_id = agent.agent_id
        if not call.first_ack:
            call.first_ack = e.at
        call.phase = Phase.ALERTING
        agent.calls.append(call.call_id)
        return []

    def _call_answer(self, e: ev.CallAnswer) -> list[Record]:
        if e.agent_id is not None:
            call = self._live_call(e, Phase.ALERTING)
            leg = call.legs[-1]
            if leg.agent_id != e.agent_id:
                raise Rejection("wrong_agent", f"call {e.call_id} is ringing at agent {leg.agent_id}")
            self._connect(call, leg, e.at)
            if not call.first_talk:
                call.first_talk, call.first_agent = e.at, e.agent_id
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
        return []

    def _call_noanswer(self, e: ev.CallNoAnswer) -> list[Record]:
        call = self._live_call(e, Phase.ALERTING)
        leg = call.legs[-1]
        if leg.agent_id != e.agent_id:
            raise Rejection("wrong_agent", f"call {e.call_id} is ringing at agent {leg.agent_id}")
        agent = self.agents[(call.cc_id, e.agent_id)]
        records = [self._close(call, call.legs.pop(), e.at, e.reason)]
        self._agent_leaves(agent, call, leg, e.at)
        if leg.queue_skill:
            self._wait_in_skill(call, leg.queue_skill, e.reason, e.at)
        elif leg.from_private:
            self._wait_for_agent(call, agent, e.reason, e.at)
        else:
            call.phase = Phase.ROUTING
            call.legs.append(_routing_leg(call, e.at))
        return records

    # --- a connected call -------------------------------------------------------------------------------

    def _call_hold(self, e: ev.CallHold) -> list[Record]:
        call = self._live_call(e, Phase.TALKING)
        leg = self._connected_leg(call, e.agent_id, "hold")
        call.legs.remove(leg)
        records = [self._close(call, leg, e.at, Reason.HELD)]
        self._stop_talk_clock(call, e.at)
        held = Leg(DeviceType.AGENT, leg.device_no, leg.device_in, Reason.RETRIEVE_HOLD, e.at, held=True)
        held.agent_id, held.skill_id, held.queue_skill = leg.agent_id, leg.skill_id, leg.queue_skill
        self._open(call, held)
        call.phase = Phase.HELD
        return records

    def _call_unhold(self, e: ev.CallUnhold) -> list[Record]:
        call = self._live_call(e, Phase.HELD)
        leg = call.legs[-1]
        if leg.agent_id != e.agent_id:
            raise Rejection("wrong_agent", f"call {e.call_id} is held by agent {leg.agent_id}")
        leg.held = False
        leg.ack_begin = e.at
        self._connect(call, leg, e.at)
        return []

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

    # --- the end of a call ------------------------------------------------------------------------------

    def _call_release(self, e: ev.CallRelease) -> list[Record]:
        call = self._live_call(e, *_ANY_PHASE)
        if e.by == "agent":
            self._check_agent_release(call, e)
        leave_reason = _RELEASE_REASON[e.by] if e.leave_reason is None else e.leave_reason
        self._stop_queue_clock(call, e.at)
        self._stop_talk_clock(call, e.at)
        records: list[Record] = []
        legs = call.legs
        for index, leg in enumerate(legs):
            last = index == len(legs) - 1
            records.append(self._close(call, leg, e.at, leave_reason, release_cause=e.cause if last else None))
            if leg.directed:
                _discard(self.agents[(call.cc_id, leg.agent_id)].private, call.call_id)
            elif leg.device_type == DeviceType.AGENT and leg.agent_id:
                self._agent_leaves(self.agents[(call.cc_id, leg.agent_id)], call, leg, e.at)
        legs.clear()
        del self.calls[(call.cc_id, call.call_id)]
        self.pools[call.cc_id].release(call.cb)
        if call.manual:
            records.append(_call_result(call, e.at, leave_reason, e.cause))
        self._remember_finished(call, e.at)
        return records

    def _check_agent_release(self, call: Call, e: ev.CallRelease) -> None:
        agents = [leg.agent_id for leg in call.legs if leg.agent_id and not leg.directed]
        if not agents:
            raise Rejection("bad_transition", f"no agent is on call {e.call_id} to release it")
        if e.agent_id is not None and e.agent_id not in agents:
            raise Rejection("wrong_agent", f"agent {e.agent_id} is not on call {e.call_id}")

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
        leg = Leg(DeviceType.AGENT, str(agent.agent_id), agent.phone, reason, at, directed=True)
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
            agent.mode = CtiAgentState.WORKING
            agent.mode_since = at

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

    def _live_call(self, e: ev.Event, *phases: Phase) -> Call:
        call = self.calls.get((e.cc_id, e.call_id))  # type: ignore[union-attr]
        if call is None:
            if (e.cc_id, e.call_id) in self.finished:  # type: ignore[union-attr]
                raise Rejection("call_released", f"call {e.call_id} has been released")  # type: ignore[union-attr]
            raise Rejection("unknown_call", f"no call {e.call_id} is in progress")  # type: ignore[union-attr]
        self._check_call_event(call, e)
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
        self.finished[key] = Finished(call.vdn, call.arrived_at, at, call.manual)
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


# The dispatch table: class-level functions, so that an engine holds no reference cycle through bound methods
# (it is freed as soon as it is dropped, and pickles as plain data).
_HANDLERS: Final[dict[type, Callable[[Engine, ev.Event], list[Record]]]] = {
    ev.AgentLogin: Engine._agent_login,
    ev.AgentLogout: Engine._agent_logout,
    ev.AgentState: Engine._agent_state,
    ev.CallArrive: Engine._call_arrive,
    ev.CallOriginate: Engine._call_originate,
    ev.CallIvr: Engine._call_ivr,
    ev.CallQueue: Engine._call_queue,
    ev.CallAlert: Engine._call_alert,
    ev.CallAnswer: Engine._call_answer,
    ev.CallNoAnswer: Engine._call_noanswer,
    ev.CallHold: Engine._call_hold,
    ev.CallUnhold: Engine._call_unhold,
    ev.CallTransfer: Engine._call_transfer,
    ev.CallConference: Engine._call_conference,
    ev.CallDataChange: Engine._call_data,
    ev.CallRelease: Engine._call_release,
    ev.CallEvaluate: Engine._call_evaluate,
}
