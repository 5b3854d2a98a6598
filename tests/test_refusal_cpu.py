"""Refusing costs the server the same, known access key or not: the CPU time of the server process (from /proc) per
refused 1 MB CC-CMS request with a known access key and a wrong signature is within 2x of that with an unknown key.

The server runs as its own process (`ccdata serve`), so the client's work is not counted. Its CC-CMS body limit
is raised to 2 MiB here so that the 1 MB bodies reach the signature check (at the default 64 KiB limit they are
refused with 413 before it, which `test_at_the_default_limit_a_1mb_body_is_refused_unread` checks).
"""

from __future__ import annotations

import os
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from ccdata import signing
from server import TEST_CONFIG

pytestmark = pytest.mark.embedded_only(
    "the CPU time of refusing a CC-CMS signature, spent before any store is touched (the same code in both modes)"
)

PATH = "/rest/cmsapp/v1/openapi/agent/queryagentcalls"
ROUNDS = 5
PER_ROUND = 20
BODY = b'{"ccId":1,"vdn":1,"agentId":1001,"pad":"' + b"x,y:" * 250_000 + b'"}'  # ~1 MB, 3/4 percent-encoded


def _config(tmp: Path, cms_max_body_bytes: int) -> Path:
    text = TEST_CONFIG.replace("{auth_mode}", "2").replace("{heartbeat}", "60000")
    path = tmp / f"cpu-{cms_max_body_bytes}.toml"
    limits = f"[limits]\ncms_max_body_bytes = {cms_max_body_bytes}\ncms_auth_failures_per_address = 0\n"
    path.write_text(text + "\n[server]\nmax_body_bytes = 4194304\n\n" + limits)
    return path


@contextmanager
def serve(tmp: Path, cms_max_body_bytes: int) -> Iterator[tuple[str, int]]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = _config(tmp, cms_max_body_bytes)
    command = [sys.executable, "-m", "ccdata", "serve", "--config", str(config), "--db", str(tmp / "cpu.db"),
               "--port", str(port)]  # fmt: skip
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(url + "/ccdata/v1/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert process.poll() is None and time.monotonic() < deadline, "the server did not start"
            time.sleep(0.1)
        yield url, process.pid
    finally:
        process.terminate()
        process.wait(30)


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (/proc/PID/stat fields 14 and 15)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def refused(client: httpx.Client, url: str, ak: str, sk: str) -> httpx.Response:
    host = url.removeprefix("http://")
    auth = signing.authorization(ak, sk, datetime.now(UTC), "POST", PATH, {}, {"host": host}, BODY)
    return client.post(url + PATH, content=BODY, headers={"Authorization": auth, "Content-Type": "application/json"})


def cpu_per_request(client: httpx.Client, url: str, pid: int, ak: str, sk: str) -> tuple[float, str]:
    before = cpu_seconds(pid)
    for _ in range(PER_ROUND):
        response = refused(client, url, ak, sk)
        assert response.status_code == 401, response.text
    return (cpu_seconds(pid) - before) / PER_ROUND, response.json()["message"]


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc")
def test_a_known_access_key_costs_no_more_to_refuse_than_an_unknown_one(tmp_path: Path) -> None:
    with serve(tmp_path, 2 * 1024 * 1024) as (url, pid), httpx.Client(timeout=30) as client:
        refused(client, url, "ak-all", "wrong")  # warm up both paths
        refused(client, url, "nobody", "x")
        known, unknown = [], []
        for _ in range(ROUNDS):  # alternated, so that a noisy neighbour hits both alike
            cost, known_message = cpu_per_request(client, url, pid, "ak-all", "wrong-secret")
            known.append(cost)
            cost, unknown_message = cpu_per_request(client, url, pid, "nobody", "whatever")
            unknown.append(cost)
    known_ms, unknown_ms = statistics.median(known) * 1000, statistics.median(unknown) * 1000
    print(f"server CPU per refused 1 MB CC-CMS request: known key {known_ms:.2f} ms, unknown key {unknown_ms:.2f} ms")
    assert known_message == unknown_message
    assert known_ms <= 2 * max(unknown_ms, 1.0), (known, unknown)  # 1 ms: below the /proc tick, equal is all we see
    assert unknown_ms <= 2 * max(known_ms, 1.0), (known, unknown)
    assert known_ms < 20, known  # the per-character Python loop cost 32.8 ms


def test_at_the_default_limit_a_1mb_body_is_refused_unread(tmp_path: Path) -> None:
    with serve(tmp_path, 64 * 1024) as (url, _pid), httpx.Client(timeout=30) as client:
        response = refused(client, url, "ak-all", "sk-all")
        assert response.status_code == 413 and response.json()["resultCode"] == "0100002"
