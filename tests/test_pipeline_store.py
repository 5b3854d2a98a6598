"""The pipeline over a real store, embedded (an SQLite file) and distributed (a PostgreSQL database): the event
log, rejected inputs, monthly call-track tables, atomicity, restarts."""

from __future__ import annotations

import copy
import sqlite3
import threading
import time
from pathlib import Path

import msgspec
import pytest

from backends import Backend
from ccdata.domain.records import LAST_ROW, month_of
from ccdata.pipeline import CommitPolicy, Pipeline, SnapshotPolicy
from ccdata.store.ports import Batch, LoggedEvent, RejectedInput, Store, StoreUnavailable
from ccdata.store.sqlite import SqliteStore
from support import CALL, T0

JAN_31_2359 = 1_769_903_940_000  # 2026-01-31T23:59:00Z


def ev(n: int, type_: str, at: int, **fields: object) -> bytes:
    return msgspec.json.encode({"id": f"ev-{n}", "type": type_, "at": at, "ccId": 1, "vdn": 1, **fields})


def answered_call(call_id: str = CALL, t: int = T0, first: int = 1) -> list[bytes]:
    return [
        ev(first, "agent.login", t, agentId=1001),
        ev(first + 1, "call.arrive", t + 1000, callId=call_id, caller="88881363", called="650550"),
        ev(first + 2, "call.queue", t + 2000, callId=call_id, skillId=7),
        ev(first + 3, "call.alert", t + 3000, callId=call_id, agentId=1001),
        ev(first + 4, "call.answer", t + 4000, callId=call_id, agentId=1001),
        ev(first + 5, "call.release", t + 90_000, callId=call_id, by="customer"),
    ]


def test_wal_mode_and_schema(tmp_path: Path) -> None:
    SqliteStore(tmp_path / "ccdata.db").close()
    db = sqlite3.connect(tmp_path / "ccdata.db")
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {"event_log", "rejected_input", "call_result", "snapshot"} <= tables
    indexes = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
    assert {"call_result_window", "call_result_caller", "call_result_callee", "call_result_evaluation"} <= indexes


def test_an_answered_call_is_logged_tracked_and_resulted(store: Store) -> None:
    report = Pipeline(store).ingest(answered_call())
    assert (report.accepted, report.duplicates, report.rejected) == (6, 0, 0)
    assert store.count("events") == 6
    month = month_of(T0 + 1000)
    rows = store.track_rows(1, 1, CALL, month)
    assert [(r.call_id_num, r.device_type, r.device_no) for r in rows] == [(LAST_ROW, 2, "1001")]
    assert store.track_rows(1, 2, CALL, month) == []  # another VDN sees nothing
    assert store.track_rows(1, 1, CALL, "209901") == []  # a month with no table
    (result,) = store.call_results(1, CALL)
    assert (result.agent_id, result.call_begin, result.evaluation_value) == (1001, T0 + 4000, None)


def test_rows_go_to_the_table_of_the_month_of_arrival(store: Store) -> None:
    """A call that starts on 31 January and ends on 1 February is in January's table."""
    pipeline = Pipeline(store)
    pipeline.ingest(answered_call(t=JAN_31_2359))
    assert month_of(JAN_31_2359 + 90_000) == "202602"
    assert len(store.track_rows(1, 1, CALL, "202601")) == 1
    assert store.track_rows(1, 1, CALL, "202602") == []
    pipeline.ingest(answered_call("1769904000-2", t=JAN_31_2359 + 200_000, first=100)[1:])
    assert len(store.track_rows(1, 1, "1769904000-2", "202602")) == 1
    assert [r.call_id for r in store.find_track_rows(1, CALL)] == [CALL]


def test_month_names_cannot_inject_sql(store: Store) -> None:
    with pytest.raises(ValueError, match="YYYYMM"):
        store.track_rows(1, 1, CALL, "2026; DROP TABLE event_log")


def test_duplicates_are_ignored_and_conflicting_ids_rejected(store: Store) -> None:
    pipeline = Pipeline(store)
    pipeline.ingest(answered_call())
    again = pipeline.ingest(answered_call())
    assert (again.accepted, again.duplicates, again.rejected) == (0, 6, 0)
    conflict = pipeline.ingest([ev(2, "call.arrive", T0, callId="other-1", caller="1", called="2")])
    assert conflict.reasons == {"id_conflict": 1}
    assert store.count("events") == 6
    (kept,) = store.rejected_inputs()
    assert (kept.event_id, kept.reason_code) == ("ev-2", "id_conflict")
    assert b"other-1" in kept.body


def test_duplicate_within_one_batch(store: Store) -> None:
    lines = answered_call()
    report = Pipeline(store).ingest([*lines[:3], lines[2], *lines[3:]])
    assert (report.accepted, report.duplicates) == (6, 1)


