"""A simulator started on a store that already holds events carries on what the engine holds, and never writes
an event dated after the wall clock. Checked through real SQLite files and the records the engine wrote."""

from __future__ import annotations

import asyncio
import itertools
import os
import random
import statistics
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import msgspec
import pytest

from ccdata import config as configuration
from ccdata.domain.engine import Engine
from ccdata.domain.model import Phase
from ccdata.domain.records import LAST_ROW
from ccdata.pipeline import Committed
from ccdata.service import Service, wall_clock_ms
from ccdata.sim.clocks import LiveSimulator, backfill, log_end
from ccdata.sim.contact_center import HOUR_MS, ContactCenter
from ccdata.sim.scenario import Dist
from ccdata.store.sqlite import SqliteStore

pytestmark = pytest.mark.embedded_only("the simulator's own store file, reopened across restarts")

START = 1_767_225_600_000  # 2026-01-01T00:00:00Z
MINUTE_MS = 60_000
RESTART = START + 3 * HOUR_MS + MINUTE_MS  # just after a shift change and the start of a break
RATE = 150  # calls an hour at the access code
# The longest a call of the scenario below can last: IVR 30 s, patience 240 s (counted from the first queue
# entry), ring or no-answer 15 s, talk 360 s and hold 60 s, then once more after a transfer (a fresh patience of
# 240 s, ring, 300 s, 60 s); campaign calls are shorter. Chains of no-answers are rare; 30 minutes leave room for them.
LONGEST_CALL_MS = 30 * MINUTE_MS

AGENTS = """
[[vdns]]
id = 1
skills = [{ id = 1, name = "one" }, { id = 2, name = "two" }]

[[agent_groups]]
first = 1001
count = 16
vdn = 1
password = "x"
skills = [1, 2]

[[agent_groups]]
first = 1901
count = 1
vdn = 1
password = "x"
skills = [1]
interactive = true
"""

SCENARIO = """
[simulator]
seed = {seed}
ring_time = {{ kind = "uniform", low = 2, high = 8 }}
no_answer_rate = 0.1
no_answer_timeout_s = 15

[[simulator.access_codes]]
called = "100"
vdn = 1
flow = "7"
ivr_time = {{ kind = "uniform", low = 5, high = 30 }}
self_service = 0.1
skills = [{{ skill = 1, weight = 3 }}, {{ skill = 2 }}]
calls_per_hour = {rates}

[[simulator.skills]]
skill = 1
handle_time = {{ kind = "uniform", low = {talk_low}, high = {talk_high} }}
wrap_up = {{ kind = "uniform", low = 5, high = 30 }}
patience = {{ kind = "uniform", low = 30, high = 240 }}
queue_timeout_s = 60
overflow_skill = 2
hold_rate = 0.3
hold_time = {{ kind = "uniform", low = 10, high = 60 }}
conference_rate = 0.2
agent_transfer_rate = 0.1
transfer_rate = 0.1
transfer_skill = 2
survey_rate = 0.3

[[simulator.skills]]
skill = 2
handle_time = {{ kind = "uniform", low = {talk_low}, high = 300 }}
wrap_up = {{ kind = "fixed", mean = 10 }}
patience = {{ kind = "uniform", low = 30, high = 240 }}
hold_rate = 0.2

[[simulator.campaigns]]
vdn = 1
skill = 2
calls_per_hour = 10
answer_rate = 0.6
talk_time = {{ kind = "uniform", low = 30, high = 200 }}
"""

SHIFTS = """
[[simulator.shifts]]  # off shift at the restart: they sign out once their calls end
first = 1001
count = 6
start_hour = 0
end_hour = 3
breaks = [{ at_hour = 2.5, minutes = 15 }]

[[simulator.shifts]]  # at rest at the restart: they come back, and take their next break
first = 1007
count = 4
start_hour = 0
end_hour = 24
breaks = [{ at_hour = 2.9, minutes = 30 }, { at_hour = 5, minutes = 15 }]

[[simulator.shifts]]  # not yet signed in at the restart: they sign in at 3:30
first = 1011
count = 2
start_hour = 3.5
end_hour = 24
"""


def scenario(seed: int = 20, rate: float = RATE, talk: tuple[int, int] = (60, 360), shifts: str = SHIFTS) -> str:
    text = SCENARIO.format(seed=seed, rates=[rate] * 24, talk_low=talk[0], talk_high=talk[1])
    return AGENTS + text + shifts  # agents 1013-1016 have no shift: signed in around the clock


