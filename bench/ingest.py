"""Ingest benchmark: events/s through log + engine + SQLite, against the lower bound of the same run.

The lower bound parses the same JSON lines and bulk-inserts the same rows (log entries, call-track rows, call
results) into the same schema, in the same batch size, with no validation and no engine logic.

    .venv/bin/python -m bench.ingest [EVENTS]        # default 1,000,000
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import msgspec

from ccdata.domain.records import CallResult, TrackRow
from ccdata.pipeline import DEFAULT_BATCH, Pipeline
from ccdata.sim.synthetic import synthetic_events
from ccdata.store.ports import Batch, LoggedEvent
from ccdata.store.sqlite import SqliteStore


def main(count: int) -> dict[str, float]:
    encoder = msgspec.json.Encoder()
    lines = [encoder.encode(event) for event in synthetic_events(count)]
    with tempfile.TemporaryDirectory() as tmp:
        store = SqliteStore(Path(tmp) / "engine.db")
        report = Pipeline(store).ingest(lines)
        assert report.accepted == count, report.reasons
        logged = [LoggedEvent(*row) for row in store._db.execute("SELECT id, type, at, body FROM event_log")]
        tracks = [TrackRow(*r) for m in sorted(store._months) for r in store._db.execute(f"SELECT * FROM track_{m}")]
        results = [CallResult(*r) for r in store._db.execute("SELECT * FROM call_result")]
        store.close()

        bare = SqliteStore(Path(tmp) / "bare.db")
        records: list[TrackRow | CallResult] = [*tracks, *results]
        per_batch = max(1, len(records) * DEFAULT_BATCH // count)
        started = time.perf_counter()
        for n, start in enumerate(range(0, count, DEFAULT_BATCH)):
            for line in lines[start : start + DEFAULT_BATCH]:
                msgspec.json.decode(line)
            batch = Batch(events=logged[start : start + DEFAULT_BATCH])
            batch.records = records[n * per_batch : (n + 1) * per_batch]
            bare.commit(batch)
        bare_seconds = time.perf_counter() - started
        bare.close()
    engine_rate = count / report.seconds
    bare_rate = count / bare_seconds
    return {"events": count, "engine_eps": engine_rate, "bare_eps": bare_rate, "ratio": engine_rate / bare_rate}


if __name__ == "__main__":
    figures = main(int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000)
    print(
        f"{figures['events']:,} events: ccdata {figures['engine_eps']:,.0f} events/s, "
        f"lower bound {figures['bare_eps']:,.0f} events/s, ratio {figures['ratio']:.2f}"
    )
