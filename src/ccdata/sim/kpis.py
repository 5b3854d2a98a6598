"""What a workforce planner reads off a simulated history: service level, abandonment and occupancy per half hour.

Computed from what the engine stored, not from the simulator's own counters: each inbound call's call-track rows
(every leg it had) and, for the agents' time, the log's sign-in, sign-out and state events. Per call:

- it **queued** if it has a skill-queue or agent leg; its wait starts at the earliest `waitBegin` of those legs, and
  its half hour (of the UTC day) is that moment's;
- it is **answered** if an agent leg (not a conference member) connected; its wait ends at the first `callBegin`;
- it is **abandoned** if it queued, was never answered and its last row was left by the customer (15);
- an answered call that the customer left while it waited again after a transfer is counted once, as answered,
  and its time from the transfer to the hang-up is kept (`transfer_hangups_ms`).

A **consult call** (contract v2) is not a customer call: it has no `call.arrive` and its rows are of call type 51 or
52, so it never counts as an arrival, an answer or an abandon; a consult that ends as an attended transfer or a
conference leaves the customer's call one answered call. Its agent legs do count as the agents' occupied time.

Service level = answered within `answer_s` / (answered + abandoned); abandonment = abandoned / (answered +
abandoned). Occupancy = the agents' time on calls (from the ring to the call leaving them, with holds) and in
wrap-up (from a call leaving them to their next `idle` or sign-out) over their available time (signed in, not at
rest or busy), summed over the days.
"""

from __future__ import annotations

import bisect
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from ccdata.domain.records import LAST_ROW, TrackRow

SLOT_MS = 1_800_000
SLOTS = 48
DAY_MS = 86_400_000
SKILL_QUEUE, AGENT = 1, 2
USER_RELEASED, THREE_PARTY, NO_ANSWER, REJECTED, HELD = 15, 10, 5, 50, 18
THREE_PARTY_HELP = 8  # a consulted agent joined as a conference
SP_CALL_NORMAL = 0  # the track call type of an inbound (customer) call


@dataclass
class Slot:
    """One half hour of the day, over every day of the history."""

    answered: int = 0
    in_sl: int = 0
    abandoned: int = 0
    available_ms: int = 0
    occupied_ms: int = 0

    @property
    def service_level(self) -> float:
        offered = self.answered + self.abandoned
        return self.in_sl / offered if offered else 1.0

    @property
    def abandonment(self) -> float:
        offered = self.answered + self.abandoned
        return self.abandoned / offered if offered else 0.0

    @property
    def occupancy(self) -> float:
        return self.occupied_ms / self.available_ms if self.available_ms else 0.0


@dataclass
class Kpis:
    slots: list[Slot] = field(default_factory=lambda: [Slot() for _ in range(SLOTS)])
    days: float = 0.0
    transfer_hangups_ms: list[int] = field(default_factory=list)  # transfer to hang-up, per such call

    @property
    def total(self) -> Slot:
        whole = Slot()
        for slot in self.slots:
            whole.answered += slot.answered
            whole.in_sl += slot.in_sl
            whole.abandoned += slot.abandoned
            whole.available_ms += slot.available_ms
            whole.occupied_ms += slot.occupied_ms
        return whole


def slot_of(ms: int) -> int:
    return ms % DAY_MS // SLOT_MS


# --- calls ----------------------------------------------------------------------------------------------------


def add_call(kpis: Kpis, rows: list[TrackRow], answer_s: float) -> None:
    """Count one inbound call from its track rows (in the order they were written)."""
    if not rows or rows[0].call_type != SP_CALL_NORMAL:
        return  # a consult, internal or outbound call: not a customer's inbound call
    waits = [r for r in rows if r.device_type in (SKILL_QUEUE, AGENT) and r.wait_begin]
    if not waits:
        return  # ended in the IVR or routing: never offered to agents
    first_wait = min(r.wait_begin for r in waits)
    talks = [r.call_begin for r in rows if r.device_type == AGENT and r.call_begin
             and r.enter_reason not in (THREE_PARTY, THREE_PARTY_HELP)]  # fmt: skip
    slot = kpis.slots[slot_of(first_wait)]
    last = rows[-1]
    if talks:
        slot.answered += 1
        slot.in_sl += min(talks) - first_wait <= answer_s * 1000
        if last.leave_reason == USER_RELEASED and not last.call_begin and last.device_type in (SKILL_QUEUE, AGENT):
            # It hung up waiting again: after a transfer, which ended the last connected agent leg.
            transferred_at = max(r.call_end for r in rows if r.device_type == AGENT and r.call_begin)
            kpis.transfer_hangups_ms.append(last.call_end - transferred_at)
    elif last.leave_reason == USER_RELEASED:
        slot.abandoned += 1


