"""Fault injection: SIGKILL in the middle of the work, then a restart and a re-run. Afterwards the records equal
those of a clean run over the same events (none lost, none twice) and live state equals a clean replay of the log.
Bounded: a few kills, a few seconds each."""

from __future__ import annotations

import itertools
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from ccdata.domain import events
from ccdata.domain.engine import Engine
from ccdata.pipeline import Pipeline
from ccdata.store.sqlite import SqliteStore
from processes import ccdata, demo_config_with, free_port, start_serve

pytestmark = pytest.mark.embedded_only(
    "SIGKILL of a `ccdata serve --db` process holding the SQLite file (a cluster node's: test_cluster_processes)"
)

EVENTS = 150_000
SPEED = 120  # simulated seconds per wall second in the lock test
HELD_S = 3.0  # how long another process holds the store's write lock
TOKEN = "ccdata-demo-ingest"


def synth(tmp_path: Path, count: int = EVENTS) -> Path:
    source = tmp_path / "events.jsonl"
    assert ccdata("synth", "--events", count, "--out", source).returncode == 0
    return source


def config(tmp_path: Path) -> Path:
    """Frequent snapshots, so that a kill also lands between snapshots and the restart uses one."""
    path = tmp_path / "ccdata.toml"
    path.write_text('[store]\nsnapshot_every_events = 20000\n[ingest]\ntoken = "' + TOKEN + '"\n')
    return path


def records(db: Path) -> dict[str, list[tuple]]:
    """Everything durable, in a comparable form (the log in its order; records sorted)."""
    con = sqlite3.connect(db)
    months = [n for (n,) in con.execute("SELECT name FROM sqlite_master WHERE name LIKE 'track_%' ORDER BY name")]
    out = {
        "log": con.execute("SELECT seq, id, body FROM event_log ORDER BY seq").fetchall(),
        "results": con.execute("SELECT * FROM call_result ORDER BY cc_id, call_id, arrived_at").fetchall(),
        "rejected": sorted(con.execute("SELECT event_id, reason_code, body FROM rejected_input").fetchall()),
    }
    for month in months:
        out[month] = con.execute(f"SELECT * FROM {month} ORDER BY cc_id, call_id, call_id_num").fetchall()
    con.close()
    return out


def assert_live_state_is_a_clean_replay(db: Path) -> None:
    store = SqliteStore(db)
    restarted = Pipeline(store)  # from the latest snapshot, then the log after it
    clean = Engine()
    for _, body in store.events_after(0):
        clean.apply(events.decode(body))
    assert restarted.engine.state() == clean.state()
    store.close()


def clean_run(tmp_path: Path, source: Path) -> dict[str, list[tuple]]:
    clean = tmp_path / "clean.db"
    run = ccdata("ingest", source, "--db", clean, "--config", config(tmp_path), "-q")
    assert run.returncode == 0, run.stderr
    return records(clean)


