"""The distributed mode's commands as real processes: `ccdata migrate`, `ccdata migrate-store`, and `ccdata serve
--store` with its one record writer at a time (a second one refused, or waiting as a standby)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from backends import postgres_database
from ccdata.store.postgres import PostgresStore, where
from ccdata.store.postgres_schema import MIGRATIONS
from ccdata.store.sqlite import SqliteStore
from processes import ccdata, start_serve
from test_pipeline_store import answered_call


@pytest.fixture
def url() -> Iterator[str]:
    with postgres_database() as database:
        yield database


def test_migrate_applies_the_schema_once(url: str) -> None:
    first = ccdata("migrate", "--store", url)
    assert first.returncode == 0, first.stderr
    versions = [m.version for m in MIGRATIONS]
    assert versions == list(range(1, len(versions) + 1)) and len(versions) >= 4  # 3: webhooks, 4: byte-order IDs
    applied = ", ".join(map(str, versions))
    assert first.stdout.strip().endswith(f"schema version {versions[-1]} (applied migrations {applied})")
    again = ccdata("migrate", env={"CCDATA_STORE_URL": url})
    assert again.stdout.strip().endswith("(nothing to apply)")
    assert "postgres@" not in first.stdout  # a URL is shown without its user or password


def test_migrate_store_copies_an_embedded_store_and_refuses_a_second_copy(tmp_path: Path, url: str) -> None:
    source, db = tmp_path / "events.jsonl", tmp_path / "embedded.db"
    source.write_bytes(b"\n".join([*answered_call(), b"{broken"]) + b"\n")
    assert ccdata("ingest", source, "--db", db).returncode == 1  # one rejected line, kept
    run = ccdata("migrate-store", "--from", db, "--to", url)
    assert run.returncode == 0, run.stderr
    assert "6 events, 1 rejected, 1 results, 3 operations, 1 track" in run.stdout
    embedded, distributed = SqliteStore(db), PostgresStore(url)
    for what in ("events", "rejected", "results", "track"):
        assert distributed.count(what) == embedded.count(what), what
    assert list(distributed.events_after(0)) == list(embedded.events_after(0))
    assert distributed.load_snapshot() == embedded.load_snapshot()
    assert distributed.call_results(1, "1700000000-1") == embedded.call_results(1, "1700000000-1")
    assert distributed.position() == embedded.position()
    embedded.close()
    distributed.close()
    again = ccdata("migrate-store", "--from", db, "--to", url)
    assert again.returncode == 2
    assert again.stderr.strip().splitlines() == [
        f"error: {where(url)} already holds data (event_log, rejected_input, call_result, call_track, "
        "agent_operation, snapshot): migrate-store copies into an empty store only (use a new database)"
    ]


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (("--store", "mysql://db/ccdata"), "--store takes a postgresql:// URL, not 'mysql'"),
        (("--store", "postgresql://postgres@127.0.0.1:1/ccdata"), "cannot use the store (postgresql://127.0.0.1:1/"),
        (("--db", "x.db", "--store", "postgresql://h/d"), "--db is the embedded store and --store the distributed"),
    ],
)
def test_serve_says_in_one_line_what_is_wrong_with_its_store(args: tuple[str, ...], said: str) -> None:
    run = ccdata("serve", *args, "--port", "0", timeout=60)
    assert run.returncode == 2
    (line,) = run.stderr.strip().splitlines()
    assert said in line


def test_a_second_writer_is_refused_and_a_standby_takes_over_from_a_killed_one(tmp_path: Path, url: str) -> None:
    active = start_serve("--store", url, log=tmp_path / "active.log")
    try:
        refused = ccdata("serve", "--store", url, "--port", "0", timeout=60)
        assert refused.returncode == 2
        assert f"is being written by ccdata serve (PID {active.process.pid}) at {active.url}" in refused.stderr
        standby = start_serve("--store", url, "--standby", log=tmp_path / "standby.log", wait=False)
        time.sleep(2)
        assert standby.process.poll() is None and "standby: waiting" in standby.output()
        events = [{"id": "e-1", "type": "agent.login", "at": 1_700_000_000_000, "ccId": 1, "vdn": 1, "agentId": 1001}]
        token = {"Authorization": "Bearer ccdata-demo-ingest"}
        assert httpx.post(f"{active.url}/ccdata/v1/events", json=events, headers=token).json()["accepted"] == 1
        active.kill()  # SIGKILL: the lease goes with its connection
        standby.wait_live(60)
        ready = httpx.get(f"{standby.url}/ccdata/v1/health/ready").json()
        assert (ready["status"], ready["logSeq"]) == ("UP", 1)  # it resumed from the log: nothing lost
        standby.stop()
    finally:
        active.stop()
