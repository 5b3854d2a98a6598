"""A workforce planner: agents needed per half hour (Erlang C) and the shifts that cover them.

Pure functions of a scenario: `plan_scenario` turns each `[[simulator.staffing]]` pool into ordinary shifts, so
the simulator itself knows nothing of planning. A pool's skills are planned as one queue (its agents have all of
them): the offered load of every call the pool answers, from the arrival profile, to reach `service_level`
answered within `answer_s` by Erlang C, divided by (1 - shrinkage) for the time lost otherwise (no-answer
spells). Shifts are then laid greedily, earliest deficit first, each as long as it is needed (between the pool's
shortest and longest shift), and more where their breaks would leave too few agents at work.
"""

from __future__ import annotations

import math

import msgspec

from ccdata.sim.scenario import Break, Dist, Scenario, Shift, SkillBehaviour, StaffingPool

SLOTS = 48  # half hours of a day
SLOT_S = 1800


def mean_s(dist: Dist) -> float:
    """The mean of a duration, in seconds."""
    if dist.kind == "uniform":
        return (dist.low + dist.high) / 2
    return dist.mean


# --- Erlang C -----------------------------------------------------------------------------------------------


def erlang_b(agents: int, load: float) -> float:
    """Blocking probability of `agents` servers offered `load` Erlang (the stable recursion)."""
    blocking = 1.0
    for n in range(1, agents + 1):
        blocking = load * blocking / (n + load * blocking)
    return blocking


def erlang_c(agents: int, load: float) -> float:
    """The probability that a call waits (M/M/N); 1 when the agents cannot carry the load."""
    if agents <= load:
        return 1.0
    blocking = erlang_b(agents, load)
    return agents * blocking / (agents - load * (1 - blocking))


def service_level(agents: int, load: float, handle_s: float, answer_s: float) -> float:
    """The share of calls answered within `answer_s`: 1 - C(N, A) exp(-(N - A) t / AHT)."""
    if load <= 0:
        return 1.0
    if agents <= load:
        return 0.0
    return 1 - erlang_c(agents, load) * math.exp(-(agents - load) * answer_s / handle_s)


def agents_needed(load: float, handle_s: float, target: float, answer_s: float) -> int:
    """The fewest agents that answer `target` of the calls within `answer_s` (0 for no load)."""
    if load <= 0:
        return 0
    agents = math.floor(load) + 1
    while service_level(agents, load, handle_s, answer_s) < target:
        agents += 1
    return agents


# --- the offered load of a pool, per half hour ----------------------------------------------------------------


def _handle_s(scenario: Scenario, skill: int) -> float:
    """What one call of a skill costs an agent: ring, talk, holds and wrap-up (and a colleague's transfer)."""
    behaviour = next((b for b in scenario.skills if b.skill == skill), None)
    if behaviour is None:
        return 180.0 + mean_s(scenario.ring_time)
    talk = mean_s(behaviour.handle_time) + behaviour.hold_rate * mean_s(behaviour.hold_time)
    one = mean_s(scenario.ring_time) + talk + mean_s(behaviour.wrap_up)
    one += behaviour.consult_rate * _consult_s(scenario, behaviour)
    return one * (1 + behaviour.agent_transfer_rate)  # a transferred call is handled twice


def _consult_s(scenario: Scenario, behaviour: SkillBehaviour) -> float:
    """What a consult adds to a call, in agent time (both agents), counted on the consulting call's skill:
    the two agents talking, then the consulted agent's share of the outcome (a whole call after a transfer, the
    three-party talk after a conference, a wrap-up) and the consulting agent's talk after a cancel or a leave."""
    target = behaviour.consult_skill or behaviour.skill
    helper = next((b for b in scenario.skills if b.skill == target), behaviour)
    consult, wrap = mean_s(behaviour.consult_time), mean_s(helper.wrap_up)
    outcomes = behaviour.consult_outcomes
    total = outcomes.transfer + outcomes.conference + outcomes.cancel or 1.0
    transfer = mean_s(helper.handle_time) + wrap  # the consulted agent's own call with the customer
    conference = 2 * mean_s(behaviour.conference_time) + wrap + behaviour.helper_leaves * consult
    cancel = consult + wrap
    after = (outcomes.transfer * transfer + outcomes.conference * conference + outcomes.cancel * cancel) / total
    return mean_s(scenario.ring_time) + 2 * consult + after


