"""Reads during an ingest, and what refusing costs: the figures of the hostile-input work (docs/security.md).

    .venv/bin/python -m bench.hostile [EVENTS]     # about a minute; rewrites its section of docs/performance.md

1. Signed reads (CC-CMS queryagentcalls on live state, querycalltracedetail and the DataProcess search on SQLite),
   one at a time from one client, alone and then while `ccdata ingest --url` sends EVENTS events over HTTP; the
   p99 during against the p99 alone, beside the ingest rate during the reads and alone (a fresh store).
2. Server CPU (from /proc) per refused 1 MB CC-CMS request, a known access key with a wrong signature against an
   unknown access key.

The server is `ccdata serve` in its own process; the ingest client is another; this process only reads.
"""

from __future__ import annotations

import contextlib
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import msgspec

from bench.common import free_port, percentile, replace_section
from ccdata import signing
from ccdata.sim.synthetic import synthetic_events

AK, SK = "ccdata-demo-ak", "ccdata-demo-sk"
INGEST_TOKEN = "ccdata-demo-ingest"
WARM_EVENTS = 10_000  # ingested before the reads, so that they find calls and results
ALONE_S = 6.0
BEGIN = "<!-- bench.hostile: begin -->"
END = "<!-- bench.hostile: end -->"
DOC = Path(__file__).parent.parent / "docs" / "performance.md"


# --- 1. reads during an ingest -------------------------------------------------------------------------------


def write_events(path: Path, count: int) -> tuple[str, int]:
    """WARM_EVENTS + count synthetic events as JSON lines; returns a released call of the warm part and its arrival."""
    encoder = msgspec.json.Encoder()
    traced: tuple[str, int] | None = None
    with path.open("wb") as out:
        for n, event in enumerate(synthetic_events(WARM_EVENTS + count)):
            out.write(encoder.encode(event) + b"\n")
            if traced is None and event["type"] == "call.release" and n > 1000:
                traced = (event["callId"], event["at"])
    assert traced is not None
    return traced


def ingest(url: str, path: Path, first: int = 0, count: int | None = None) -> dict[str, Any]:
    """`ccdata ingest --url` in its own process, on lines [first, first + count) of the file."""
    lines = path.read_bytes().splitlines(keepends=True)[first : None if count is None else first + count]
    part = path.with_suffix(f".{first}.jsonl")
    part.write_bytes(b"".join(lines))
    command = [sys.executable, "-m", "ccdata", "ingest", str(part), "--url", url, "--token", INGEST_TOKEN,
               "--batch", "5000", "--json", "--quiet"]  # fmt: skip
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - started
    report = msgspec.json.decode(done.stdout.strip().splitlines()[-1])
    report["wallSeconds"] = seconds
    report["eventsPerSecondWall"] = len(lines) / seconds
    return report


class Reader:
    """Signed reads one after another, each timed from send to the decoded answer (the signing is not timed)."""

    def __init__(self, url: str, traced: tuple[str, int]) -> None:
        self.url, self.host = url, url.removeprefix("http://")
        self.client = httpx.Client(base_url=url, timeout=10)
        self.call_id, self.arrived = traced
        token = self.client.post("/apigovernance/api/oauth/tokenByAkSk",
                                 json={"app_key": "ccdata-demo-app", "app_secret": "ccdata-demo-secret"})  # fmt: skip
        self.bearer = token.json()["AccessToken"]
        self.kinds = [self._agent_calls, self._call_track, self._search]

    def _cms(self, path: str, body: dict[str, Any]) -> tuple[str, bytes, dict[str, str]]:
        raw = msgspec.json.encode(body)
        auth = signing.authorization(AK, SK, datetime.now(UTC), "POST", path, {}, {"host": self.host}, raw)
        return path, raw, {"Authorization": auth, "Content-Type": "application/json;charset=UTF-8"}

    def _agent_calls(self) -> tuple[str, bytes, dict[str, str]]:
        return self._cms("/rest/cmsapp/v1/openapi/agent/queryagentcalls", {"ccId": 1, "vdn": 1, "agentId": 1001})

    def _call_track(self) -> tuple[str, bytes, dict[str, str]]:
        body = {"ccId": 1, "vdn": 1, "callId": self.call_id, "logDate": self.arrived}
        return self._cms("/rest/cmsapp/v1/openapi/vdn/querycalltracedetail", body)

    def _search(self) -> tuple[str, bytes, dict[str, str]]:
        body = {"subCcNo": 1, "vdn": 1, "beginDate": self.arrived - 3_600_000, "endDate": self.arrived, "limit": 20}
        path = "/apiaccess/rest/dataprocess/v1/openapp/queryCallManualDetailInfo"
        return path, msgspec.json.encode(body), {"Authorization": f"Bearer {self.bearer}"}

    def read_until(self, stop: threading.Event | float) -> list[float]:
        """Latencies (ms) until `stop` is set, or for `stop` seconds."""
        deadline = time.monotonic() + stop if isinstance(stop, float) else None
        latencies = []
        n = 0
        while not (stop.is_set() if isinstance(stop, threading.Event) else time.monotonic() > deadline):
            path, body, headers = self.kinds[n % len(self.kinds)]()
            n += 1
            started = time.perf_counter()
            response = self.client.post(path, content=body, headers=headers)
            response.json()
            latencies.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, response.text
        return latencies


