"""The monitoring counters on their own: fed by the engine's call results, read with the engine's live state."""

from __future__ import annotations

from ccdata.domain import monitoring
from ccdata.domain.codes import CtiAgentState
from ccdata.domain.monitoring import ALL, Key, Monitor
from ccdata.domain.records import CallResult
from support import T0, Script

SKILL = 7


def _answered(s: Script, call_id: str, at: float, wait: float, agent: int = 101) -> None:
    s.arrive(at, call_id=call_id)
    s("call.queue", at, callId=call_id, skillId=SKILL)
    s("call.alert", at + wait - 1, callId=call_id, agentId=agent)
    s("call.answer", at + wait, callId=call_id, agentId=agent)
    s("call.release", at + wait + 30, callId=call_id, by="customer")


def _abandoned(s: Script, call_id: str, at: float, wait: float) -> None:
    s.arrive(at, call_id=call_id)
    s("call.queue", at, callId=call_id, skillId=SKILL)
    s("call.release", at + wait, callId=call_id, by="customer")


def _results(s: Script) -> list[CallResult]:
    return [r for r in s.records if isinstance(r, CallResult)]


def test_counts_offered_answered_abandoned_and_service_levels() -> None:
    s = Script()
    s.login(101, 102, at=0, skills=(SKILL,))
    _answered(s, "c-1", 10, wait=12)  # within 15 s and 20 s
    _answered(s, "c-2", 100, wait=18, agent=102)  # within 20 s only
    _answered(s, "c-3", 200, wait=40)  # neither
    _abandoned(s, "c-4", 300, wait=10)  # lost within 15 s
    monitor = Monitor()
    monitor.feed(_results(s))
    for key in (Key(1, 1, SKILL), Key(1, 1, ALL), Key(1, ALL, ALL)):
        day = monitor.day(key, T0)
        assert (day.offered, day.answered, day.abandoned) == (4, 3, 1)
        assert (day.within(15), day.within(20), day.lost(15), day.lost(20)) == (1, 2, 1, 1)
        assert day.average_wait_ms == (12 + 18 + 40 + 10) * 1000 // 4
        assert day.max_wait_ms == 40_000
        assert day.average_speed_of_answer_ms == (12 + 18 + 40) * 1000 // 3
        assert day.service_level(20) == 2 / 4 and day.service_level(15) == 1 / 4
    assert monitor.day(Key(1, 1, 8), T0).service_level(20) is None
    assert monitor.day(Key(1, 1, 8), T0).offered == 0
    assert monitor.day(Key(1, 2, ALL), T0).offered == 0


def test_intervals_start_on_five_minute_boundaries_and_days_on_utc_midnight() -> None:
    assert monitoring.interval_of(T0) % 300_000 == 0 and T0 - monitoring.interval_of(T0) < 300_000
    assert monitoring.interval_of(1_611_714_900_000) == 1_611_714_900_000
    assert monitoring.interval_of(1_611_714_900_000 - 1) == 1_611_714_600_000
    assert monitoring.day_of(1_700_006_400_000) == 1_700_006_400_000  # 2023-11-15T00:00Z
    s = Script()
    s.login(101, skills=(SKILL,))
    _answered(s, "c-1", 10, wait=5)  # released at T0+45 s
    _answered(s, "c-2", 900, wait=5)  # released 15 minutes later
    monitor = Monitor()
    monitor.feed(_results(s))
    key = Key(1, 1, SKILL)
    assert monitor.interval(key, T0 + 45_000).offered == 1
    assert monitor.interval(key, T0 + 935_000).offered == 1
    assert monitor.interval(key, T0 + 500_000).offered == 0
    day = monitor.intervals_of_day(key, T0)
    assert [(start - monitoring.interval_of(T0 + 45_000), c.offered) for start, c in day] in (
        [(0, 1), (900_000, 1)],
        [(0, 1), (600_000, 1)],
        [(0, 1), (1_200_000, 1)],
    )  # the second call's interval is 15 minutes on, give or take its own boundary
    assert monitor.intervals_of_day(key, T0 + 86_400_000) == []


def test_old_days_are_forgotten() -> None:
    s = Script()
    s.login(101, skills=(SKILL,))
    _answered(s, "c-1", 10, wait=5)
    _answered(s, "c-2", 3 * 86_400, wait=5)
    monitor = Monitor()
    monitor.feed(_results(s))
    assert monitor.day(Key(1, 1, SKILL), T0).offered == 0
    assert monitor.day(Key(1, 1, SKILL), T0 + 3 * 86_400_000 + 60_000).offered == 1
    assert all(day >= monitoring.day_of(T0 + 2 * 86_400_000) for _, day in monitor.days)


