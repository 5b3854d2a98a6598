"""`ccdata export` as a real process, on the store of a running simulator-fed server: N rows out, equal to the
store's; page boundaries (on both stores); bad options; the same events exported from SQLite and from PostgreSQL
give the same bytes."""

from __future__ import annotations

import csv
import io
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from backends import postgres_database
from ccdata import config as configuration
from ccdata.domain.records import CallResult, TrackRow, month_of
from ccdata.domain.tables import CALL_RESULTS_EXPORT, TRACK_ROWS_EXPORT, Table
from ccdata.service import Service
from ccdata.sim.clocks import backfill
from ccdata.sim.contact_center import ContactCenter
from ccdata.store.ports import Batch, CallResultQuery, Store
from ccdata.store.postgres import PostgresStore
from ccdata.store.sqlite import _TRACK_COLUMNS, SqliteStore
from processes import ccdata
from server import TEST_CONFIG, Api, HttpFeed, Running, running_server
from test_csv import SURVEYED

NOW = time.time_ns() // 1_000_000
HOUR = 3_600_000
START = NOW - 3 * HOUR
SECOND_VDN = """
[[simulator.access_codes]]
called = "660100"
vdn = 2
flow = "200"
ivr_time = { kind = "fixed", mean = 10 }
skills = [{ skill = 11 }]
calls_per_hour = [40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40, 40]

[[simulator.skills]]
skill = 11
handle_time = { kind = "fixed", mean = 30 }
wrap_up = { kind = "fixed", mean = 2 }
"""


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory, mode: str) -> Iterator[tuple[Running, list[str | Path]]]:
    """A server writing its store, fed three hours of two VDNs' calls; the export runs beside it, on the store
    the server writes (`--db` its SQLite file, `--store` its PostgreSQL database)."""
    folder = tmp_path_factory.mktemp("export")
    with running_server(folder, extra=SURVEYED + SECOND_VDN) as running:
        service = running.service
        simulator = ContactCenter(service.config, service.config.simulator, START, seed=21)
        backfill(HttpFeed(Api(running)), simulator, NOW - 60_000)  # type: ignore[arg-type]  (what it ingests into)
        running.records_current()
        place = running.place
        yield running, ["--store", place.store_url] if place is not None else ["--db", folder / "server.db"]


def export(*args: str | Path) -> subprocess.CompletedProcess[str]:
    run = ccdata("export", *args)
    assert run.returncode == 0, run.stderr
    return run


def csv_rows(path: Path) -> list[list[str]]:
    return list(csv.reader(io.StringIO(path.read_bytes().decode("utf-8"), newline="")))


def as_text(table: Table, records: list[Any]) -> list[list[str]]:
    return [["" if cell is None else str(cell) for cell in row] for row in table.rows(records)]


def stored_results(store: SqliteStore, begin: int, end: int, vdns: tuple[int, ...] = (1, 2)) -> list[CallResult]:
    """The store's own answer (the DataProcess search), VDN by VDN."""
    found: list[CallResult] = []
    for vdn in vdns:
        query = CallResultQuery(cc_id=1, vdn=vdn, begin=begin, end=end - 1, limit=10**7)
        found += store.search_call_results(query)[1]
    return found


def test_results_to_csv_and_parquet_are_the_stores_rows(served: tuple[Running, list], tmp_path: Path) -> None:
    running, db = served
    store = running.service.store
    expected = stored_results(store, START, NOW)
    assert len(expected) >= 300 and {r.vdn for r in expected} == {1, 2}
    run = export(*db, "--from", str(START), "--to", str(NOW), "-o", tmp_path / "results.csv")
    assert f"exported {len(expected):,} call results" in run.stderr
    rows = csv_rows(tmp_path / "results.csv")
    assert rows[0] == CALL_RESULTS_EXPORT.names
    assert len(rows) - 1 == len(expected)
    assert sorted(rows[1:]) == sorted(as_text(CALL_RESULTS_EXPORT, expected))
    order = [(int(r[10]), int(r[14])) for r in rows[1:]]  # (vdn, arrivedAt): VDN by VDN, in arrival order
    assert order == sorted(order)

    export(*db, "--from", str(START), "--to", str(NOW), "-o", tmp_path / "results.parquet")
    parquet = pq.read_table(tmp_path / "results.parquet")
    assert parquet.column_names == CALL_RESULTS_EXPORT.names
    assert str(parquet.schema.field("logDate").type) == "int64"
    assert str(parquet.schema.field("callerNo").type) == "string"
    cells = sorted(tuple(row.values()) for row in parquet.to_pylist())
    assert cells == sorted(CALL_RESULTS_EXPORT.rows(expected, wire=False), key=_none_first)
    assert any(row[12] is None for row in cells) and any(row[12] for row in cells)  # evaluated and not