def open_service(config: configuration.Config, path: Path) -> Service:
    """A service on the SQLite file: opening it again is a restart (the engine is rebuilt from the store)."""
    return Service(config, SqliteStore(path))


def logged(service: Service) -> list[dict[str, Any]]:
    return [msgspec.json.decode(body) for _, body in service.store.events_after(0)]


def rejected_inputs(service: Service) -> int:
    return service.store.count("rejected")


def check_agents(engine: Engine) -> None:
    """The simulator's conferences join outside numbers: an agent never has two calls."""
    doubled = {a.agent_id: a.calls for a in engine.agents.values() if len(a.calls) > 1}
    assert not doubled, doubled


def ended_with_records(service: Service, call_id: str, manual: bool) -> bool:
    rows = service.store.find_track_rows(1, call_id)
    results = service.store.call_results(1, call_id)
    return any(r.call_id_num == LAST_ROW for r in rows) and (bool(results) or not manual)


# --- a restart in the middle of the day -------------------------------------------------------------------------


def test_a_restart_carries_on_every_call_and_agent(tmp_path: Path) -> None:
    config = configuration.parse(scenario())
    path = tmp_path / "restart.db"
    service = open_service(config, path)
    service.clock = lambda: START  # the interactive agent's client signs in at the start, as through the gateway
    simulator = ContactCenter(config, config.simulator, START)
    service.subscribe(lambda item: None if simulator.made(item.event.id) else simulator.follow(item.event))
    assert service.emit("agent.login", 1, agentId=1901, skills=[1]) is None
    first = backfill(service, simulator, RESTART, drain=False, now=lambda: RESTART)
    assert first.rejected == 0 and first.stats.calls > 150
    service.store.close()  # stopped without a snapshot: the next start replays the log

    service = open_service(config, path)
    engine = service.engine
    in_progress = {call.call_id: call.manual for call in engine.calls.values()}
    phases = Counter(call.phase for call in engine.calls.values())
    resting = {a.agent_id: a.mode_since for a in engine.agents.values() if a.signed_in and a.mode.name == "REST"}
    off_shift_busy = [a for a in range(1001, 1007) if engine.agent(1, a).signed_in]
    assert len(in_progress) >= 10 and {Phase.TALKING, Phase.HELD, Phase.QUEUED, Phase.IVR} <= set(phases), phases
    assert resting and off_shift_busy  # the situations this test is about are there at the restart

    restart = log_end(engine, 1) + 1
    assert restart <= RESTART
    adopted = ContactCenter.adopting(config, config.simulator, engine, restart)
    assert adopted.adoption.calls == len(in_progress) and not adopted.adoption.strays
    reasons: Counter[str] = Counter()
    duplicates = 0
    for step in range(1, 37):  # three hours, five minutes at a time
        now = restart + step * 5 * MINUTE_MS
        report = service.ingest(adopted.run_until(now))
        reasons.update(report.reasons)
        duplicates += report.duplicates
        check_agents(engine)
        too_old = [c.call_id for c in engine.calls.values() if now - c.arrived_at > LONGEST_CALL_MS]
        assert not too_old, too_old

    assert not reasons and duplicates == 0 and rejected_inputs(service) == 0
    unfinished = [call for call, manual in in_progress.items() if not ended_with_records(service, call, manual)]
    assert not unfinished

    events = [e for e in logged(service) if e["at"] >= restart]
    arrivals = sorted(e["at"] for e in events if e["type"] == "call.arrive")
    # No gap: arrivals go on at once, at the scenario's rate (Poisson: 4 standard deviations).
    assert arrivals[0] - restart < 10 * MINUTE_MS
    first_hour = sum(1 for at in arrivals if at < restart + HOUR_MS)
    assert abs(first_hour - RATE) < 4 * RATE**0.5, first_hour

    signed_in = {a.agent_id for a in engine.agents.values() if a.signed_in}
    assert signed_in == {*range(1007, 1017), 1901}  # 1001-1006 signed out when their calls ended
    assert not [a for a in engine.agents.values() if a.signed_in and a.mode.name == "REST"]  # back from the break
    back = {}
    for e in events:
        if e["type"] == "agent.state" and e["state"] == "idle" and e["agentId"] in resting:
            back.setdefault(e["agentId"], e["at"])
    assert back == {agent_id: since + 30 * MINUTE_MS for agent_id, since in resting.items()}  # a 30-minute break
    rests = {e["agentId"] for e in events if e["type"] == "agent.state" and e["state"] == "rest"}
    assert rests == {1007, 1008, 1009, 1010}  # their shift goes on: the break at 5:00
    logins = {e["agentId"]: e["at"] for e in events if e["type"] == "agent.login"}
    assert logins == {1011: START + int(3.5 * HOUR_MS), 1012: START + int(3.5 * HOUR_MS)}
    logouts = {e["agentId"] for e in events if e["type"] == "agent.logout"}
    assert logouts == set(off_shift_busy)  # never the interactive agent: its client signs it in and out
    # Its calls rang and were never answered for it: no workbench answered, so the platform set it busy (reason 2),
    # and it stays so across the restart, until its workbench says otherwise.
    everything = logged(service)
    assert any(e["type"] == "call.alert" and e.get("agentId") == 1901 for e in everything)
    assert not any(e["type"] == "call.answer" and e.get("agentId") == 1901 for e in everything)
    assert engine.agent(1, 1901).mode.name == "BUSY" and engine.agent(1, 1901).mode_reason == 2


