"""Invariants of the engine over generated call scripts (Hypothesis)."""

from __future__ import annotations

import copy
from collections import defaultdict
from pathlib import Path

import msgspec
import pytest
from hypothesis import HealthCheck, given, settings

from ccdata.domain import events
from ccdata.domain.engine import ACCEPTED, DUPLICATE, Engine
from ccdata.domain.records import LAST_ROW, CallResult, Record, TrackRow
from ccdata.pipeline import Pipeline
from ccdata.store.sqlite import SqliteStore
from strategies import AGENTS, CallModel, Step, call_scripts

SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def run(steps: list[Step], engine: Engine | None = None) -> tuple[Engine, list[Record]]:
    engine = engine or Engine()
    records: list[Record] = []
    seen: set[str] = set()
    for step in steps:
        outcome = engine.apply(events.from_builtins(step.body))
        if step.valid:
            assert outcome.status == ACCEPTED, (step.body, outcome)
        elif step.body["id"] in seen:
            assert outcome.status == DUPLICATE, (step.body, outcome)
        if outcome.status == ACCEPTED:
            seen.add(step.body["id"])
        records.extend(outcome.records)
    return engine, records


def rows_by_call(records: list[Record]) -> dict[str, list[TrackRow]]:
    rows: dict[str, list[TrackRow]] = defaultdict(list)
    for record in records:
        if isinstance(record, TrackRow):
            rows[record.call_id].append(record)
    return rows


@SETTINGS
@given(call_scripts())
def test_each_finished_call_has_exactly_one_last_row_and_contiguous_numbers(
    script: tuple[list[Step], list[CallModel]],
) -> None:
    steps, models = script
    engine, records = run(steps)
    rows = rows_by_call(records)
    for model in models:
        numbers = [r.call_id_num for r in rows[model.call_id]]
        if model.phase == "released":
            assert numbers.count(LAST_ROW) == 1
            assert numbers[-1] == LAST_ROW  # nothing is written after the last row
            assert all(r.release_cause is not None for r in rows[model.call_id] if r.call_id_num == LAST_ROW)
        else:
            assert LAST_ROW not in numbers
            assert engine.call(1, model.call_id) is not None
        positive = [n for n in numbers if n != LAST_ROW]
        assert positive == list(range(1, len(positive) + 1))
        assert all(r.release_cause is None for r in rows[model.call_id] if r.call_id_num != LAST_ROW)


@SETTINGS
@given(call_scripts())
def test_leg_times_are_ordered(script: tuple[list[Step], list[CallModel]]) -> None:
    _, records = run(script[0])
    for row in (r for r in records if isinstance(r, TrackRow)):
        times = [t for t in (row.wait_begin, row.ack_begin, row.call_begin, row.call_end) if t]
        assert times == sorted(times), row
        assert row.call_end and row.wait_begin
    for result in (r for r in records if isinstance(r, CallResult)):
        times = [t for t in (result.wait_begin, result.ack_begin, result.call_begin, result.call_end) if t]
        assert times == sorted(times), result


@SETTINGS
@given(call_scripts())
def test_no_agent_keeps_a_released_call(script: tuple[list[Step], list[CallModel]]) -> None:
    steps, models = script
    engine, _ = run(steps)
    released = {m.call_id for m in models if m.phase == "released"}
    for agent_id in AGENTS:
        agent = engine.agent(1, agent_id)
        assert not released & set(agent.calls)
        assert not released & set(agent.private)
        assert all(engine.call(1, c) is not None for c in agent.calls + agent.private)
    assert released.isdisjoint(call_id for _, call_id in engine.calls)


@SETTINGS
@given(call_scripts())
def test_the_same_stream_gives_the_same_records_and_state(script: tuple[list[Step], list[CallModel]]) -> None:
    steps, _ = script
    first, first_records = run(steps)
    second, second_records = run(copy.deepcopy(steps))
    assert first_records == second_records
    assert first.state() == second.state()
    # Every event sent twice in a row: the copies are no-ops.
    doubled = [s for step in steps for s in (step, Step(step.body, valid=False))]
    third, third_records = run(doubled)
    assert third_records == first_records
    assert third.state() == first.state()


@pytest.mark.embedded_only(
    "the embedded pipeline's snapshot and replay on an SQLite file (a node's start from the "
    "central snapshot and the log: test_cluster)"
)
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow,
          HealthCheck.function_scoped_fixture])  # fmt: skip
@given(call_scripts(max_calls=6))
def test_rebuilding_from_the_log_after_a_restart_gives_the_same_live_state(
    tmp_path: Path, script: tuple[list[Step], list[CallModel]]
) -> None:
    steps, _ = script
    path = tmp_path / f"rebuild-{id(script)}.db"
    lines = [msgspec.json.encode(step.body) for step in steps]
    store = SqliteStore(path)
    pipeline = Pipeline(store, batch_size=7)  # several commits, and a snapshot in the middle
    half = len(lines) // 2
    pipeline.ingest(lines[:half])
    pipeline.save_snapshot()
    snapshot_seq = pipeline.seq
    pipeline.ingest(lines[half:], first_position=half + 1)
    live = pipeline.engine.state()
    store.close()

    store = SqliteStore(path)
    restarted = Pipeline(store)
    assert restarted.engine.state() == live
    assert restarted.replayed == store.last_seq() - snapshot_seq  # the snapshot shortened the replay
    store.close()

    store = SqliteStore(path)
    store.save_snapshot(store.load_snapshot()._replace(version=-1))  # an unreadable snapshot: replay it all
    assert Pipeline(store).engine.state() == live
    store.close()
    path.unlink()