# --- agents ---------------------------------------------------------------------------------------------------


@dataclass
class AgentLog:
    """One agent's sign-ins and states from the event log: when it was available, and when it was set idle."""

    spans: list[tuple[int, int, str]] = field(default_factory=list)  # (from, to, "available" | "away")
    idle_at: list[int] = field(default_factory=list)  # idle or sign-out moments: where wrap-up ends
    _open: tuple[int, str] | None = None

    def at(self, when: int, mode: str | None) -> None:
        """The agent is `mode` from `when` (None: signed out)."""
        if self._open is not None:
            self.spans.append((self._open[0], when, self._open[1]))
        self._open = (when, mode) if mode else None

    def close(self, end: int) -> None:
        self.at(end, None)


def agent_logs(events: Iterable[dict[str, Any]], end: int) -> dict[int, AgentLog]:
    """Each agent's available spans and idle moments, from its sign-in, sign-out and state events."""
    logs: dict[int, AgentLog] = defaultdict(AgentLog)
    for event in events:
        kind = event["type"]
        if kind == "agent.login":
            logs[event["agentId"]].at(event["at"], "available")
        elif kind == "agent.logout":
            log = logs[event["agentId"]]
            log.at(event["at"], None)
            log.idle_at.append(event["at"])
        elif kind == "agent.state":
            log = logs[event["agentId"]]
            log.at(event["at"], "available" if event["state"] == "idle" else "away")
            if event["state"] == "idle":
                log.idle_at.append(event["at"])
    for log in logs.values():
        log.close(end)
    return logs


def breaks_over_share(events: Iterable[dict[str, Any]], share: float) -> tuple[int, float]:
    """Breaks begun while more than `share` of the VDN's signed-in agents (at least one) were already resting
    or starting to, and the largest share of a VDN's signed-in agents at rest when a break began.

    Per VDN: in the default scenario all agents of a VDN have the same skills, so this is the per-skill cap.
    """
    signed: dict[int, set[int]] = defaultdict(set)
    resting: dict[int, set[int]] = defaultdict(set)
    over, most = 0, 0.0
    for event in events:
        kind, vdn, agent = event["type"], event["vdn"], event.get("agentId")
        if kind == "agent.login":
            signed[vdn].add(agent)
        elif kind == "agent.logout":
            signed[vdn].discard(agent)
            resting[vdn].discard(agent)
        elif kind == "agent.state" and event["state"] == "rest":
            resting[vdn].add(agent)
            over += len(resting[vdn]) > max(1, int(share * len(signed[vdn])))
            most = max(most, len(resting[vdn]) / len(signed[vdn]))
        elif kind == "agent.state":
            resting[vdn].discard(agent)
    return over, most


def occupied_spans(rows: Iterable[TrackRow], logs: dict[int, AgentLog]) -> list[tuple[int, int]]:
    """Agents' time on calls and in the wrap-up after them, from the agent legs of the track rows.

    Each agent's spans are merged: a consulting agent is on two calls at once (the held customer and its
    consult), and that time counts once.
    """
    spans: dict[str, list[tuple[int, int]]] = defaultdict(list)
    for row in rows:
        if row.device_type != AGENT or not row.ack_begin or not row.device_no.isdigit():
            continue
        begin = row.wait_begin if row.enter_reason == 9 else row.ack_begin  # a retrieved call: from the hold
        end = row.call_end
        if row.leave_reason not in (NO_ANSWER, REJECTED, HELD) and row.call_begin:
            log = logs.get(int(row.device_no))
            if log is not None:  # wrap-up: until the agent is next idle (or signs out)
                index = bisect.bisect_left(log.idle_at, end)
                end = log.idle_at[index] if index < len(log.idle_at) else end
        spans[row.device_no].append((begin, end))
    return [merged for agent_spans in spans.values() for merged in _merge(agent_spans)]


