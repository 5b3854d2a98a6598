"""Operating ccdata as a person would: one writer per store, the store found the same way by every command,
one sentence for every mistake (and nothing deleted or created by it), a server that says where it runs."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from pathlib import Path

import httpx
import pytest

from processes import ccdata, serving, start_serve
from support import CALL
from test_pipeline_store import answered_call

pytestmark = pytest.mark.embedded_only(
    "--db paths and the SQLite writer lock of the commands; the distributed store's are test_cli_cluster's"
)

TOKEN = "ccdata-demo-ingest"  # the packaged demo configuration's ingest token


def events_file(tmp_path: Path) -> Path:
    source = tmp_path / "events.jsonl"
    source.write_bytes(b"\n".join(answered_call()) + b"\n")
    return source


def one_error_line(run) -> str:  # type: ignore[no-untyped-def]
    lines = run.stderr.strip().splitlines()
    assert run.returncode == 2, (run.returncode, run.stderr)
    assert len(lines) == 1 and lines[0].startswith("error: "), run.stderr
    return lines[0]


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_served_store_refuses_a_second_writer_and_takes_events_over_http(tmp_path: Path) -> None:
    db, source = tmp_path / "served.db", events_file(tmp_path)
    with serving("--db", db, log=tmp_path / "serve.log") as server:
        refused = one_error_line(ccdata("ingest", source, "--db", db))
        assert f"PID {server.process.pid}" in refused and server.url in refused
        assert f"ccdata ingest --url {server.url} FILE" in refused
        sent = ccdata("ingest", source, "--url", server.url, "--token", TOKEN, "--json")
        assert sent.returncode == 0, sent.stderr
        assert json.loads(sent.stdout)["accepted"] == 6
        again = json.loads(ccdata("ingest", source, "--url", server.url, "--token", TOKEN, "--json").stdout)
        assert (again["accepted"], again["duplicates"]) == (0, 6)  # resending is safe
        legs = ccdata("call", CALL, "--db", db)  # read-only: works beside the server
        assert legs.returncode == 0 and f"call {CALL}: released" in legs.stdout
        ready = httpx.get(f"{server.url}/ccdata/v1/health/ready").json()
        assert ready["status"] == "UP" and ready["logSeq"] == 6
    output = server.output()
    assert f"serving {server.url}" in output and f"{server.url}/docs" in output
    assert f"store {db}" in output and "configuration the packaged demo configuration" in output
    assert "POST /ccdata/v1/events 200" in output and " ingest" in output  # the access log, no secret
    assert TOKEN not in output
    after = ccdata("ingest", source, "--db", db, "--json")  # the server is gone: its lock with it
    assert after.returncode == 0 and json.loads(after.stdout)["duplicates"] == 6


def test_the_access_log_can_be_json(tmp_path: Path) -> None:
    with serving("--db", tmp_path / "j.db", "--access-log", "json", log=tmp_path / "serve.log") as server:
        httpx.get(f"{server.url}/ccdata/v1/health/ready")
        httpx.get(f"{server.url}/agentgateway/resource/agentevent/1001", headers={"Guid": "x"})
    lines = [json.loads(line) for line in server.output().splitlines() if line.startswith("{")]
    by_path = {line["path"]: line for line in lines}
    assert by_path["/ccdata/v1/health/ready"]["status"] == 200
    poll = by_path["/agentgateway/resource/agentevent/1001"]
    assert poll["credential"] == "agent:1001" and poll["method"] == "GET" and poll["ms"] >= 0


def test_every_command_finds_the_store_the_same_way(tmp_path: Path) -> None:
    env_db, flag_db, source = tmp_path / "env.db", tmp_path / "flag.db", events_file(tmp_path)
    env = {"CCDATA_DB": str(env_db)}
    assert ccdata("ingest", source, env=env).returncode == 0
    assert sqlite3.connect(env_db).execute("SELECT count(*) FROM event_log").fetchone()[0] == 6
    assert ccdata("call", CALL, env=env).returncode == 0
    assert ccdata("ingest", source, "--db", flag_db, env=env).returncode == 0  # --db first
    assert flag_db.exists()
    simulated = ccdata("simulate", "--days", "0.01", env={"CCDATA_DB": str(tmp_path / "sim.db")})
    assert simulated.returncode in (0, 1), simulated.stderr
    assert (tmp_path / "sim.db").exists()
    with serving(log=tmp_path / "serve.log", env=env) as server:
        assert httpx.get(f"{server.url}/ccdata/v1/health/ready").json()["logSeq"] == 6
    assert f"store {env_db}" in server.output()
    config = tmp_path / "c.toml"
    config.write_text(f'[server]\ndb = "{tmp_path / "configured.db"}"\n')
    assert ccdata("ingest", source, "--config", config).returncode == 0  # then the configuration
    assert (tmp_path / "configured.db").exists()


@pytest.mark.parametrize(
    "case",
    ["not-sqlite", "other-sqlite", "missing-folder", "unwritable-folder", "folder", "demo-on-a-store", "public"],
)
def test_a_mistake_gets_one_line_and_changes_nothing(tmp_path: Path, case: str) -> None:
    source = events_file(tmp_path)
    if case == "not-sqlite":
        target = tmp_path / "notes.db"
        target.write_text("my notes, not a database\n")
        before = digest(target)
        assert "not a ccdata store" in one_error_line(ccdata("ingest", source, "--db", target))
        assert digest(target) == before
    elif case == "other-sqlite":
        target = tmp_path / "app.db"
        sqlite3.connect(target).execute("CREATE TABLE customers (id INTEGER)")
        before = digest(target)
        assert "not a ccdata store" in one_error_line(ccdata("serve", "--db", target))
        assert digest(target) == before
    elif case == "missing-folder":
        target = tmp_path / "typo" / "deep" / "x.db"
        assert "does not exist" in one_error_line(ccdata("ingest", source, "--db", target))
        assert not (tmp_path / "typo").exists()
    elif case == "unwritable-folder":
        assert "cannot write in /sys" in one_error_line(ccdata("ingest", source, "--db", "/sys/x.db"))
    elif case == "folder":
        assert "is a folder" in one_error_line(ccdata("simulate", "--db", tmp_path, "--days", "0.01"))
    elif case == "demo-on-a-store":
        important = tmp_path / "important.db"
        assert ccdata("ingest", source, "--db", important).returncode == 0
        before = digest(important)
        line = one_error_line(ccdata("demo", "--db", important, "--fresh", "--port", "1"))
        assert "not made by `ccdata demo`" in line
        assert digest(important) == before
        assert sqlite3.connect(important).execute("SELECT count(*) FROM event_log").fetchone()[0] == 6
    else:
        line = one_error_line(ccdata("serve", "--host", "0.0.0.0", "--db", tmp_path / "p.db"))
        assert "public demo secrets" in line and "--allow-demo-secrets" in line
        assert not (tmp_path / "p.db").exists()


def test_demo_continues_its_own_store_and_starts_over_only_when_asked(tmp_path: Path) -> None:
    db = tmp_path / "demo.db"
    first = start_serve("--db", db, "--backfill-hours", "6", log=tmp_path / "demo-1.log", command="demo")
    first.stop()
    events = sqlite3.connect(db).execute("SELECT count(*) FROM event_log").fetchone()[0]
    assert events > 100  # six hours of the demo contact center: > 150 even at night on a weekend
    second = start_serve("--db", db, log=tmp_path / "demo-2.log", command="demo")
    ready = httpx.get(f"{second.url}/ccdata/v1/health/ready").json()
    second.stop()
    assert "continuing from there" in second.output()
    con = sqlite3.connect(db)
    assert con.execute("SELECT count(*) FROM event_log").fetchone()[0] >= events  # kept, and gone on
    assert con.execute("SELECT count(*) FROM rejected_input").fetchone()[0] == 0
    assert ready["status"] == "UP"
    con.close()
    third = start_serve("--db", db, "--fresh", "--backfill-hours", "0.1", log=tmp_path / "demo-3.log",
                        command="demo")  # fmt: skip
    third.stop()
    assert "continuing" not in third.output()
