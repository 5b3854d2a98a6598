"""A discrete-event contact-center simulator that emits only contract events.

Calls arrive at access codes (a non-homogeneous Poisson process by hour of day and weekday), may spend time in an
IVR flow, then wait in a skill queue. Routing is an ACD's: a free agent takes the longest-idle agent with the skill;
a freed agent serves its private queue first, then its skills by level, oldest call first. Callers abandon after
their patience; a queue timeout overflows the call to another skill; an agent may not answer (the call goes back
to its queue); calls may be held, transferred to another skill or joined by a third party; agents wrap up, take
breaks and sign in and out with their shifts. Everything is drawn from one seeded random generator, so a seed
gives the same events.
"""

from __future__ import annotations

import heapq
import random
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from ccdata.config import Config
from ccdata.domain import events as ev
from ccdata.domain.engine import Engine
from ccdata.sim.adoption import AgentView, CallView, EngineView, read_engine
from ccdata.sim.scenario import AccessCode, Campaign, Dist, Scenario, Shift, SkillBehaviour
from ccdata.sim.staffing import plan_scenario
from ccdata.sim.workbench import Workbench

HOUR_MS = 3_600_000
DAY_MS = 24 * HOUR_MS
SERVICE_LEVEL_S = 20
DIAL_RING = Dist("uniform", low=5, high=25)  # how long a preview campaign's customer's phone rings
NO_ANSWER_BUSY_MS = 30_000  # an agent that did not answer is set busy this long
# A caller just transferred has been told to hold on: its patience starts again, and never ends within this.
TRANSFER_GRACE_MS = 10_000


@dataclass
class SimAgent:
    agent_id: int
    vdn: int
    levels: dict[int, int]  # skill -> level
    phone: str
    interactive: bool = False
    state: str = "off"  # off, idle, ringing, talking, wrapup, rest, busy
    idle_since: int = 0
    call: SimCall | None = None
    private: deque[SimCall] = field(default_factory=deque)
    on_shift: bool = False
    break_due: int = 0  # minutes of a break to take when the current call ends


@dataclass
class SimCall:
    call_id: str
    vdn: int
    arrived: int
    media_type: int = 5
    skill: int = 0
    state: str = "routing"
    version: int = 0  # bumped whenever the call moves: a scheduled timeout or abandon checks it
    first_queued: int = 0
    patience_at: int = 0
    agent: SimAgent | None = None  # the agent it rings at or talks to, or whose private queue it waits in
    answered: bool = False
    from_private: bool = False  # it rings at an agent it waited for in that agent's private queue
    transferred: bool = False  # transferred once already: no ping-pong between colleagues
    members: list[SimAgent] = field(default_factory=list)  # agents who joined a three-party conference
    consulted: bool = False  # its agent consulted once already: at most one consult per call
    consult: SimCall | None = None  # an original call: its consult in progress (the customer is held)
    consult_of: SimCall | None = None  # a consult call: the customer's call it consults for
    by: SimAgent | None = None  # a consult or internal call: the calling agent (its `agent` is the called one)
    internal: bool = False  # an internal call between agents (a workbench's): no customer


@dataclass
class Stats:
    calls: int = 0
    events: int = 0
    answered: int = 0  # calls answered (a transferred call once, at its first answer)
    abandoned: int = 0  # calls that hung up before any agent answered
    abandoned_after_transfer: int = 0  # answered calls that hung up waiting after a transfer (not abandoned)
    transfers: int = 0
    consults: int = 0  # consult calls (not customer calls: never counted as calls, answers or abandons)
    consult_transfers: int = 0
    consult_conferences: int = 0
    consult_cancels: int = 0  # cancelled after the talk, or given up unanswered
    answered_in_sl: int = 0
    wait_ms_total: int = 0
    self_service: int = 0
    outbound: int = 0

    @property
    def service_level(self) -> float:
        handled = self.answered + self.abandoned
        return self.answered_in_sl / handled if handled else 1.0

    @property
    def asa_s(self) -> float:
        return self.wait_ms_total / self.answered / 1000 if self.answered else 0.0

    @property
    def abandonment(self) -> float:
        handled = self.answered + self.abandoned
        return self.abandoned / handled if handled else 0.0


@dataclass
class Adoption:
    """What a simulation took over from the engine at its start."""

    calls: int = 0
    agents: int = 0  # signed-in agents of the scenario
    strays: list[str] = field(default_factory=list)  # calls at an agent the simulation cannot give them to: ended


