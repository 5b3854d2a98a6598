"""The simulator, checked through what matters: the records the engine wrote from its events."""

from __future__ import annotations

import math
import statistics
from datetime import UTC, datetime
from typing import Any

import msgspec
import pytest

from ccdata import config as configuration
from ccdata.domain.records import LAST_ROW
from ccdata.service import Service
from ccdata.sim.clocks import backfill
from ccdata.sim.contact_center import HOUR_MS, ContactCenter
from ccdata.sim.kpis import breaks_over_share, from_store
from ccdata.store.sqlite import SqliteStore

pytestmark = pytest.mark.embedded_only(
    "the simulator's logic over an in-memory store (beside a server of either mode: test_simulator_ring)"
)

START = 1_767_225_600_000  # 2026-01-01T00:00:00Z, a Thursday
VDN = """
[[vdns]]
id = 1
skills = [{ id = 1, name = "one" }, { id = 2, name = "two" }]
"""
GROUP = """
[[agent_groups]]
first = 1001
count = {count}
vdn = 1
password = "x"
skills = [1]
"""


def make(scenario: str, count: int = 3, agents: str | None = None) -> configuration.Config:
    return configuration.parse(VDN + (agents or GROUP.format(count=count)) + scenario)


def agent(agent_id: int, skills: str, interactive: bool = False) -> str:
    flag = "true" if interactive else "false"
    return f'\n[[agents]]\nid = {agent_id}\nvdn = 1\npassword = "x"\nskills = {skills}\ninteractive = {flag}\n'


def run(config: configuration.Config, hours: float, seed: int | None = None) -> tuple[Service, Any]:
    service = Service(config, SqliteStore(":memory:"))
    simulator = ContactCenter(config, config.simulator, START, seed=seed)
    report = backfill(service, simulator, START + int(hours * HOUR_MS))
    assert report.rejected == 0, report.reasons
    return service, report


def rows(service: Service, call_id: str) -> list[tuple[Any, ...]]:
    return [
        (r.call_id_num, r.device_type, r.device_no, r.enter_reason, r.leave_reason, r.current_skill_id)
        for r in service.store.find_track_rows(1, call_id)
    ]


def all_results(service: Service) -> list[Any]:
    return service.store.search_call_results(_query(cc_id=1, vdn=1, begin=0, limit=10**7))[1]


def _query(**fields: Any) -> Any:
    from ccdata.store.ports import CallResultQuery

    return CallResultQuery(**fields)


def logged(service: Service, type_: str) -> list[dict[str, Any]]:
    bodies = (msgspec.json.decode(body) for _, body in service.store.events_after(0))
    return [b for b in bodies if b["type"] == type_]


# --- queueing theory ----------------------------------------------------------------------------------------


def erlang_c(agents: int, load: float) -> float:
    """The probability of waiting in an M/M/N queue with offered load `load` Erlang."""
    term = sum(load**k / math.factorial(k) for k in range(agents))
    top = load**agents / math.factorial(agents) * agents / (agents - load)
    return top / (term + top)


MMN = """
[simulator]
seed = {seed}
ring_time = {{ kind = "fixed", mean = 0 }}

[[simulator.access_codes]]
called = "100"
vdn = 1
skills = [{{ skill = 1 }}]
calls_per_hour = [{rate}, {rate}, {rate}, {rate}, {rate}, {rate}, {rate}, {rate}, {rate}, {rate}, {rate}, {rate},
                  {rate}, {rate}, {rate}, {rate}, {rate}, {rate}, {rate}, {rate}, {rate}, {rate}, {rate}, {rate}]

[[simulator.skills]]
skill = 1
handle_time = {{ kind = "exponential", mean = {handle} }}
"""


