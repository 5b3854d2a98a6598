"""Synthetic traffic: a valid stream of contract events of any length, fast, for demos and load tests.

This is not the contact-center simulator (an ACD model with scenarios and clocks). It lays calls on agents'
timelines greedily, in arrival order, so that no agent ever has two calls at once and every event is one the
engine accepts: IVR self-service, abandonment in IVR and queue, no-answer and re-queue, hold, transfers to a
skill and to an outside number, releases by customer and agent, late evaluations.
"""

from __future__ import annotations

import heapq
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

Event = dict[str, Any]

DEFAULT_START = 1_767_225_600_000  # 2026-01-01T00:00:00Z


@dataclass
class _Timeline:
    """Events waiting to be emitted in time order, and the agents' next free times."""

    pending: list[tuple[int, int, Event]] = field(default_factory=list)
    free: list[tuple[int, int]] = field(default_factory=list)
    seq: int = 0

    def push(self, event: Event) -> None:
        self.seq += 1
        heapq.heappush(self.pending, (event["at"], self.seq, event))


class _CallWriter:
    """Writes the events of one call with strictly increasing times."""

    def __init__(self, timeline: _Timeline, cc_id: int, vdn: int, call_id: str, at: int) -> None:
        self.timeline, self.cc_id, self.vdn, self.call_id, self.at = timeline, cc_id, vdn, call_id, at
        self.n = 0

    def emit(self, type_: str, at: int, **fields: Any) -> int:
        self.at = max(at, self.at + 1)
        self.n += 1
        event = {"type": type_, "id": f"{self.call_id}/{self.n}", "at": self.at, "ccId": self.cc_id}
        event["vdn"] = self.vdn
        event["callId"] = self.call_id
        event.update(fields)
        self.timeline.push(event)
        return self.at


def synthetic_events(
    count: int,
    *,
    seed: int = 1,
    cc_id: int = 1,
    vdn: int = 1,
    agents: int = 60,
    skills: tuple[int, ...] = (1, 2, 3),
    start: int = DEFAULT_START,
) -> Iterator[Event]:
    """Yield exactly `count` events (agent sign-ins first); calls still running at the end stay in progress."""
    rng = random.Random(seed)
    timeline = _Timeline()
    agent_ids = list(range(1001, 1001 + agents))
    emitted = 0
    for agent_id in agent_ids:
        if emitted == count:
            return
        yield {"type": "agent.login", "id": f"login/{agent_id}", "at": start, "ccId": cc_id, "vdn": vdn,
               "agentId": agent_id, "skills": list(skills), "phone": f"6{agent_id}"}  # fmt: skip
        emitted += 1
        timeline.free.append((start + 1, agent_id))
    heapq.heapify(timeline.free)
    # About 85 % occupancy: each answered call holds an agent for ~3.5 minutes with wrap-up.
    mean_gap_ms = 210_000 / (agents * 0.85)
    now, number = start + 1000, 0
    while emitted < count:
        now += max(1, int(rng.expovariate(1 / mean_gap_ms)))
        number += 1
        _write_call(timeline, rng, cc_id, vdn, f"{now // 1000}-{number}", now, skills)
        while timeline.pending and timeline.pending[0][0] <= now and emitted < count:
            yield heapq.heappop(timeline.pending)[2]
            emitted += 1


def _write_call(
    timeline: _Timeline, rng: random.Random, cc_id: int, vdn: int, call_id: str, at: int, skills: tuple[int, ...]
) -> None:
    call = _CallWriter(timeline, cc_id, vdn, call_id, at - 1)
    caller = f"1{rng.randrange(10**9, 10**10)}"
    media = rng.choices((5, 19, 53), weights=(85, 5, 10))[0]
    call.emit("call.arrive", at, caller=caller, called="650550", mediaType=media,
              subMediaType=1 if media == 53 else -1, trunkNo=rng.randrange(1, 600))  # fmt: skip
    ivr_end = call.emit("call.ivr", at + 300, flowId=str(100 + rng.randrange(3))) + rng.randrange(5_000, 40_000)
    path = rng.random()
    if path < 0.10:  # self-service in the IVR
        call.emit("call.release", ivr_end + rng.randrange(20_000, 90_000), by="system")
        return
    if path < 0.14:
        call.emit("call.release", ivr_end, by="customer")
        return
    queued = call.emit("call.queue", ivr_end, skillId=rng.choice(skills))
    _to_agent(timeline, rng, call, queued, skills, patience=int(rng.expovariate(1 / 120_000)))


def _to_agent(
    timeline: _Timeline,
    rng: random.Random,
    call: _CallWriter,
    queued: int,
    skills: tuple[int, ...],
    patience: int,
    retry: bool = True,
) -> None:
    free_at, agent = heapq.heappop(timeline.free)
    ring = max(queued + 1, free_at)
    if ring - queued > patience:
        heapq.heappush(timeline.free, (free_at, agent))
        call.emit("call.release", queued + patience, by="customer")
        return
    call.emit("call.alert", ring, agentId=agent)
    if retry and rng.random() < 0.05:
        missed = call.emit("call.noanswer", ring + 15_000, agentId=agent)
        heapq.heappush(timeline.free, (missed + 1, agent))
        _to_agent(timeline, rng, call, missed, skills, patience=rng.randrange(30_000, 120_000), retry=False)
        return
    answer = call.emit("call.answer", ring + rng.randrange(1_000, 8_000), agentId=agent)
    talk = max(10_000, int(rng.expovariate(1 / 180_000)))
    if rng.random() < 0.15:
        held = call.emit("call.hold", answer + talk // 3, agentId=agent)
        call.emit("call.unhold", held + rng.randrange(10_000, 60_000), agentId=agent)
    end = max(call.at + 1, answer + talk)
    turn = rng.random()
    if turn < 0.05 and retry:
        end = call.emit("call.transfer", end, agentId=agent, target={"skillId": rng.choice(skills)})
        _wrap_up(timeline, rng, call, agent, end)
        _to_agent(timeline, rng, call, end, skills, patience=300_000, retry=False)
        return
    if turn < 0.08:
        end = call.emit("call.transfer", end, agentId=agent, target={"number": "13900001111"})
        _wrap_up(timeline, rng, call, agent, end)
        outside = call.emit("call.answer", end + 5_000, party="outside")
        call.emit("call.release", outside + rng.randrange(10_000, 120_000), by="customer")
        return
    by = "customer" if rng.random() < 0.7 else "agent"
    end = call.emit("call.release", end, by=by)
    _wrap_up(timeline, rng, call, agent, end)
    if rng.random() < 0.3:
        call.emit("call.evaluate", end + rng.randrange(10_000, 60_000), evaluationValue=str(rng.randint(1, 5)))


def _wrap_up(timeline: _Timeline, rng: random.Random, call: _CallWriter, agent: int, end: int) -> None:
    """The agent wraps up, then sets itself idle; it is free for the next call a millisecond later."""
    idle = end + rng.randrange(5_000, 30_000)
    event = {"type": "agent.state", "id": f"{call.call_id}/idle-{agent}", "at": idle, "ccId": call.cc_id,
             "vdn": call.vdn, "agentId": agent, "state": "idle"}  # fmt: skip
    timeline.push(event)
    heapq.heappush(timeline.free, (idle + 1, agent))
