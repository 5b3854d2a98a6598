"""Call-result search over 10,000,000 stored call results: p50/p99 through the HTTP API (DataProcess, and CC-CMS
querycalltracedetail) against the same SQL run directly on the store.

The data set (bench/out/search-<N>.db, built once and reused) holds N call results over 100 days (100,000 a day
for N = 10M), callers drawn from a million numbers, 30 % evaluated, and one call-track row per call of the last
month.

    .venv/bin/python bench/search.py [N]
"""

from __future__ import annotations

import random
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from bench.common import OUT, p50_p99, server
from ccdata.client import CmsClient, DataProcessClient
from ccdata.domain.records import CallResult, TrackRow, month_of
from ccdata.store.ports import CallResultQuery, Store
from ccdata.store.sqlite import SqliteStore

DAY = 86_400_000
DAYS = 100
START = 1_767_225_600_000  # 2026-01-01
QUERIES = 200


def generated_days(count: int, start: int = START) -> Iterator[tuple[list[CallResult], list[TrackRow]]]:
    """The data set over DAYS days from `start` (midnight UTC), a day at a time: that day's call results, and its
    track rows if it is in the last month."""
    rng = random.Random(7)
    per_day = count // DAYS
    last_month = month_of(start + (DAYS - 1) * DAY)
    for day in range(DAYS):
        results, tracks = [], []
        for n in range(per_day):
            at = start + day * DAY + n * (DAY // per_day)
            call_id = f"{at // 1000}-{day * per_day + n}"
            caller = f"1{rng.randrange(1_000_000):09d}"
            evaluation = str(rng.randint(1, 5)) if rng.random() < 0.3 else None
            results.append(CallResult(1, 1, call_id, at, at + 200_000, caller, "650550", 0, 5, -1, at + 30_000,
                                      at + 35_000, at + 40_000, at + 200_000, 15, 0, 1001, 1, evaluation))  # fmt: skip
            if month_of(at) == last_month:
                tracks.append(TrackRow(1, 1, call_id, -1, at, caller, "650550", 5, -1, at + 30_000, at + 35_000,
                                       at + 40_000, at + 200_000, 0, 2, "1001", "61001", 0, 0, 0, 15, 1))  # fmt: skip
        yield results, tracks


def build(path: Path, count: int, start: int = START) -> None:
    """`count` call results over DAYS days from `start` (midnight UTC), built once into `path`."""
    if path.exists():
        return
    OUT.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial")
    partial.unlink(missing_ok=True)
    store = SqliteStore(partial, durable=False)
    last_month = month_of(start + (DAYS - 1) * DAY)
    started = time.perf_counter()
    db = store._db
    for day, (results, tracks) in enumerate(generated_days(count, start)):
        db.execute("BEGIN")
        db.executemany(f"INSERT INTO call_result VALUES ({','.join('?' * 19)})", results)
        if tracks:
            table = store._track_table(last_month, create=True)
            db.executemany(f"INSERT INTO {table} VALUES ({','.join('?' * 22)})", tracks)
        db.execute("COMMIT")
        print(
            f"\rbuilding {path.name}: day {day + 1}/{DAYS}, {time.perf_counter() - started:.0f} s", end="", flush=True
        )
    db.execute("ANALYZE")
    store.close()
    partial.rename(path)


def main(count: int = 10_000_000) -> dict[str, dict]:
    path = OUT / f"search-{count}.db"
    build(path, count)
    store = SqliteStore(path)
    samples = store._db.execute(
        "SELECT call_id, caller_no, arrived_at FROM call_result ORDER BY random() LIMIT ?", (QUERIES,)
    ).fetchall()
    last_month = month_of(START + (DAYS - 1) * DAY)
    tracked = store._db.execute(
        f"SELECT call_id, arrived_at FROM track_{last_month} ORDER BY random() LIMIT ?", (QUERIES,)
    ).fetchall()
    with server(path) as url:
        results = run_queries(url, store, samples, tracked)
    store.close()
    return results


def run_queries(url: str, store: Store, samples: list[tuple], tracked: list[tuple]) -> dict[str, dict]:
    """Each kind of query through the API of the server at `url` and directly on `store`: p50/p99 of both.
    `samples` are (call_id, caller_no, arrived_at) of stored results, `tracked` (call_id, arrived_at) of calls with
    track rows."""
    rng = random.Random(11)

    def day_of(at: int) -> tuple[int, int]:
        begin = at - (at - START) % DAY
        return begin, begin + DAY - 1

    queries = {
        "one-day window": [dict(zip(("begin", "end"), day_of(at), strict=True)) for _, _, at in samples],
        "window + caller": [{**dict(zip(("begin", "end"), day_of(at), strict=True)), "caller": caller}
                            for _, caller, at in samples],
        "window + evaluation": [{**dict(zip(("begin", "end"), day_of(at), strict=True)),
                                 "evaluation": str(rng.randint(1, 5))} for _, _, at in samples],
        "callId lookup": [{"call_id": call_id} for call_id, _, _ in samples],
    }  # fmt: skip
    column = {"call_id": "call_id", "caller": "caller_no", "evaluation": "evaluation_value", "begin": "begin",
              "end": "end"}  # fmt: skip
    results: dict[str, dict] = {}
    dp = DataProcessClient(url, "ccdata-demo-app", "ccdata-demo-secret")
    cms = CmsClient(url, "ccdata-demo-ak", "ccdata-demo-sk")
    dp.token()
    for name, cases in queries.items():
        api, sql = [], []
        for n, case in enumerate(cases):
            query = CallResultQuery(cc_id=1, vdn=1, **{column[k]: v for k, v in case.items()})
            _measure(n, lambda c=case: dp.search(1, **c), lambda q=query: store.search_call_results(q), api, sql)
        results[name] = _figures(api, sql)
    api, sql = [], []
    for n, (call_id, at) in enumerate(tracked):
        _measure(n, lambda c=call_id, a=at: cms.call_track(1, c, a),
                 lambda c=call_id, a=at: store.track_rows(1, 1, c, month_of(a)), api, sql)  # fmt: skip
    results["querycalltracedetail"] = _figures(api, sql)
    return results


def _measure(n: int, via_api: Callable[[], object], direct: Callable[[], object], api: list, sql: list) -> None:
    """One query both ways, each once unmeasured first (each connection warms its own page cache), then measured
    in alternating order: neither side gets the other's warm-up for free."""
    direct()
    via_api()
    order = [(via_api, api), (direct, sql)]
    for run, into in order if n % 2 == 0 else reversed(order):
        started = time.perf_counter()
        run()
        into.append((time.perf_counter() - started) * 1000)


def _figures(api: list[float], sql: list[float]) -> dict[str, float]:
    api_p50, api_p99 = p50_p99(api)
    sql_p50, sql_p99 = p50_p99(sql)
    return {"api_p50_ms": api_p50, "api_p99_ms": api_p99, "sql_p50_ms": sql_p50, "sql_p99_ms": sql_p99,
            "overhead": api_p50 / sql_p50 - 1 if sql_p50 else 0.0}  # fmt: skip


if __name__ == "__main__":
    for name, f in main(int(sys.argv[1]) if len(sys.argv) > 1 else 10_000_000).items():
        print(
            f"{name:22} API p50 {f['api_p50_ms']:.2f} ms p99 {f['api_p99_ms']:.2f} ms | "
            f"SQL p50 {f['sql_p50_ms']:.2f} ms p99 {f['sql_p99_ms']:.2f} ms | overhead {f['overhead']:.0%}"
        )
