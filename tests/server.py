"""A real ccdata server on a loopback port for tests, and a client that speaks its three auth schemes."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import threading
import time
from collections.abc import Awaitable, Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import msgspec
import psycopg
import uvicorn

from backends import NATS_URL, REDIS_URL, Place, current_mode, distributed_place
from ccdata import config as configuration
from ccdata import signing
from ccdata.api.app import create_app
from ccdata.api.limits import server_options
from ccdata.cluster.nats_log import NatsEventLog
from ccdata.cluster.pipeline import ClusterPipeline
from ccdata.pipeline import IngestReport, Input, RejectionNote
from ccdata.service import Service
from ccdata.sim.clocks import LiveSimulator
from ccdata.store.ports import SessionStore, Store
from ccdata.store.postgres import PostgresStore
from ccdata.store.redis_sessions import RedisSessionStore
from ccdata.store.sqlite import SqliteStore
from ccdata.store.sqlite_sessions import SqliteSessionStore

TEST_CONFIG = """
[call_center]
id = 1

[[vdns]]
id = 1
skills = [{ id = 7, name = "defaultAudioSkill" }, { id = 8, name = "billingVoice" }]

[[vdns]]
id = 2
skills = [{ id = 11, name = "claimsVoice" }]

[[agent_groups]]
first = 1001
count = 3
vdn = 1
password = "secret-1"
skills = [7, 8]

[[agents]]
id = 2001
vdn = 2
password = "secret-2"
skills = [11]

[cms]
clock_skew_ms = 300000
credentials = [
    { ak = "ak-all", sk = "sk-all", vdns = [1, 2] },
    { ak = "ak-vdn2", sk = "sk-vdn2", vdns = [2] },
]

[gateway]
auth_mode = {auth_mode}
guid_interval_ms = 1500
guid_timeout_ms = 3000
heartbeat_timeout_ms = {heartbeat}
poll_wait_ms = 300

[dataprocess]
default_limit = 100
max_limit = 1000
apps = [
    { app_key = "app-1", app_secret = "secret-app-1", vdns = [1] },
    { app_key = "app-2", app_secret = "secret-app-2", vdns = [2] },
]

[ingest]
token = "ingest-token"
"""


@dataclass
class Running:
    url: str
    host: str
    service: Service
    app: Any = None  # the Starlette application (its `state` holds the stream hub, the gateway)
    mode: str = "embedded"
    place: Place | None = None  # the distributed mode's database, stream and Redis prefix
    folder: Path | None = None  # the embedded mode's store is server.db there
    loop: Any = None  # the server's event loop

    def sql(self, query: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        """Rows of a query on the server's record store, read beside the server (see `sql_at`)."""
        return sql_at(self.folder, query, params, self.mode)

    def records_current(self) -> None:
        """Until the store holds the records of every event the server applied (as its record reads wait): what a
        test that reads the store itself waits for after it saw the server's live state move."""
        asyncio.run_coroutine_threadsafe(self.service.records_current(), self.loop).result(30)

    def track_tables(self) -> list[str]:
        """The tables of the call track: one per month in SQLite, one partitioned table in PostgreSQL."""
        if self.mode == "distributed":
            return ["call_track"]
        return [name for (name,) in self.sql("SELECT name FROM sqlite_master WHERE name LIKE 'track_%'")]


def sql_at(
    tmp: Path | None, query: str, params: tuple[Any, ...] = (), mode: str | None = None
) -> list[tuple[Any, ...]]:
    """Rows of a query on the record store of the servers on `tmp`, on a connection of our own (SQLite's `?`
    placeholders; the SQL common to SQLite and PostgreSQL)."""
    assert tmp is not None
    if (mode or current_mode()) != "distributed":
        with contextlib.closing(sqlite3.connect(tmp / "server.db")) as db:
            return db.execute(query, params).fetchall()
    with psycopg.connect(distributed_place(str(tmp)).store_url) as db:
        text = query.replace("%", "%%").replace("?", "%s")
        return [tuple(row) for row in db.execute(text, params).fetchall()]  # type: ignore[arg-type]