def test_sigkill_during_ccdata_ingest_then_rerun(tmp_path: Path) -> None:
    source = synth(tmp_path)
    expected = clean_run(tmp_path, source)
    db = tmp_path / "killed.db"
    for delay in (0.8, 1.6):  # two kills at different points, then the run that finishes
        process = subprocess.Popen(
            [sys.executable, "-m", "ccdata", "ingest", str(source), "--db", str(db), "--config", str(config(tmp_path))],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        time.sleep(delay)
        process.kill()
        process.wait()
    partial = len(records(db)["log"])
    assert 0 < partial < EVENTS, partial  # it was killed in the middle
    rerun = ccdata("ingest", source, "--db", db, "--config", config(tmp_path), "-q")
    assert rerun.returncode == 0, rerun.stderr
    assert records(db) == expected
    assert_live_state_is_a_clean_replay(db)


def test_sigkill_of_the_server_during_an_http_ingest_with_the_retrying_client(tmp_path: Path) -> None:
    source = synth(tmp_path, 100_000)
    expected = clean_run(tmp_path, source)
    db, port = tmp_path / "served.db", free_port()
    args = ("--db", db, "--config", config(tmp_path))
    server = start_serve(*args, log=tmp_path / "serve-1.log", port=port)
    client = subprocess.Popen(
        [sys.executable, "-m", "ccdata", "ingest", str(source), "--url", server.url, "--token", TOKEN,
         "--batch", "2000", "--json"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    for kill_at in (60_000, 170_000):  # kill the server twice, at a log position in the middle of the sending
        wait_for_log(db, kill_at // 4)
        server.kill()
        server = start_serve(*args, log=tmp_path / f"serve-{kill_at}.log", port=port)
    _, stderr = client.communicate(timeout=240)
    server.stop()
    assert client.returncode == 0, stderr
    assert "not acknowledged" in stderr  # the client saw the server go and sent the batch again
    assert records(db) == expected
    assert_live_state_is_a_clean_replay(db)


def wait_for_log(db: Path, events: int, timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            con = sqlite3.connect(db, timeout=1)
            count = con.execute("SELECT count(*) FROM event_log").fetchone()[0]
            con.close()
            if count >= events:
                return
        except sqlite3.OperationalError:
            pass
        time.sleep(0.05)
    raise AssertionError(f"the log did not reach {events} events in {timeout_s} s")


def test_a_store_locked_by_another_process_stalls_writes_not_reads(tmp_path: Path) -> None:
    """Another process holds the write lock for longer than the busy timeout: reads go on, readiness says so,
    the log says so, and the simulator resumes afterwards with no gap in its events."""
    db = tmp_path / "locked.db"
    cfg = demo_config_with(tmp_path / "ccdata.toml", busy_timeout_ms="500")
    server = start_serve("--db", db, "--simulate", "--speed", str(SPEED), "--config", cfg, log=tmp_path / "serve.log")
    try:
        wait_for_log(db, 50)
        blocker = sqlite3.connect(db, isolation_level=None, timeout=10)
        blocker.execute("BEGIN IMMEDIATE")
        held_from = time.monotonic()
        lock_events = blocker.execute("SELECT count(*) FROM event_log").fetchone()[0]
        not_ready, slowest = None, 0.0
        while time.monotonic() - held_from < HELD_S:
            started = time.monotonic()
            health = httpx.get(f"{server.url}/ccdata/v1/health/ready", timeout=5)
            live = httpx.get(f"{server.url}/ccdata/v1/health/live", timeout=5)
            slowest = max(slowest, time.monotonic() - started)
            assert live.status_code == 200
            if health.status_code == 503:
                not_ready = health.json()
            time.sleep(0.1)
        blocker.execute("ROLLBACK")
        blocker.close()
        assert not_ready is not None and "refuses writes" in " ".join(not_ready["reasons"]), not_ready
        assert slowest < 0.5, slowest  # the event loop was never held by the waiting writer
        wait_for_log(db, lock_events + 50)
        deadline = time.monotonic() + 10
        while httpx.get(f"{server.url}/ccdata/v1/health/ready").status_code != 200:
            assert time.monotonic() < deadline, "readiness did not come back"
            time.sleep(0.1)
    finally:
        server.stop()
    output = server.output()
    assert "commit failed, retrying" in output and "store writable again" in output
    con = sqlite3.connect(db)
    window = HELD_S * SPEED * 1000  # simulated ms the lock lasted
    times = [at for (at,) in con.execute("SELECT at FROM event_log WHERE seq > ? ORDER BY at", (lock_events - 20,))]
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert max(gaps) < window / 2, (max(gaps), window)  # simulated time went on through the lock: no hole
    rejected = sqlite3.connect(db).execute("SELECT count(*) FROM rejected_input").fetchone()[0]
    assert rejected == 0


def test_sigkill_of_serve_simulate_loses_no_call(tmp_path: Path) -> None:
    """Killed twice while the live simulator feeds it: each restart adopts every call and agent the log holds,
    so nothing is orphaned and nothing is rejected."""
    db = tmp_path / "sim.db"
    args = ("--db", db, "--simulate", "--speed", "1800")
    server = start_serve(*args, log=tmp_path / "serve-0.log")
    wait_for_log(db, 1500)
    server.kill()
    in_progress = live_calls(db)
    assert in_progress, "no call was in progress at the kill: the test would prove nothing"
    server = start_serve(*args, log=tmp_path / "serve-1.log")
    wait_for_log(db, log_size(db) + 1500)
    server.kill()
    server = start_serve(*args, log=tmp_path / "serve-2.log")
    # About 580 events a simulated hour: over 4 simulated hours, longer than any call of the scenario.
    wait_for_log(db, log_size(db) + 2500, timeout_s=90)
    server.stop()
    con = sqlite3.connect(db)
    assert con.execute("SELECT count(*) FROM rejected_input").fetchone()[0] == 0
    ended = {call_id for (call_id,) in con.execute("SELECT call_id FROM call_result")}
    ended |= {call_id for month in track_tables(con) for (call_id,) in con.execute(f"SELECT call_id FROM {month}")}
    assert in_progress <= ended, in_progress - ended  # every call caught by the kill went on to its end
    assert_live_state_is_a_clean_replay(db)
    store = SqliteStore(db)
    engine = Pipeline(store).engine
    store.close()
    for agent in engine.agents.values():  # two calls only as a customer's call and the consult made for it
        customer = [c for c in agent.calls if not engine.call(1, c).consult_of]
        assert len(customer) <= 1 and len(agent.calls) - len(customer) <= 1, (agent.agent_id, agent.calls)
    now = engine.clock_of(1)
    assert all(now - call.arrived_at < 3 * 3_600_000 for call in engine.calls.values())
    assert records_of_a_clean_run_over_the_log(tmp_path, db) == {k: v for k, v in records(db).items() if k != "log"}


def log_size(db: Path) -> int:
    con = sqlite3.connect(db)
    try:
        return con.execute("SELECT count(*) FROM event_log").fetchone()[0]
    finally:
        con.close()


def live_calls(db: Path) -> set[str]:
    store = SqliteStore(db)
    try:
        return {call_id for (_, call_id) in Pipeline(store).engine.calls}
    finally:
        store.close()


def track_tables(con: sqlite3.Connection) -> list[str]:
    return [n for (n,) in con.execute("SELECT name FROM sqlite_master WHERE name LIKE 'track_%'")]


def records_of_a_clean_run_over_the_log(tmp_path: Path, db: Path) -> dict[str, list[tuple]]:
    """The same events, ingested in one go into a fresh store: the records a run without crashes writes."""
    source = SqliteStore(db)
    bodies = [body for _, body in source.events_after(0)]
    source.close()
    clean = SqliteStore(tmp_path / "clean-replay.db")
    report = Pipeline(clean).ingest(bodies)
    clean.close()
    assert report.accepted == len(bodies)
    return {k: v for k, v in records(tmp_path / "clean-replay.db").items() if k != "log"}
