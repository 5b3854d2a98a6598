"""Live state: calls in progress with their legs, agents, control blocks. Plain data, mutated only by the engine."""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field
from enum import StrEnum
from typing import NamedTuple

from ccdata.domain.codes import CtiAgentState, DeviceType


class Phase(StrEnum):
    """Where a call in progress is; the engine's transition table is written in these."""

    ROUTING = "routing"  # arrived or dialled by a campaign, not yet at any device
    IVR = "ivr"
    QUEUED = "queued"  # waiting in a skill queue or in one agent's private queue
    ALERTING = "alerting"  # an agent's phone rings
    TALKING = "talking"  # an agent is connected (possibly with a third party)
    HELD = "held"
    DIALING = "dialing"  # an agent's outbound call, the customer not yet answered
    OUTSIDE = "outside"  # transferred to an outside number


@dataclass(slots=True)
class Leg:
    """One device's handling of a call; closed, it becomes one call-track row."""

    device_type: int
    device_no: str
    device_in: str
    enter_reason: int
    wait_begin: int
    ack_begin: int = 0
    call_begin: int = 0
    call_end: int = 0
    leave_reason: int = 0
    skill_id: int = 0  # CurrentSkillID: the skill queue that brought the call to this device
    agent_id: int = 0  # the agent of an agent leg, or the agent a directed wait is for
    queue_skill: int = 0  # a skill-queue wait (or an agent leg reached from it): where a no-answer re-queues
    directed: bool = False  # a wait for one agent: that agent's private queue
    from_private: bool = False  # an agent leg reached from that agent's private queue
    held: bool = False  # the wait of a held call for its agent to retrieve it
    muted: bool = False  # v2: the agent muted its side (call.mute)
    transient: bool = False  # the routing stage: written only if the call ends there
    # The agent's handling of the call survives a hold: (waitBegin, ackBegin, callBegin) of the first leg of
    # it, so that the gateway's begin and talk times do not restart at every retrieval (the track does).
    origin: tuple[int, int, int] | None = None

    @property
    def ringing(self) -> bool:
        """An agent's phone ringing for this call (not yet answered, not a wait, not a held call)."""
        return self.device_type == DeviceType.AGENT and not (self.directed or self.held or self.call_begin)

    def handling_times(self) -> tuple[int, int, int]:
        """(waitBegin, ackBegin, callBegin) of the agent's handling of the call, across holds."""
        return self.origin or (self.wait_begin, self.ack_begin, self.call_begin)

    @property
    def is_wait(self) -> bool:
        """A queue wait not yet offered to an agent: in a skill queue or in an agent's private queue."""
        return self.device_type == DeviceType.SKILL_QUEUE or self.directed


class LastCall(NamedTuple):
    """What an agent keeps of the last call that left it: the gateway's `callinfo` of the last call."""

    call_id: str
    vdn: int
    caller: str
    called: str
    orgi_called: str
    call_feature: int
    call_type: int
    call_data: str
    skill_id: int
    priority: int
    trunk_no: int
    media_type: int
    queue_ms: int
    leg: Leg
    ended_at: int
    wrapup_code: str | None = None  # v2: the code the agent gave the call in wrap-up