@pytest.mark.parametrize(("agents", "load"), [(8, 5.0), (8, 6.5)])
def test_mmn_matches_erlang_c(agents: int, load: float) -> None:
    """Poisson arrivals, exponential handling, N agents, no IVR, no abandonment, one skill: Erlang C.

    Tolerance: the estimates are means of 20 consecutive batches (after a 5 % warm-up); each must be within four
    standard errors of the batch means of the theoretical value, which fails a correct simulator about once in
    15,000 runs, and must be within 15 % of it.
    """
    handle_s = 60.0
    rate = load * 3600 / handle_s
    config = make(MMN.format(seed=7, rate=rate, handle=handle_s), count=agents)
    hours = 30_000 / rate
    service, _ = run(config, hours)
    results = sorted(all_results(service), key=lambda r: r.arrived_at)
    results = results[len(results) // 20 :]
    waits = [(r.call_begin - r.wait_begin) / 1000 for r in results]
    assert all(r.call_begin for r in results)  # no abandonment in M/M/N

    def batch_check(values: list[float], expected: float) -> None:
        size = len(values) // 20
        means = [statistics.fmean(values[i * size : (i + 1) * size]) for i in range(20)]
        estimate, error = statistics.fmean(means), statistics.stdev(means) / math.sqrt(20)
        assert abs(estimate - expected) <= 4 * error, (estimate, expected, error)
        assert abs(estimate - expected) <= 0.15 * expected, (estimate, expected)

    waiting = erlang_c(agents, load)
    batch_check([1.0 if w > 0 else 0.0 for w in waits], waiting)
    batch_check(waits, waiting * handle_s / (agents - load))  # ASA = C / (N mu - lambda)


# --- routing behaviours -------------------------------------------------------------------------------------

STEADY = """
[simulator]
ring_time = {{ kind = "fixed", mean = 2 }}
no_answer_rate = {no_answer}

[[simulator.access_codes]]
called = "100"
vdn = 1
skills = [{{ skill = 1 }}]
calls_per_hour = [{rate}, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]

[[simulator.skills]]
skill = 1
handle_time = {{ kind = "fixed", mean = {handle} }}
wrap_up = {{ kind = "fixed", mean = 5 }}
{extra}
"""


def steady(rate: float, handle: float, no_answer: float = 0.0, extra: str = "", **kw: Any) -> configuration.Config:
    return make(STEADY.format(rate=rate, handle=handle, no_answer=no_answer, extra=extra), **kw)


def test_the_longest_idle_agent_gets_the_call() -> None:
    service, _ = run(steady(rate=20, handle=30), hours=1)
    results = sorted(all_results(service), key=lambda r: r.arrived_at)
    agents = [r.agent_id for r in results]
    # Calls far apart: each free agent's idle time restarts when it finishes, so they take turns.
    assert agents[:6] == [1001, 1002, 1003, 1001, 1002, 1003]


def test_queue_timeout_overflows_to_another_skill() -> None:
    extra = """queue_timeout_s = 20
overflow_skill = 2

[[simulator.skills]]
skill = 2
handle_time = { kind = "fixed", mean = 30 }
"""
    # One agent of skill 1 and one of skill 2; the calls of skill 1 outnumber its agent.
    agents = agent(1001, "[1]") + agent(1002, "[2]")
    service, _ = run(make(STEADY.format(rate=120, handle=600, no_answer=0, extra=extra), agents=agents), hours=0.2)
    overflowed = [r for r in all_results(service) if r.agent_id == 1002]
    assert overflowed
    track = rows(service, overflowed[0].call_id)
    assert (1, 1, "1", 0, 2, 1) in track  # the skill-1 wait left on timeout (2)
    assert track[-1][:4] == (LAST_ROW, 2, "1002", 2) and track[-1][5] == 2  # entered agent 1002 by timeout, skill 2


def test_no_answer_requeues_the_call() -> None:
    service, _ = run(steady(rate=10, handle=30, no_answer=1.0, extra='patience = { kind = "fixed", mean = 40 }'),
                     hours=0.5)  # fmt: skip
    first = sorted(all_results(service), key=lambda r: r.arrived_at)[0]
    track = rows(service, first.call_id)
    assert track[0][1:5] == (2, "1001", 0, 5)  # rang at 1001, which did not answer
    assert any(row[3] == 5 for row in track[1:])  # back in the queue, entered by no-answer (5)
    assert track[-1][4] == 15  # the caller gave up in the end


def test_transfer_to_a_busy_colleague_waits_in_its_private_queue() -> None:
    extra = "agent_transfer_rate = 1.0"
    service, _ = run(steady(rate=120, handle=60, extra=extra, count=2), hours=0.25)
    transferred = [r for r in service.store.find_track_rows(1, _first_transferred(service))]
    to_colleague = [r for r in transferred if r.enter_reason == 0 and r.device_type == 2][-1]
    assert to_colleague.ack_begin > to_colleague.wait_begin  # it waited for the colleague: a private-queue wait
    # The call keeps its skill on its way to the colleague (issue 12): the same CurrentSkillID as the first agent's.
    first_agent = next(r for r in transferred if r.device_type == 2)
    assert to_colleague.current_skill_id == first_agent.current_skill_id != 0


def _first_transferred(service: Service) -> str:
    for body in logged(service, "call.transfer"):
        return body["callId"]
    raise AssertionError("no transfer happened")


def test_shifts_breaks_and_wrap_up() -> None:
    scenario = """
[[simulator.shifts]]
first = 1001
count = 1
start_hour = 1
end_hour = 3
breaks = [{ at_hour = 2, minutes = 15 }]
"""
    service, _ = run(steady(rate=0.0001, handle=30, extra=scenario, count=2), hours=4)
    logins = {b["agentId"]: b["at"] for b in logged(service, "agent.login")}
    assert logins[1001] == START + HOUR_MS and logins[1002] == START  # a shift; no shift: on from the start
    rests = [b for b in logged(service, "agent.state") if b["agentId"] == 1001 and b["state"] == "rest"]
    assert [b["at"] for b in rests] == [START + 2 * HOUR_MS]
    (logout,) = [b for b in logged(service, "agent.logout") if b["agentId"] == 1001]
    assert logout["at"] == START + 3 * HOUR_MS
    assert not service.engine.agent(1, 1001).signed_in and service.engine.agent(1, 1002).signed_in


# --- determinism and the default scenario -------------------------------------------------------------------


def test_a_seed_gives_the_same_events() -> None:
    config = configuration.load()
    first = ContactCenter(config, config.simulator, START).run_until(START + 6 * HOUR_MS)
    again = ContactCenter(config, config.simulator, START).run_until(START + 6 * HOUR_MS)
    other = ContactCenter(config, config.simulator, START, seed=99).run_until(START + 6 * HOUR_MS)
    assert first == again and len(first) > 500
    assert first != other


def test_a_day_of_the_default_scenario_is_accepted_whole() -> None:
    service, report = run(configuration.load(), hours=24)
    assert report.accepted == report.stats.events > 10_000
    assert 0.5 < report.stats.service_level <= 1 and report.stats.abandonment < 0.3
    assert {b["campaign"] for b in logged(service, "call.originate")} == {"preview"}
    assert service.engine.calls == {}  # the backfill drained: every call ended


# --- realism: what a workforce planner would check (issue 12) ----------------------------------------------


def test_an_arriving_call_goes_to_the_best_level_then_the_longest_idle() -> None:
    scenario = (
        STEADY.format(rate=20, handle=30, no_answer=0, extra="")
        + """
[[simulator.shifts]]
first = 1003
count = 1
skill_levels = { "1" = 2 }
"""
    )
    service, _ = run(make(scenario, count=3), hours=1)
    results = sorted(all_results(service), key=lambda r: r.arrived_at)
    # 1003 has the better level: it gets every call it is free for, although the others are idle longer.
    assert [r.agent_id for r in results[:5]] == [1003] * 5


def test_breaks_are_staggered_and_never_take_more_than_the_share() -> None:
    scenario = (
        STEADY.format(rate=120, handle=60, no_answer=0, extra="").replace(
            "[simulator]", "[simulator]\nbreak_max_away = 0.25"
        )
        + """
[[simulator.shifts]]
first = 1001
count = 8
start_hour = 0
end_hour = 6
breaks = [{ at_hour = 2, minutes = 20, window_minutes = 60 }]
"""
    )
    service, _ = run(make(scenario, count=8), hours=6)
    states = sorted((b["at"], b["agentId"], b["state"]) for b in logged(service, "agent.state"))
    away: set[int] = set()
    most = 0
    starts = []
    for at, agent_id, state in states:
        if state == "rest":
            away.add(agent_id)
            starts.append(at)
        elif state == "idle":
            away.discard(agent_id)
        most = max(most, len(away))
    assert len(starts) == 8  # everyone had its break ...
    assert most == 2  # ... never more than a quarter of the eight at once ...
    assert len({at // 60_000 for at in starts}) >= 6  # ... at staggered times,
    assert min(starts) >= START + 2 * HOUR_MS and max(starts) < START + 4 * HOUR_MS  # from the window on


def test_patience_starts_again_after_a_transfer() -> None:
    """A caller transferred to a busy colleague waits with a fresh patience: never gone within 1 s of it."""
    extra = 'agent_transfer_rate = 0.5\npatience = { kind = "exponential", mean = 30 }'
    service, report = run(steady(rate=200, handle=40, extra=extra, count=3), hours=1)
    kpis = from_store(service.store)
    assert kpis.transfer_hangups_ms and min(kpis.transfer_hangups_ms) >= 10_000
    # Each call counted once: a transferred call that hung up later is not an abandoned call.
    stats = report.stats
    assert stats.abandoned_after_transfer == len(kpis.transfer_hangups_ms)
    assert stats.abandoned == sum(s.abandoned for s in kpis.slots)
    assert stats.answered == sum(s.answered for s in kpis.slots)


def test_campaigns_dial_only_within_their_hours() -> None:
    scenario = (
        STEADY.format(rate=0.0001, handle=30, no_answer=0, extra="")
        + """
[[simulator.campaigns]]
vdn = 1
skill = 1
calls_per_hour = 30
start_hour = 9
end_hour = 17
weekdays = [0, 1, 2, 3, 4]
"""
    )
    service, _ = run(make(scenario), hours=72)  # Thursday to Saturday night
    dialled = [b["at"] for b in logged(service, "call.originate")]
    assert len(dialled) > 300
    for at in dialled:
        moment = datetime.fromtimestamp(at / 1000, tz=UTC)
        assert moment.weekday() < 5 and 9 <= moment.hour < 17, moment


def test_the_default_scenario_meets_its_staffing_plan_every_half_hour() -> None:
    """Three days of the default scenario: no half hour more than 15 points under the plan's service-level
    target, no call gone within 1 s of its transfer, no break over the share, and occupancy neither idle at
    night nor worn out at the peak."""
    config = configuration.load()
    service, _ = run(config, hours=72)
    kpis = from_store(service.store)
    target = min(pool.service_level for pool in config.simulator.staffing)
    assert min(slot.service_level for slot in kpis.slots) >= target - 0.15
    assert kpis.transfer_hangups_ms and min(kpis.transfer_hangups_ms) >= 1000
    events = [msgspec.json.decode(body) for _, body in service.store.events_after(0)]
    assert breaks_over_share(events, config.simulator.break_max_away)[0] == 0
    occupancy = [slot.occupancy for slot in kpis.slots]
    assert min(occupancy) > 0.15 and max(occupancy) < 0.85


# --- consults (contract v2, issue 12) -------------------------------------------------------------------------

CONSULTING = """
[simulator]
ring_time = {{ kind = "fixed", mean = 2 }}

[[simulator.access_codes]]
called = "100"
vdn = 1
skills = [{{ skill = 1 }}]
calls_per_hour = {rates}

[[simulator.skills]]
skill = 1
handle_time = {{ kind = "uniform", low = 60, high = 240 }}
wrap_up = {{ kind = "fixed", mean = 5 }}
consult_rate = 0.6
consult_skill = 2
consult_agent_rate = 0.4
consult_outcomes = {{ transfer = 1, conference = 1, cancel = 1 }}
consult_time = {{ kind = "uniform", low = 10, high = 60 }}
consult_patience = {{ kind = "fixed", mean = 20 }}
conference_time = {{ kind = "uniform", low = 20, high = 60 }}
helper_leaves = 0.5

[[simulator.skills]]
skill = 2
handle_time = {{ kind = "uniform", low = 30, high = 120 }}
wrap_up = {{ kind = "fixed", mean = 5 }}
"""
COMPLETIONS = ("call.consult.transfer", "call.consult.conference", "call.consult.cancel")


def consulting() -> configuration.Config:
    """Four agents of skill 1 consult a two-agent skill 2 (often busy: some consults are given up) or a colleague."""
    agents = "".join(agent(i, "[1]") for i in range(1001, 1005)) + agent(1005, "[2]") + agent(1006, "[2]")
    return make(CONSULTING.format(rates=[50] * 3 + [0] * 21), agents=agents)


def consult_rows(service: Service, call_id: str) -> list[tuple[int, str, int, int]]:
    """(device type, device, enter reason, leave reason) of a call's rows, in the order they were written."""
    track = sorted(service.store.find_track_rows(1, call_id), key=lambda r: (r.call_id_num == LAST_ROW, r.call_id_num))
    return [(r.device_type, r.device_no, r.enter_reason, r.leave_reason) for r in track]


def test_consults_end_in_each_outcome_with_the_contracts_reason_codes() -> None:
    service, report = run(consulting(), hours=4)  # run() asserts that the engine rejected nothing
    consults = {e["callId"]: e for e in logged(service, "call.consult")}
    ends = {e["callId"]: e["type"] for t in COMPLETIONS for e in logged(service, t)}
    assert len(consults) > 40 and ends.keys() == consults.keys()  # each consult completed once, none released
    assert service.engine.calls == {}
    by_outcome = {t: [c for c, end in ends.items() if end == t] for t in COMPLETIONS}
    assert all(len(calls) >= 5 for calls in by_outcome.values()), {t: len(c) for t, c in by_outcome.items()}
    for call_id, outcome in ends.items():
        start = consults[call_id]
        agent_no, to_skill = str(start["agentId"]), start["target"].get("skillId") is not None
        track = consult_rows(service, call_id)
        kinds = {r.call_type for r in service.store.find_track_rows(1, call_id)}
        original = consult_rows(service, start["originalCallId"])
        assert track[0][:3] == (2, agent_no, 0)  # the consulting agent's own leg, first to close
        if outcome == "call.consult.transfer":
            party = track[1][1]
            code = 28 if to_skill else 0
            assert [r[3] for r in track] == [0, 0] and kinds == {51}
            assert (2, agent_no, 9, code) in original  # its held leg leaves as a blind transfer would
            assert any(r[:3] == (2, party, code) for r in original)  # the consulted agent takes the customer
        elif outcome == "call.consult.conference":
            party = track[1][1]
            assert [r[3] for r in track] == [10, 10] and kinds == {52}
            joined = [r for r in original if r[:3] == (2, party, 8)]  # three-party help
            assert len(joined) == 1 and joined[0][3] in (16, 15, 52)  # left (call.leave), or the call ended
        else:
            other = track[1]
            assert [r[3] for r in track] == [16, 11] and kinds == {51}
            assert other[0] == 1 or (other[0] == 2 and other[1] != agent_no)  # given up in the queue, or talked
            assert original[-1][:3] == (2, agent_no, 9)  # the customer retrieved: the call ends at that agent
    cancelled = [consult_rows(service, c)[1][0] for c in by_outcome["call.consult.cancel"]]
    assert 1 in cancelled and 2 in cancelled  # both kinds of cancel: unanswered in the queue, and after the talk
    assert logged(service, "call.leave")
    assert {e["target"].get("skillId") is None for e in consults.values()} == {True, False}  # agents and a skill

    # Consults are not customer calls: every customer call counted once, answered.
    arrivals = logged(service, "call.arrive")
    kpis = from_store(service.store)
    assert kpis.total.answered == report.stats.answered == report.stats.calls == len(arrivals)
    assert kpis.total.abandoned == report.stats.abandoned == 0


def test_consults_are_deterministic() -> None:
    config = consulting()
    first = ContactCenter(config, config.simulator, START).run_until(START + 2 * HOUR_MS)
    again = ContactCenter(config, config.simulator, START).run_until(START + 2 * HOUR_MS)
    assert first == again and any(e["type"] == "call.consult" for e in first)
