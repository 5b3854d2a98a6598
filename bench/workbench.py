"""Agent-event delivery to a CC-Gateway workbench, embedded and across two nodes.

A workbench agent signs in; `CALLS` calls are offered to it through the ingest (each rings, is answered and
released: six agent events); then one client polls them all, one poll after the other, as a workbench does.
Figures: agent events delivered per second and the latency of a poll that returns one. Baseline, in the same
run and on the same connection: as many `callinfo` requests (the same server, the same `Guid` check, an answer
from live state in memory), so the ratio is what the queue's store round trip costs a poll beyond an ordinary
gateway request.

Embedded: one `ccdata serve` on SQLite (queue and cursor in its file, `synchronous=FULL`). Distributed: two
`ccdata serve` on one NATS JetStream stream, one PostgreSQL database and one Redis prefix: the agent signs in and
the calls go in on node A; the polls and the baseline go to node B.

`.venv/bin/python -m bench.workbench` (prints the section and rewrites it in docs/performance.md).
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import redis

from bench.cluster import NATS_URL, _delete_stream, cluster_config, database
from bench.common import machine, p50_p99, served, write_section

CALLS = 300
ROUNDS = 3
AGENT = 1901
INGEST = {"Authorization": "Bearer ccdata-demo-ingest"}
REDIS_URL = "redis://127.0.0.1:6379/0"


def calls(start: int, count: int) -> list[dict]:
    events = []
    for n in range(count):
        head = {"ccId": 1, "vdn": 1, "callId": f"wb-{start}-{n}"}
        at = start + n * 10_000
        steps = [("call.arrive", {"caller": "13900000000", "called": "650550"}), ("call.queue", {"skillId": 1}),
                 ("call.alert", {"agentId": AGENT}), ("call.answer", {"agentId": AGENT}),
                 ("call.release", {"by": "customer"})]  # fmt: skip
        events += [{"id": f"{head['callId']}-{i}", "type": t, "at": at + i * 1000, **head, **fields}
                   for i, (t, fields) in enumerate(steps)]  # fmt: skip
    return events


class Workbench:
    def __init__(self, url: str) -> None:
        self.http = httpx.Client(base_url=url, timeout=30)
        self.guid = ""

    def request(self, method: str, path: str, **kw: object) -> dict:
        response = self.http.request(method, f"/agentgateway/resource{path}", headers={"Guid": self.guid}, **kw)
        if "Set-GUID" in response.headers:
            self.guid = response.headers["Set-GUID"].removeprefix("JSESSIONID=")
        return response.json()


def measure(sign_in_url: str, feed_url: str, poll_url: str) -> dict:
    bench = Workbench(sign_in_url)
    body = {"password": "ccdata-agent", "status": 4, "phonenum": f"6{AGENT}", "autoanswer": False}
    assert bench.request("PUT", f"/onlineagent/{AGENT}", json=body)["retcode"] == "0"
    bench.http = httpx.Client(base_url=poll_url, timeout=30)
    while bench.request("GET", f"/agentevent/{AGENT}")["event"] is not None:
        pass  # the sign-in's own events
    rounds = []
    for r in range(ROUNDS):
        events = calls(int(time.time() * 1000) + r * CALLS * 10_000, CALLS)
        response = httpx.post(f"{feed_url}/ccdata/v1/events", json=events, headers=INGEST, timeout=120)
        assert response.json()["accepted"] == len(events), response.text
        polls, started = [], time.perf_counter()
        while True:
            t = time.perf_counter()
            event = bench.request("GET", f"/agentevent/{AGENT}")["event"]
            if event is None:
                break
            polls.append(time.perf_counter() - t)
        poll_seconds = time.perf_counter() - started - (time.perf_counter() - t)  # the last, empty poll waited
        assert len(polls) == 6 * CALLS, len(polls)
        reads, started = [], time.perf_counter()
        for _ in polls:
            t = time.perf_counter()
            assert bench.request("GET", f"/calldata/{AGENT}/callinfo")["retcode"] == "0"
            reads.append(time.perf_counter() - t)
        read_seconds = time.perf_counter() - started
        rounds.append((len(polls) / poll_seconds, len(reads) / read_seconds, p50_p99(polls), p50_p99(reads)))
        print(f"  round {r + 1}: {rounds[-1][0]:,.0f} events/s polled, {rounds[-1][1]:,.0f} callinfo/s", flush=True)
    return {
        "eps": statistics.median(x[0] for x in rounds),
        "bare_rps": statistics.median(x[1] for x in rounds),
        "ratio": statistics.median(x[0] / x[1] for x in rounds),
        "p50": statistics.median(x[2][0] for x in rounds) * 1000,
        "p99": statistics.median(x[2][1] for x in rounds) * 1000,
        "bare_p50": statistics.median(x[3][0] for x in rounds) * 1000,
        "bare_p99": statistics.median(x[3][1] for x in rounds) * 1000,
    }


def embedded() -> dict:
    with tempfile.TemporaryDirectory() as tmp, served(Path(tmp) / "ccdata.db") as (url, _):
        return measure(url, url, url)


@contextlib.contextmanager
def redis_prefix(deployment: str) -> Iterator[None]:
    client = redis.Redis.from_url(REDIS_URL)
    try:
        yield
    finally:
        keys = list(client.scan_iter(match=f"{deployment}:*"))
        if keys:
            client.delete(*keys)
        client.close()


def distributed() -> dict:
    deployment = f"bench-{secrets.token_hex(4)}"
    cluster = ("--events", NATS_URL, "--sessions", REDIS_URL)
    with tempfile.TemporaryDirectory() as tmp, database() as url, redis_prefix(deployment):
        config = cluster_config(Path(tmp), deployment)
        try:
            with served(url, *cluster, config=config) as (a, _), served(url, *cluster, config=config) as (b, _):
                return measure(a, a, b)
        finally:
            asyncio.run(_delete_stream(f"ccdata-{deployment}"))


def section(emb: dict, dist: dict) -> str:
    rows = [
        f"| {name} | {f['eps']:,.0f} | {f['bare_rps']:,.0f} | {f['ratio']:.2f} | {f['p50']:.2f} ms | "
        f"{f['p99']:.2f} ms | {f['bare_p50']:.2f} ms | {f['bare_p99']:.2f} ms |"
        for name, f in (("embedded (SQLite)", emb), ("two nodes (poll on B; Redis)", dist))
    ]
    return "\n".join(
        [
            "## 12. Agent events to a workbench",
            "",
            f"`.venv/bin/python -m bench.workbench`; {machine()}. A workbench agent signed in; {CALLS} calls offered",
            "to it through the ingest (six agent events each), then polled one after the other by one client on one",
            "connection; against as many `callinfo` requests on the same connection (the same server and `Guid`",
            "check, an answer from memory). Medians of 3 rounds. Distributed: signed in and fed on node A, polled on",
            "node B (the queue and the cursor in Redis, each delivery one atomic script).",
            "",
            "| form | agent events/s polled | callinfo/s | ratio | poll p50 | poll p99 | callinfo p50 | callinfo p99 |",
            "|---|---|---|---|---|---|---|---|",
            *rows,
            "",
            "A poll that returns an event takes it from the store and moves the cursor in one transaction (SQLite:",
            "one synced commit) or one Redis script, written through: a delivery is never repeated after a crash or on",
            "another node. Polls without an event (the long wait) touch the store once before and once after waiting.",
        ]
    )


def main() -> str:
    print("embedded", flush=True)
    emb = embedded()
    print("distributed", flush=True)
    dist = distributed()
    text = section(emb, dist)
    write_section("workbench", text)
    return text


if __name__ == "__main__":
    print(main())
    sys.exit(0)
