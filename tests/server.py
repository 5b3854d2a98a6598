"""A real ccdata server on a loopback port for tests, and a client that speaks its three auth schemes."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import msgspec
import uvicorn

from ccdata import config as configuration
from ccdata import signing
from ccdata.api.app import create_app
from ccdata.api.limits import server_options
from ccdata.service import Service
from ccdata.sim.clocks import LiveSimulator
from ccdata.store.ports import SessionStore, Store
from ccdata.store.sqlite import SqliteStore

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
) -> Iterator[Running]:
    """A server on a free port (of `bind`; the URL is the loopback one); `extra` TOML is appended; `live_speed`
    runs the live simulator. The store is `tmp`/server.db unless `store` is given; the sessions are beside it
    unless `sessions` is."""
    path = tmp / "ccdata.toml"
    text = TEST_CONFIG.replace("{auth_mode}", str(auth_mode)).replace("{heartbeat}", str(heartbeat_ms))
    path.write_text(text + extra)
    service = Service(configuration.load(path), store or SqliteStore(tmp / "server.db"))
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
    try:
        yield Running(f"http://127.0.0.1:{port}", f"127.0.0.1:{port}", service, app)
    finally:
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
