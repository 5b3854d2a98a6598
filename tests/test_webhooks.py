"""Webhooks against a real local receiver that fails the first attempts: every call result delivered, each
exactly once after dedup by delivery ID, signed; also across a server crash and restart; dead letters replayed.
On both stores (embedded SQLite, distributed PostgreSQL); on PostgreSQL also several dispatchers on one outbox,
none attempting a delivery another is attempting."""

from __future__ import annotations

import asyncio
import contextlib
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
from types import SimpleNamespace
from typing import Any

import httpx
import psycopg
import pytest

from backends import Backend, postgres_database
from ccdata import config as configuration
from ccdata.api.push import Push
from ccdata.api.webhooks import Dispatcher
from ccdata.cluster.nats_log import NatsEventLog
from ccdata.config import Webhook
from ccdata.service import Service
from ccdata.store.ports import Batch, LoggedEvent, OutboxEntry, WebhookStore
from ccdata.store.postgres import PostgresStore
from ccdata.store.sqlite import SqliteStore
from processes import ccdata, start_serve
from server import TEST_CONFIG, Api, Node, running_server
from test_cluster import NATS_URL, call, login
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


def rows_of(place: str | Path, sql: str) -> list[tuple]:
    """A query's rows in the store at `place`: an SQLite file or a postgresql:// URL (read beside its writer)."""
    if str(place).startswith("postgresql://"):
        with psycopg.connect(str(place)) as connection:
            return connection.execute(sql).fetchall()
    with sqlite3.connect(place) as connection:
        return connection.execute(sql).fetchall()


def stored_results(place: str | Path) -> list[str]:
    return sorted(row[0] for row in rows_of(place, "SELECT call_id FROM call_result"))


def store_args(backend: Backend) -> list[str]:
    """How a process is told to use the backend's store."""
    return ["--db" if backend.name == "sqlite" else "--store", backend.place]