def sessions_at(tmp: Path, mode: str | None = None) -> SessionStore:
    """The gateway session store of the servers on `tmp`, opened anew (what a restart, another node, loads)."""
    if (mode or current_mode()) != "distributed":
        return SqliteSessionStore(tmp / "server.db")
    return RedisSessionStore(REDIS_URL, distributed_place(str(tmp)).prefix)


_LIVE: dict[int, str] = {}  # the servers running now (by id of their Running), and the mode of each


def live_modes() -> set[str]:
    """The modes of the servers running now (a module-scoped server outlives the test that started it)."""
    return set(_LIVE.values())


def build_service(
    tmp: Path, config: configuration.Config, mode: str | None
) -> tuple[Service, SessionStore | None, Place | None]:
    """The service of a server in `mode` whose state lives at `tmp` (again, when a server restarts on `tmp`): the
    embedded form on `tmp`/server.db, or a distributed node as `ccdata serve --store postgresql://… --events
    nats://… --sessions redis://…` builds it (the record writer's lease is the store's advisory lock)."""
    if mode == "embedded":
        return Service(config, SqliteStore(tmp / "server.db")), None, None
    if mode != "distributed":
        raise RuntimeError(
            "this test runs in no mode: conftest's `mode` fixture parametrizes the tests that start a server (or pass "
            "store=)"
        )
    place = distributed_place(str(tmp))
    store = PostgresStore(place.store_url)
    event_log = NatsEventLog(NATS_URL, place.stream)
    sessions = RedisSessionStore(REDIS_URL, place.prefix)
    return Service(config, store, event_log=event_log, lease=store), sessions, place


@contextmanager
def running_server(
    tmp: Path,
    auth_mode: int = 2,
    heartbeat_ms: int = 60_000,
    extra: str = "",
    live_speed: float | None = None,
    store: Store | None = None,
    sessions: SessionStore | None = None,
    bind: str = "127.0.0.1",
    mode: str | None = None,
) -> Iterator[Running]:
    """A server on a free port (of `bind`; the URL is the loopback one); `extra` TOML is appended; `live_speed`
    runs the live simulator. Its form is `mode`, else the test's (conftest's `mode` fixture): embedded, the store
    `tmp`/server.db with the sessions beside it; distributed, a node on a database, stream and Redis prefix of the
    test's own, found again by a server started on the same `tmp`. A `store` given is served by the embedded
    pipeline (with `sessions`, else the sessions beside it)."""
    path = tmp / "ccdata.toml"
    text = TEST_CONFIG.replace("{auth_mode}", str(auth_mode)).replace("{heartbeat}", str(heartbeat_ms))
    path.write_text(text + extra)
    config = configuration.load(path)
    place = None
    if store is not None:
        mode = "embedded" if isinstance(store, SqliteStore) else "given"
        service = Service(config, store)
    else:
        mode = mode or current_mode()
        service, built_sessions, place = build_service(tmp, config, mode)
        sessions = sessions if sessions is not None else built_sessions
    live = None if live_speed is None else LiveSimulator(service, speed=live_speed)
    app = create_app(service, live=live, sessions=sessions)
    options = server_options(service.config.limits)
    server = uvicorn.Server(uvicorn.Config(app, host=bind, port=0, log_level="warning", **options))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    loop = server.servers[0].get_loop()
    running = Running(f"http://127.0.0.1:{port}", f"127.0.0.1:{port}", service, app, mode, place, tmp, loop)
    _LIVE[id(running)] = mode
    try:
        yield running
    finally:
        del _LIVE[id(running)]
        server.should_exit = True
        thread.join(10)


