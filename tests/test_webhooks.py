"""Webhooks against a real local receiver that fails the first attempts: every call result delivered, each
exactly once after dedup by delivery ID, signed; also across a server crash and restart; dead letters replayed."""

from __future__ import annotations

import hashlib
import hmac
import json
import sqlite3
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx

from processes import ccdata, start_serve
from server import TEST_CONFIG, Api, running_server
from test_http_cms_monitoring import traffic

SECRET = "hook-secret-1"


class Receiver:
    """An HTTP receiver: answers 500 to the first `fail_first` attempts of each delivery, then 200."""

    def __init__(self, fail_first: int) -> None:
        self.fail_first = fail_first
        self.attempts: Counter[str] = Counter()
        self.accepted: dict[str, dict[str, Any]] = {}  # delivery ID -> body (the receiver's dedup)
        self.duplicates = 0
        self.bad_signatures = 0
        self.lock = threading.Lock()

    def handle(self, headers: Any, body: bytes) -> int:
        expected = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
        with self.lock:
            if not hmac.compare_digest(headers.get("X-Ccdata-Signature", ""), expected):
                self.bad_signatures += 1
                return 401
            delivery = headers["X-Ccdata-Delivery"]
            self.attempts[delivery] += 1
            if self.attempts[delivery] <= self.fail_first:
                return 500
            payload = json.loads(body)
            assert payload["id"] == delivery
            if delivery in self.accepted:
                self.duplicates += 1
            self.accepted[delivery] = payload
            return 200

    def results(self) -> list[str]:
        with self.lock:
            return sorted(p["data"]["callId"] for p in self.accepted.values() if p["kind"] == "result")


@contextmanager
def receiving(fail_first: int) -> Iterator[tuple[Receiver, str]]:
    receiver = Receiver(fail_first)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            status = receiver.handle(self.headers, body)
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver, f"http://127.0.0.1:{server.server_address[1]}/hook"
    finally:
        server.shutdown()
        server.server_close()


def webhook_config(url: str, kinds: str = '["result"]', attempts: int = 10) -> str:
    return f"""
[[webhooks]]
name = "crm"
url = "{url}"
secret = "env:CCDATA_TEST_HOOK_SECRET"
kinds = {kinds}
max_attempts = {attempts}
first_retry_s = 0.05
max_retry_s = 0.4
timeout_s = 5
"""


def stored_results(db: Path) -> list[str]:
    with sqlite3.connect(db) as connection:
        return sorted(row[0] for row in connection.execute("SELECT call_id FROM call_result"))


