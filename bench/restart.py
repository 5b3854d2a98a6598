"""Restart benchmark: how long start-up takes after a crash, with periodic snapshots against a full replay.

A store with EVENTS events is built once. The baseline is a start that replays the whole log (no snapshot: what
every start after a crash cost before periodic snapshots). The measured case is the worst a crash can leave with
the default policy: the latest snapshot `snapshot_every_events` (100,000) events before the log's end.

    .venv/bin/python -m bench.restart [EVENTS]        # default 1,000,000
"""

from __future__ import annotations

import gc
import statistics
import sys
import tempfile
import time
from pathlib import Path

import msgspec

from ccdata.config import StoreSettings
from ccdata.pipeline import Pipeline
from ccdata.sim.synthetic import synthetic_events
from ccdata.store.sqlite import SqliteStore

ROUNDS = 3


def main(count: int) -> dict[str, float]:
    behind = StoreSettings().snapshot_every_events
    encoder = msgspec.json.Encoder()
    lines = [encoder.encode(event) for event in synthetic_events(count)]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "restart.db"
        store = SqliteStore(path, durable=False)
        pipeline = Pipeline(store)
        pipeline.ingest(lines[: count - behind])
        pipeline.save_snapshot()  # the last periodic snapshot before the "crash"
        pipeline.ingest(lines[count - behind :])
        snapshot = store.load_snapshot()
        store.close()
        del pipeline, lines
        full, worst = [], []
        for _ in range(ROUNDS):  # alternated: the page cache is warm for both
            worst.append(_start(path))
            store = SqliteStore(path)
            store._db.execute("DELETE FROM snapshot")
            full.append(_start(path))
            store.save_snapshot(snapshot)
            store.close()
    result = {
        "events": count,
        "behind": behind,
        "full_s": statistics.median(full),
        "worst_s": statistics.median(worst),
    }
    result["ratio"] = result["worst_s"] / result["full_s"]
    return result


def _start(path: Path) -> float:
    gc.collect()
    began = time.perf_counter()
    store = SqliteStore(path)
    Pipeline(store)
    seconds = time.perf_counter() - began
    store.close()
    return seconds


if __name__ == "__main__":
    figures = main(int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000)
    print(
        f"start after a crash, {figures['events']:,} events: full replay {figures['full_s']:.2f} s; "
        f"snapshot {figures['behind']:,} events behind {figures['worst_s']:.2f} s (ratio {figures['ratio']:.2f})"
    )
