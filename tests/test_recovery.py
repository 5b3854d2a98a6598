"""Clocks per call center and stale calls: one source never ages out another's data, a silent feed's calls end."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from pathlib import Path

import msgspec

from backends import Backend
from ccdata import config as configuration
from ccdata.domain.engine import ACCEPTED, Engine
from ccdata.pipeline import Pipeline
from ccdata.service import STALE_LEAVE_REASON, STALE_RELEASE_CAUSE
from server import OfflineService, offline_service
from support import T0, Script

DAY_MS = 86_400_000


def answered(script: Script, call_id: str, at: float, agent: int) -> None:
    script("call.arrive", at, callId=call_id, caller="88881363", called="650550")
    script("call.queue", at + 1, callId=call_id, skillId=7)
    script("call.alert", at + 2, callId=call_id, agentId=agent)
    script("call.answer", at + 3, callId=call_id, agentId=agent)
    script("call.release", at + 60, callId=call_id, by="customer")


def test_evaluations_of_an_older_call_center_survive_a_later_one() -> None:
    engine = Engine()
    live = Script(engine, cc_id=1)
    old = Script(engine, cc_id=2)
    old._n = 10_000  # distinct event ids
    live.login(1001, at=120 * 86_400)  # call center 1 lives four months later
    answered(live, "1770000000-1", 120 * 86_400 + 10, 1001)
    old.login(2001)
    for n in range(50):  # call center 2's history, months before: each call evaluated minutes after its end
        answered(old, f"1700000000-{n}", 100 + n * 100, 2001)
    for n in range(50):
        outcome = old.send("call.evaluate", 100 + n * 100 + 200, callId=f"1700000000-{n}", evaluationValue="4")
        assert outcome.status == ACCEPTED, outcome
    assert len([r for r in old.records if type(r).__name__ == "EvaluationRecord"]) == 50
    assert engine.clock_of(2) < engine.clock_of(1) - 100 * DAY_MS
    # The window still applies, on call center 2's own clock.
    old("call.arrive", 9 * 86_400, callId="1700000000-late", caller="1", called="2")
    late = old.send("call.evaluate", 9 * 86_400 + 1, callId="1700000000-0", evaluationValue="5")
    assert late.reason_code == "unknown_call"


def test_a_query_time_before_the_feed_never_gives_negative_durations() -> None:
    script = Script()
    script.login(1001)
    script("call.arrive", 1, callId="1700000000-1", caller="1", called="2")
    script("call.queue", 2, callId="1700000000-1", skillId=7)
    call = script.engine.call(1, "1700000000-1")
    assert call.queue_time_ms(T0 - 7000) == 0  # a server clock 7 s behind the feed
    assert call.talk_time_ms(T0 - 7000) == 0


@contextlib.contextmanager
def _service(tmp: Path, timeout_s: float) -> Iterator[OfflineService]:
    settings = configuration.parse(f"[call_center]\nid = 1\n[engine]\nstale_call_timeout_s = {timeout_s}\n")
    with offline_service(tmp, config=settings) as service:
        yield service


def _ev(n: int, type_: str, at: int, cc: int = 1, **fields: object) -> bytes:
    return msgspec.json.encode({"id": f"s-{cc}-{n}", "type": type_, "at": at, "ccId": cc, "vdn": 1, **fields})


def test_a_call_the_feed_went_silent_on_is_released_by_ccdata_with_documented_codes(tmp_path: Path, mode: str) -> None:
    with _service(tmp_path, timeout_s=600) as service:
        service.ingest([
            _ev(1, "agent.login", T0, agentId=1001, skills=[7]),
            _ev(2, "call.arrive", T0 + 1000, callId="1700000000-1", caller="1", called="2"),
            _ev(3, "call.queue", T0 + 2000, callId="1700000000-1", skillId=7),
            _ev(4, "call.alert", T0 + 3000, callId="1700000000-1", agentId=1001),
            _ev(5, "call.answer", T0 + 4000, callId="1700000000-1", agentId=1001),
            # The feed goes on about another call, 20 minutes later: the first one has had no event for that long.
            _ev(6, "call.arrive", T0 + 1_200_000, callId="1700000000-2", caller="1", called="2"),
        ])  # fmt: skip
        released = service.run(service.service.release_stale_calls)
        assert released == 1
        assert service.engine.call(1, "1700000000-1") is None
        assert service.engine.call(1, "1700000000-2") is not None  # recent: left alone
        (result,) = service.store.call_results(1, "1700000000-1")
        assert (result.leave_reason, result.release_cause) == (STALE_LEAVE_REASON, STALE_RELEASE_CAUSE)
        assert T0 + 1_200_000 <= result.call_end < T0 + 1_210_000  # at the feed's time, not the machine's
        assert service.engine.agent(1, 1001).calls == []
        assert service.health.stale_calls_released == 1
        assert service.run(service.service.release_stale_calls) == 0  # once


def test_a_replay_of_old_data_is_not_taken_for_a_silent_feed(tmp_path: Path, mode: str) -> None:
    with _service(tmp_path, timeout_s=600) as service:
        old = T0 - 300 * DAY_MS  # months before the machine's clock, arriving now
        service.ingest([
            _ev(1, "call.arrive", old, callId="1674000000-1", caller="1", called="2"),
            _ev(2, "call.queue", old + 1000, callId="1674000000-1", skillId=7),
        ])  # fmt: skip
        assert service.run(service.service.release_stale_calls) == 0


def test_the_engine_state_after_a_restart_equals_a_clean_replay(backend: Backend) -> None:
    store = backend.open()
    pipeline = Pipeline(store, batch_size=3)
    script = Script()
    script.login(1001)
    answered(script, "1700000000-1", 10, 1001)
    script("call.arrive", 100, callId="1700000000-2", caller="1", called="2")
    pipeline.ingest([msgspec.json.encode(e) for e in script.log])
    store.close()
    reopened = backend.open()
    restarted = Pipeline(reopened)
    assert restarted.engine.state() == script.engine.state()
    reopened.close()


def test_a_background_task_that_dies_is_logged_marked_and_restarted(caplog) -> None:  # type: ignore[no-untyped-def]
    from ccdata.api.background import supervise
    from ccdata.service import Health

    health = Health()
    runs: list[str] = []
    seen_states: list[str] = []

    async def flaky() -> None:
        runs.append("run")
        if len(runs) == 1:
            raise RuntimeError("the disk went away")
        await asyncio.sleep(3600)

    async def watch() -> None:
        task = asyncio.create_task(supervise("simulator", flaky, health, first_delay_s=0.05))
        await asyncio.sleep(0.01)
        seen_states.append(health.tasks["simulator"])
        await asyncio.sleep(0.1)
        seen_states.append(health.tasks["simulator"])
        task.cancel()

    asyncio.run(watch())
    assert seen_states == ["failed: RuntimeError: the disk went away", "running"]
    assert runs == ["run", "run"] and health.task_restarts["simulator"] == 1
    assert "background task simulator failed" in caplog.text and "the disk went away" in caplog.text
