"""CC-CMS monitoring and call discovery under load.

(a) `skill/rindex` for every skill of a VDN with every indicator id, wrk at 64 connections while the live
    simulator feeds the server, against the bare endpoint of the same server in alternating rounds (as
    bench/realtime.py measures its queries).
(b) `vdn/querycalls` (v1) over a one-day window of a store of 10,000,000 call results, p50/p99 through the SDK over
    HTTP, against the same SQL run directly on the store in this process (as bench/search.py measures searches).

The querycalls data set is bench/search.py's, built by its builder, but ending yesterday (UTC): the interface
answers only windows from 00:00 of the previous day (the reference), so the file is rebuilt on another day.

    .venv/bin/python -m bench.monitoring [N]
"""

from __future__ import annotations

import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

from bench import search
from bench.common import OUT, replace_section, server
from bench.realtime import AK, ROUNDS, SK, signed, wrk
from ccdata.client import CmsClient
from ccdata.domain import codes
from ccdata.store.ports import CallResultQuery
from ccdata.store.sqlite import SqliteStore

DAY = search.DAY
QUERIES = 200
VDN = 1
BEGIN = "<!-- bench.monitoring: begin -->"
END = "<!-- bench.monitoring: end -->"
DOC = Path(__file__).parent.parent / "docs" / "performance.md"
SKILLS = [1, 2, 3, 4]  # the demo VDN's configured skills (src/ccdata/default.toml)


def rindex(seconds: int = 5) -> dict[str, float]:
    """skill/rindex, every skill of the simulated VDN, every indicator id, against the bare endpoint."""
    with tempfile.TemporaryDirectory() as tmp, server(Path(tmp) / "mon.db", "--simulate", "--speed", "20") as url:
        cms = CmsClient(url, AK, SK)
        skills = _busy_skills(cms)
        path = "/rest/cmsapp/v1/openapi/skill/rindex"
        body = (
            f'{{"ccId":1,"vdn":{VDN},"skillIds":{list(skills)},"indexIds":{list(codes.SKILL_INDICATOR_IDS)}}}'.replace(
                "'", '"'
            )
        )
        rounds = []
        for _ in range(ROUNDS):
            bare = wrk(url, "/ccdata/v1/health", seconds, "POST", body, {"Content-Type": "application/json"})
            real = wrk(url, path, seconds, "POST", body, signed(url, path, body))
            rounds.append((bare, real))
    return {
        "skills": len(skills),
        "rps": statistics.median(r["rps"] for _, r in rounds),
        "p50_ms": statistics.median(r["p50_ms"] for _, r in rounds),
        "p99_ms": statistics.median(r["p99_ms"] for _, r in rounds),
        "bare_rps": statistics.median(b["rps"] for b, _ in rounds),
        "bare_p99_ms": statistics.median(b["p99_ms"] for b, _ in rounds),
        "rps_ratio": statistics.median(r["rps"] / b["rps"] for b, r in rounds),
        "errors": any(r["errors"] for _, r in rounds),
    }


def _busy_skills(cms: CmsClient) -> list[int]:
    """Every configured skill of the demo VDN, once the simulator has calls at agents (at most a minute)."""
    deadline = time.monotonic() + 60
    while not any(row.callList for row in cms.agent_group_calls(VDN, list(range(1001, 1061)))):
        if time.monotonic() > deadline:
            raise RuntimeError("the simulator put no call at an agent within a minute")
        time.sleep(0.5)
    return SKILLS


def querycalls_store(count: int) -> tuple[Path, int]:
    """bench/search.py's data set, its last day yesterday (UTC); older builds of it are removed."""
    today = int(time.time() * 1000) // DAY * DAY
    start = today - search.DAYS * DAY
    path = OUT / f"querycalls-{count}-{start // DAY}.db"
    for old in OUT.glob(f"querycalls-{count}-*.db"):
        if old != path:
            old.unlink()
    search.build(path, count, start)
    return path, today - DAY


