"""A simulator-fed server and a sender of schemathesis cases that authenticates each as its facade wants: CC-CMS
signed with auth-v2, CC-Gateway with a fresh Guid of the agent in the path, DataProcess, the wallboard's figures
and ingest with their Bearer tokens (tests/test_openapi_schemathesis.py, tests/test_openapi.py)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import httpx
import schemathesis

from ccdata import signing
from server import Api, Running, running_server
from test_client import SIMULATED

STREAM_TOKEN = "stream-token"
EXTRA = f"""
[limits]  # random passwords would lock the agents the cases sign in
sign_in_failures_per_agent = 0
sign_in_failures_per_address = 0

[stream]
clients = [{{ name = "board", token = "{STREAM_TOKEN}", vdns = [1] }}]
{SIMULATED}"""
PASSWORDS = {1001: "secret-1", 1002: "secret-1", 1003: "secret-1", 1901: "secret-live", 2001: "secret-2"}
AGENTS = tuple(PASSWORDS)


class Live:
    def __init__(self, running: Running) -> None:
        self.running = running
        self.api = Api(running)
        self.http = httpx.Client(base_url=running.url, timeout=15)
        token = self.api.token().json()["AccessToken"]
        self.bearer = {"/apiaccess/": token, "/ccdata/v1/wallboard": STREAM_TOKEN, "/ccdata/v1/": "ingest-token"}

    def guid(self, agent_id: int) -> str:
        """A live session of the agent, taken over (the previous case may have signed it out)."""
        self.api.sign_in(agent_id, password=PASSWORDS[agent_id], force=True)
        return self.api.guids.get(agent_id, "")

    def send(self, case: schemathesis.Case) -> httpx.Response:
        kwargs = case.as_transport_kwargs(base_url=self.running.url)
        # h11 refuses header values with surrounding whitespace (a client-side error: never sent)
        headers = {k: str(v).strip() for k, v in (kwargs.get("headers") or {}).items()}
        if "json" in kwargs:
            raw = json.dumps(kwargs["json"]).encode()
        else:
            data = kwargs.get("data")
            raw = data.encode() if isinstance(data, str) else (data or b"")
        path = case.formatted_path
        if path.startswith("/rest/cmsapp/"):
            moment = datetime.now(UTC)
            host = {"host": self.running.host}
            headers["Authorization"] = signing.authorization(
                "ak-all", "sk-all", moment, case.method, path, {}, host, raw
            )
        elif path.startswith("/agentgateway/"):
            agent = str(case.path_parameters.get("agentid")) if case.path_parameters else ""
            if agent.isdigit() and int(agent) in AGENTS:
                headers = {k: v for k, v in headers.items() if k.lower() != "guid"}
                headers["Guid"] = self.guid(int(agent))
        else:
            token = next((token for prefix, token in self.bearer.items() if path.startswith(prefix)), None)
            if token is not None:
                headers["Authorization"] = f"Bearer {token}"
        params = kwargs.get("params")
        return self.http.request(case.method, kwargs["url"], params=params, headers=headers, content=raw)


@contextmanager
def live_server(tmp: Path) -> Iterator[Live]:
    with running_server(tmp, extra=EXTRA, live_speed=30) as running:
        yield Live(running)
