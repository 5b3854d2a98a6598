"""Real-time monitoring (the CC-CMS wallboard interfaces): incremental counters and live figures.

Pure and deterministic: no I/O, no clock of its own. Counters are fed one call result at a time (the records the
engine writes when a call that reached the agent service is released), so a wallboard polling every few seconds
never scans the day's records. Live figures (calls waiting, longest wait, agents by state) are read from the
engine's state at the moment asked.

Definitions (docs/compatibility.md, "CC-CMS real-time monitoring"):
- a call is *offered* to the skill of its first skill queue (`skill_id` of its call result, 0 for a call that only
  waited for one agent) at the moment it is released (its `log_date`);
- *answered* when an agent talked to it (`call_begin` set), *abandoned* otherwise;
- its *wait* runs from entering the first queue to the answer (answered) or the release (abandoned);
- answered *within N s* when that wait is at most N s; lost within N s likewise;
- 5-minute intervals start on UTC multiples of 5 minutes (:00, :05, ...), days at 00:00 UTC.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import NamedTuple

from ccdata.domain.codes import CtiAgentState, DeviceType
from ccdata.domain.engine import Engine
from ccdata.domain.model import Agent, Call, Phase
from ccdata.domain.records import CallResult

INTERVAL_MS = 5 * 60 * 1000
DAY_MS = 86_400_000
SERVICE_LEVELS_S = (15, 20)
KEEP_DAYS = 2  # a call center's counters older than this (behind its latest call result) are dropped
NO_CALL = "4294967295-4294967295"  # the reference's "no call" call ID

ALL = -1  # the skill (or VDN) of an aggregate key: every skill of the VDN, every VDN of the call center


class Key(NamedTuple):
    cc_id: int
    vdn: int  # ALL for the call center
    skill_id: int  # ALL for the VDN


@dataclass(slots=True)
class Counters:
    """What happened to the calls released in one period, for one key."""

    offered: int = 0
    answered: int = 0
    abandoned: int = 0
    wait_ms: int = 0  # over every offered call
    answered_wait_ms: int = 0
    max_wait_ms: int = 0
    talk_ms: int = 0
    answered_within: dict[int, int] = field(default_factory=dict)  # SL seconds -> calls
    lost_within: dict[int, int] = field(default_factory=dict)

    def add(self, result: CallResult) -> None:
        wait = wait_ms(result)
        self.offered += 1
        self.wait_ms += wait
        self.max_wait_ms = max(self.max_wait_ms, wait)
        within = self.answered_within if answered(result) else self.lost_within
        if answered(result):
            self.answered += 1
            self.answered_wait_ms += wait
            self.talk_ms += max(0, result.call_end - result.call_begin)
        else:
            self.abandoned += 1
        for seconds in SERVICE_LEVELS_S:
            if wait <= seconds * 1000:
                within[seconds] = within.get(seconds, 0) + 1

    def within(self, seconds: int) -> int:
        return self.answered_within.get(seconds, 0)

    def lost(self, seconds: int) -> int:
        return self.lost_within.get(seconds, 0)

    @property
    def average_wait_ms(self) -> int:
        return self.wait_ms // self.offered if self.offered else 0

    @property
    def average_talk_ms(self) -> int:
        return self.talk_ms // self.answered if self.answered else 0

    @property
    def average_speed_of_answer_ms(self) -> int:
        """The average wait of the answered calls."""
        return self.answered_wait_ms // self.answered if self.answered else 0

    def service_level(self, seconds: int) -> float | None:
        """The share of offered calls answered within `seconds` (abandoned ones count against it); None: none."""
        return self.within(seconds) / self.offered if self.offered else None


def answered(result: CallResult) -> bool:
    return result.call_begin > 0


def wait_ms(result: CallResult) -> int:
    if not result.wait_begin:
        return 0
    end = result.call_begin if answered(result) else result.call_end
    return max(0, end - result.wait_begin)


def interval_of(ms: int) -> int:
    """The start of the 5-minute interval (UTC :00, :05, ...) that holds `ms`."""
    return ms - ms % INTERVAL_MS


def day_of(ms: int) -> int:
    """The start (00:00 UTC) of the day that holds `ms`."""
    return ms - ms % DAY_MS


def keys_of(result: CallResult) -> tuple[Key, Key, Key]:
    return (
        Key(result.cc_id, result.vdn, result.skill_id),
        Key(result.cc_id, result.vdn, ALL),
        Key(result.cc_id, ALL, ALL),
    )


class Monitor:
    """Counters per call center / VDN / skill, per 5-minute interval and per day, fed by call results."""

    def __init__(self) -> None:
        self.intervals: dict[tuple[Key, int], Counters] = {}
        self.days: dict[tuple[Key, int], Counters] = {}
        # (ccId, agentId, queue skill) -> calls the agent answered today from that queue (for overload figures)
        self.answered_by: dict[tuple[int, int, int, int], int] = {}
        self.latest: dict[int, int] = {}  # per call center: each forgets its old days on its own clock
        self.fed = 0

    def feed(self, results: Iterable[CallResult]) -> None:
        for result in results:
            self.add(result)

    def add(self, result: CallResult) -> None:
        at = result.log_date
        interval, day = interval_of(at), day_of(at)
        for key in keys_of(result):
            self.intervals.setdefault((key, interval), Counters()).add(result)
            self.days.setdefault((key, day), Counters()).add(result)
        if answered(result) and result.agent_id:
            slot = (result.cc_id, result.agent_id, result.skill_id, day)
            self.answered_by[slot] = self.answered_by.get(slot, 0) + 1
        self.fed += 1
        latest = self.latest.get(result.cc_id, 0)
        if day > day_of(latest):
            self._forget_before(result.cc_id, day - (KEEP_DAYS - 1) * DAY_MS)
        self.latest[result.cc_id] = max(latest, at)

    def _forget_before(self, cc_id: int, start: int) -> None:
        self.intervals = {k: v for k, v in self.intervals.items() if k[0].cc_id != cc_id or k[1] >= start}
        self.days = {k: v for k, v in self.days.items() if k[0].cc_id != cc_id or k[1] >= start}
        self.answered_by = {k: v for k, v in self.answered_by.items() if k[0] != cc_id or k[3] >= start}

    def interval(self, key: Key, at: int) -> Counters:
        """The counters of the 5-minute interval holding `at` (empty counters if nothing was released then)."""
        return self.intervals.get((key, interval_of(at)), Counters())

    def day(self, key: Key, at: int) -> Counters:
        return self.days.get((key, day_of(at)), Counters())

    def intervals_of_day(self, key: Key, at: int) -> list[tuple[int, Counters]]:
        """The 5-minute intervals of the day holding `at` in which calls were released, in time order."""
        start = day_of(at)
        found = [(i, c) for (k, i), c in self.intervals.items() if k == key and start <= i < start + DAY_MS]
        return sorted(found, key=lambda pair: pair[0])

    def answered_from_other_queues(self, cc_id: int, agents: Iterable[int], skill_id: int, at: int) -> dict[int, int]:
        """Calls the given agents answered today from queues other than `skill_id`: queue -> calls."""
        wanted, day = set(agents), day_of(at)
        found: dict[int, int] = {}
        for (cc, agent, queue, slot_day), count in self.answered_by.items():
            if cc == cc_id and slot_day == day and agent in wanted and queue != skill_id:
                found[queue] = found.get(queue, 0) + count
        return dict(sorted(found.items()))


# --- live figures from the engine's state ---


class Waiting(NamedTuple):
    call_id: str
    skill_id: int
    since: int
    priority: int
    call_feature: int


def waiting_calls(engine: Engine, cc_id: int, vdn: int) -> list[Waiting]:
    """Calls waiting in a skill queue of a VDN, longest waiting first."""
    found = [
        Waiting(call.call_id, leg.queue_skill, leg.wait_begin, call.priority, call.call_feature)
        for call in _calls_of(engine, cc_id, vdn)
        if call.phase == Phase.QUEUED and (leg := call.waiting_leg()).device_type == DeviceType.SKILL_QUEUE
    ]
    return sorted(found, key=lambda w: (w.since, w.call_id))


_AT_AGENT = (Phase.ALERTING, Phase.TALKING, Phase.HELD)


def handled_by_skill(engine: Engine, cc_id: int, vdn: int) -> Counter[int]:
    """Calls at an agent (ringing, talking or held), per skill, in one pass over the calls."""
    return Counter(c.skill_id for c in _calls_of(engine, cc_id, vdn) if c.phase in _AT_AGENT)


def handled_calls(engine: Engine, cc_id: int, vdn: int, skill_id: int) -> int:
    """Calls of a skill at an agent (ringing, talking or held)."""
    return handled_by_skill(engine, cc_id, vdn)[skill_id]


def calls_in_progress(engine: Engine, cc_id: int, vdn: int) -> int:
    return sum(1 for c in _calls_of(engine, cc_id, vdn) if not c.internal)


def _calls_of(engine: Engine, cc_id: int, vdn: int) -> Iterator[Call]:
    for (cc, _), call in engine.calls.items():
        if cc == cc_id and call.vdn == vdn:
            yield call


def agents_of(engine: Engine, cc_id: int, vdn: int, skill_id: int | None = None) -> list[Agent]:
    """Agents of a VDN (signed in or known), those signed in with `skill_id` when given; by agent ID."""
    found = [
        agent
        for (cc, _), agent in engine.agents.items()
        if cc == cc_id and agent.vdn == vdn and (skill_id is None or (agent.signed_in and skill_id in agent.skills))
    ]
    return sorted(found, key=lambda a: a.agent_id)


def agents_by_state(engine: Engine, agents: Iterable[Agent]) -> dict[CtiAgentState, int]:
    counts = dict.fromkeys(CtiAgentState, 0)
    for agent in agents:
        counts[engine.agent_state(agent)] += 1
    return counts


class Census(NamedTuple):
    """Live state counted per (call center, VDN): calls in progress (customer calls, as `calls_in_progress`),
    and agents known to the engine by CTI state (every state present, zeros included)."""

    calls: dict[tuple[int, int], int]
    agents: dict[tuple[int, int], dict[CtiAgentState, int]]


def census(engine: Engine) -> Census:
    """Every call and agent of the engine counted (`count_calls`, `count_agents` count part of them)."""
    found = Census({}, {})
    count_calls(found, engine.calls.values())
    count_agents(found, engine, engine.agents.values())
    return found


def count_calls(found: Census, calls: Iterable[Call]) -> None:
    counts = found.calls
    for call in calls:
        if not call.internal:
            counts[(call.cc_id, call.vdn)] = counts.get((call.cc_id, call.vdn), 0) + 1


def count_agents(found: Census, engine: Engine, agents: Iterable[Agent]) -> None:
    for agent in agents:
        counts = found.agents.get((agent.cc_id, agent.vdn))
        if counts is None:
            counts = found.agents[(agent.cc_id, agent.vdn)] = dict.fromkeys(CtiAgentState, 0)
        counts[engine.agent_state(agent)] += 1


def state_since(engine: Engine, agent: Agent) -> int:
    """When the agent entered its current CTI state: the ring or the answer of its call, else its own mode."""
    state = engine.agent_state(agent)
    if state in (CtiAgentState.ANSWERING, CtiAgentState.TALKING):
        for call_id in agent.calls:
            leg = engine.calls[(agent.cc_id, call_id)].agent_leg(agent.agent_id)
            if leg is not None:
                _, ack, talk = leg.handling_times()
                return talk if state == CtiAgentState.TALKING and talk else ack or leg.wait_begin
    return agent.mode_since
