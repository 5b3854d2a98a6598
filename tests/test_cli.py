"""The `ccdata` command, run as a real process on real files."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import msgspec
import pytest

from support import CALL
from test_pipeline_store import answered_call

pytestmark = pytest.mark.embedded_only(
    "the commands on --db store files; the distributed store's are test_cli_cluster's"
)


def ccdata(*args: str | Path, stdin: bytes | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ccdata", *map(str, args)],
        input=stdin.decode() if stdin else None,
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_ingest_prints_a_summary_and_call_prints_the_legs(tmp_path: Path) -> None:
    source = tmp_path / "events.jsonl"
    source.write_bytes(b"\n".join(answered_call()) + b"\n")
    db = tmp_path / "cli.db"
    run = ccdata("ingest", source, "--db", db)
    assert run.returncode == 0, run.stderr
    assert "accepted" in run.stdout and "events/s" in run.stdout
    legs = ccdata("call", CALL, "--db", db)
    assert legs.returncode == 0
    assert f"call {CALL}: released" in legs.stdout
    assert "agent 1001" in legs.stdout and "The user releases the call." in legs.stdout
    as_json = json.loads(ccdata("call", CALL, "--db", db, "--json").stdout)
    assert [r["call_id_num"] for r in as_json["rows"]] == [-1]
    assert as_json["results"][0]["agent_id"] == 1001


def test_ingest_from_stdin_reports_rejections_and_exits_1(tmp_path: Path) -> None:
    lines = answered_call()
    stdin = b"\n".join([lines[0], b"{oops", lines[3]]) + b"\n"
    run = ccdata("ingest", "-", "--db", tmp_path / "bad.db", "--json", stdin=stdin)
    assert run.returncode == 1
    summary = json.loads(run.stdout)
    assert (summary["accepted"], summary["rejected"]) == (1, 2)
    assert summary["reasons"] == {"invalid_event": 1, "unknown_call": 1}
    assert [r["position"] for r in summary["rejections"]] == [2, 3]
    text = ccdata("ingest", "-", "--db", tmp_path / "bad2.db", stdin=stdin)
    assert "rejections by reason" in text.stdout and "unknown_call" in text.stdout


def test_a_live_call_shows_its_open_legs(tmp_path: Path) -> None:
    source = tmp_path / "live.jsonl"
    source.write_bytes(b"\n".join(answered_call()[:5]))
    db = tmp_path / "live.db"
    assert ccdata("ingest", source, "--db", db).returncode == 0
    legs = ccdata("call", CALL, "--db", db)
    assert "in progress (talking)" in legs.stdout and "open" in legs.stdout


def test_unknown_call_and_missing_file_are_clear_errors(tmp_path: Path) -> None:
    missing = ccdata("call", "nope-1", "--db", tmp_path / "empty.db")
    assert missing.returncode == 2 and "no store at" in missing.stderr
    assert not (tmp_path / "empty.db").exists()
    no_file = ccdata("ingest", tmp_path / "absent.jsonl", "--db", tmp_path / "x.db")
    assert no_file.returncode == 2 and "No such file" in no_file.stderr


def test_ingest_of_a_million_events_completes_and_reports_its_rate(tmp_path: Path) -> None:
    source = tmp_path / "million.jsonl"
    assert ccdata("synth", "--events", "1000000", "--out", source).returncode == 0
    run = ccdata("ingest", source, "--db", tmp_path / "million.db", "--json")
    assert run.returncode == 0, run.stdout[-2000:]
    summary = msgspec.json.decode(run.stdout)
    assert summary["accepted"] == 1_000_000
    assert summary["eventsPerSecond"] > 0