def test_invalid_inputs_are_kept_with_a_precise_reason(store: Store) -> None:
    lines = [
        b"{not json",
        b"",  # blank lines of a JSON-lines file are skipped
        b'{"id":"x1","type":"call.arrive","at":1700000000000,"ccId":1,"vdn":1,"callId":"c1","caller":"1"}',
        b'{"id":"x2","type":"call.arrive","at":1700000000,"ccId":1,"vdn":1,"callId":"c1","caller":"1","called":"2"}',
        b'{"id":"x3","type":"call.fly","at":1700000000000,"ccId":1,"vdn":1}',
        b"[1, 2]",
    ]
    report = Pipeline(store).ingest(lines)
    assert (report.accepted, report.rejected) == (0, 5)
    notes = {n.position: (n.event_id, n.reason) for n in report.notes}
    assert notes[1][0] is None and "malformed JSON" in notes[1][1]
    assert notes[3] == ("x1", "Object missing required field `called`")
    assert "$.at" in notes[4][1]  # seconds instead of milliseconds
    assert "call.fly" in notes[5][1]
    assert len(store.rejected_inputs()) == 5
    assert store.rejected_inputs()[0].body == b"{not json"


def test_engine_rejections_are_kept_and_the_event_can_be_retried(store: Store) -> None:
    lines = answered_call()
    pipeline = Pipeline(store)
    report = pipeline.ingest([lines[0], lines[3]])  # the alert before the call arrived
    assert report.reasons == {"unknown_call": 1}
    assert store.rejected_inputs()[0].reason_code == "unknown_call"
    retried = pipeline.ingest(lines[1:])  # the same event ID, now in order
    assert (retried.accepted, retried.rejected) == (5, 0)


def test_a_late_evaluation_updates_the_stored_call_result(store: Store) -> None:
    pipeline = Pipeline(store)
    pipeline.ingest(answered_call())
    pipeline.ingest([ev(50, "call.evaluate", T0 + 200_000, callId=CALL, evaluationValue="5")])
    assert store.call_results(1, CALL)[0].evaluation_value == "5"


def test_a_commit_given_up_writes_nothing_and_the_engine_goes_back_to_the_log(backend: Backend) -> None:
    store = backend.open(busy_timeout_s=0.05)
    pipeline = Pipeline(store, commit_policy=CommitPolicy(give_up_after_s=0))
    lines = answered_call()
    pipeline.ingest(lines[:2])
    before = copy.deepcopy(pipeline.engine.state())
    with backend.block_writes(), pytest.raises(StoreUnavailable, match=r"locked|lock timeout"):
        pipeline.ingest(lines[2:])  # another writer holds the lock: our commit fails for real
    assert pipeline.engine.state() == before
    assert store.count("events") == 2
    report = pipeline.ingest(lines[2:])  # the sender retries: everything is applied once
    assert report.accepted == 4
    assert store.count("events") == 6
    store.close()


def test_a_commit_blocked_by_another_writer_is_retried_until_it_goes_through(backend: Backend) -> None:
    store = backend.open(busy_timeout_s=0.05)
    pipeline = Pipeline(store, commit_policy=CommitPolicy(first_delay_s=0.02, max_delay_s=0.1, give_up_after_s=30))
    held = threading.Event()

    def hold() -> None:
        with backend.block_writes():
            held.set()
            time.sleep(0.6)

    blocker = threading.Thread(target=hold)
    blocker.start()
    held.wait(10)
    report = pipeline.ingest(answered_call())
    blocker.join()
    assert report.accepted == 6
    assert store.count("events") == 6
    assert pipeline.health.failures >= 3  # it did fail, several times, and said so
    assert pipeline.health.writable
    assert pipeline.seq == store.last_seq() == 6
    store.close()


def test_the_pipeline_position_is_its_own_not_another_writers(backend: Backend) -> None:
    store = backend.open()
    pipeline = Pipeline(store)
    pipeline.ingest(answered_call()[:2])
    other = backend.open()  # a second writer the pipeline never hears of
    Pipeline(other).ingest(answered_call(call_id="1767225619-9", first=100)[1:3])
    other.close()
    pipeline.ingest(answered_call()[2:3])
    assert pipeline.seq == 5  # its own last event, not the table's end at the next snapshot
    pipeline.save_snapshot()
    assert store.load_snapshot().seq == 5


def test_snapshots_are_written_periodically(backend: Backend) -> None:
    store = backend.open()
    pipeline = Pipeline(store, batch_size=2, snapshot_policy=SnapshotPolicy(every_events=4, every_s=3600))
    pipeline.ingest(answered_call())
    snapshot = store.load_snapshot()
    assert snapshot is not None and snapshot.seq == 4
    store.close()
    reopened = backend.open()
    assert Pipeline(reopened).replayed == 2
    reopened.close()


def test_restart_rebuilds_live_state_from_the_log(backend: Backend) -> None:
    store = backend.open()
    pipeline = Pipeline(store)
    pipeline.ingest(answered_call()[:5])  # talking, not released
    state = pipeline.engine.state()
    store.close()
    store = backend.open()
    restarted = Pipeline(store)
    assert restarted.replayed == 5
    assert restarted.engine.state() == state
    assert restarted.engine.agent(1, 1001).calls == [CALL]
    restarted.save_snapshot()
    assert Pipeline(store).replayed == 0
    store.close()


def test_the_shared_logs_position_is_stored_with_the_batch_that_carries_it(store: Store) -> None:
    assert store.position() == 0  # no batch carried one: the embedded form alone
    Pipeline(store).ingest(answered_call()[:2])
    assert store.position() == 0
    store.commit(Batch(events=[LoggedEvent("x-1", "agent.login", T0, b"{}")], position=17))
    assert store.position() == 17
    store.commit(Batch(rejected=[RejectedInput(None, "invalid_event", "bad", b"{")], position=18))
    assert (store.position(), store.last_seq()) == (18, 3)