STAGGERED = """
[[simulator.shifts]]
first = 1001
count = 8
start_hour = 0
end_hour = 6
breaks = [{ at_hour = 2, minutes = 20, window_minutes = 80 }]
"""


def test_adopted_agents_keep_their_staggered_breaks(tmp_path: Path) -> None:
    """A restart in the middle of a staggered break window: those resting come back after their 20 minutes,
    those not yet due take theirs at their own time, and nobody has a second one."""
    config = configuration.parse(scenario(rate=40, shifts=STAGGERED))
    path = tmp_path / "staggered.db"
    service = open_service(config, path)
    restart_at = START + 2 * HOUR_MS + 35 * MINUTE_MS
    backfill(service, ContactCenter(config, config.simulator, START), restart_at, drain=False, now=lambda: restart_at)
    service.store.close()

    service = open_service(config, path)
    engine = service.engine
    resting = {a.agent_id: a.mode_since for a in engine.agents.values() if a.signed_in and a.mode.name == "REST"}
    assert resting
    restart = log_end(engine, 1) + 1
    adopted = ContactCenter.adopting(config, config.simulator, engine, restart)
    assert service.ingest(adopted.run_until(START + 6 * HOUR_MS)).rejected == 0

    states = [e for e in logged(service) if e["type"] == "agent.state" and 1001 <= e["agentId"] <= 1008]
    rests = Counter(e["agentId"] for e in states if e["state"] == "rest")
    assert rests == Counter(range(1001, 1009))  # each of the eight once, before or after the restart
    assert any(e["state"] == "rest" and e["at"] >= restart for e in states)  # some were not yet due
    for agent_id, since in resting.items():
        back = min(e["at"] for e in states if e["agentId"] == agent_id and e["state"] == "idle" and e["at"] > since)
        assert back == since + 20 * MINUTE_MS
    for e in states:  # after the restart, a break starts no earlier than the agent's turn in the window
        if e["state"] == "rest" and e["at"] >= restart:
            assert e["at"] >= START + 2 * HOUR_MS + (e["agentId"] - 1001) * 10 * MINUTE_MS


def test_call_and_event_ids_never_collide_across_quick_restarts(tmp_path: Path) -> None:
    """Restarts within the same second: new call IDs (`{second}-{n}`) and event IDs stay unique."""
    config = configuration.parse(scenario(rate=20_000, talk=(5, 20), shifts=""))
    path = tmp_path / "quick.db"
    service = open_service(config, path)
    simulator = ContactCenter(config, config.simulator, START)
    for restart in range(5):
        report = service.ingest(simulator.run_until(simulator.now + 700))  # 0.7 s: restarts share seconds
        assert report.rejected == 0 and report.duplicates == 0, (restart, report.reasons)
        service.store.close()
        service = open_service(config, path)
        simulator = ContactCenter.adopting(config, config.simulator, service.engine, log_end(service.engine, 1) + 1)
    report = service.ingest(simulator.run_until(simulator.now + 2 * MINUTE_MS))
    assert report.rejected == 0 and report.duplicates == 0, report.reasons
    call_ids = [e["callId"] for e in logged(service) if e["type"] == "call.arrive"]
    seconds = Counter(call_id.split("-")[0] for call_id in call_ids)
    assert len(call_ids) == len(set(call_ids)) > 400, Counter(call_ids).most_common(3)
    assert seconds.most_common(1)[0][1] > 1  # several calls in one second: the numbering did matter