@dataclass(slots=True)
class Call:
    """A call in progress: the fields of the CC-CMS call control block, its open legs and its counters."""

    cc_id: int
    vdn: int
    call_id: str
    arrived_at: int
    inbound: bool
    caller: str
    called: str
    orgi_called: str
    media_type: int
    sub_media_type: int
    call_feature: int
    trunk_no: int
    priority: int
    call_data: str
    server: int
    mid: int
    place: int
    key_id: str
    call_type: int  # the call-track table (SP_CALL_*)
    dp_call_type: int  # the DataProcess table
    cb: int
    handle: int
    dsn: int
    phase: Phase
    last_at: int
    legs: list[Leg] = field(default_factory=list)
    rows_written: int = 0
    party_num: int = 0
    skill_id: int = 0  # the skill of the last queue the call entered (the control block's callSkill)
    queue_ms: int = 0
    queue_since: int = 0
    talk_ms: int = 0
    talk_since: int = 0
    conference: bool = False
    customer_connected_at: int = 0
    manual: bool = False  # reached the agent (manual) service: it gets a call result
    first_wait: int = 0
    first_ack: int = 0
    first_talk: int = 0
    first_agent: int = 0
    first_skill: int = 0
    evaluation: str | None = None
    internal: bool = False  # an internal or consult call: no customer, no call result, no v1 call control
    consult_of: str = ""  # a consult call: the original (customer's) call it consults for
    consult: str = ""  # an original call: its consult call in progress
    consult_kind: str = ""  # what a consult or internal call reaches: "skill", "agent" or "number"
    recording_ref: str = ""  # v2: the external recording's reference, from the last `call.answer` giving one
    transferred_by: int = 0  # the agent whose transfer brought the call where it is (the gateway's `transfrom`)

    def agent_leg(self, agent_id: int) -> Leg | None:
        """The open leg of an agent on this call (ringing, connected or held), if any."""
        for leg in self.legs:
            if leg.agent_id == agent_id and leg.device_type == DeviceType.AGENT and not leg.directed:
                return leg
        return None

    def waiting_leg(self) -> Leg:
        return self.legs[-1]

    def queue_time_ms(self, now: int) -> int:
        # `now` may be a server clock behind the feed's event times: a duration is never negative.
        return self.queue_ms + (max(0, now - self.queue_since) if self.queue_since else 0)

    def talk_time_ms(self, now: int) -> int:
        return self.talk_ms + (max(0, now - self.talk_since) if self.talk_since else 0)


@dataclass(slots=True)
class Agent:
    """An agent as the CTI platform sees it."""

    cc_id: int
    agent_id: int
    vdn: int
    signed_in: bool = False
    login_at: int = 0
    skills: tuple[int, ...] = ()
    phone: str = ""
    mode: CtiAgentState = CtiAgentState.NOT_SIGNED_IN  # the state set by the agent or the system
    mode_since: int = 0
    mode_reason: int | None = None  # v2: why busy or resting (the rest cause), as the source gave it
    prev_mode: CtiAgentState = CtiAgentState.NOT_SIGNED_IN  # the own state before the current one
    prev_mode_since: int = 0
    # v2: a state set during a call takes effect when the agent's last call leaves it (CEC's "pre-busy").
    next_mode: CtiAgentState | None = None
    next_reason: int | None = None
    auto_answer: bool = False  # v2: the platform answers this agent's calls (the gateway acts on it)
    auto_enter_idle: bool = False  # v2: idle, not wrap-up, when a call leaves the agent
    workbench: bool = False  # v2: signed in through the CC-Gateway (its agent events are queued for polling)
    last_at: int = 0
    calls: list[str] = field(default_factory=list)  # current calls, in the order they reached the agent
    private: list[str] = field(default_factory=list)  # calls waiting in this agent's private queue
    last_call: LastCall | None = None


class Finished(NamedTuple):
    """What the engine remembers of a released call, for late evaluations and call-ID reuse."""

    vdn: int
    arrived_at: int
    released_at: int
    has_result: bool


@dataclass(slots=True)
class ControlBlockPool:
    """Call control blocks of one call center: the lowest free block is reused; `handle` counts reuses."""

    free: list[int] = field(default_factory=list)
    next_cb: int = 1
    reuses: dict[int, int] = field(default_factory=dict)
    tasks: int = 0

    def allocate(self) -> tuple[int, int, int]:
        """Take a block: (cb, handle, dsn)."""
        if self.free:
            cb = heapq.heappop(self.free)
            self.reuses[cb] += 1
        else:
            cb = self.next_cb
            self.next_cb += 1
            self.reuses[cb] = 0
        self.tasks = self.tasks % 65535 + 1
        return cb, self.reuses[cb], self.tasks

    def release(self, cb: int) -> None:
        heapq.heappush(self.free, cb)