def _skill_rates(scenario: Scenario, weekday: int, slot: int) -> dict[int, float]:
    """Calls per second reaching each skill queue in a half hour (transfers to another skill included)."""
    rates: dict[int, float] = {}
    for code in scenario.access_codes:
        per_s = code.calls_per_hour[slot // 2] * code.weekday_factor[weekday] / 3600
        queued = per_s * (1 - code.self_service - code.ivr_abandon if code.flow else 1.0)
        total = sum(t.weight for t in code.skills)
        for target in code.skills:
            rates[target.skill] = rates.get(target.skill, 0.0) + queued * target.weight / total
    for behaviour in scenario.skills:  # a blind transfer to a skill is a second call there
        if behaviour.transfer_skill and behaviour.transfer_rate:
            moved = rates.get(behaviour.skill, 0.0) * behaviour.transfer_rate
            rates[behaviour.transfer_skill] = rates.get(behaviour.transfer_skill, 0.0) + moved
    return rates


def offered(scenario: Scenario, pool: StaffingPool, weekday: int, slot: int) -> tuple[float, float]:
    """The pool's offered load (Erlang) and its mean handling time (s) in one half hour of a weekday."""
    load, calls = 0.0, 0.0
    for skill, rate in _skill_rates(scenario, weekday, slot).items():
        if skill in pool.skills:
            load += rate * _handle_s(scenario, skill)
            calls += rate
    for campaign in scenario.campaigns:  # outbound work takes agents too, while the campaign dials
        if campaign.skill in pool.skills and campaign.open_at(weekday, slot / 2):
            work = campaign.answer_rate * mean_s(campaign.talk_time) + 15 + _wrap_s(scenario, campaign.skill)
            load += campaign.calls_per_hour / 3600 * work
    return load, (load / calls if calls else 0.0)


def _wrap_s(scenario: Scenario, skill: int) -> float:
    behaviour = next((b for b in scenario.skills if b.skill == skill), None)
    return mean_s(behaviour.wrap_up) if behaviour else 0.0


def with_shrinkage(agents: int, shrinkage: float) -> int:
    """Agents to schedule so that `agents` are at work: N / (1 - shrinkage), to the nearest agent.

    Rounded, not raised: shrinkage is an average over the day (a break is half an hour of a shift), and raising
    3.3 to 4 at night would schedule a third more agents than the plan needs.
    """
    return math.floor(agents / (1 - shrinkage) + 0.5)


def requirement(scenario: Scenario, pool: StaffingPool, weekday: int) -> list[int]:
    """Agents to have signed in, per half hour of a weekday: Erlang C, plus shrinkage, at least `minimum`."""
    needed = []
    for slot in range(SLOTS):
        load, handle = offered(scenario, pool, weekday, slot)
        agents = agents_needed(load, handle, pool.service_level, pool.answer_s) if handle else 0
        needed.append(max(pool.minimum, with_shrinkage(agents, pool.shrinkage)))
    return needed


# --- shifts ---------------------------------------------------------------------------------------------------


def lay_shifts(needed: list[int], shortest: int, longest: int) -> list[tuple[int, int]]:
    """Shifts (start slot, length in slots) covering `needed`, none crossing midnight.

    Greedy from midnight: at the first half hour short of agents, start a shift that runs as long as every half
    hour it covers still lacks an agent (at least `shortest`, at most `longest`, and never past midnight), so that
    the morning ramp does not leave a crowd idle in the evening.
    """
    cover = [0] * SLOTS
    shifts = []
    for slot in range(SLOTS):
        while cover[slot] < needed[slot]:
            length = min(shortest, SLOTS - slot)
            while length < longest and slot + length < SLOTS and cover[slot + length] < needed[slot + length]:
                length += 1
            for covered in range(slot, slot + length):
                cover[covered] += 1
            shifts.append((slot, length))
    return shifts


def plan_day(at_work: list[int], pool: StaffingPool) -> list[tuple[int, int]]:
    """Shifts that keep `at_work` agents working in each half hour, breaks included.

    Breaks are covered where they fall rather than by a flat shrinkage: a crew of two at night loses half of
    itself to a break, a crew of twenty a tenth. Laying more shifts brings more breaks, so this repeats until the
    plan is stable (the targets only grow, so it ends).
    """
    shortest, longest = round(pool.shortest_shift * 2), round(pool.longest_shift * 2)
    target = list(at_work)
    laid = lay_shifts(target, shortest, longest)
    for _ in range(10):
        away = on_break(laid, pool)
        wanted = [max(t, n + math.ceil(a)) for t, n, a in zip(target, at_work, away, strict=True)]
        if wanted == target:
            break
        target = wanted
        laid = lay_shifts(target, shortest, longest)
    return laid


def on_break(laid: list[tuple[int, int]], pool: StaffingPool) -> list[float]:
    """Agents expected away on a break per half hour: each away `minutes` somewhere in its break's span."""
    away = [0.0] * SLOTS
    for start, length in laid:
        for pause in _breaks(pool, start, length):
            begin = pause.at_hour * 60
            span = pause.window_minutes + pause.minutes
            for slot in range(SLOTS):
                overlap = min(begin + span, (slot + 1) * 30) - max(begin, slot * 30)
                if overlap > 0:
                    away[slot] += pause.minutes * overlap / span / 30
    return away


def pool_shifts(scenario: Scenario, pool: StaffingPool) -> list[Shift]:
    """The pool's shifts for each weekday; agents are numbered from `first` by start time each day."""
    levels = pool.skill_levels or {str(s): 1 for s in pool.skills}
    # The whole pool as a shift of no weekday: agents a day does not need stay signed out (an agent in no shift
    # would be signed in around the clock), and all of them get the pool's skill levels.
    shifts: list[Shift] = [Shift(pool.first, pool.count, 0, 24, [], [], levels)]
    for weekday in range(7):
        laid = plan_day(requirement(scenario, pool, weekday), pool)
        if len(laid) > pool.count:
            raise ValueError(f"the staffing plan of agents {pool.first}.. needs {len(laid)} agents on weekday "
                             f"{weekday}; the pool has {pool.count}")  # fmt: skip
        index = 0
        for (start, length), group in _grouped(laid):
            shifts.append(Shift(pool.first + index, group, start / 2, (start + length) / 2, [weekday],
                                _breaks(pool, start, length), levels))  # fmt: skip
            index += group
    return shifts


def _grouped(laid: list[tuple[int, int]]) -> list[tuple[tuple[int, int], int]]:
    groups: dict[tuple[int, int], int] = {}
    for shift in laid:
        groups[shift] = groups.get(shift, 0) + 1
    return sorted(groups.items())


def _breaks(pool: StaffingPool, start: int, length: int) -> list[Break]:
    """One break in the middle of a shift long enough for it, its agents staggered over the pool's window."""
    if length * 30 < pool.break_after_minutes:
        return []
    window = min(pool.break_window_minutes, length * 30 / 2)
    at = (start + length / 2) / 2 - (window + pool.break_minutes) / 2 / 60
    return [Break(at, pool.break_minutes, window)]


def plan_scenario(scenario: Scenario) -> Scenario:
    """The scenario with its staffing pools turned into shifts (unchanged without pools)."""
    if not scenario.staffing:
        return scenario
    planned = [shift for pool in scenario.staffing for shift in pool_shifts(scenario, pool)]
    return msgspec.structs.replace(scenario, shifts=[*scenario.shifts, *planned], staffing=[])