class Api:
    """Requests as a CEC client sends them: signed (CMS), with a Guid (gateway), with a Bearer token."""

    def __init__(self, running: Running) -> None:
        self.running = running
        self.http = httpx.Client(base_url=running.url, timeout=10)
        self.guids: dict[int, str] = {}

    # --- CC-CMS ---

    def cms(
        self,
        path: str,
        body: dict[str, Any] | bytes,
        ak: str = "ak-all",
        sk: str = "sk-all",
        moment: datetime | None = None,
        sign_body: bytes | None = None,
        sign_path: str | None = None,
        sign_host: str | None = None,
        query: dict[str, str] | None = None,
        sign_query: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        raw = body if isinstance(body, bytes) else msgspec.json.encode(body)
        full = f"/rest/cmsapp{path}"
        authorization = signing.authorization(
            ak, sk, moment or datetime.now(UTC), "POST", sign_path or full, sign_query or query or {},
            {"host": sign_host or self.running.host}, raw if sign_body is None else sign_body,
        )  # fmt: skip
        sent = {"Authorization": authorization, "Content-Type": "application/json;charset=UTF-8", **(headers or {})}
        return self.http.post(full, content=raw, headers=sent, params=query)

    def cms_ok(self, path: str, body: dict[str, Any]) -> Any:
        response = self.cms(path, body)
        assert response.status_code == 200, response.text
        payload = response.json()
        assert payload["resultCode"] == "0100000", payload
        return payload["resultDesc"]

    # --- CC-Gateway ---

    def sign_in(self, agent_id: int, password: str = "secret-1", force: bool = False, **options: Any) -> httpx.Response:
        """Sign in (idle); `options` are further body fields (`autoanswer`, `autoenteridle`, ...)."""
        path = f"/agentgateway/resource/onlineagent/{agent_id}" + ("/forcelogin" if force else "")
        body = {"password": password, "status": 4, "phonenum": f"6{agent_id}", **options}
        response = self.http.put(path, json=body)
        if "set-guid" in response.headers:
            self.guids[agent_id] = response.headers["set-guid"].removeprefix("JSESSIONID=")
        return response

    def gateway(self, method: str, path: str, agent_id: int, guid: str | None = None, **kw: Any) -> httpx.Response:
        headers = {"Guid": guid if guid is not None else self.guids.get(agent_id, "")}
        response = self.http.request(method, f"/agentgateway/resource{path}", headers=headers, **kw)
        if "set-guid" in response.headers:
            self.guids[agent_id] = response.headers["set-guid"].removeprefix("JSESSIONID=")
        return response

    def poll(self, agent_id: int) -> dict[str, Any] | None:
        response = self.gateway("GET", f"/agentevent/{agent_id}", agent_id)
        assert response.json()["retcode"] == "0", response.text
        return response.json()["event"]

    def events(self, agent_id: int) -> list[str]:
        """Every event waiting for the agent, by type."""
        seen = []
        while (event := self.poll(agent_id)) is not None:
            seen.append(event["eventType"])
        return seen

    def call_info(self, agent_id: int, last: bool | str | None = None) -> dict[str, Any]:
        params = {} if last is None else {"isNoContainLastCall": str(last).lower()}
        return self.gateway("GET", f"/calldata/{agent_id}/callinfo", agent_id, params=params).json()

    # --- API Fabric and DataProcess ---

    def token(self, app: str = "app-1", secret: str = "secret-app-1", expire: str | None = None) -> httpx.Response:
        headers = {"X-Token-Expire": expire} if expire is not None else {}
        return self.http.post("/apigovernance/api/oauth/tokenByAkSk",
                              json={"app_key": app, "app_secret": secret}, headers=headers)  # fmt: skip

    def results(self, body: dict[str, Any], token: str | None = None) -> httpx.Response:
        if token is None:
            token = self.token().json()["AccessToken"]
        return self.http.post(
            "/apiaccess/rest/dataprocess/v1/openapp/queryCallManualDetailInfo",
            json=body,
            headers={"Authorization": f"Bearer {token}", "X-APP-Key": "app-1"},
        )

    # --- ingest ---

    def ingest(self, events: list[dict[str, Any]], token: str = "ingest-token") -> httpx.Response:
        return self.http.post("/ccdata/v1/events", json=events, headers={"Authorization": f"Bearer {token}"})

    def ingest_ok(self, events: list[dict[str, Any]]) -> dict[str, Any]:
        response = self.ingest(events)
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["rejected"] == 0, body
        return body


class Node:
    """A distributed node without a server, on the caller's event loop: started, its background work (log
    follower, record writer) runs as a server runs it."""

    def __init__(self, service: Service) -> None:
        self.service = service
        self.tasks: list[asyncio.Task[Any]] = []

    async def start(self) -> None:
        await self.service.start()
        self.tasks = [asyncio.create_task(body()) for body in self.service.background().values()]

    async def stop(self) -> None:
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        await self.service.stop()

    @property
    def engine(self) -> Any:
        return self.service.engine


class _Node(Node):
    """A `Node` driven from the test's thread: its loop runs in a thread of its own."""

    def __init__(self, service: Service) -> None:
        super().__init__(service)
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.run(super().start())

    def run(self, work: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(work, self.loop).result(60)

    def stop(self) -> None:  # type: ignore[override]  (synchronous: from the test's thread)
        try:
            self.run(super().stop())
        finally:
            self.service.store.close()
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(10)
            self.loop.close()


class OfflineService:
    """The service of the servers on a folder, with no server: what a feed or a command does while the server is
    down. `ingest` and `emit` as `Service`'s, in either mode."""

    def __init__(self, service: Service) -> None:
        self.service = service
        self.node = _Node(service) if isinstance(service.pipeline, ClusterPipeline) else None

    def ingest(self, inputs: Iterable[Input]) -> IngestReport:
        if self.node is None:
            return self.service.ingest(inputs)
        return self.node.run(self.service.ingest_async(inputs))

    def emit(self, type_: str, vdn: int, **fields: Any) -> RejectionNote | None:
        if self.node is None:
            return self.service.emit(type_, vdn, **fields)
        return self.node.run(self.service.emit_async(type_, vdn, **fields))

    def run(self, make: Callable[[], Awaitable[Any]]) -> Any:
        """The coroutine `make()` to its end, on the node's loop (a loop of its own in the embedded form)."""
        if self.node is None:
            return asyncio.run(make())  # type: ignore[arg-type]
        return self.node.run(make())

    @property
    def engine(self) -> Any:
        return self.service.engine

    @property
    def store(self) -> Store:
        return self.service.store

    @property
    def health(self) -> Any:
        return self.service.health

    def close(self) -> None:
        """As the server stops: the embedded form saves a snapshot, a node writes its records and leaves."""
        if self.node is None:
            self.service.close()
        else:
            self.node.stop()


@contextmanager
def offline_service(
    tmp: Path, mode: str | None = None, config: configuration.Config | None = None
) -> Iterator[OfflineService]:
    """The service of the servers on `tmp` (their configuration, else `config`; their store and log), closed
    afterwards."""
    config = config or configuration.load(tmp / "ccdata.toml")
    service, sessions, _ = build_service(tmp, config, mode or current_mode())
    if sessions is not None:
        sessions.close()
    offline = OfflineService(service)
    try:
        yield offline
    finally:
        offline.close()


class HttpFeed:
    """A feed that sends its events to the ingest interface, as an integrator's does: what `sim.clocks.backfill`
    ingests into, for a server of either mode (a cluster node takes events only on its event loop)."""

    def __init__(self, api: Api, chunk: int = 1000) -> None:
        self.api = api
        self.chunk = chunk

    def ingest(self, inputs: Iterable[Input]) -> IngestReport:
        events, report = list(inputs), IngestReport()
        for start in range(0, len(events), self.chunk):
            answer = self.api.ingest(events[start : start + self.chunk])
            assert answer.status_code == 200, answer.text
            body = answer.json()
            report.accepted += body["accepted"]
            report.duplicates += body["duplicates"]
            report.rejected += body["rejected"]
            report.reasons.update(rejection["code"] for rejection in body["rejections"])
        return report
