"""Ingest benchmark: events/s through log + engine + SQLite, against the lower bound of the same run.

The lower bound parses the same JSON lines and bulk-inserts the same rows (log entries, call-track rows, call
results) into the same schema, in the same batch size, with no validation and no engine logic. The two alternate
for three rounds (fresh files each time) and the medians are kept: on a shared machine the disk's speed drifts.

    .venv/bin/python -m bench.ingest [EVENTS]        # default 1,000,000
"""

from __future__ import annotations

import gc
import statistics
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

ROUNDS = 3


def main(count: int) -> dict[str, float]:
    encoder = msgspec.json.Encoder()
    lines = [encoder.encode(event) for event in synthetic_events(count)]
    engine_rates, bare_rates = [], []
    rows = None
    with tempfile.TemporaryDirectory() as tmp:
        for n in range(ROUNDS):
            gc.collect()  # the previous round's engine, before the clock starts
            store = SqliteStore(Path(tmp) / f"engine-{n}.db")
            report = Pipeline(store).ingest(lines)
            assert report.accepted == count, report.reasons
            engine_rates.append(count / report.seconds)
            if rows is None:
                rows = _rows(store)
            store.close()
            bare_rates.append(count / _lower_bound(Path(tmp) / f"bare-{n}.db", lines, *rows))
    engine, bare = statistics.median(engine_rates), statistics.median(bare_rates)
    return {"events": count, "engine_eps": engine, "bare_eps": bare, "ratio": engine / bare,
            "ratios": [e / b for e, b in zip(engine_rates, bare_rates, strict=True)]}  # fmt: skip


def _rows(store: SqliteStore) -> tuple[list[LoggedEvent], list[TrackRow | CallResult]]:
    logged = [LoggedEvent(*row) for row in store._db.execute("SELECT id, type, at, body FROM event_log")]
    tracks = [TrackRow(*r) for m in sorted(store._months) for r in store._db.execute(f"SELECT * FROM track_{m}")]
    results = [CallResult(*r) for r in store._db.execute("SELECT * FROM call_result")]
    return logged, [*tracks, *results]


def _lower_bound(path: Path, lines: list[bytes], logged: list, records: list) -> float:
    bare = SqliteStore(path)
    count = len(lines)
    per_batch = max(1, len(records) * DEFAULT_BATCH // count)
    started = time.perf_counter()
    for n, start in enumerate(range(0, count, DEFAULT_BATCH)):
        for line in lines[start : start + DEFAULT_BATCH]:
            msgspec.json.decode(line)
        batch = Batch(events=logged[start : start + DEFAULT_BATCH])
        batch.records = records[n * per_batch : (n + 1) * per_batch]
        bare.commit(batch)
    seconds = time.perf_counter() - started
    bare.close()
    return seconds


if __name__ == "__main__":
    figures = main(int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000)
    print(
        f"{figures['events']:,} events: ccdata {figures['engine_eps']:,.0f} events/s, "
        f"lower bound {figures['bare_eps']:,.0f} events/s, ratio {figures['ratio']:.2f} "
        f"(rounds: {', '.join(f'{r:.2f}' for r in figures['ratios'])})"
    )
