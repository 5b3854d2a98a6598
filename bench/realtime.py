"""Real-time queries under load: wrk at 64 connections against the signed CMS queries and the gateway's callinfo,
while the live simulator feeds the server, against a constant JSON endpoint of the same server (the baseline).

    .venv/bin/python bench/realtime.py [SECONDS]
"""

from __future__ import annotations

import contextlib
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import msgspec

from bench.common import require_wrk, server
from ccdata import signing
from ccdata.client import AuthError, CecError, CmsClient, GatewayClient

CONNECTIONS = 64
AK, SK = "ccdata-demo-ak", "ccdata-demo-sk"


def wrk(url: str, path: str, seconds: int, method: str = "GET", body: str = "", headers: dict | None = None) -> dict:
    lines = [f'wrk.method = "{method}"']
    if body:
        lines.append(f"wrk.body = {msgspec.json.encode(body).decode()}")
    for name, value in (headers or {}).items():
        lines.append(f'wrk.headers["{name}"] = "{value}"')
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write("\n".join(lines) + "\n")
    # One wrk thread: the other core stays with the server (two cores in all on the project's machines).
    command = [require_wrk(), "-t1", f"-c{CONNECTIONS}", f"-d{seconds}s", "--latency", "-s", script.name, url + path]
    text = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    Path(script.name).unlink()
    return {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1)),
            "p50_ms": _latency(text, "50%"), "p99_ms": _latency(text, "99%"),
            "errors": "Non-2xx" in text or "Socket errors" in text}  # fmt: skip


def _latency(text: str, label: str) -> float:
    value, unit = re.search(rf"{label}\s+([\d.]+)(us|ms|s)\b", text).groups()
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def signed(url: str, path: str, body: str) -> dict[str, str]:
    """Headers of a pre-signed CMS request (valid within the server's 5-minute skew window)."""
    host = url.removeprefix("http://")
    authorization = signing.authorization(AK, SK, datetime.now(UTC), "POST", path, {}, {"host": host}, body)
    return {"Authorization": authorization, "Content-Type": "application/json;charset=UTF-8"}


ROUNDS = 5


def main(seconds: int = 5) -> dict[str, dict]:
    """Each endpoint against the bare endpoint in alternating rounds (same request shape: a POST with the same
    body for the CMS queries, a GET for callinfo); medians of the rounds, so that a noisy neighbour hits both."""
    with tempfile.TemporaryDirectory() as tmp, server(Path(tmp) / "rt.db", "--simulate", "--speed", "20") as url:
        cms = CmsClient(url, AK, SK)
        deadline = time.monotonic() + 60
        while True:  # wait until the simulator has calls in progress
            busy = [row for row in cms.agent_group_calls(1, list(range(1001, 1037))) if row.callList]
            if busy or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        agent, call_id = (busy[0].agentId, busy[0].callList[0].callId) if busy else (1001, "0-0")
        cases = {
            "queryagentcalls": ("/rest/cmsapp/v1/openapi/agent/queryagentcalls",
                                f'{{"ccId":1,"vdn":1,"agentId":{agent}}}'),
            "querydetailcallinfo": ("/rest/cmsapp/v1/openapi/calldata/querydetailcallinfo",
                                    f'{{"ccId":1,"vdn":1,"callId":"{call_id}"}}'),
            "gateway callinfo": ("/agentgateway/resource/calldata/1901/callinfo?isNoContainLastCall=true", ""),
        }  # fmt: skip
        results = {}
        for name, (path, body) in cases.items():
            if not body:
                workbench = _workbench(url)  # signed in now, kept alive by polling, checked before and after
            rounds = []
            for _ in range(ROUNDS):
                if body:
                    bare = wrk(url, "/ccdata/v1/health", seconds, "POST", body, {"Content-Type": "application/json"})
                    real = wrk(url, path, seconds, "POST", body, signed(url, path, body))
                else:
                    bare = wrk(url, "/ccdata/v1/health", seconds)
                    real = wrk(url, path, seconds, headers={"Guid": workbench.guid})
                rounds.append((bare, real))
            results[name] = {
                "rps": statistics.median(r["rps"] for _, r in rounds),
                "p50_ms": statistics.median(r["p50_ms"] for _, r in rounds),
                "p99_ms": statistics.median(r["p99_ms"] for _, r in rounds),
                "bare_rps": statistics.median(b["rps"] for b, _ in rounds),
                "bare_p99_ms": statistics.median(b["p99_ms"] for b, _ in rounds),
                "rps_ratio": statistics.median(r["rps"] / b["rps"] for b, r in rounds),
                "p99_ratio": statistics.median(r["p99_ms"] / b["p99_ms"] for b, r in rounds),
                "errors": any(r["errors"] for _, r in rounds),
            }
        workbench.call_info(include_last=True)  # raises AuthError if the session had lapsed during the runs
        workbench.stop.set()
        with contextlib.suppress(CecError):  # refused while the simulator's call is on it; the server stops anyway
            workbench.sign_out()
    return results


def _workbench(url: str) -> GatewayClient:
    """An interactive agent signed in through the gateway; a thread polls its events (the heartbeat) meanwhile.
    wrk keeps the first GUID, which stays valid for GUIDTIMEOUT after rotation: longer than the measurement."""
    workbench = GatewayClient(url, 1901, "ccdata-agent")
    workbench.sign_in()
    workbench.stop = threading.Event()

    def heartbeat() -> None:
        while not workbench.stop.is_set():
            try:
                workbench.poll()
            except AuthError:  # signed out at the end, while a poll was waiting
                return

    threading.Thread(target=heartbeat, daemon=True).start()
    return workbench


if __name__ == "__main__":
    for name, f in main(int(sys.argv[1]) if len(sys.argv) > 1 else 5).items():
        print(
            f"{name:20} {f['rps']:>8,.0f} req/s (bare {f['bare_rps']:,.0f}, ratio {f['rps_ratio']:.2f})  "
            f"p50 {f['p50_ms']:.1f} ms  p99 {f['p99_ms']:.1f} ms (bare {f['bare_p99_ms']:.1f}, "
            f"ratio {f['p99_ratio']:.2f}){'  ERRORS' if f['errors'] else ''}"
        )