def test_residual_durations_follow_the_distribution_beyond_the_elapsed_time() -> None:
    """A draw given that the duration already exceeds the elapsed time, against plain rejection sampling."""
    rng, check = random.Random(5), random.Random(6)
    for dist, elapsed_s in [
        (Dist("lognormal", mean=200, sd=150), 300),
        (Dist("uniform", low=60, high=360), 100),
        (Dist("exponential", mean=120), 500),
    ]:
        residual = [dist.residual_ms(elapsed_s * 1000, rng) / 1000 for _ in range(20_000)]
        beyond = [x / 1000 - elapsed_s for x in (dist.draw_ms(check) for _ in range(400_000)) if x > elapsed_s * 1000]
        assert min(residual) >= 0
        assert statistics.fmean(residual) == pytest.approx(statistics.fmean(beyond), rel=0.05), dist
    assert Dist("uniform", low=60, high=360).residual_ms(400_000, rng) == 0  # past the longest: over now
    assert Dist("fixed", mean=30).residual_ms(10_000, rng) == 20_000


# --- backfills and the wall clock ----------------------------------------------------------------------------


def test_simulate_continues_an_interrupted_backfill(tmp_path: Path) -> None:
    text = scenario(shifts="")
    config_path = tmp_path / "ccdata.toml"
    config_path.write_text(text)
    config = configuration.parse(text)
    path = tmp_path / "history.db"
    service = open_service(config, path)
    now = wall_clock_ms()
    hours_done = 0

    def interrupt(_: int) -> None:  # Ctrl-C two hours into a four-hour backfill
        nonlocal hours_done
        hours_done += 1
        if hours_done == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        backfill(service, ContactCenter(config, config.simulator, now - 4 * HOUR_MS), now, progress=interrupt)
    interrupted_at = log_end(service.engine, 1)
    in_progress = {call.call_id: call.manual for call in service.engine.calls.values()}
    logged_before = len(logged(service))
    service.store.close()
    assert in_progress and interrupted_at < now - HOUR_MS

    command = [sys.executable, "-c", "from ccdata.cli import main; main()", "simulate", "--days", "1",
               "--db", str(path), "--config", str(config_path)]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, timeout=60, env={**os.environ, "COLUMNS": "60"})
    finished = wall_clock_ms()
    assert done.returncode == 0, done.stderr
    note = [line for line in done.stderr.splitlines() if "continuing from there" in line]
    assert len(note) == 1 and f"its {len(in_progress)} calls in progress" in note[0], done.stderr

    service = open_service(config, path)
    events = logged(service)
    assert rejected_inputs(service) == 0
    new = events[logged_before:]
    assert new and min(e["at"] for e in new) > interrupted_at  # after the log's end ...
    assert max(e["at"] for e in events) <= finished  # ... and never after the wall clock
    arrivals = sorted(e["at"] for e in events if e["type"] == "call.arrive")
    assert max(b - a for a, b in itertools.pairwise(arrivals)) < 15 * MINUTE_MS  # no gap
    assert arrivals[-1] > finished - 15 * MINUTE_MS  # up to now
    assert all(ended_with_records(service, call_id, manual) for call_id, manual in in_progress.items())
    check_agents(service.engine)


def test_a_backfill_never_writes_after_now(tmp_path: Path) -> None:
    config = configuration.parse(scenario(shifts=""))
    service = open_service(config, tmp_path / "now.db")
    simulator = ContactCenter(config, config.simulator, START)
    with pytest.raises(ValueError, match="future"):
        backfill(service, simulator, START + HOUR_MS, now=lambda: START + HOUR_MS - 1)
    report = backfill(service, simulator, START + HOUR_MS, now=lambda: START + HOUR_MS + MINUTE_MS)
    assert report.rejected == 0
    assert log_end(service.engine, 1) <= START + HOUR_MS + MINUTE_MS  # the drain stopped at "now"
    assert service.engine.calls  # the calls still in progress then stay in progress, for a later run to adopt