class ContactCenter:
    """The simulation. `run_until(t)` advances it and returns the contract events produced, in time order."""

    def __init__(self, config: Config, scenario: Scenario, start: int, *, seed: int | None = None) -> None:
        self.config = config
        scenario = plan_scenario(scenario)  # staffing pools become shifts (sim/staffing.py)
        self.scenario = scenario
        self.cc_id = config.call_center.id
        self.rng = random.Random(scenario.seed if seed is None else seed)
        self.now = start
        self.prefix = f"sim{scenario.seed if seed is None else seed}-{start}"
        self.behaviour = {b.skill: b for b in scenario.skills}
        self.queues: dict[int, deque[SimCall]] = {}
        self.agents: dict[int, SimAgent] = {}
        self.stats = Stats()
        self.arrivals_open = True
        self._heap: list[tuple[int, int, Callable[..., None], tuple[Any, ...]]] = []
        self._seq = 0
        self._out: list[dict[str, Any]] = []
        self._numbers = 0
        self.in_progress: dict[str, SimCall] = {}
        self.adoption = Adoption()
        self.workbench = Workbench(self)  # interactive agents' calls: the platform's and the other parties' side
        self._build_agents()
        for code in scenario.access_codes:
            self._next_arrival(code, start)
        for campaign_index in range(len(scenario.campaigns)):
            self._schedule_campaign(campaign_index, start)
        self._at(start, self._day, start - start % DAY_MS)

    # --- driving ---

    def run_until(self, until: int) -> list[dict[str, Any]]:
        while self._heap and self._heap[0][0] <= until:
            at, _, action, args = heapq.heappop(self._heap)
            self.now = max(self.now, at)
            action(*args)
        self.now = max(self.now, until)
        out, self._out = self._out, []
        return out

    @classmethod
    def adopting(
        cls, config: Config, scenario: Scenario, engine: Engine, start: int, *, seed: int | None = None
    ) -> ContactCenter:
        """A simulation from `start` that carries on the engine's calls and agents of this call center.

        `start` must be after the call center's last event. See docs/simulator.md, "Adoption".
        """
        center = cls(config, scenario, start, seed=seed)
        center._adopt(read_engine(engine, center.cc_id, start))
        return center

    def close_arrivals(self) -> None:
        """No new calls; the ones in progress go on to their end (a backfill's last day)."""
        self.arrivals_open = False

    def busy(self) -> bool:
        return bool(self.in_progress)

    def next_time(self) -> int | None:
        return self._heap[0][0] if self._heap else None

    # --- interactive agents (driven by a real client through the gateway: sim/workbench.py) ---

    def made(self, event_id: str) -> bool:
        """Whether this simulation emitted the event (its own events come back committed: nothing to react to)."""
        return event_id.startswith(self.prefix + "-")

    def follow(self, event: ev.Event) -> None:
        """A committed event from elsewhere (a workbench's action): the platform and the other parties react."""
        self.workbench.follow(event)

    def settle(self, engine: Engine) -> None:
        """After a committed event: free interactive agents take the own state the engine derived for them."""
        self.workbench.settle(engine)

    def ring(self, agent_id: int, media: str = "voice", caller: str | None = None, skill: int | None = None) -> str:
        """Offer a new call to an idle interactive agent now; its call ID (raises `RingRefused`)."""
        return self.workbench.ring(agent_id, media, caller, skill)

    # --- plumbing ---

    def _at(self, at: int, action: Callable[..., None], *args: Any) -> None:
        self._seq += 1
        heapq.heappush(self._heap, (at, self._seq, action, args))

    def _emit(self, type_: str, vdn: int, **fields: Any) -> None:
        self.stats.events += 1
        event = {"id": f"{self.prefix}-{self.stats.events}", "type": type_, "at": self.now, "ccId": self.cc_id,
                 "vdn": vdn, **fields}  # fmt: skip
        self._out.append(event)

    def _call_event(self, type_: str, call: SimCall, **fields: Any) -> None:
        self._emit(type_, call.vdn, callId=call.call_id, **fields)
        if type_ == "call.release":
            self.in_progress.pop(call.call_id, None)

    def _later(self, at: int, type_: str, call: SimCall, fields: dict[str, Any]) -> None:
        self._at(at, lambda: self._call_event(type_, call, **fields))

    def _build_agents(self) -> None:
        levels: dict[int, dict[int, int]] = {}
        for shift in self.scenario.shifts:
            for agent_id in range(shift.first, shift.first + shift.count):
                levels[agent_id] = {int(k): v for k, v in shift.skill_levels.items()}
        for agent in self.config.agents:
            skills = {s: levels.get(agent.id, {}).get(s, 1) for s in agent.skills}
            self.agents[agent.id] = SimAgent(agent.id, agent.vdn, skills, agent.phone, agent.interactive)

    # --- shifts and breaks ---

    def _day(self, midnight: int) -> None:
        """Schedule the day's shifts; agents without a shift are signed in all day, from the start."""
        weekday = datetime.fromtimestamp(midnight / 1000, tz=UTC).weekday()
        covered: set[int] = set()
        for shift in self.scenario.shifts:
            ids = range(shift.first, shift.first + shift.count)
            covered.update(ids)
            if weekday not in shift.weekdays:
                continue
            start, end = midnight + int(shift.start_hour * HOUR_MS), midnight + int(shift.end_hour * HOUR_MS)
            for agent_id in ids:
                if agent_id in self.agents and end > self.now:
                    self._at(max(start, self.now), self._shift_start, agent_id, end, shift)
        for agent in self.agents.values():
            if agent.agent_id not in covered and not agent.interactive and agent.state == "off":
                self._at(max(midnight, self.now), self._shift_start, agent.agent_id, 0, None)
        self._at(midnight + DAY_MS, self._day, midnight + DAY_MS)

    def _shift_start(self, agent_id: int, end: int, shift: Shift | None) -> None:
        agent = self.agents[agent_id]
        if agent.on_shift or agent.interactive:
            return
        agent.on_shift = True
        # One still signed in (a call that outlasted its last shift, an adopted agent) carries on as it is.
        if agent.state == "off":
            self._emit("agent.login", agent.vdn, agentId=agent_id, skills=sorted(agent.levels), phone=agent.phone,
                       force=True)  # fmt: skip
            self._idle(agent)
        if shift is not None:
            self._plan_shift(agent, end, shift)

    def _plan_shift(self, agent: SimAgent, end: int, shift: Shift) -> None:
        """The rest of a shift from now: its breaks to come and its end."""
        agent_id = agent.agent_id
        midnight = self.now - self.now % DAY_MS
        for pause in shift.breaks:
            at = midnight + pause.due_ms(agent_id - shift.first, shift.count)
            if self.now <= at < end:
                self._at(at, self._break_due, agent_id, pause.minutes)
        self._at(end, self._shift_end, agent_id)

    def _shift_end(self, agent_id: int) -> None:
        agent = self.agents[agent_id]
        agent.on_shift = False
        agent.break_due = 0  # a break it could not take in time is dropped
        if agent.call is None and agent.state in ("idle", "rest", "busy"):
            self._sign_out(agent)

    def _sign_out(self, agent: SimAgent) -> None:
        agent.state = "off"
        self._emit("agent.logout", agent.vdn, agentId=agent.agent_id)

    def _break_due(self, agent_id: int, minutes: float) -> None:
        """Due for a break: taken now if idle and the skills can spare it, else when it next can."""
        agent = self.agents[agent_id]
        if agent.state == "off":
            return
        agent.break_due = int(minutes)
        if agent.state == "idle" and self._may_rest(agent):
            self._take_break(agent, minutes)

    def _may_rest(self, agent: SimAgent) -> bool:
        """Whether one more agent may rest: at most `break_max_away` of each of its skills' signed-in agents
        (always one), so that a shift's breaks never empty a queue."""
        share = self.scenario.break_max_away
        if share >= 1:
            return True
        for skill in agent.levels:
            mates = [a.state for a in self.agents.values() if a.vdn == agent.vdn and skill in a.levels
                     and a.state != "off"]  # fmt: skip
            if mates.count("rest") >= max(1, int(share * len(mates))):
                return False
        return True

    def _breaks_waiting(self) -> None:
        """A break has ended: idle agents due for one take it, longest idle first, as far as the share allows."""
        waiting = sorted((a for a in self.agents.values() if a.break_due and a.state == "idle"),
                         key=lambda a: (a.idle_since, a.agent_id))  # fmt: skip
        for agent in waiting:
            if self._may_rest(agent):
                self._take_break(agent, agent.break_due)

    def _take_break(self, agent: SimAgent, minutes: float) -> None:
        agent.state = "rest"
        agent.break_due = 0
        self._emit("agent.state", agent.vdn, agentId=agent.agent_id, state="rest")
        self._at(self.now + int(minutes * 60_000), self._back_from_pause, agent.agent_id)

    def _back_from_pause(self, agent_id: int) -> None:
        agent = self.agents[agent_id]
        if agent.state not in ("rest", "busy"):
            return
        if not agent.on_shift and not agent.interactive:
            self._sign_out(agent)
            return
        was_resting = agent.state == "rest"
        self._emit("agent.state", agent.vdn, agentId=agent_id, state="idle")
        self._idle(agent)
        if was_resting:
            self._breaks_waiting()

    # --- arrivals and the IVR ---

    def _next_arrival(self, code: AccessCode, after: int) -> None:
        """The next arrival of a Poisson process whose rate is constant within each hour."""
        t = after
        for _ in range(24 * 14):  # at most two weeks of hours with no traffic before giving up
            moment = datetime.fromtimestamp(t / 1000, tz=UTC)
            rate = code.calls_per_hour[moment.hour] * code.weekday_factor[moment.weekday()]
            hour_end = t - t % HOUR_MS + HOUR_MS
            if rate > 0:
                gap = int(self.rng.expovariate(rate / HOUR_MS)) + 1
                if t + gap < hour_end:
                    self._at(t + gap, self._arrive, code)
                    return
            t = hour_end  # memoryless: start again at the hour boundary with that hour's rate

    def _arrive(self, code: AccessCode) -> None:
        if not self.arrivals_open:
            return
        self._next_arrival(code, self.now)
        self._numbers += 1
        call = SimCall(f"{self.now // 1000}-{self._numbers}", code.vdn, self.now, code.media_type)
        self.stats.calls += 1
        caller = f"1{self.rng.randrange(3_000_000_000, 9_999_999_999)}"
        self._call_event("call.arrive", call, caller=caller, called=code.called, mediaType=code.media_type,
                         subMediaType=code.sub_media_type, trunkNo=self.rng.randrange(1, 600),
                         server=1, mid=5)  # fmt: skip
        self.in_progress[call.call_id] = call
        self._route(call, code)

    def _route(self, call: SimCall, code: AccessCode) -> None:
        """A call at its access code goes to the IVR flow, or straight to a skill queue."""
        if code.flow:
            call.state = "ivr"
            self._call_event("call.ivr", call, flowId=code.flow)
            self._at(self.now + code.ivr_time.draw_ms(self.rng), self._ivr_end, call, code)
        else:
            self._enqueue(call, self._pick_skill(code), reason=0)

    def _pick_skill(self, code: AccessCode) -> int:
        return self.rng.choices([s.skill for s in code.skills], weights=[s.weight for s in code.skills])[0]

    def _ivr_end(self, call: SimCall, code: AccessCode) -> None:
        draw = self.rng.random()
        if draw < code.self_service:
            self.stats.self_service += 1
            self._release(call, "system")
        elif draw < code.self_service + code.ivr_abandon:
            self._release(call, "customer")
        else:
            self._enqueue(call, self._pick_skill(code), reason=0)

    # --- queues ---

    def _enqueue(self, call: SimCall, skill: int, reason: int, emit: bool = True) -> None:
        """The call waits in a skill queue (the event is emitted unless the engine opens the wait itself)."""
        if emit:
            self._call_event("call.queue", call, skillId=skill, reason=reason)
        call.state, call.skill = "queued", skill
        call.version += 1
        behaviour = self._behaviour(skill)
        if not call.first_queued:
            call.first_queued = self.now
            if behaviour.patience is not None:
                call.patience_at = self.now + behaviour.patience.draw_ms(self.rng)
        if call.patience_at:
            self._at(max(self.now, call.patience_at), self._abandon, call, call.version)
        if behaviour.queue_timeout_s and behaviour.overflow_skill:
            self._at(self.now + int(behaviour.queue_timeout_s * 1000), self._queue_timeout, call, call.version)
        self.queues.setdefault(skill, deque()).append(call)
        self._dispatch(skill)

    def _abandon(self, call: SimCall, version: int) -> None:
        if call.version != version or call.state not in ("queued", "private"):
            return
        self._remove_from_queue(call)
        if call.answered:  # one call: answered once, then it hung up waiting for the transfer's target
            self.stats.abandoned_after_transfer += 1
        else:
            self.stats.abandoned += 1
        self._release(call, "customer")

    def _queue_timeout(self, call: SimCall, version: int) -> None:
        if call.version != version or call.state != "queued":
            return
        self._remove_from_queue(call)
        self._enqueue(call, self._behaviour(call.skill).overflow_skill, reason=2)

    def _remove_from_queue(self, call: SimCall) -> None:
        queue = call.agent.private if call.state == "private" and call.agent else self.queues.get(call.skill)
        if queue is not None and call in queue:
            queue.remove(call)

    def _dispatch(self, skill: int) -> None:
        """Offer waiting calls of a skill to its idle agents: the best level first, longest idle among equals."""
        queue = self.queues.get(skill)
        while queue:
            idle = [a for a in self.agents.values() if a.state == "idle" and skill in a.levels]
            if not idle:
                return
            agent = min(idle, key=lambda a: (-a.levels[skill], a.idle_since, a.agent_id))
            self._offer(queue.popleft(), agent)

    def _idle(self, agent: SimAgent) -> None:
        """A free agent takes its private calls first, then its best skill's oldest call."""
        agent.state, agent.idle_since, agent.call = "idle", self.now, None
        if agent.break_due and self._may_rest(agent):
            self._take_break(agent, agent.break_due)
            return
        if agent.private:
            self._offer(agent.private.popleft(), agent)
            return
        waiting = [(-level, q[0].first_queued, skill) for skill, level in agent.levels.items()
                   if (q := self.queues.get(skill))]  # fmt: skip
        if waiting:
            _, _, skill = min(waiting)
            self._offer(self.queues[skill].popleft(), agent)

    # --- an agent's call ---

    def _offer(self, call: SimCall, agent: SimAgent) -> None:
        call.from_private = call.state == "private"
        call.version += 1
        call.state, call.agent = "ringing", agent
        agent.state, agent.call = "ringing", call
        self._call_event("call.alert", call, agentId=agent.agent_id)
        if agent.interactive:  # it rings until the workbench answers, or its no-answer timeout
            self.workbench.ringing(call, agent)
        elif call.consult_of is not None:  # a colleague asked for help picks up: no no-answer spells on consults
            self._at(self.now + self.scenario.ring_time.draw_ms(self.rng), self._consult_answer, call, agent)
        elif call.internal:
            self.workbench.colleague_rings(call, agent)
        elif self.rng.random() < self.scenario.no_answer_rate:
            self._at(self.now + int(self.scenario.no_answer_timeout_s * 1000), self._no_answer, call, agent)
        else:
            self._at(self.now + self.scenario.ring_time.draw_ms(self.rng), self._answer, call, agent)

    def _no_answer(self, call: SimCall, agent: SimAgent) -> None:
        self._call_event("call.noanswer", call, agentId=agent.agent_id, reason=5)
        agent.state, agent.call = "busy", None
        if agent.interactive:  # as CEC: forced busy (reason 2) until the agent itself says otherwise
            self._emit("agent.state", agent.vdn, v=2, agentId=agent.agent_id, state="busy", reasonCode=2)
        else:
            self._emit("agent.state", agent.vdn, agentId=agent.agent_id, state="busy")
            self._at(self.now + NO_ANSWER_BUSY_MS, self._back_from_pause, agent.agent_id)
        self._back_to_queue(call, agent)

    def _back_to_queue(self, call: SimCall, agent: SimAgent) -> None:
        """After a no-answer the engine puts the call back where it waited; the simulator mirrors it, at the head
        of the line. A call that rang without waiting (a consult or internal call to a named agent) waits for
        nobody: its calling agent cancels or releases it."""
        if not call.skill and not call.from_private:
            call.state, call.agent = "unanswered", None
            call.version += 1
            return
        if call.consult_of is not None and call.by is not None and not call.by.interactive:
            give_up = self.now + self._behaviour(call.consult_of.skill).consult_patience.draw_ms(self.rng)
            self._at(give_up, self._consult_give_up, call, call.version + 1)  # the version of its new wait
        if call.from_private:  # it waits in the agent's private queue again
            call.state, call.agent = "private", agent
            call.version += 1
            agent.private.appendleft(call)
            return
        call.state, call.agent = "queued", None
        call.version += 1
        if call.patience_at:
            self._at(max(self.now, call.patience_at), self._abandon, call, call.version)
        self.queues.setdefault(call.skill, deque()).appendleft(call)
        self._dispatch(call.skill)

    def _answer(self, call: SimCall, agent: SimAgent) -> None:
        if agent.call is not call:
            return
        self._call_event("call.answer", call, agentId=agent.agent_id)
        self._connect(call, agent)
        behaviour = self._behaviour(call.skill)
        talk = behaviour.handle_time.draw_ms(self.rng)
        end = self.now + talk
        if self.rng.random() < behaviour.hold_rate:
            hold_at = self.now + talk // 3
            hold_for = behaviour.hold_time.draw_ms(self.rng)
            self._later(hold_at, "call.hold", call, {"agentId": agent.agent_id})
            self._later(hold_at + hold_for, "call.unhold", call, {"agentId": agent.agent_id})
            end += hold_for
        elif self.rng.random() < behaviour.conference_rate:  # never while held: a conference needs the talk
            self._at(self.now + talk // 2, self._conference, call, agent)
        self._at(max(end, self.now + 1), self._talk_end, call, agent)

    def _connect(self, call: SimCall, agent: SimAgent) -> None:
        """The agent is connected to the customer (answered by a simulated agent or by a workbench)."""
        call.state, agent.state = "talking", "talking"
        call.version += 1
        if not call.answered:  # a transferred call counts once, at its first answer
            call.answered = True
            self.stats.answered += 1
            wait = self.now - call.first_queued
            self.stats.wait_ms_total += wait
            self.stats.answered_in_sl += wait <= SERVICE_LEVEL_S * 1000

    def _conference(self, call: SimCall, agent: SimAgent) -> None:
        if call.state == "talking" and agent.call is call:
            call.state = "conference"
            number = f"1{self.rng.randrange(3_000_000_000, 9_999_999_999)}"
            self._call_event("call.conference", call, agentId=agent.agent_id, party={"number": number})

    def _talk_end(self, call: SimCall, agent: SimAgent) -> None:
        if agent.call is not call or call.state == "done":
            return  # ended another way meanwhile (a workbench's colleague released it, or left it to this agent twice)
        behaviour = self._behaviour(call.skill)
        if self._consults_now(call, behaviour):
            self._consult(call, agent, behaviour)
            return
        if call.state == "talking" and not call.transferred and self.rng.random() < behaviour.agent_transfer_rate:
            targets = [a for a in self.agents.values() if a is not agent and a.vdn == agent.vdn
                       and call.skill in a.levels and a.state not in ("off", "rest", "busy")]  # fmt: skip
            if targets:
                self._transfer_to_agent(call, agent, self.rng.choice(targets), behaviour)
                return
        if (
            call.state == "talking"
            and not call.transferred
            and behaviour.transfer_skill
            and self.rng.random() < behaviour.transfer_rate
        ):
            call.transferred = True
            self.stats.transfers += 1
            self._call_event("call.transfer", call, agentId=agent.agent_id,
                             target={"skillId": behaviour.transfer_skill})  # fmt: skip
            self._wrap_up(agent, behaviour)
            call.first_queued = call.first_queued or self.now
            call.patience_at = self._patience_after_transfer(behaviour.transfer_skill)
            self._enqueue(call, behaviour.transfer_skill, reason=28, emit=False)
            return
        by = "customer" if self.rng.random() < 0.7 else "agent"
        self._release(call, by)
        self._wrap_up(agent, behaviour)
        self._survey(call, behaviour)

    def _survey(self, call: SimCall, behaviour: SkillBehaviour) -> None:
        """With the skill's survey rate, the customer's satisfaction score arrives a while after the release."""
        if self.rng.random() < behaviour.survey_rate:
            score = self.rng.choices(range(1, len(behaviour.survey_scores) + 1), behaviour.survey_scores)[0]
            self._later(self.now + self.rng.randrange(20_000, 120_000), "call.evaluate", call,
                        {"evaluationValue": str(score)})  # fmt: skip

    def _consults_now(self, call: SimCall, behaviour: SkillBehaviour) -> bool:
        """Whether the agent consults at the end of its talk: once per call, never after a transfer."""
        if call.state != "talking" or call.transferred or call.consulted or not behaviour.consult_rate:
            return False  # no draw without consults, so scenarios without them keep their random streams
        return self.rng.random() < behaviour.consult_rate

    def _transfer_to_agent(self, call: SimCall, agent: SimAgent, target: SimAgent, behaviour: SkillBehaviour) -> None:
        """A blind transfer to a colleague: it rings there at once, or waits in the colleague's private queue."""
        call.transferred = True
        self.stats.transfers += 1
        self._call_event("call.transfer", call, agentId=agent.agent_id, target={"agentId": target.agent_id})
        self._wrap_up(agent, behaviour)
        self._direct_to(call, target)

    def _direct_to(self, call: SimCall, target: SimAgent) -> None:
        """A call transferred to an agent rings there at once, or waits in the agent's private queue."""
        call.state, call.agent = "private", target
        call.version += 1
        call.patience_at = self._patience_after_transfer(call.skill)
        if call.patience_at:
            self._at(max(self.now, call.patience_at), self._abandon, call, call.version)
        if target.state == "idle":
            self._offer(call, target)
        else:
            target.private.append(call)

    def _patience_after_transfer(self, skill: int) -> int:
        """A transferred caller waits again with a fresh patience (the first one was spent before the answer)."""
        patience = self._behaviour(skill).patience
        if patience is None:
            return 0
        return self.now + max(TRANSFER_GRACE_MS, patience.draw_ms(self.rng))

    # --- consults (contract v2: docs/events.md, "A consult") ---

    def _consult(self, call: SimCall, agent: SimAgent, behaviour: SkillBehaviour) -> None:
        """The agent holds the customer and consults a named idle colleague, or a skill queue (where it waits)."""
        call.consulted, call.state = True, "consulting"
        self._numbers += 1
        consult = SimCall(f"{self.now // 1000}-{self._numbers}", call.vdn, self.now, state="queued",
                          consult_of=call, by=agent)  # fmt: skip
        call.consult = consult
        self.in_progress[consult.call_id] = consult
        self.stats.consults += 1
        colleague = None
        if behaviour.consult_agent_rate and self.rng.random() < behaviour.consult_agent_rate:
            colleague = self._idle_colleague(agent, call.skill)
        fields = {"originalCallId": call.call_id, "agentId": agent.agent_id}
        if colleague is not None:  # the engine rings the named agent at once
            consult.skill, consult.state, consult.agent = call.skill, "ringing", colleague
            colleague.state, colleague.call = "ringing", consult
            self._call_event("call.consult", consult, target={"agentId": colleague.agent_id}, **fields)
            self._at(self.now + self.scenario.ring_time.draw_ms(self.rng), self._consult_answer, consult, colleague)
            return
        # The engine opens the consult's skill-queue wait itself; it queues with the customers, in entry order.
        consult.skill = consult_skill = behaviour.consult_skill or call.skill
        consult.first_queued = self.now
        self._call_event("call.consult", consult, target={"skillId": consult_skill}, **fields)
        give_up = self.now + behaviour.consult_patience.draw_ms(self.rng)
        self._at(give_up, self._consult_give_up, consult, consult.version)
        self.queues.setdefault(consult_skill, deque()).append(consult)
        self._dispatch(consult_skill)

    def _idle_colleague(self, agent: SimAgent, skill: int) -> SimAgent | None:
        """The longest-idle colleague with the skill (the simulator leaves interactive agents to their clients)."""
        idle = [a for a in self.agents.values() if a.state == "idle" and a is not agent and a.vdn == agent.vdn
                and skill in a.levels and not a.interactive]  # fmt: skip
        return min(idle, key=lambda a: (a.idle_since, a.agent_id)) if idle else None

    def _consult_answer(self, consult: SimCall, helper: SimAgent) -> None:
        if helper.call is not consult or consult.consult_of is None:
            return
        self._call_event("call.answer", consult, agentId=helper.agent_id)
        self._consult_talk(consult, helper)

    def _consult_talk(self, consult: SimCall, helper: SimAgent) -> None:
        """The consulted agent answered: a simulated consulting agent completes the consult after the talk; a
        workbench completes it when it says so."""
        assert consult.consult_of is not None
        consult.state, helper.state = "talking", "talking"
        consult.version += 1
        if consult.by is not None and consult.by.interactive:
            self.workbench.consult_answered(consult)
            return
        talk = self._behaviour(consult.consult_of.skill).consult_time.draw_ms(self.rng)
        self._at(self.now + max(1, talk), self._consult_end, consult)

    def _consult_end(self, consult: SimCall) -> None:
        """The agents have talked: the consult ends as an attended transfer, a conference, or cancelled."""
        original = consult.consult_of
        if original is None or consult.state != "talking":
            return
        outcomes = self._behaviour(original.skill).consult_outcomes
        weights = [outcomes.transfer, outcomes.conference, outcomes.cancel]
        if not any(weights):
            weights = [0, 0, 1]
        ending = self.rng.choices((self._consult_transfer, self._consult_conference, self._consult_cancel), weights)
        ending[0](consult)

    def _consult_give_up(self, consult: SimCall, version: int) -> None:
        """Nobody of the skill answered in time: the agent cancels the consult and takes the customer back."""
        if consult.version == version and consult.state == "queued":
            self._remove_from_queue(consult)
            self._consult_cancel(consult)

    def _finish_consult(self, consult: SimCall, event: str, emit: bool) -> tuple[SimCall, SimAgent]:
        """Emit the completion (unless a workbench did); the consult call ends with it (no release of its own)."""
        original, agent = consult.consult_of, consult.by
        assert original is not None and agent is not None
        if emit:
            self._call_event(event, consult, agentId=agent.agent_id)
        self._remove_from_queue(consult)
        self.in_progress.pop(consult.call_id, None)
        consult.state = "done"
        consult.version += 1
        original.consult = None
        return original, agent

    def _consult_transfer(self, consult: SimCall, emit: bool = True) -> None:
        """Attended transfer: the consulted agent takes the customer; the consulting agent wraps up."""
        original, agent = self._finish_consult(consult, "call.consult.transfer", emit)
        helper = consult.agent
        assert helper is not None
        self.stats.consult_transfers += 1
        self._wrap_up(agent, self._behaviour(original.skill))
        original.skill = consult.skill  # the engine's callSkill becomes a consulted skill's
        original.state, original.agent, original.transferred = "talking", helper, True
        helper.state, helper.call = "talking", original
        if helper.interactive:  # its workbench goes on with the customer, who hangs up after a drawn talk
            self.workbench.talking(original)
            return
        talk = self._behaviour(original.skill).handle_time.draw_ms(self.rng)
        self._at(self.now + max(1, talk), self._talk_end, original, helper)

    def _consult_conference(self, consult: SimCall, emit: bool = True) -> None:
        """The consulted agent joins the customer's call, retrieved: three parties until one leaves."""
        original, agent = self._finish_consult(consult, "call.consult.conference", emit)
        helper = consult.agent
        assert helper is not None
        self.stats.consult_conferences += 1
        original.state = "conference"
        original.members.append(helper)
        helper.state, helper.call = "talking", original
        talk = self._behaviour(original.skill).conference_time.draw_ms(self.rng)
        self._at(self.now + max(1, talk), self._conference_end, original, agent, helper, consult.skill)
        if agent.interactive:
            self.workbench.resume(original)  # the customer, retrieved, may hang up again

    def _conference_end(self, call: SimCall, agent: SimAgent, helper: SimAgent, helper_skill: int) -> None:
        """The helper leaves (`call.leave`) and the call goes on two-party, or the call ends for everyone. Only
        simulated agents leave: next to an interactive helper the consulting agent leaves; next to an interactive
        consulting agent the customer ends the call."""
        if call.state != "conference" or helper.call is not call or agent.call is not call:
            return
        behaviour = self._behaviour(call.skill)
        if helper.interactive and agent.interactive:
            return  # two workbenches: they end it, or the customer hangs up
        if helper.interactive:
            self._call_event("call.leave", call, party={"agentId": agent.agent_id})
            call.members.remove(helper)
            call.agent, call.state = helper, "talking"
            self._wrap_up(agent, behaviour)
            self.workbench.talking(call)
        elif self.rng.random() < behaviour.helper_leaves:
            self._call_event("call.leave", call, party={"agentId": helper.agent_id})
            call.members.remove(helper)
            self._wrap_up(helper, self._behaviour(helper_skill))
            call.state = "talking"
            if not agent.interactive:  # else the customer's hang-up already runs
                self._at(self.now + max(1, behaviour.consult_time.draw_ms(self.rng)), self._talk_end, call, agent)
        elif agent.interactive:
            self.workbench.customer_hangs_up(call)
        else:
            self._talk_end(call, agent)  # released: _release wraps the helper up too

    def _consult_cancel(self, consult: SimCall, emit: bool = True) -> None:
        """The agent cancels (after talking, or tired of waiting) and retrieves the customer; the talk goes on."""
        original, agent = self._finish_consult(consult, "call.consult.cancel", emit)
        self.stats.consult_cancels += 1
        helper = consult.agent
        if helper is not None and helper.call is consult:  # it talked: wrap-up, as the engine sets it
            self._wrap_up(helper, self._behaviour(consult.skill))
        original.state = "talking"
        if agent.interactive:  # the workbench goes on; the customer may hang up again
            self.workbench.resume(original)
            return
        rest = self._behaviour(original.skill).consult_time.draw_ms(self.rng)
        self._at(self.now + max(1, rest), self._talk_end, original, agent)

    def _release(self, call: SimCall, by: str, **fields: Any) -> None:
        call.state = "done"
        call.version += 1
        self._call_event("call.release", call, by=by, **fields)
        for member in call.members:  # adopted conference members leave with the call
            if member.call is call:
                self._wrap_up(member, self._behaviour(call.skill))

    def _wrap_up(self, agent: SimAgent, behaviour: SkillBehaviour) -> None:
        if agent.interactive:  # its workbench ends the wrap-up
            self.workbench.left(agent)
            return
        agent.state, agent.call = "wrapup", None
        self._at(self.now + behaviour.wrap_up.draw_ms(self.rng), self._wrap_up_end, agent)

    def _wrap_up_end(self, agent: SimAgent) -> None:
        if agent.state != "wrapup":
            return
        if not agent.on_shift and not agent.interactive:
            self._sign_out(agent)
            return
        self._emit("agent.state", agent.vdn, agentId=agent.agent_id, state="idle")
        self._idle(agent)

    def _behaviour(self, skill: int) -> SkillBehaviour:
        behaviour = self.behaviour.get(skill)
        if behaviour is None:
            behaviour = self.behaviour[skill] = SkillBehaviour(skill)
        return behaviour

    # --- preview campaigns ---

    def _schedule_campaign(self, index: int, after: int) -> None:
        """The next dial: a Poisson process that runs only within the campaign's hours."""
        campaign = self.scenario.campaigns[index]
        if campaign.calls_per_hour <= 0:
            return
        t = after
        for _ in range(14):  # at most two weeks of closed days before giving up
            opening = _campaign_opening(campaign, t)
            if opening is None:
                return
            opens, closes = opening
            at = max(t, opens) + int(self.rng.expovariate(campaign.calls_per_hour / HOUR_MS)) + 1
            if at < closes:
                self._at(at, self._dial, index)
                return
            t = closes  # memoryless: start again at the next opening

    def _dial(self, index: int) -> None:
        campaign = self.scenario.campaigns[index]
        self._schedule_campaign(index, self.now)
        if not self.arrivals_open:
            return
        idle = [a for a in self.agents.values() if a.state == "idle" and campaign.skill in a.levels
                and a.vdn == campaign.vdn and not a.interactive]  # fmt: skip
        if not idle:
            return
        agent = min(idle, key=lambda a: (a.idle_since, a.agent_id))
        self._numbers += 1
        call = SimCall(f"{self.now // 1000}-{self._numbers}", campaign.vdn, self.now, agent=agent, state="dialing")
        self.in_progress[call.call_id] = call
        agent.state, agent.call = "talking", call
        self.stats.outbound += 1
        called = f"1{self.rng.randrange(3_000_000_000, 9_999_999_999)}"
        self._call_event("call.originate", call, agentId=agent.agent_id, caller=campaign.caller, called=called,
                         campaign="preview")  # fmt: skip
        ring = self.rng.randrange(int(DIAL_RING.low * 1000), int(DIAL_RING.high * 1000))
        behaviour = self._behaviour(campaign.skill)
        if self.rng.random() < campaign.answer_rate:
            self._later(self.now + ring, "call.answer", call, {"party": "customer"})
            end = self.now + ring + campaign.talk_time.draw_ms(self.rng)
            self._at(end, self._outbound_end, call, agent, "agent", behaviour)
        else:
            self._at(self.now + ring, self._outbound_end, call, agent, "system", behaviour)

    def _outbound_end(self, call: SimCall, agent: SimAgent, by: str, behaviour: SkillBehaviour) -> None:
        if by == "system":
            self._call_event("call.release", call, by="system", cause=8, leaveReason=26)
        else:
            self._call_event("call.release", call, by="agent")
        self._wrap_up(agent, behaviour)

    # --- adoption: a simulation started on a store that already holds live state (docs/simulator.md) ---

    def _adopt(self, view: EngineView) -> None:
        """Take over the engine's calls and agents; everything they do next is scheduled from now."""
        self._numbers = max(self._numbers, view.last_number)  # new call IDs never collide with logged ones
        for agent_view in view.agents.values():
            agent = self.agents.get(agent_view.agent_id)
            if agent is not None:
                agent.state = "idle"  # signed in; what it does is settled once its calls are adopted
        internal = [c for c in view.calls if c.stage == "internal" or c.stage.startswith("consult-")]
        for call_view in view.calls:
            if call_view not in internal:
                self._adopt_call(call_view)
        for call_view in internal:  # consults once their originals are adopted
            self._adopt_consult(call_view)
        for queue in self.queues.values():  # each queue in the order its calls entered it
            ordered = sorted(queue, key=lambda c: c.first_queued)
            queue.clear()
            queue.extend(ordered)
        for agent_view in view.agents.values():
            agent = self.agents.get(agent_view.agent_id)
            if agent is not None:
                self._adopt_agent(agent, agent_view)
                self.adoption.agents += 1
        self._at(self.now, self._resume)

    def _adopt_call(self, view: CallView) -> None:
        call = SimCall(view.call_id, view.vdn, view.arrived, view.media_type, skill=view.skill,
                       first_queued=view.first_wait, answered=view.answered, transferred=view.transferred,
                       from_private=view.from_private)  # fmt: skip
        self.in_progress[call.call_id] = call
        self.adoption.calls += 1
        patience = self._behaviour(view.skill).patience
        if patience is not None and view.first_wait:
            call.patience_at = self._adopted_patience(view, patience)
        stage = view.stage
        if stage in ("routing", "ivr"):
            self._adopt_routing(call, view)
        elif stage in ("queued", "private"):
            self._adopt_waiting(call, view)
        elif stage == "outside":
            left = self._behaviour(view.skill).handle_time.residual_ms(self.now - view.since, self.rng)
            self._at(self.now + left, self._release, call, "customer")
        elif (agent := self._tie(call, view)) is None:
            self._end_stray(call, view)
        elif stage in ("dialing", "outbound"):
            self._adopt_outbound(call, agent, view)
        else:
            self._adopt_at_agent(call, agent, view)

    def _adopted_patience(self, view: CallView, patience: Dist) -> int:
        """When the caller gives up: a waiting caller has not yet, so its patience is drawn beyond its wait."""
        if view.stage in ("queued", "private") and view.answered:  # waiting after a transfer: patience anew
            left = patience.residual_ms(self.now - view.since, self.rng)
            return max(self.now + left, view.since + TRANSFER_GRACE_MS)
        if view.stage in ("queued", "private"):
            return self.now + patience.residual_ms(self.now - view.first_wait, self.rng)
        return view.first_wait + patience.draw_ms(self.rng)  # as if drawn at its first queue entry

    def _adopt_routing(self, call: SimCall, view: CallView) -> None:
        """A call not yet at a queue goes on as at its access code: from the IVR (what is left of it) or at once."""
        code = next((c for c in self.scenario.access_codes if c.called == view.called and c.vdn == view.vdn), None)
        if code is None:  # not one of the scenario's numbers: nothing would route it
            self._at(self.now, self._release, call, "system")
        elif view.stage == "ivr":
            call.state = "ivr"
            self._at(self.now + code.ivr_time.residual_ms(self.now - view.since, self.rng), self._ivr_end, call, code)
        else:
            self._at(self.now, self._route, call, code)

    def _adopt_waiting(self, call: SimCall, view: CallView) -> None:
        if view.stage == "private":
            target = self.agents.get(view.agent_id)
            if target is None or target.state == "off":  # nobody will ever take it: the caller gives up
                self._at(self.now, self._release, call, "customer")
                return
            call.state, call.agent = "private", target
            target.private.append(call)
        else:
            call.state = "queued"
            self.queues.setdefault(view.skill, deque()).append(call)
            behaviour = self._behaviour(view.skill)
            if behaviour.queue_timeout_s and behaviour.overflow_skill:
                timeout_at = view.since + int(behaviour.queue_timeout_s * 1000)
                self._at(max(self.now, timeout_at), self._queue_timeout, call, call.version)
        if call.patience_at:
            self._at(max(self.now, call.patience_at), self._abandon, call, call.version)

    def _tie(self, call: SimCall, view: CallView) -> SimAgent | None:
        """The scenario's agent a call is at, unless it is unknown or already holds another call."""
        agent = self.agents.get(view.agent_id)
        if agent is None or agent.state == "off" or agent.call is not None:
            return None
        call.agent, agent.call = agent, call
        for member_id in view.members:
            member = self.agents.get(member_id)
            if member is not None and member.state != "off" and member.call is None:
                member.state, member.call = "talking", call
                call.members.append(member)
        return agent

    def _end_stray(self, call: SimCall, view: CallView) -> None:
        """A call the simulation cannot give its agent ends: a connected one after its talk, others at once."""
        self.adoption.strays.append(call.call_id)
        left = 0
        if view.stage in ("talking", "outbound"):
            left = self._behaviour(view.skill).handle_time.residual_ms(view.talked_ms, self.rng)
        self._at(self.now + left, self._release, call, "customer")

    def _adopt_at_agent(self, call: SimCall, agent: SimAgent, view: CallView) -> None:
        """A call ringing, talking or held at one of the scenario's agents goes on as the scenario says."""
        behaviour = self._behaviour(view.skill)
        elapsed = self.now - view.since
        if view.stage == "ringing":
            call.state, agent.state = "ringing", "ringing"
            call.skill = view.requeue_skill or view.skill
            if agent.interactive:  # it rings on until the workbench answers, or its no-answer timeout
                self.workbench.ringing(call, agent, since=view.since)
            elif (view.requeue_skill or view.from_private) and self.rng.random() < self.scenario.no_answer_rate:
                timeout_at = view.since + int(self.scenario.no_answer_timeout_s * 1000)
                self._at(max(self.now, timeout_at), self._no_answer, call, agent)
            else:
                self._at(self.now + self.scenario.ring_time.residual_ms(elapsed, self.rng), self._answer, call, agent)
            return
        call.state, agent.state = ("conference" if view.conference else "talking"), "talking"
        if view.consult:  # held for a consult: the consult's adoption decides what happens next
            call.state, call.consulted = "consulting", True
            return
        if agent.interactive:  # the customer talks (or waits on hold) on; its workbench does the rest
            self.workbench.adopt_talk(call, view)
            return
        end = self.now
        if view.stage == "held":
            end += behaviour.hold_time.residual_ms(elapsed, self.rng)
            self._later(end, "call.unhold", call, {"agentId": agent.agent_id})
            end += 1  # the retrieval comes first
        end += behaviour.handle_time.residual_ms(view.talked_ms, self.rng)
        self._at(end, self._talk_end, call, agent)

    def _adopt_consult(self, view: CallView) -> None:
        """A consult goes on from where it is: queued, ringing or talking; one that cannot is cancelled at once."""
        consult = SimCall(view.call_id, view.vdn, view.arrived, skill=view.skill, state="queued",
                          first_queued=view.since)  # fmt: skip
        self.in_progress[consult.call_id] = consult
        self.adoption.calls += 1
        original = self.in_progress.get(view.consult_of) if view.consult_of else None
        agent = self.agents.get(view.consult_by)
        if agent is not None and agent.interactive and (original is None or view.stage == "consult-other"):
            self.workbench.adopt_consult(consult, agent, original, view)  # what its workbench started goes on
            return
        if original is None or agent is None or original.agent is not agent or original.state != "consulting":
            # An internal call, or a consult whose original ended or went astray: nobody completes it.
            self.adoption.strays.append(consult.call_id)
            self._at(self.now, self._release, consult, "system")
            return
        consult.consult_of, consult.by, original.consult = original, agent, consult
        consult.skill = view.skill or original.skill
        behaviour = self._behaviour(original.skill)
        elapsed = self.now - view.since
        if view.stage == "consult-queued":
            self.queues.setdefault(view.skill, deque()).append(consult)
            if agent.interactive:  # its workbench gives up, or not
                return
            give_up = self.now + behaviour.consult_patience.residual_ms(elapsed, self.rng)
            self._at(give_up, self._consult_give_up, consult, consult.version)
            return
        helper = self.agents.get(view.agent_id)
        if view.stage not in ("consult-ringing", "consult-talking") or helper is None or helper.state == "off" \
                or helper.call is not None:  # fmt: skip
            if agent.interactive:  # nobody the simulation has answers it: its workbench cancels it
                consult.state = "unanswered"
                return
            self._at(self.now, self._consult_cancel, consult)  # the rule: cancel it, the customer is retrieved
            return
        consult.agent, helper.call = helper, consult
        if view.stage == "consult-ringing" and helper.interactive:
            consult.state, helper.state = "ringing", "ringing"
            self.workbench.ringing(consult, helper, since=view.since)
        elif view.stage == "consult-ringing":
            consult.state, helper.state = "ringing", "ringing"
            self._at(self.now + self.scenario.ring_time.residual_ms(elapsed, self.rng), self._consult_answer,
                     consult, helper)  # fmt: skip
        elif agent.interactive:
            consult.state, helper.state = "talking", "talking"
            self.workbench.consult_answered(consult)
        else:
            consult.state, helper.state = "talking", "talking"
            left = behaviour.consult_time.residual_ms(elapsed, self.rng)
            self._at(self.now + max(1, left), self._consult_end, consult)

    def _adopt_outbound(self, call: SimCall, agent: SimAgent, view: CallView) -> None:
        """A campaign's call: the customer's phone rings on (and may be answered), or the talk goes on."""
        campaign = next((c for c in self.scenario.campaigns if c.vdn == view.vdn and c.skill in agent.levels),
                        Campaign(view.vdn, 0, 0))  # fmt: skip
        behaviour = self._behaviour(campaign.skill)
        agent.state = "talking"
        if agent.interactive:  # its workbench's call out: the customer answers, refuses or talks on
            self.workbench.adopt_call_out(call, agent, view)
            return
        if view.stage == "outbound":
            call.state = "talking"
            left = campaign.talk_time.residual_ms(view.talked_ms, self.rng)
            self._at(self.now + left, self._outbound_end, call, agent, "agent", behaviour)
            return
        call.state = "dialing"
        ring_end = self.now + DIAL_RING.residual_ms(self.now - view.since, self.rng)
        if self.rng.random() < campaign.answer_rate:
            self._later(ring_end, "call.answer", call, {"party": "customer"})
            end = ring_end + max(1, campaign.talk_time.draw_ms(self.rng))
            self._at(end, self._outbound_end, call, agent, "agent", behaviour)
        else:
            self._at(ring_end, self._outbound_end, call, agent, "system", behaviour)

    def _adopt_agent(self, agent: SimAgent, view: AgentView) -> None:
        """An agent without a call resumes its own state; one off its shift signs out once free."""
        if agent.call is None:
            self._resume_mode(agent, view)
        if agent.interactive:
            self.workbench.adopt_mode(agent, view.mode)  # what it comes back to after a call that never connects
            return  # its client signs it in and out
        if not self._has_shift(agent.agent_id):
            agent.on_shift = True  # around the clock
            return
        shift = self._shift_at(agent.agent_id, self.now)
        if shift is not None:
            agent.on_shift = True
            self._plan_shift(agent, shift[1], shift[0])
        elif agent.call is None and agent.state in ("idle", "rest", "busy"):
            self._at(self.now, self._shift_end, agent.agent_id)  # after a wrap-up, _wrap_up_end signs it out

    def _resume_mode(self, agent: SimAgent, view: AgentView) -> None:
        mode = view.mode
        agent.state = mode
        if mode == "idle":
            agent.idle_since = view.since  # the longest-idle order carries on
        elif agent.interactive:
            return  # its own state, until its workbench changes it
        elif mode == "wrapup":
            left = self._behaviour(view.last_skill).wrap_up.residual_ms(self.now - view.since, self.rng)
            self._at(self.now + left, self._wrap_up_end, agent)
        elif mode == "rest":
            self._at(max(self.now, view.since + self._break_ms(agent.agent_id, view.since)), self._back_from_pause,
                     agent.agent_id)  # fmt: skip
        else:
            self._at(max(self.now, view.since + NO_ANSWER_BUSY_MS), self._back_from_pause, agent.agent_id)

    def _break_ms(self, agent_id: int, since: int) -> int:
        """How long a break taken at `since` lasts: the latest break of the agent's shift due by then (0: none)."""
        found = self._shift_at(agent_id, since)
        if found is None:
            return 0
        shift = found[0]
        midnight = since - since % DAY_MS
        index = agent_id - shift.first
        due = [p for p in shift.breaks if midnight + p.due_ms(index, shift.count) <= since]
        return int(max(due, key=lambda p: p.due_ms(index, shift.count)).minutes * 60_000) if due else 0

    def _has_shift(self, agent_id: int) -> bool:
        return any(s.first <= agent_id < s.first + s.count for s in self.scenario.shifts)

    def _shift_at(self, agent_id: int, at: int) -> tuple[Shift, int] | None:
        """The agent's shift under way at `at`, and when it ends."""
        midnight = at - at % DAY_MS
        weekday = datetime.fromtimestamp(midnight / 1000, tz=UTC).weekday()
        for shift in self.scenario.shifts:
            if shift.first <= agent_id < shift.first + shift.count and weekday in shift.weekdays:
                start, end = midnight + int(shift.start_hour * HOUR_MS), midnight + int(shift.end_hour * HOUR_MS)
                if start <= at < end:
                    return shift, end
        return None

    def _resume(self) -> None:
        """Adopted waiting calls meet adopted idle agents, as the ACD would at once: private queues first."""
        idle = sorted((a for a in self.agents.values() if a.state == "idle" and a.private),
                      key=lambda a: (a.idle_since, a.agent_id))  # fmt: skip
        for agent in idle:
            self._offer(agent.private.popleft(), agent)
        for skill in list(self.queues):
            self._dispatch(skill)


def _campaign_opening(campaign: Campaign, at: int) -> tuple[int, int] | None:
    """The campaign's dialling hours under way at `at` or next after it (within a week): (opens, closes)."""
    midnight = at - at % DAY_MS
    for day in range(8):
        day_start = midnight + day * DAY_MS
        weekday = datetime.fromtimestamp(day_start / 1000, tz=UTC).weekday()
        opens, closes = day_start + int(campaign.start_hour * HOUR_MS), day_start + int(campaign.end_hour * HOUR_MS)
        if weekday in campaign.weekdays and at < closes and opens < closes:
            return opens, closes
    return None