def querycalls(count: int = 10_000_000) -> dict[str, float]:
    """vdn/querycalls v1 over yesterday's 24 hours (100 per page, random pages), against the store's own SQL."""
    path, yesterday = querycalls_store(count)
    rng = random.Random(13)
    per_day = count // search.DAYS
    pages = [rng.randrange(per_day // 100) * 100 for _ in range(QUERIES)]
    store = SqliteStore(path)
    api: list[float] = []
    sql: list[float] = []
    with server(path) as url:
        cms = CmsClient(url, AK, SK)
        for n, offset in enumerate(pages):
            query = CallResultQuery(1, VDN, begin=yesterday, end=yesterday + DAY - 1, inbound=True, offset=offset)
            search._measure(
                n,
                lambda o=offset: cms.vdn_calls(VDN, yesterday, yesterday + DAY - 1, offset=o, v1=True),
                lambda q=query: _direct(store, q),
                api,
                sql,
            )
    store.close()
    return {"results": count, **search._figures(api, sql)}


def _direct(store: SqliteStore, query: CallResultQuery) -> None:
    """What the interface reads: the page and its count, and each call's track rows (for its CMS call type)."""
    _, results = store.search_call_results(query)
    for result in results:
        store.track_rows(result.cc_id, result.vdn, result.call_id, search.month_of(result.arrived_at))


def section(figures: dict[str, dict]) -> str:
    """Section 7 of docs/performance.md (bench.run writes it with the others; this module alone replaces it)."""
    r, q = figures["rindex"], figures["querycalls"]
    rindex_ok = r["rps_ratio"] >= 0.7 and not r["errors"]
    lines = [
        BEGIN,
        "## 7. CC-CMS wallboard and call discovery",
        "",
        f"`skill/rindex` for every skill of the demo VDN ({r['skills']}) with all 12 indicator ids: wrk as in section",
        f"2 ({ROUNDS} rounds of 5 s against the bare endpoint, the live simulator feeding the server).",
        f"`vdn/querycalls` (v1) over yesterday's 24 hours of a store of {q['results']:,} call results",
        f"(bench/search.py's data set ending yesterday, UTC), {QUERIES} random pages of 100, through the",
        "SDK over HTTP, against the same reads run directly on the store (page, count, each call's track rows).",
        "`.venv/bin/python -m bench.monitoring` (it rewrites this section).",
        "",
        "| figure | ccdata | baseline | ratio | goal | |",
        "|---|---|---|---|---|---|",
        f"| skill/rindex req/s | {r['rps']:,.0f} (p50 {r['p50_ms']:.1f} ms, p99 {r['p99_ms']:.1f} ms) | "
        f"{r['bare_rps']:,.0f} bare | {r['rps_ratio']:.2f} | ≥ 0.7 | {_verdict(rindex_ok)} |",
        f"| querycalls p99 | {q['api_p99_ms']:.1f} ms (p50 {q['api_p50_ms']:.1f} ms) | {q['sql_p99_ms']:.1f} ms SQL "
        f"(p50 {q['sql_p50_ms']:.1f} ms) | {q['api_p99_ms'] / q['sql_p99_ms']:.2f} | ≤ 50 ms | "
        f"{_verdict(q['api_p99_ms'] <= 50)} |",
        "",
        NOTES,
        END,
    ]
    return "\n".join(lines) + "\n"


def _verdict(ok: bool) -> str:
    return "met" if ok else "**missed**"


NOTES = """\
What was found and changed: the first `vdn/querycalls` runs measured p99 83 ms (p50 39 ms), as slow as the
direct SQL: the inbound filter (`callType` 0) made the day's `count(*)` read 100,000 table rows, and a deep
page (`offset` 90,000) sorted the day's rows and read every skipped row. The window index now holds call ID and
call type, (ccId, vdn, arrival, callId, callType): the count, the order and the skipped rows stay in the index
(count 40 -> 5 ms, the page at offset 90,000 87 -> 6 ms) with no extra index for the ingest to update; an older
store rebuilds it once at start (15 s at 10M results). `skill/rindex` first measured 0.30-0.36 of the bare
endpoint: cProfile showed the answer itself (48 indicator values; 4 skill views, each scanning the agents and
calls) at about three times a bare request. The VDN's live figures are now taken once per request, and an
encoded answer is reused while the engine (its count of applied events), the monitor (its count of results) and
the feed clock's 100 ms step are unchanged: the wallboard case, many screens polling the same question. What is
left is the signed request itself (auth-v2 and the body), as for the other CC-CMS queries of section 2; the
ratio moves by ±0.1 from run to run on this shared machine (0.62-0.83 in the runs of this day). The
querycalls tail follows the machine, not ccdata: on a quiet machine the same runs gave p99 25-31 ms (SQL p99
22-29 ms); with the other engineers' test suites on the two cores, 64-150 ms, the direct SQL as slow (its p99
70-134 ms), the day's index pages and rows then coming from disk again (the buffer cache held about 2 GiB
while these ran; the data set is about 3 GiB). Not in this table: the agent operation log (`agent/agentoprinfo`)
is written by the ingest, about 0.4 records per synthetic event; an in-process A/B of 200,000 events through
the pipeline with and without it gave ratios of 0.69-0.93 on the loaded machine (about 15 % of the ingest)."""


def main(count: int = 10_000_000, seconds: int = 5) -> dict[str, dict]:
    return {"rindex": rindex(seconds), "querycalls": querycalls(count)}


if __name__ == "__main__":
    figures = main(int(sys.argv[1]) if len(sys.argv) > 1 else 10_000_000)
    replace_section(DOC, BEGIN, END, section(figures), before="## Notes")
    r, q = figures["rindex"], figures["querycalls"]
    print(
        f"skill/rindex ({r['skills']} skills) {r['rps']:,.0f} req/s (bare {r['bare_rps']:,.0f}, ratio "
        f"{r['rps_ratio']:.2f}) p50 {r['p50_ms']:.1f} ms p99 {r['p99_ms']:.1f} ms{'  ERRORS' if r['errors'] else ''}"
    )
    print(
        f"querycalls API p50 {q['api_p50_ms']:.2f} ms p99 {q['api_p99_ms']:.2f} ms | "
        f"SQL p50 {q['sql_p50_ms']:.2f} ms p99 {q['sql_p99_ms']:.2f} ms"
    )