def test_the_live_simulator_adopts_a_backfill_ending_now_and_stays_behind_the_wall_clock(tmp_path: Path) -> None:
    # Busy (5 calls a second), so that the few seconds of the live run below see many events.
    config = configuration.parse(scenario(rate=20_000, talk=(5, 15), shifts=""))
    path = tmp_path / "live.db"
    service = open_service(config, path)
    now = wall_clock_ms()
    backfill(service, ContactCenter(config, config.simulator, now - 5 * MINUTE_MS), now)
    # A feed whose clock runs 1 s ahead: the live simulator must wait for it, not date events after now.
    ahead = {"id": "feed-1", "type": "agent.login", "at": wall_clock_ms() + 1000, "ccId": 1, "vdn": 1, "agentId": 5555}
    assert service.ingest([ahead]).accepted == 1
    service.close()

    service = open_service(config, path)
    engine = service.engine
    assert engine.calls  # calls in progress at the end of the backfill, to adopt
    live = LiveSimulator(service, speed=1)
    assert set(live.simulator.in_progress) == {call_id for _, call_id in engine.calls}
    on = {a.agent_id for a in live.simulator.agents.values() if a.state != "off"}
    assert on == {a.agent_id for a in engine.agents.values() if a.signed_in and a.agent_id != 5555}
    late: list[tuple[int, int]] = []
    seen: list[int] = []

    def committed(item: Committed) -> None:
        seen.append(item.event.at)
        if item.event.at > (wall := wall_clock_ms()):
            late.append((item.event.at, wall))

    service.subscribe(committed)

    async def drive() -> None:
        deadline = time.monotonic() + 3
        while time.monotonic() < deadline:
            await live.step()
            await asyncio.sleep(LiveSimulator.TICK_S)

    asyncio.run(drive())
    assert not late and live.rejected == 0
    assert len(seen) > 10 and min(seen) > ahead["at"]  # it went on once the wall clock passed the log's end
    check_agents(engine)


# --- consults in progress at a restart ---------------------------------------------------------------------------

CONSULTS = """
consult_rate = 0.5
consult_skill = 2
consult_agent_rate = 0.4
consult_time = { kind = "uniform", low = 30, high = 240 }
consult_patience = { kind = "uniform", low = 60, high = 240 }
conference_time = { kind = "uniform", low = 60, high = 300 }
"""


def check_consulting_agents(engine: Engine) -> None:
    """An agent holds two calls only while it consults: the customer's, held, and its consult."""
    for agent in engine.agents.values():
        if len(agent.calls) > 1:
            original, consult = (engine.call(1, call_id) for call_id in agent.calls)
            assert len(agent.calls) == 2 and original.consult == consult.call_id, agent


def test_a_restart_adopts_consults_and_conferences_in_progress(tmp_path: Path) -> None:
    """Seed 2 stops with consults talking and waiting in skill 2's queue and consults joined as conferences:
    each goes on to an end (transfer, conference, cancel, or the call's release) with no rejection."""
    text = scenario(seed=2, shifts="").replace("survey_rate = 0.3\n", "survey_rate = 0.3\n" + CONSULTS, 1)
    config = configuration.parse(text)
    path = tmp_path / "consults.db"
    service = open_service(config, path)
    first = backfill(service, ContactCenter(config, config.simulator, START), RESTART, drain=False,
                     now=lambda: RESTART)  # fmt: skip
    assert first.rejected == 0 and first.stats.consults > 50
    service.store.close()

    service = open_service(config, path)
    engine = service.engine
    in_progress = {call.call_id: call.manual and not call.internal for call in engine.calls.values()}  # no result
    consults = {c.call_id: c.phase for c in engine.calls.values() if c.consult_of}
    joined = [c.call_id for c in engine.calls.values() if c.conference and c.first_agent]
    assert {Phase.TALKING, Phase.QUEUED} <= set(consults.values()) and joined, (consults, joined)
    restart = log_end(engine, 1) + 1
    adopted = ContactCenter.adopting(config, config.simulator, engine, restart)
    assert adopted.adoption.calls == len(in_progress) and not adopted.adoption.strays
    reasons: Counter[str] = Counter()
    for step in range(1, 13):  # an hour, five minutes at a time
        report = service.ingest(adopted.run_until(restart + step * 5 * MINUTE_MS))
        reasons.update(report.reasons)
        check_consulting_agents(engine)
    assert not reasons and rejected_inputs(service) == 0
    unfinished = [call for call, manual in in_progress.items() if not ended_with_records(service, call, manual)]
    assert not unfinished, [(c, engine.call(1, c), in_progress[c]) for c in unfinished]
    ends = Counter(e["type"] for e in logged(service) if e["at"] >= restart and e.get("callId") in consults)
    completions = [ends[t] for t in ("call.consult.transfer", "call.consult.conference", "call.consult.cancel")]
    assert sum(completions) == len(consults) and completions[0] + completions[1] > 0, ends  # carried on, not cut
    queued = [c for c, phase in consults.items() if phase is Phase.QUEUED]
    answered = {e["callId"] for e in logged(service) if e["type"] == "call.answer" and e["callId"] in queued}
    assert answered, queued  # a consult waiting at the restart is still offered to the skill's agents