def test_live_figures_from_the_engine() -> None:
    s = Script()
    s.login(101, 102, 103, skills=(SKILL,))
    s.arrive(10, call_id="c-1")
    s("call.queue", 10, callId="c-1", skillId=SKILL)
    s.arrive(20, call_id="c-2")
    s("call.queue", 20, callId="c-2", skillId=SKILL)
    s.arrive(30, call_id="c-3")
    s("call.queue", 30, callId="c-3", skillId=SKILL)
    s("call.alert", 31, callId="c-3", agentId=101)
    s("call.answer", 32, callId="c-3", agentId=101)
    waiting = monitoring.waiting_calls(s.engine, 1, 1)
    assert [w.call_id for w in waiting] == ["c-1", "c-2"]
    assert waiting[0].since == T0 + 10_000
    assert monitoring.handled_calls(s.engine, 1, 1, SKILL) == 1
    states = monitoring.agents_by_state(s.engine, monitoring.agents_of(s.engine, 1, 1, SKILL))
    assert states[CtiAgentState.TALKING] == 1
    assert states[CtiAgentState.IDLE] == 2
    assert monitoring.agents_of(s.engine, 1, 1, 8) == []


def test_answered_from_other_queues() -> None:
    s = Script()
    s.login(101, skills=(SKILL, 8))
    _answered(s, "c-1", 10, wait=5)
    s.arrive(100, call_id="c-2")
    s("call.queue", 100, callId="c-2", skillId=8)
    s("call.alert", 101, callId="c-2", agentId=101)
    s("call.answer", 102, callId="c-2", agentId=101)
    s("call.release", 130, callId="c-2", by="customer")
    monitor = Monitor()
    monitor.feed(_results(s))
    assert monitor.answered_from_other_queues(1, [101], SKILL, T0) == {8: 1}
    assert monitor.answered_from_other_queues(1, [101], 8, T0) == {SKILL: 1}
    assert monitor.answered_from_other_queues(1, [102], 8, T0) == {}


def test_a_later_call_center_never_drops_another_call_centers_counters() -> None:
    old = Script(cc_id=2)
    old.login(101, at=0, skills=(SKILL,))
    _answered(old, "c-1", 10, wait=5)
    live = Script(cc_id=1)
    live._n = 1000
    live.login(101, at=90 * 86_400, skills=(SKILL,))
    _answered(live, "c-9", 90 * 86_400 + 10, wait=5)  # three months later
    monitor = Monitor()
    monitor.feed(_results(old) + _results(live))
    assert monitor.day(Key(2, 1, SKILL), T0).offered == 1  # kept, on call center 2's own clock
    assert monitor.day(Key(1, 1, SKILL), T0 + 90 * 86_400_000).offered == 1


def test_census_counts_live_calls_and_agents_by_state_per_vdn() -> None:
    s = Script()
    s.login(101, 102, 103, at=0, skills=(SKILL,))
    s.arrive(1, call_id="c-1")
    s("call.queue", 2, callId="c-1", skillId=SKILL)
    s("call.alert", 3, callId="c-1", agentId=101)
    s("call.answer", 4, callId="c-1", agentId=101)  # 101 talking
    s.arrive(5, call_id="c-2")
    s("call.queue", 6, callId="c-2", skillId=SKILL)
    s("call.alert", 7, callId="c-2", agentId=102)  # 102 answering (ringing)
    s("agent.logout", 8, agentId=103)  # 103 known, signed out
    other = Script(s.engine, vdn=2)
    other._n = 1000  # event ids of its own
    other.login(201, at=9, skills=(SKILL,))
    other.arrive(10, call_id="c-3")  # waiting in VDN 2
    found = monitoring.census(s.engine)
    assert found.calls == {(1, 1): 2, (1, 2): 1}
    vdn1 = {state: n for state, n in found.agents[(1, 1)].items() if n}
    assert vdn1 == {CtiAgentState.TALKING: 1, CtiAgentState.ANSWERING: 1, CtiAgentState.NOT_SIGNED_IN: 1}
    assert len(found.agents[(1, 1)]) == len(CtiAgentState)  # every state, zeros included
    assert {state: n for state, n in found.agents[(1, 2)].items() if n} == {CtiAgentState.IDLE: 1}
    s("call.release", 20, callId="c-1", by="customer")
    assert monitoring.census(s.engine).calls == {(1, 1): 1, (1, 2): 1}