def reads_beside_a_busy_process(reader: Reader) -> list[float]:
    """The floor of the machine: the same reads beside one CPU-bound process that has nothing to do with ccdata
    (on 2 cores, the OS scheduler alone stretches the tail)."""
    hog = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        return reader.read_until(ALONE_S)
    finally:
        hog.kill()
        hog.wait()


def reads_during_ingest(events: int = 100_000) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "events.jsonl"
        traced = write_events(source, events)
        with serve(Path(tmp) / "alone.db") as (url, _pid):
            ingest(url, source, 0, WARM_EVENTS)
            alone_ingest = ingest(url, source, WARM_EVENTS)
        with serve(Path(tmp) / "reads.db") as (url, pid):
            ingest(url, source, 0, WARM_EVENTS)
            reader = Reader(url, traced)
            reader.read_until(1.0)  # warm the connections and caches
            alone = reader.read_until(ALONE_S)
            beside_cpu = reads_beside_a_busy_process(reader)
            stop, result = threading.Event(), {}

            def feed() -> None:
                result.update(ingest(url, source, WARM_EVENTS))
                stop.set()

            feeder = threading.Thread(target=feed)
            feeder.start()
            try:
                during = reader.read_until(stop)
            except httpx.TimeoutException:
                os.kill(pid, signal.SIGUSR1)  # the stacks of a stalled server, for the exception below
                time.sleep(1)
                raise RuntimeError((Path(tmp) / "reads.log").read_text()[-8000:]) from None
            finally:
                feeder.join()
    assert result["accepted"] == events, result
    return {
        "events": events,
        "alone_p50": statistics.median(alone), "alone_p99": percentile(alone, 99), "alone_n": len(alone),
        "busy_p99": percentile(beside_cpu, 99),
        "during_p50": statistics.median(during), "during_p99": percentile(during, 99), "during_n": len(during),
        "ingest_eps_during": result["eventsPerSecondWall"], "ingest_eps_alone": alone_ingest["eventsPerSecondWall"],
    }  # fmt: skip


# --- 2. the CPU of a refusal ---------------------------------------------------------------------------------

REFUSED_BODY = b'{"ccId":1,"vdn":1,"agentId":1001,"pad":"' + b"x,y:" * 250_000 + b'"}'  # 1 MB, 3/4 encoded


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (/proc/PID/stat fields 14 and 15)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextlib.contextmanager
def refusing_server(tmp: Path, cms_max_body_bytes: int) -> Iterator[tuple[str, int]]:
    """`ccdata serve` (url, pid) whose CC-CMS body limit lets 1 MB bodies reach the signature check, never locking."""
    config = Path(tmp) / "refusing.toml"
    default = (Path(__file__).parent.parent / "src" / "ccdata" / "default.toml").read_text()
    config.write_text(
        default.replace("cms_max_body_bytes = 65536", f"cms_max_body_bytes = {cms_max_body_bytes}")
        .replace("cms_auth_failures_per_address = 30", "cms_auth_failures_per_address = 0")
        .replace("[server]\n", "[server]\nmax_body_bytes = 4194304\n")
    )
    with serve(Path(tmp) / "refusing.db", config) as running:
        yield running


#: The server dumps every thread's stack on SIGUSR1 (to its log), to tell a stall from a slow answer.
_SERVE = (
    "import faulthandler, signal, sys; faulthandler.register(signal.SIGUSR1, all_threads=True); "
    "from ccdata.cli import main; main(prog_name='ccdata')"
)


@contextlib.contextmanager
def serve(db: Path, config: Path | None = None) -> Iterator[tuple[str, int]]:
    """`ccdata serve` in its own process: (url, pid). Its log goes to `<db>.log`."""
    port = free_port()
    command = [sys.executable, "-c", _SERVE, "serve", "--db", str(db), "--port", str(port)]
    if config is not None:
        command += ["--config", str(config)]
    with db.with_suffix(".log").open("wb") as log:
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=log)
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 60
            while True:
                with contextlib.suppress(httpx.HTTPError):
                    if httpx.get(url + "/ccdata/v1/health", timeout=1).status_code == 200:
                        break
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("the server did not start")
                time.sleep(0.1)
            yield url, process.pid
        finally:
            process.terminate()
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(30)


