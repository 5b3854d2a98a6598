"""The workforce planner (sim/staffing.py): Erlang C against textbook values, and shifts that cover the plan."""

from __future__ import annotations

import math

import pytest

from ccdata import config as configuration
from ccdata.sim.staffing import (
    SLOTS,
    agents_needed,
    erlang_b,
    erlang_c,
    lay_shifts,
    plan_scenario,
    requirement,
    service_level,
    with_shrinkage,
)


def test_erlang_b_and_c_match_closed_forms() -> None:
    assert erlang_b(1, 1.0) == pytest.approx(0.5)
    assert erlang_b(2, 2.0) == pytest.approx(0.4)  # (4/2) / (1 + 2 + 2)
    assert erlang_c(2, 1.0) == pytest.approx(1 / 3)
    assert erlang_c(3, 2.0) == pytest.approx(4 / 9)
    assert erlang_c(1, 0.5) == pytest.approx(0.5)  # M/M/1: the utilisation
    assert erlang_c(4, 4.0) == 1.0  # the agents cannot carry the load: everyone waits


@pytest.mark.parametrize(
    ("agents", "load", "expected"),
    [(11, 10.0, 0.6821), (12, 10.0, 0.4494), (13, 10.0, 0.2853), (14, 10.0, 0.1741), (15, 10.0, 0.1020)],
)
def test_erlang_c_matches_the_textbook_table(agents: int, load: float, expected: float) -> None:
    """The textbook example: 100 calls in half an hour, 180 s each, so 10 Erlang."""
    assert erlang_c(agents, load) == pytest.approx(expected, abs=5e-5)


def test_the_textbook_example_needs_14_agents_for_80_20() -> None:
    assert service_level(13, 10.0, 180, 20) < 0.8 <= service_level(14, 10.0, 180, 20)
    assert service_level(14, 10.0, 180, 20) == pytest.approx(0.8884, abs=5e-4)
    assert agents_needed(10.0, 180, 0.8, 20) == 14
    assert agents_needed(0.0, 180, 0.8, 20) == 0
    assert agents_needed(0.2, 300, 0.8, 20) >= 1


def test_shrinkage_schedules_the_nearest_agent() -> None:
    assert [with_shrinkage(n, 0.1) for n in (0, 4, 5, 14, 18)] == [0, 4, 6, 16, 20]


def test_shifts_cover_the_plan_and_never_cross_midnight() -> None:
    needed = [2] * 14 + [8] * 20 + [4] * 14
    laid = lay_shifts(needed, 8, 16)
    cover = [0] * SLOTS
    for start, length in laid:
        assert 8 <= length <= 16 or start + length == SLOTS
        assert start + length <= SLOTS
        for slot in range(start, start + length):
            cover[slot] += 1
    assert all(c >= n for c, n in zip(cover, needed, strict=True))
    assert sum(cover) - sum(needed) < sum(needed) * 0.3  # shifts end as the need falls


def test_the_default_scenario_is_staffed_by_its_plan() -> None:
    scenario = configuration.load().simulator
    planned = plan_scenario(scenario)
    assert not planned.staffing
    for pool in scenario.staffing:
        for weekday in range(7):
            needed = requirement(scenario, pool, weekday)
            cover = [0] * SLOTS
            for shift in planned.shifts:
                if weekday in shift.weekdays and pool.first <= shift.first < pool.first + pool.count:
                    for slot in range(int(shift.start_hour * 2), int(shift.end_hour * 2)):
                        cover[slot] += shift.count
            assert all(c >= n for c, n in zip(cover, needed, strict=True)), (pool.first, weekday)
            assert max(needed) > 2 * min(needed)  # the plan follows the arrival profile
    # more agents at the Monday morning peak than on Sunday's
    retail = scenario.staffing[0]
    assert max(requirement(scenario, retail, 0)) > max(requirement(scenario, retail, 6))
    assert math.isfinite(sum(requirement(scenario, retail, 0)))