def _merge(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """The union of time spans, as disjoint spans."""
    out: list[tuple[int, int]] = []
    for begin, end in sorted(spans):
        if out and begin <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], end))
        else:
            out.append((begin, end))
    return out


def spread(slots: list[Slot], begin: int, end: int, attribute: str) -> None:
    """Add the span's time to the half hours it covers."""
    while begin < end:
        cut = min(end, begin - begin % SLOT_MS + SLOT_MS)
        slot = slots[slot_of(begin)]
        setattr(slot, attribute, getattr(slot, attribute) + cut - begin)
        begin = cut


# --- all together ---------------------------------------------------------------------------------------------


def compute(
    calls: Iterable[list[TrackRow]],
    events: list[dict[str, Any]],
    begin: int,
    end: int,
    answer_s: float = 20,
    consults: Iterable[list[TrackRow]] = (),
) -> Kpis:
    """The per-half-hour figures of calls (each its track rows) and the log's events between `begin` and `end`;
    `consults` (their rows too) add only to the agents' occupied time."""
    kpis = Kpis(days=(end - begin) / DAY_MS)
    logs = agent_logs(events, end)
    agent_rows: list[TrackRow] = []
    for rows in calls:
        if rows and rows[0].arrived_at >= begin:
            add_call(kpis, rows, answer_s)
        agent_rows.extend(rows)
    for rows in consults:
        agent_rows.extend(rows)
    for log in logs.values():
        for start, stop, mode in log.spans:
            if mode == "available":
                spread(kpis.slots, max(start, begin), min(stop, end), "available_ms")
    for start, stop in occupied_spans(agent_rows, logs):
        spread(kpis.slots, max(start, begin), min(stop, end), "occupied_ms")
    return kpis


def from_store(store: Any, cc_id: int = 1, begin: int = 0, end: int | None = None, answer_s: float = 20) -> Kpis:
    """The figures of a store: its log's inbound calls and consults (track rows through the store's port) and
    agent events."""
    import msgspec

    events = [msgspec.json.decode(body) for _, body in store.events_after(0)]
    events = [e for e in events if e.get("ccId") == cc_id]
    end = end if end is not None else max((e["at"] for e in events), default=begin)
    inbound = [e["callId"] for e in events if e["type"] == "call.arrive"]
    calls = [sorted(store.find_track_rows(cc_id, call_id), key=_written_order) for call_id in inbound]
    consulted = [e["callId"] for e in events if e["type"] == "call.consult"]
    consults = [sorted(store.find_track_rows(cc_id, call_id), key=_written_order) for call_id in consulted]
    first = begin or min((e["at"] for e in events), default=0)
    return compute(calls, events, first, end, answer_s, consults)


def _written_order(row: TrackRow) -> tuple[int, int]:
    return (row.call_id_num == LAST_ROW, row.call_id_num)


def table(kpis: Kpis) -> str:
    """A Markdown table, one row per half hour of the day."""
    lines = [
        "| half hour (UTC) | calls/day | agents available | service level | abandonment | occupancy |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for index, slot in enumerate(kpis.slots):
        start = f"{index // 2:02d}:{index % 2 * 30:02d}"
        calls = (slot.answered + slot.abandoned) / kpis.days if kpis.days else 0
        agents = slot.available_ms / (SLOT_MS * kpis.days) if kpis.days else 0
        lines.append(f"| {start} | {calls:.1f} | {agents:.1f} | {slot.service_level:.1%} | {slot.abandonment:.1%} "
                     f"| {slot.occupancy:.1%} |")  # fmt: skip
    return "\n".join(lines)