def wait_for(condition: Any, timeout: float = 30, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def test_every_result_delivered_once_after_dedup_despite_failed_attempts(tmp_path: Path, monkeypatch: Any) -> None:
    monkeypatch.setenv("CCDATA_TEST_HOOK_SECRET", SECRET)
    now = time.time_ns() // 1_000_000
    with (
        receiving(fail_first=2) as (receiver, url),
        running_server(tmp_path, extra=webhook_config(url)) as running,
    ):
        Api(running).ingest_ok(traffic(now, 80, seed=7))
        running.records_current()
        expected = sorted(row[0] for row in running.sql("SELECT call_id FROM call_result"))
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


def test_deliveries_pending_at_a_crash_are_made_after_the_restart(tmp_path: Path, backend: Backend) -> None:
    now = time.time_ns() // 1_000_000
    events = traffic(now, 60, seed=8)
    env = {"CCDATA_TEST_HOOK_SECRET": SECRET}
    db, where = backend.place, store_args(backend)
    with receiving(fail_first=3) as (receiver, url):
        config = process_config(tmp_path, webhook_config(url).replace("max_retry_s = 0.4", "max_retry_s = 2"))
        served = start_serve("--config", config, *where, log=tmp_path / "first.log", env=env)
        try:
            ingest(served.url, events[: len(events) // 2])
            time.sleep(0.3)  # some attempts made, none acknowledged yet (each needs 4)
        finally:
            served.kill()  # a crash: no shutdown hook runs
        before = len(receiver.results())
        served = start_serve("--config", config, *where, log=tmp_path / "second.log", env=env)
        try:
            ingest(served.url, events[len(events) // 2 :])
            expected = stored_results(db)
            wait_for(lambda: receiver.results() == expected, timeout=60, what="every call result after the restart")
        finally:
            served.stop()
    assert before < len(expected) == 60
    assert receiver.bad_signatures == 0
    assert len(receiver.accepted) == len(expected)  # each exactly once after dedup by ID


def test_dead_letters_are_listed_and_replayed(tmp_path: Path, backend: Backend) -> None:
    now = time.time_ns() // 1_000_000
    env = {"CCDATA_TEST_HOOK_SECRET": SECRET}
    db, where = backend.place, store_args(backend)
    with receiving(fail_first=2) as (receiver, url):
        config = process_config(tmp_path, webhook_config(url, attempts=2))
        served = start_serve("--config", config, *where, log=tmp_path / "serve.log", env=env)
        try:
            ingest(served.url, traffic(now, 5, seed=9))
            wait_for(lambda: len(dead_letters(db)) == 5, what="five dead letters")
            listed = ccdata("webhooks", "list", *where, "--json")
            assert listed.returncode == 0, listed.stderr
            letters = [json.loads(line) for line in listed.stdout.splitlines()]
            assert [entry["attempts"] for entry in letters] == [2] * 5
            assert letters[0]["lastError"] == "HTTP 500" and letters[0]["kind"] == "result"
            assert receiver.results() == []
            replayed = ccdata("webhooks", "replay", *where, str(letters[0]["id"]))
            assert replayed.returncode == 0 and "re-queued 1" in replayed.stdout
            wait_for(lambda: len(receiver.results()) == 1, what="the replayed delivery")
            assert ccdata("webhooks", "replay", *where).stdout.startswith("re-queued 4")
            wait_for(lambda: receiver.results() == stored_results(db), what="every replayed delivery")
            assert ccdata("webhooks", "replay", *where, "999999").returncode == 1
        finally:
            served.stop()
    assert "moved to the dead letters" in served.output()
    assert sorted(receiver.accepted) == sorted(str(entry["id"]) for entry in letters)


def dead_letters(place: str | Path) -> list[tuple]:
    return rows_of(place, "SELECT id FROM webhook_dead")


# --- the webhook store itself, on both stores ----------------------------------------------------------------


def owing(n: int, first: int = 0) -> Batch:
    """A batch of `n` events, each owing the webhook "crm" one delivery (the embedded form: seq from the commit)."""
    events = [LoggedEvent(f"e-{i}", "test", 1_000 + i, b"{}") for i in range(first, first + n)]
    outbox = [OutboxEntry("crm", "result", 1, e.event_id, b'{"callId":"%s"}' % e.event_id.encode()) for e in events]
    return Batch(events=events, outbox=outbox)


def test_the_outbox_is_committed_with_its_event_and_worked_through(backend: Backend) -> None:
    store = backend.open()
    store.commit(Batch(events=[LoggedEvent("e-before", "test", 1, b"{}")]))
    last = store.commit(owing(3))
    shared = OutboxEntry("crm", "agent", 2, "e-shared", b"{}", seq=777)  # the distributed form: the shared log's
    store.commit(Batch(events=[LoggedEvent("e-shared", "test", 2, b"{}")], outbox=[shared]))
    store.close()
    store = backend.open()  # what a restart finds
    deliveries = store.webhook_store()
    try:
        assert deliveries.pending() == {"crm": 4}
        due = deliveries.due("crm", 10_000, limit=3)
        assert [(d.seq, d.kind, d.data) for d in due] == [
            (last - 2, "result", b'{"callId":"e-0"}'), (last - 1, "result", b'{"callId":"e-1"}'),
            (last, "result", b'{"callId":"e-2"}'),
        ]  # fmt: skip
        assert [d.id for d in due] == sorted(d.id for d in due) and {d.attempts for d in due} == {0}
        first, second, third = due
        deliveries.delivered([first.id])
        deliveries.retry_later(second.id, 1, 50_000, "HTTP 500")
        deliveries.bury(third.id, 10, 20_000, "HTTP 503")
        rest = deliveries.due("crm", 10_000)
        assert [(d.seq, d.kind) for d in rest] == [(777, "agent")]
        deliveries.delivered([rest[0].id])
        assert deliveries.due("crm", 49_999) == [] and deliveries.next_due("crm") == 50_000
        [again] = deliveries.due("crm", 50_000)
        assert again == second._replace(attempts=1, last_error="HTTP 500")  # the same delivery ID
        deliveries.retry_later(again.id, 2, 60_000, "x" * 1000)
        [letter] = deliveries.dead()
        assert (letter.delivery.id, letter.delivery.attempts, letter.died_at) == (third.id, 10, 20_000)
        assert letter.delivery.last_error == "HTTP 503" and letter.delivery.data == third.data
        assert deliveries.replay([third.id, 999_999]) == 1 and deliveries.dead() == []
        assert deliveries.pending() == {"crm": 2}
        [replayed] = deliveries.due("crm", 1)  # due at once, attempts from zero, its ID kept
        assert replayed == third._replace(last_error="HTTP 503")
        assert deliveries.due("other", 10**13) == [] and deliveries.next_due("other") is None
        assert len(deliveries.due("crm", 60_000)[0].last_error) == 500
    finally:
        deliveries.close()
        store.close()


# --- the distributed form: PostgreSQL's outbox, several dispatchers ---------------------------------------------


class _Service:
    """What a Dispatcher needs of a service: the webhooks configured, and the commits to follow (none here)."""

    def __init__(self, *hooks: Webhook) -> None:
        self.config = SimpleNamespace(webhooks=list(hooks))

    def subscribe(self, listener: Any) -> None:
        pass


def hook(url: str, attempts: int = 10, timeout_s: float = 5.0) -> Webhook:
    return Webhook("crm", url, SECRET, ["result"], [], attempts, 0.05, 0.2, timeout_s)


@contextmanager
def dispatching(service: Any, store: WebhookStore) -> Iterator[Dispatcher]:
    """A Dispatcher running in a thread of its own (its own event loop, as another node's would be)."""
    dispatcher = Dispatcher(service, store)
    started = threading.Event()
    loop = asyncio.new_event_loop()
    task: asyncio.Task[None] | None = None

    def run() -> None:
        nonlocal task
        task = loop.create_task(dispatcher.run())
        started.set()
        with contextlib.suppress(asyncio.CancelledError):
            loop.run_until_complete(task)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    started.wait(5)
    try:
        yield dispatcher
    finally:
        loop.call_soon_threadsafe(task.cancel)  # type: ignore[union-attr]
        thread.join(30)
        loop.close()
        store.close()


def test_a_delivery_owed_by_a_postgres_commit_is_delivered_after_a_reopen(tmp_path: Path) -> None:
    with postgres_database() as url, receiving(fail_first=1) as (receiver, hook_url):
        store = PostgresStore(url)
        last = store.commit(owing(2))
        store.close()
        store = PostgresStore(url)  # a restart: the deliveries were stored with their events
        with dispatching(_Service(hook(hook_url)), store.webhook_store()) as dispatcher:
            wait_for(lambda: len(receiver.accepted) == 2, what="both deliveries")
            wait_for(lambda: dispatcher.counters[("crm", "delivered")] == 2, what="their acknowledgements")
        assert sorted((p["seq"], p["data"]["callId"]) for p in receiver.accepted.values()) == [
            (last - 1, "e-0"), (last, "e-1"),
        ]  # fmt: skip
        assert receiver.bad_signatures == 0 and set(receiver.attempts.values()) == {2}  # refused once, then taken
        assert rows_of(url, "SELECT count(*) FROM webhook_outbox") == [(0,)]
        store.close()


def test_a_claimed_delivery_is_no_other_dispatchers_until_its_claim_runs_out_or_its_claimer_dies() -> None:
    with postgres_database() as url:
        store = PostgresStore(url)
        store.commit(owing(6))
        one, two, three = store.webhook_store(), store.webhook_store(), store.webhook_store()
        try:
            claimed = one.due("crm", 1_000, limit=3, claim_ms=10_000)
            assert len(claimed) == 3
            [left] = two.due("crm", 1_000, limit=1, claim_ms=60_000)  # only what the first did not claim
            assert left.id not in {d.id for d in claimed}
            assert len(three.due("crm", 1_000, claim_ms=10**9)) == 2
            assert two.due("crm", 5_000) == [] and two.next_due("crm") == 11_000
            one.retry_later(claimed[0].id, 1, 2_000, "HTTP 500")  # handed back: due again at its next attempt
            assert [d.id for d in two.due("crm", 2_000, claim_ms=60_000)] == [claimed[0].id]
            # The first dispatcher's claim ran out (it hangs, say): the second takes the rest; what the first says
            # afterwards about a delivery now claimed by another changes nothing.
            taken = two.due("crm", 11_000, claim_ms=60_000)
            assert [d.id for d in taken] == [d.id for d in claimed[1:]]
            one.retry_later(claimed[1].id, 1, 0, "late")
            one.bury(claimed[2].id, 10, 11_000, "late")
            assert one.due("crm", 20_000) == [] and one.dead() == []
            assert rows_of(url, "SELECT count(*) FROM webhook_outbox WHERE attempts = 0") == [(5,)]
            # The third dies (its process, or its connection): its claims, good for years, end with it.
            assert one.next_due("crm") == 61_000  # the second's earliest claim: the third's run far longer
            three.close()
            assert one.next_due("crm") == 0
            assert len(one.due("crm", 20_000)) == 2
        finally:
            for each in (one, two, three):
                each.close()
            store.close()


def test_two_dispatchers_never_attempt_the_same_delivery_at_once(tmp_path: Path) -> None:
    count = 240
    in_flight: Counter[str] = Counter()
    overlaps: list[str] = []
    by_node: Counter[str] = Counter()
    lock = threading.Lock()
    receiver = Receiver(fail_first=1)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            delivery = self.headers["X-Ccdata-Delivery"]
            with lock:
                in_flight[delivery] += 1
                if in_flight[delivery] > 1:
                    overlaps.append(delivery)
                by_node[self.path] += 1
            time.sleep(0.01)  # an attempt takes a while: room for another node to attempt it meanwhile
            status = receiver.handle(self.headers, body)
            with lock:
                in_flight[delivery] -= 1
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        with postgres_database() as url:
            store = PostgresStore(url)
            for start in range(0, count, 40):
                store.commit(owing(40, start))
            with (
                dispatching(_Service(hook(f"{base}/a")), store.webhook_store()) as a,
                dispatching(_Service(hook(f"{base}/b")), store.webhook_store()) as b,
            ):
                wait_for(lambda: len(receiver.accepted) == count, timeout=60, what="every delivery")
                delivered = lambda: a.counters[("crm", "delivered")] + b.counters[("crm", "delivered")]  # noqa: E731
                wait_for(lambda: delivered() == count, what="every acknowledgement")
            assert rows_of(url, "SELECT count(*) FROM webhook_outbox") == [(0,)]
            store.close()
    finally:
        server.shutdown()
        server.server_close()
    assert overlaps == []  # no delivery was ever attempted by both at once
    assert receiver.duplicates == 0 and receiver.bad_signatures == 0
    assert set(receiver.attempts.values()) == {2}  # each refused once, then acknowledged: by one node each time
    assert by_node["/a"] > 0 and by_node["/b"] > 0  # and both nodes did their share
    assert a.counters[("crm", "failed")] + b.counters[("crm", "failed")] == count


def test_migrate_store_carries_the_deliveries_over_with_their_ids(tmp_path: Path) -> None:
    db = tmp_path / "embedded.db"
    embedded = SqliteStore(db)
    embedded.commit(owing(4))
    deliveries = embedded.webhook_store()
    first, second, third, fourth = deliveries.due("crm", 1)
    deliveries.delivered([fourth.id])  # the highest ID given is gone: it must not be given again
    deliveries.retry_later(second.id, 3, 90_000, "HTTP 500")
    deliveries.bury(third.id, 10, 5_000, "HTTP 503")
    deliveries.close()
    embedded.close()
    with postgres_database() as url:
        run = ccdata("migrate-store", "--from", db, "--to", url)
        assert run.returncode == 0, run.stderr
        store = PostgresStore(url)
        moved = store.webhook_store()
        try:
            assert moved.pending() == {"crm": 2}
            assert moved.due("crm", 89_999) == [first]
            assert moved.due("crm", 90_000) == [second._replace(attempts=3, last_error="HTTP 500")]
            [letter] = moved.dead()
            assert letter.delivery == third._replace(attempts=10, last_error="HTTP 503") and letter.died_at == 5_000
            store.commit(owing(1, first=10))
            *old, new = [d.id for d in moved.due("crm", 10**13)]  # the claims of the two above ran out by then
            assert old == [first.id, second.id] and new > fourth.id
        finally:
            moved.close()
            store.close()


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (("--store", "postgresql://ccdata@127.0.0.1:1/ccdata"), "cannot use the store (postgresql://127.0.0.1:1/"),
        (("--store", "redis://cache/0"), "--store takes a postgresql:// URL, not 'redis'"),
        (("--db", "x.db", "--store", "postgresql://h/d"), "--db is the embedded store and --store the distributed"),
        (("--db", "{tmp}/none.db"), "no store at {tmp}/none.db"),
    ],
)
def test_the_webhook_commands_say_in_one_line_what_is_wrong_with_the_store(
    tmp_path: Path, args: tuple[str, ...], said: str
) -> None:
    for command in ("list", "replay"):
        run = ccdata("webhooks", command, *(a.replace("{tmp}", str(tmp_path)) for a in args))
        assert run.returncode == 2, run.stderr
        (line,) = run.stderr.strip().splitlines()
        assert line.startswith("error: ") and said.replace("{tmp}", str(tmp_path)) in line


def test_two_cluster_nodes_on_postgresql_deliver_every_result_once(
    tmp_path: Path, request: pytest.FixtureRequest, monkeypatch: Any
) -> None:
    """The distributed form end to end: two nodes on one NATS stream and one PostgreSQL database, each running a
    dispatcher; the record writer stores each delivery once, with the shared log's position, and the two
    dispatchers share them; the writer stops midway and the other node goes on."""
    monkeypatch.setenv("CCDATA_TEST_HOOK_SECRET", SECRET)
    stream_name = request.getfixturevalue("stream")  # test_cluster's: a NATS stream of this test's own
    with postgres_database() as url, receiving(fail_first=1) as (receiver, hook_url):
        asyncio.run(cluster_deliveries(stream_name, url, receiver, hook_url))


async def cluster_deliveries(stream_name: str, url: str, receiver: Receiver, hook_url: str) -> None:
    text = TEST_CONFIG.replace("{auth_mode}", "1").replace("{heartbeat}", "60000") + webhook_config(hook_url)
    nodes, dispatchers, running = [], [], []
    for _ in range(2):
        log = NatsEventLog(NATS_URL, stream_name)
        await log.connect()
        store = PostgresStore(url)
        service = Service(configuration.parse(text), store, event_log=log, lease=store)
        Push(service)  # derives the webhooks' deliveries as each event is applied
        nodes.append(Node(service))
        dispatchers.append(Dispatcher(service, store.webhook_store()))
    for each in nodes:
        await each.start()
    running = [asyncio.create_task(dispatcher.run()) for dispatcher in dispatchers]

    async def until(condition: Any, what: str) -> None:
        deadline = time.monotonic() + 60
        while not condition():
            assert time.monotonic() < deadline, f"timed out waiting for {what}"
            await asyncio.sleep(0.05)

    try:
        t0 = time.time_ns() // 1_000_000 - 3_600_000
        one, two = nodes
        began = time.monotonic()
        await one.service.ingest_async(login(t0, 1001, 1002) + call("c-1", t0 + 1000) + call("c-2", t0 + 20_000))
        await until(lambda: receiver.results() == ["c-1", "c-2"], "the first two results")
        assert time.monotonic() - began < 4  # not at a dispatcher's idle look (5 s): soon after the writer stored them
        writer, other = (one, two) if one.service.pipeline.writer else (two, one)
        await writer.stop()  # its store closes: the lease goes with its connection, its dispatcher stays
        await other.service.ingest_async(call("c-3", t0 + 40_000, agent=1002) + call("c-4", t0 + 60_000))
        await until(lambda: receiver.results() == ["c-1", "c-2", "c-3", "c-4"], "the results after the takeover")
        assert other.service.pipeline.writer
        positions = sorted(p["seq"] for p in receiver.accepted.values())
        assert len(set(positions)) == 4 and positions[-1] <= other.service.pipeline.seq  # the shared log's
        await until(lambda: rows_of(url, "SELECT count(*) FROM webhook_outbox") == [(0,)], "the acknowledgements")
        assert receiver.results() == ["c-1", "c-2", "c-3", "c-4"]  # none stored twice by the two writers
    finally:
        for task in running:
            task.cancel()
        await asyncio.gather(*running, return_exceptions=True)
        for dispatcher in dispatchers:
            dispatcher.store.close()
        for each in nodes:
            await each.stop()
    assert receiver.duplicates == 0 and receiver.bad_signatures == 0
    assert set(receiver.attempts.values()) == {2}  # refused once, acknowledged once: never sent by both nodes