def _none_first(row: tuple) -> tuple:
    return tuple((cell is not None, cell) for cell in row)


def test_a_window_and_a_vdn(served: tuple[Running, list], tmp_path: Path) -> None:
    running, db = served
    store = running.service.store
    some = stored_results(store, START + HOUR, START + 2 * HOUR, (2,))
    begin, end = some[0].arrived_at, some[-1].arrived_at  # --from inclusive, --to exclusive
    export(*db, "--vdn", "2", "--from", str(begin), "--to", str(end), "-o", tmp_path / "w.csv")
    expected = stored_results(store, begin, end, (2,))
    assert expected[0] == some[0] and expected[-1] != some[-1]
    assert csv_rows(tmp_path / "w.csv")[1:] == as_text(CALL_RESULTS_EXPORT, expected)
    stdout = subprocess.run(
        [sys.executable, "-m", "ccdata", "export", *db, "--vdn", "2", "--from", str(begin), "--to", str(end),
         "-o", "-", "-q"], capture_output=True, check=True, timeout=120,
    ).stdout  # fmt: skip
    assert stdout == (tmp_path / "w.csv").read_bytes()
    assert stdout.count(b"\r\n") == len(expected) + 1


def test_track_rows_are_the_stores_rows_call_by_call(served: tuple[Running, list], tmp_path: Path) -> None:
    running, db = served
    store = running.service.store
    begin, end = START + HOUR, NOW
    tables = running.track_tables()
    stored = [TrackRow(*row) for table in tables for row in running.sql(f"SELECT {_TRACK_COLUMNS} FROM {table}")]
    in_window = [row for row in stored if begin <= row.arrived_at < end]
    calls = sorted({(month_of(r.arrived_at), r.call_id, r.vdn) for r in in_window})
    expected = [row for month, call_id, vdn in calls for row in store.track_rows(1, vdn, call_id, month)]
    assert len(expected) == len(in_window) > len(calls) >= 200  # several rows a call (IVR, queue, agent)
    export(*db, "--kind", "track", "--from", str(begin), "--to", str(end), "-o", tmp_path / "track.csv")
    rows = csv_rows(tmp_path / "track.csv")
    assert rows[0] == TRACK_ROWS_EXPORT.names
    assert rows[1:] == as_text(TRACK_ROWS_EXPORT, expected)
    export(*db, "--kind", "track", "--from", str(begin), "--to", str(end), "-o", tmp_path / "track.parquet")
    parquet = pq.read_table(tmp_path / "track.parquet").to_pylist()
    assert [tuple(row.values()) for row in parquet] == TRACK_ROWS_EXPORT.rows(expected, wire=False)
    assert {row["releaseCause"] is None for row in parquet} == {True, False}  # null but on a call's last row