def refusal_cpu(rounds: int = 5, per_round: int = 20) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp, refusing_server(Path(tmp), 2 << 20) as (url, pid):
        host = url.removeprefix("http://")
        path = "/rest/cmsapp/v1/openapi/agent/queryagentcalls"
        costs: dict[str, list[float]] = {"known": [], "unknown": []}
        with httpx.Client(timeout=30) as client:

            def refuse(ak: str, sk: str) -> None:
                auth = signing.authorization(ak, sk, datetime.now(UTC), "POST", path, {}, {"host": host}, REFUSED_BODY)
                response = client.post(url + path, content=REFUSED_BODY, headers={"Authorization": auth})
                assert response.status_code == 401, response.text

            for _ in range(rounds):
                for kind, ak, sk in (("known", AK, "wrong-secret"), ("unknown", "nobody", "whatever")):
                    before = cpu_seconds(pid)
                    for _ in range(per_round):
                        refuse(ak, sk)
                    costs[kind].append((cpu_seconds(pid) - before) / per_round * 1000)
    return {kind: statistics.median(values) for kind, values in costs.items()}


# --- the page ------------------------------------------------------------------------------------------------


def render(reads: dict[str, Any], cpu: dict[str, Any]) -> str:
    ratio = reads["during_p99"] / reads["alone_p99"]
    cpu_ratio = cpu["known"] / max(cpu["unknown"], 1e-9)
    lines = [
        BEGIN,
        "## Reads during an ingest, and the cost of a refusal",
        "",
        "`.venv/bin/python -m bench.hostile` (also run by `bench.run`). Signed reads one at a time (CC-CMS",
        "queryagentcalls on live state, querycalltracedetail and the DataProcess search on SQLite, in turn) alone and",
        f"while `ccdata ingest --url` sends {reads['events']:,} events over HTTP (5,000 per request) from another "
        "process; the ingest rate beside it, and alone on a fresh store.",
        "",
        "| figure | alone | during the ingest | ratio | goal | |",
        "|---|---|---|---|---|---|",
        f"| read p50 | {reads['alone_p50']:.2f} ms | {reads['during_p50']:.2f} ms | "
        f"{reads['during_p50'] / reads['alone_p50']:.2f} | - | |",
        f"| read p99 | {reads['alone_p99']:.2f} ms | {reads['during_p99']:.2f} ms | {ratio:.2f} | ≤ 2 | "
        f"{'met' if ratio <= 2 else '**missed**'} |",
        f"| read p99 beside one CPU-bound process, no ingest (the machine's floor) | {reads['alone_p99']:.2f} ms | "
        f"{reads['busy_p99']:.2f} ms | {reads['busy_p99'] / reads['alone_p99']:.2f} | - | |",
        f"| reads | {reads['alone_n']:,} | {reads['during_n']:,} | | | |",
        f"| ingest events/s | {reads['ingest_eps_alone']:,.0f} | {reads['ingest_eps_during']:,.0f} | "
        f"{reads['ingest_eps_during'] / reads['ingest_eps_alone']:.2f} | - | |",
        "",
        "Server CPU time (from `/proc`, the server process only) per refused 1 MB CC-CMS request (the body limit",
        "raised to 2 MiB so that it reaches the signature check; at the default 64 KiB it is a 413 before):",
        "",
        "| known access key, wrong signature | unknown access key | ratio | goal | |",
        "|---|---|---|---|---|",
        f"| {cpu['known']:.2f} ms | {cpu['unknown']:.2f} ms | {cpu_ratio:.2f} | ≤ 2 (was 32.8 ms vs 0.45 ms) | "
        f"{'met' if cpu_ratio <= 2 else '**missed**'} |",
        "",
        "Hostile input (`tests/test_hostile.py`, not timed here): 28 hostile bodies sent to each of the six",
        "body-reading interfaces (CC-CMS signed, ping, sign-in, tokenByAkSk, DataProcess, ingest) and as one line",
        "among valid ones, and about 70 hostile paths, headers, numbers and framings over raw sockets, plus",
        "Hypothesis (150 examples into the ingest endpoint, 60 into `ccdata ingest`): 0 answers >= 500, every valid",
        "line around a bad one ingested.",
        "",
        "How reads and an ingest share the server: decoding and commits run in a worker thread, the engine in",
        "slices of 200 events on the event loop, agent events in slices; while reads come in (any request but an",
        "ingest in the last second) the server commits 100 events at a time instead of 5,000 (`[store]",
        "batch_events_beside_reads`), since each of the worker thread's steps holds the interpreter the loop needs;",
        "the interpreter's switch interval is 0.5 ms instead of 5 ms for the same reason. The second row is the",
        "floor of this 2-core machine: one CPU-bound process that has nothing to do with ccdata stretches the reads'",
        "p99 as much as the whole ingest does (the ingest client, the reader and the server share two cores). The",
        "2x goal is measured as stated and is not met on this machine; removing the rest would take the ingest's",
        "CPU work out of the serving process (a writer process), which would not remove the scheduler's share.",
        END,
    ]
    return "\n".join(lines) + "\n"


def write_section(text: str) -> None:
    replace_section(DOC, BEGIN, END, text)


def main(events: int = 100_000) -> str:
    reads = reads_during_ingest(events)
    cpu = refusal_cpu()
    print(msgspec.json.encode({"reads": reads, "cpu_ms": cpu}).decode())
    return render(reads, cpu)


if __name__ == "__main__":
    write_section(main(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000))
    print(f"wrote {DOC}")
