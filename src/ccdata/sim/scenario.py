"""The simulator's scenario: the `[simulator]` section of the configuration (see docs/simulator.md).

Durations are in seconds and drawn from small named distributions; rates are probabilities per call.
"""

from __future__ import annotations

import math
import random
from statistics import NormalDist
from typing import Annotated, Literal

import msgspec
from msgspec import Meta

Probability = Annotated[float, Meta(ge=0.0, le=1.0)]


class Dist(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    """A duration in seconds: `fixed` (mean), `exponential` (mean), `lognormal` (mean, sd), `uniform` (low, high)."""

    kind: Literal["fixed", "exponential", "lognormal", "uniform"] = "fixed"
    mean: Annotated[float, Meta(ge=0)] = 0.0
    sd: Annotated[float, Meta(ge=0)] = 0.0
    low: Annotated[float, Meta(ge=0)] = 0.0
    high: Annotated[float, Meta(ge=0)] = 0.0

    def draw_ms(self, rng: random.Random) -> int:
        if self.kind == "fixed":
            seconds = self.mean
        elif self.kind == "exponential":
            seconds = rng.expovariate(1 / self.mean) if self.mean else 0.0
        elif self.kind == "uniform":
            seconds = rng.uniform(self.low, self.high)
        else:
            variance = math.log(1 + (self.sd / self.mean) ** 2) if self.mean else 0.0
            seconds = rng.lognormvariate(math.log(self.mean) - variance / 2, math.sqrt(variance)) if self.mean else 0
        return max(0, round(seconds * 1000))

    def residual_ms(self, elapsed_ms: int, rng: random.Random) -> int:
        """What is left of a duration that has already lasted `elapsed_ms`: X - elapsed, X drawn given X > elapsed.

        Used when the simulator adopts an activity already under way (a call talking for 5 minutes, a caller
        queueing): a fresh draw would ignore what has passed, and past the largest possible value it is over now.
        """
        if elapsed_ms <= 0:
            return self.draw_ms(rng)
        elapsed = elapsed_ms / 1000
        if self.kind == "exponential":
            return self.draw_ms(rng)  # memoryless: the residual is a fresh draw
        if self.kind == "fixed":
            seconds = self.mean
        elif self.kind == "uniform":
            seconds = rng.uniform(max(self.low, elapsed), self.high) if elapsed < self.high else elapsed
        else:
            seconds = self._lognormal_beyond(elapsed, rng)
        return max(0, round(seconds * 1000) - elapsed_ms)

    def _lognormal_beyond(self, elapsed: float, rng: random.Random) -> float:
        """A lognormal draw conditioned on exceeding `elapsed` seconds, by inverting the CDF above F(elapsed)."""
        if not self.mean:
            return 0.0
        variance = math.log(1 + (self.sd / self.mean) ** 2)
        mu, sigma = math.log(self.mean) - variance / 2, math.sqrt(variance)
        if sigma == 0:
            return self.mean
        normal = NormalDist()
        floor = normal.cdf((math.log(elapsed) - mu) / sigma)
        if floor >= 1 - 1e-12:  # far in the tail: it ends now
            return elapsed
        return math.exp(mu + sigma * normal.inv_cdf(rng.uniform(max(floor, 1e-12), 1 - 1e-12)))


def fixed(seconds: float) -> Dist:
    return Dist("fixed", mean=seconds)


class SkillTarget(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    skill: int
    weight: Annotated[float, Meta(gt=0)] = 1.0


class AccessCode(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    """An access code (called number): its VDN, IVR flow, traffic profile and the skills its calls ask for."""

    called: str
    vdn: int
    skills: list[SkillTarget]
    flow: str = ""  # no flow: calls queue at once
    ivr_time: Dist = fixed(0)
    self_service: Probability = 0.0  # share of calls finished in the IVR
    ivr_abandon: Probability = 0.0
    calls_per_hour: Annotated[list[float], Meta(min_length=24, max_length=24)] = msgspec.field(
        default_factory=lambda: [60.0] * 24
    )
    weekday_factor: Annotated[list[float], Meta(min_length=7, max_length=7)] = msgspec.field(
        default_factory=lambda: [1.0] * 7  # Monday first
    )
    media_type: int = 5
    sub_media_type: int = -1


class ConsultOutcomes(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    """How answered consults end, as weights: attended transfer, three-party conference, or cancelled (the
    consulting agent retrieves the customer). A consult nobody answers in time is always cancelled."""

    transfer: Annotated[float, Meta(ge=0)] = 0.5
    conference: Annotated[float, Meta(ge=0)] = 0.3
    cancel: Annotated[float, Meta(ge=0)] = 0.2


class SkillBehaviour(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    """How calls of one skill queue behave."""

    skill: int
    handle_time: Dist = fixed(180)
    wrap_up: Dist = fixed(0)
    patience: Dist | None = None  # None: callers never abandon
    queue_timeout_s: Annotated[float, Meta(ge=0)] = 0  # 0: no timeout
    overflow_skill: int = 0  # where a timed-out call goes (0: it stays)
    hold_rate: Probability = 0.0
    hold_time: Dist = fixed(30)
    transfer_rate: Probability = 0.0  # blind transfers to another skill queue
    transfer_skill: int = 0
    agent_transfer_rate: Probability = 0.0  # blind transfers to a colleague with the skill (private queue if busy)
    conference_rate: Probability = 0.0
    # Consults (contract v2): at the end of its talk the agent holds the customer and consults a colleague.
    consult_rate: Probability = 0.0  # share of answered calls whose agent consults (at most once per call)
    consult_skill: int = 0  # the skill queue consulted (0: the call's own skill)
    consult_agent_rate: Probability = 0.0  # share of consults to a named idle colleague with the call's skill
    consult_outcomes: ConsultOutcomes = ConsultOutcomes()
    consult_time: Dist = fixed(45)  # the agents' talk before the consult is completed or cancelled
    consult_patience: Dist = fixed(60)  # how long the agent waits for a queued consult before cancelling it
    conference_time: Dist = fixed(90)  # three-party talk after a consult joined as a conference
    helper_leaves: Probability = 0.7  # after it, the consulted agent leaves (`call.leave`); else the call ends
    survey_rate: Probability = 0.0
    survey_scores: Annotated[list[float], Meta(min_length=1)] = msgspec.field(
        default_factory=lambda: [1.0, 1.0, 2.0, 3.0, 3.0]  # weights of the scores 1..N
    )


class Break(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    """A break of `minutes` from `at_hour`; with a window, the shift's agents start theirs staggered over it."""

    at_hour: Annotated[float, Meta(ge=0, lt=24)]
    minutes: Annotated[float, Meta(gt=0)]
    window_minutes: Annotated[float, Meta(ge=0)] = 0  # 0: every agent of the shift at `at_hour`

    def due_ms(self, index: int, count: int) -> int:
        """When the `index`-th of `count` agents is due for it, after midnight: evenly spread over the window."""
        return int(self.at_hour * 3_600_000 + self.window_minutes * 60_000 * index / max(1, count))


class Shift(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    """Agents `first`..`first+count-1` work from `start_hour` to `end_hour` (UTC) on `weekdays` (0 = Monday)."""

    first: int
    count: Annotated[int, Meta(ge=1)]
    start_hour: Annotated[float, Meta(ge=0, le=24)] = 0
    end_hour: Annotated[float, Meta(ge=0, le=24)] = 24
    weekdays: list[int] = msgspec.field(default_factory=lambda: [0, 1, 2, 3, 4, 5, 6])
    breaks: list[Break] = []
    skill_levels: dict[str, int] = {}  # skill ID (as a string, TOML keys) -> level; higher is served first


class Campaign(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    """A preview outbound campaign: idle agents with the skill dial customers at this rate."""

    vdn: int
    skill: int
    calls_per_hour: Annotated[float, Meta(ge=0)]
    answer_rate: Probability = 0.7
    talk_time: Dist = fixed(120)
    caller: str = "650550"
    start_hour: Annotated[float, Meta(ge=0, le=24)] = 0  # it dials only from start_hour to end_hour (UTC) ...
    end_hour: Annotated[float, Meta(ge=0, le=24)] = 24
    weekdays: list[int] = msgspec.field(default_factory=lambda: [0, 1, 2, 3, 4, 5, 6])  # ... on these days

    def open_at(self, weekday: int, hour: float) -> bool:
        return weekday in self.weekdays and self.start_hour <= hour < self.end_hour


class StaffingPool(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    """Agents `first`..`first+count-1`, scheduled by the planner (sim/staffing.py) instead of fixed shifts.

    Their skills are planned as one queue: per half hour and weekday, the agents Erlang C gives for
    `service_level` answered within `answer_s`, divided by (1 - shrinkage), at least `minimum`.
    """

    first: int
    count: Annotated[int, Meta(ge=1)]
    skills: list[int]
    skill_levels: dict[str, int] = {}
    service_level: Annotated[float, Meta(gt=0, lt=1)] = 0.8
    answer_s: Annotated[float, Meta(gt=0)] = 20
    shrinkage: Annotated[float, Meta(ge=0, lt=1)] = 0.03  # time lost besides breaks (no-answer spells)
    minimum: Annotated[int, Meta(ge=0)] = 2
    shortest_shift: Annotated[float, Meta(gt=0, le=24)] = 4  # hours
    longest_shift: Annotated[float, Meta(gt=0, le=24)] = 8
    break_minutes: Annotated[float, Meta(gt=0)] = 30
    break_after_minutes: Annotated[float, Meta(ge=0)] = 300  # shifts at least this long get a break
    break_window_minutes: Annotated[float, Meta(ge=0)] = 90


class Workbench(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    """The other parties of interactive agents' calls (sim/workbench.py): the simulator never acts for the agent."""

    no_answer_timeout_s: Annotated[float, Meta(gt=0)] = 20  # a call rings this long at an interactive agent
    callout_ring_time: Dist = Dist("uniform", low=3, high=12)  # until a called customer answers or refuses
    callout_answer_rate: Probability = 0.7  # a customer called by the workbench answers ...
    callout_busy_rate: Probability = 0.1  # ... or refuses (busy, cause 47); otherwise no answer (cause 8)
    callout_talk_time: Dist = Dist("lognormal", mean=120, sd=60)  # then hangs up (unless the agent first)
    outside_answer_rate: Probability = 0.9  # an outside number a call is transferred to or consulted answers
    consulted_patience: Dist = fixed(120)  # a consulted party hangs up a consult left waiting this long


class Scenario(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    seed: int = 1
    ring_time: Dist = Dist("uniform", low=2, high=8)  # frozen: safe as a default
    no_answer_rate: Probability = 0.0
    no_answer_timeout_s: Annotated[float, Meta(gt=0)] = 15
    workbench: Workbench = Workbench()
    access_codes: list[AccessCode] = []
    skills: list[SkillBehaviour] = []
    shifts: list[Shift] = []
    campaigns: list[Campaign] = []
    staffing: list[StaffingPool] = []
    break_max_away: Annotated[float, Meta(gt=0, le=1)] = 1.0  # share of a skill's signed-in agents at rest at once