def test_pages_cut_anywhere_lose_and_repeat_nothing(store: Store) -> None:
    results = [_result(f"c-{n}", vdn=1 + n % 2, at=1_000 + n // 5) for n in range(40)]  # ties of five
    rows = [_row(f"c-{n}", num, at=1_000 + n) for n in range(12) for num in (-1, *range(1, n % 4 + 1))]
    store.commit(Batch(records=[*results, *rows]))
    for page in (1, 3, 4, 7, 1000):
        pages = list(store.call_result_pages(1, 1_000, 1_008, page=page))
        got = [r for p in pages for r in p]
        assert sorted(got) == sorted(results) and len(got) == 40
        assert [(r.vdn, r.arrived_at) for r in got] == sorted((r.vdn, r.arrived_at) for r in got)
        tracked = [r for p in store.track_row_pages(1, 1_000, 1_012, page=page) for r in p]
        by_call_id = sorted(f"c-{n}" for n in range(12))  # the order of the call IDs' text
        assert tracked == [r for call_id in by_call_id for r in store.track_rows(1, 1, call_id, month_of(0))]
        for table, pages, records in (
            (CALL_RESULTS_EXPORT, store.call_result_pages, got),
            (TRACK_ROWS_EXPORT, store.track_row_pages, tracked),
        ):  # the same rows as tuples of the export's columns, straight from the query
            cells = [r for p in pages(1, 1_000, 1_012, page=page, fields=table.fields) for r in p]
            assert cells == table.rows(records, wire=False)
    assert store.count_call_results(1, 1_002, 1_004) == 10
    assert [r.call_id for p in store.call_result_pages(1, 1_002, 1_003, vdn=2, page=2) for r in p] == [
        "c-11", "c-13",
    ]  # fmt: skip
    with pytest.raises(ValueError, match="not a record field"):
        next(store.call_result_pages(1, 0, 1, fields=("vdn", "1; DROP TABLE call_result")))
    with pytest.raises(ValueError, match="not a record field"):
        next(store.track_row_pages(1, 0, 1, fields=("1; DROP TABLE call_track",)))


def _result(call_id: str, vdn: int, at: int) -> CallResult:
    return CallResult(1, vdn, call_id, at, at + 5, "1380", "650550", 0, 5, -1, at, at, at, at + 5, 15, 0, 1001, 7, None)


def _row(call_id: str, num: int, at: int) -> TrackRow:
    cause = 0 if num == -1 else None
    return TrackRow(1, 1, call_id, num, at, "1380", "650550", 5, -1, at, at, at, at + 5, 1, 2, "1001", "61001", 0,
                    cause, 0, 15, 7)  # fmt: skip


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--kind", "calls"], "--kind must be results or track, not 'calls'"),
        (["--format", "xlsx"], "--format must be csv or parquet, not 'xlsx'"),
        (["--from", "yesterday"], "--from 'yesterday' is not a date (YYYY-MM-DD)"),
        (["--to", "2026-13-01"], "--to '2026-13-01' is not a date"),
        (["--from", "99999999999999999"], "is outside 1970-01-01 .. 2100-01-01"),
        (["--from", "2026-02-01", "--to", "2026-01-01"], "--from must be before --to"),
        (["--vdn", "0"], "--vdn must be a whole number from 1 to 5000, not '0'"),
        (["--vdn", "٣"], "--vdn must be a whole number from 1 to 5000"),
        (["--cc", "x"], "--cc must be a whole number from 1 to 65535"),
        (["--output", "-", "--format", "parquet"], "Parquet cannot be written to standard output"),
        (["--output", "{tmp}/missing/out.csv"], "the folder {tmp}/missing does not exist"),
        (["--output", "{tmp}"], "is a folder: give --output a file name"),
        (["--output", "{db}"], "is the store itself: choose another --output"),
        (["--db", "{tmp}/none.db"], "no store at {tmp}/none.db"),
        (["--store", "postgresql://ccdata@127.0.0.1/none"], "--db is the embedded store and --store the distributed"),
    ],
)
def test_a_bad_option_gets_one_line_and_writes_nothing(tmp_path: Path, args: list[str], message: str) -> None:
    db = tmp_path / "store.db"
    SqliteStore(db).close()
    output = ["--output", str(tmp_path / "out.csv")] if "--output" not in args else []
    args = [a.replace("{tmp}", str(tmp_path)).replace("{db}", str(db)) for a in args]
    run = ccdata("export", "--db", db, *output, *args)
    assert run.returncode == 2, run.stderr
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), run.stderr
    assert message.replace("{tmp}", str(tmp_path)) in lines[0]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["store.db"]


def test_no_output_named(tmp_path: Path) -> None:
    db = tmp_path / "store.db"
    SqliteStore(db).close()
    run = ccdata("export", "--db", db)
    assert run.returncode == 2 and run.stderr.strip() == (
        "error: --output is required: a file name, or - for standard output (CSV)"
    )