def wait_for(condition: Any, timeout: float = 30, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def test_every_result_delivered_once_after_dedup_despite_failed_attempts(tmp_path: Path, monkeypatch: Any) -> None:
    monkeypatch.setenv("CCDATA_TEST_HOOK_SECRET", SECRET)
    now = time.time_ns() // 1_000_000
    with receiving(fail_first=2) as (receiver, url), running_server(tmp_path, extra=webhook_config(url)) as running:
        Api(running).ingest_ok(traffic(now, 80, seed=7))
        expected = stored_results(tmp_path / "server.db")
        wait_for(lambda: receiver.results() == expected, what="every call result at the receiver")
        counters = running.app.state.webhooks.counters
        wait_for(lambda: counters[("crm", "delivered")] == len(expected), what="the acknowledgements")
        scraped = httpx.get(f"{running.url}/metrics").text  # the same counts, as Prometheus sees them
        assert f'ccdata_webhook_deliveries_total{{outcome="delivered",webhook="crm"}} {len(expected)}.0' in scraped
        assert f'ccdata_webhook_deliveries_total{{outcome="failed",webhook="crm"}} {2 * len(expected)}.0' in scraped
        assert "ccdata_stream_clients 0.0" in scraped
    assert len(expected) == 80
    assert receiver.bad_signatures == 0 and receiver.duplicates == 0
    assert all(count == 3 for count in receiver.attempts.values())  # two refused, the third acknowledged
    assert counters[("crm", "failed")] == 2 * len(expected)
    one = next(iter(receiver.accepted.values()))
    assert set(one) == {"id", "webhook", "kind", "seq", "vdn", "data"} and one["vdn"] == 1


def process_config(tmp_path: Path, extra: str) -> Path:
    path = tmp_path / "ccdata.toml"
    path.write_text(TEST_CONFIG.replace("{auth_mode}", "2").replace("{heartbeat}", "60000") + extra)
    return path


def ingest(url: str, events: list[dict[str, Any]]) -> None:
    import httpx

    response = httpx.post(f"{url}/ccdata/v1/events", json=events, headers={"Authorization": "Bearer ingest-token"})
    assert response.status_code == 200 and response.json()["rejected"] == 0, response.text


def test_deliveries_pending_at_a_crash_are_made_after_the_restart(tmp_path: Path) -> None:
    now = time.time_ns() // 1_000_000
    events = traffic(now, 60, seed=8)
    env = {"CCDATA_TEST_HOOK_SECRET": SECRET}
    db = tmp_path / "store.db"
    with receiving(fail_first=3) as (receiver, url):
        config = process_config(tmp_path, webhook_config(url).replace("max_retry_s = 0.4", "max_retry_s = 2"))
        served = start_serve("--config", config, "--db", db, log=tmp_path / "first.log", env=env)
        try:
            ingest(served.url, events[: len(events) // 2])
            time.sleep(0.3)  # some attempts made, none acknowledged yet (each needs 4)
        finally:
            served.kill()  # a crash: no shutdown hook runs
        before = len(receiver.results())
        served = start_serve("--config", config, "--db", db, log=tmp_path / "second.log", env=env)
        try:
            ingest(served.url, events[len(events) // 2 :])
            expected = stored_results(db)
            wait_for(lambda: receiver.results() == expected, timeout=60, what="every call result after the restart")
        finally:
            served.stop()
    assert before < len(expected) == 60
    assert receiver.bad_signatures == 0
    assert len(receiver.accepted) == len(expected)  # each exactly once after dedup by ID


def test_dead_letters_are_listed_and_replayed(tmp_path: Path) -> None:
    now = time.time_ns() // 1_000_000
    env = {"CCDATA_TEST_HOOK_SECRET": SECRET}
    db = tmp_path / "store.db"
    with receiving(fail_first=2) as (receiver, url):
        config = process_config(tmp_path, webhook_config(url, attempts=2))
        served = start_serve("--config", config, "--db", db, log=tmp_path / "serve.log", env=env)
        try:
            ingest(served.url, traffic(now, 5, seed=9))
            wait_for(lambda: len(dead_letters(db)) == 5, what="five dead letters")
            listed = ccdata("webhooks", "list", "--db", db, "--json")
            assert listed.returncode == 0, listed.stderr
            letters = [json.loads(line) for line in listed.stdout.splitlines()]
            assert [entry["attempts"] for entry in letters] == [2] * 5
            assert letters[0]["lastError"] == "HTTP 500" and letters[0]["kind"] == "result"
            assert receiver.results() == []
            replayed = ccdata("webhooks", "replay", "--db", db, str(letters[0]["id"]))
            assert replayed.returncode == 0 and "re-queued 1" in replayed.stdout
            wait_for(lambda: len(receiver.results()) == 1, what="the replayed delivery")
            assert ccdata("webhooks", "replay", "--db", db).stdout.startswith("re-queued 4")
            wait_for(lambda: receiver.results() == stored_results(db), what="every replayed delivery")
            assert ccdata("webhooks", "replay", "--db", db, "999999").returncode == 1
        finally:
            served.stop()
    assert "moved to the dead letters" in served.output()
    assert sorted(receiver.accepted) == sorted(str(entry["id"]) for entry in letters)


def dead_letters(db: Path) -> list[tuple[int]]:
    with sqlite3.connect(db) as connection:
        return connection.execute("SELECT id FROM webhook_dead").fetchall()