def test_a_reader_that_goes_away_stops_the_export_quietly(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "many.db")
    store.commit(Batch(records=[_result(f"c-{n}", vdn=1, at=1_000 + n) for n in range(20_000)]))
    store.close()
    command = [sys.executable, "-m", "ccdata", "export", "--db", str(tmp_path / "many.db"), "-o", "-"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert process.stdout is not None and process.stderr is not None
    assert process.stdout.readline().startswith(b"logDate,callerNo,")
    process.stdout.close()  # as `| head -1` does
    assert process.wait(60) == 141  # as a Unix tool ended by SIGPIPE
    assert process.stderr.read() == b""


class _Both:
    """Two services fed the same inputs, in the same order (a backfill's target)."""

    def __init__(self, first: Service, second: Service) -> None:
        self.first, self.second = first, second

    def ingest(self, events: list[dict]) -> Any:
        self.second.ingest(events)
        return self.first.ingest(events)


def test_the_same_events_export_to_the_same_bytes_from_sqlite_and_postgresql(tmp_path: Path) -> None:
    text = TEST_CONFIG.replace("{auth_mode}", "2").replace("{heartbeat}", "60000") + SURVEYED + SECOND_VDN
    config = configuration.parse(text)
    db = tmp_path / "embedded.db"
    with postgres_database() as url:
        stores: list[Store] = [SqliteStore(db), PostgresStore(url)]
        services = [Service(config, store) for store in stores]
        start = NOW - 2 * HOUR
        simulator = ContactCenter(config, config.simulator, start, seed=22)
        backfill(_Both(*services), simulator, NOW - 60_000)  # type: ignore[arg-type]
        # Ties in arrival time, written out of call-ID order, and call IDs whose order differs by locale: their
        # order is the order written (results) and the bytes' (track rows), from either store.
        tied = [_result(call_id, vdn=1, at=start + 1) for call_id in ("t-9", "T-1", "t-5", "_t", "t-10")]
        rows = [_row(call_id, num, at=start + 2) for call_id in ("b-1", "B-2", "a-1", "_z", "é") for num in (1, -1)]
        for store in stores:
            store.commit(Batch(records=[*tied, *rows]))
        counts = [store.count("results") for store in stores]
        assert counts[0] == counts[1] >= 150
        for store in stores:
            store.close()
        outputs = {}
        for kind in ("results", "track"):
            for name, where in (("sqlite", ["--db", db]), ("postgres", ["--store", url])):
                out = tmp_path / f"{kind}-{name}.csv"
                export(*where, "--kind", kind, "--from", str(start), "--to", str(NOW), "-o", out)
                outputs[kind, name] = out.read_bytes()
            assert outputs[kind, "sqlite"] == outputs[kind, "postgres"], kind
        fields = CALL_RESULTS_EXPORT.fields
        results = csv_rows(tmp_path / "results-postgres.csv")[1:]
        assert len(results) == counts[1] and {r[fields.index("vdn")] for r in results} == {"1", "2"}
        at, call_id = fields.index("arrived_at"), fields.index("call_id")
        assert [r[call_id] for r in results if int(r[at]) == start + 1] == ["t-9", "T-1", "t-5", "_t", "t-10"]
        track = csv_rows(tmp_path / "track-postgres.csv")[1:]
        call_id = TRACK_ROWS_EXPORT.fields.index("call_id")
        ours = [r[call_id] for r in track if r[call_id] in {"b-1", "B-2", "a-1", "_z", "é"}]
        assert ours == ["B-2", "B-2", "_z", "_z", "a-1", "a-1", "b-1", "b-1", "é", "é"]  # by the bytes
        assert len(track) > len(results)


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("mysql://db/ccdata", "--store takes a postgresql:// URL, not 'mysql'"),
        ("postgresql://ccdata@127.0.0.1:1/ccdata", "cannot use the store (postgresql://127.0.0.1:1/ccdata: "),
    ],
)
def test_a_store_that_is_not_a_postgresql_one_gets_one_line(tmp_path: Path, url: str, message: str) -> None:
    run = ccdata("export", "--store", url, "--output", str(tmp_path / "out.csv"))
    assert run.returncode == 2, run.stderr
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0], run.stderr
    assert list(tmp_path.iterdir()) == []
