"""schemathesis over the whole OpenAPI document, against a real server fed by the live simulator: every
operation's generated requests (CC-CMS ones signed with auth-v2, gateway ones with a fresh Guid of the agent in
the path, DataProcess ones with a Bearer token) get no 5xx and no answer that contradicts the document."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from ccdata import signing
from ccdata.api import openapi
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
AGENTS = (1001, 1002, 1003, 1901, 2001)
CHECKS = [not_a_server_error, response_schema_conformance, status_code_conformance, content_type_conformance]
#: The stream never ends (tests/test_stream.py covers it); /docs and the wallboard page are static pages.
#: What each operation answered, by status and business code: the checks below see that the requests got past
#: the facades' authentication to their handlers.
OUTCOMES: dict[str, Counter[str]] = {}
schema = schemathesis.openapi.from_dict(openapi.document()).exclude(path="/ccdata/v1/stream")


class Live:
    def __init__(self, running: Running) -> None:
        self.running = running
        self.api = Api(running)
        self.http = httpx.Client(base_url=running.url, timeout=15)
        token = self.api.token().json()["AccessToken"]
        self.bearer = {"DataProcess": token, "/ccdata/v1/wallboard": STREAM_TOKEN}

    def guid(self, agent_id: int) -> str:
        """A live session of the agent, taken over (the previous case may have signed it out)."""
        password = {1901: "secret-live", 2001: "secret-2"}.get(agent_id, "secret-1")
        self.api.sign_in(agent_id, password=password, force=True)
        return self.api.guids.get(agent_id, "")


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    with running_server(tmp_path_factory.mktemp("schemathesis"), extra=EXTRA, live_speed=30) as running:
        yield Live(running)


def _send(live: Live, case: schemathesis.Case) -> httpx.Response:
    kwargs = case.as_transport_kwargs(base_url=live.running.url)
    # h11 refuses header values with surrounding whitespace (a client-side error, never sent)
    headers = {k: str(v).strip() for k, v in (kwargs.get("headers") or {}).items()}
    if "json" in kwargs:
        raw = json.dumps(kwargs["json"]).encode()
    else:
        data = kwargs.get("data")
        raw = data.encode() if isinstance(data, str) else (data or b"")
    path = case.formatted_path
    tag = case.operation.definition.raw.get("tags", [""])[0]
    if path.startswith("/rest/cmsapp/"):
        headers["Authorization"] = signing.authorization(
            "ak-all", "sk-all", datetime.now(UTC), case.method, path, {}, {"host": live.running.host}, raw
        )
    elif path.startswith("/agentgateway/"):
        agent = str(case.path_parameters.get("agentid")) if case.path_parameters else ""
        if agent.isdigit() and int(agent) in AGENTS:
            headers = {k: v for k, v in headers.items() if k.lower() != "guid"}
            headers["Guid"] = live.guid(int(agent))
    elif tag in live.bearer or path in live.bearer:
        headers["Authorization"] = f"Bearer {live.bearer.get(tag) or live.bearer[path]}"
    elif path.startswith("/ccdata/v1/events") or path.startswith("/ccdata/v1/state"):
        headers["Authorization"] = "Bearer ingest-token"
    return live.http.request(case.method, kwargs["url"], params=kwargs.get("params"), headers=headers, content=raw)


def _steer(case: schemathesis.Case) -> None:
    """Gateway cases mostly about configured agents (a random ID is simply not signed in)."""
    if case.path_parameters and "agentid" in case.path_parameters:
        number = str(case.path_parameters["agentid"])
        if number.isdigit() and int(number) % 4 != 0:
            case.path_parameters["agentid"] = AGENTS[int(number) % len(AGENTS)]


@schema.parametrize()
@settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck), database=None, derandomize=True)
def test_every_operation_answers_as_documented(case: schemathesis.Case, live: Live) -> None:
    _steer(case)
    response = _send(live, case)
    OUTCOMES.setdefault(case.operation.label, Counter())[_outcome(response)] += 1
    case.validate_response(response, checks=CHECKS)


def _outcome(response: httpx.Response) -> str:
    """The HTTP status and, for a JSON envelope, its business code."""
    try:
        body = response.json()
    except ValueError:
        return str(response.status_code)
    code = next((body[k] for k in ("resultCode", "retcode", "returnCode") if isinstance(body, dict) and k in body), "")
    return f"{response.status_code} {code}".strip()


def test_the_generated_requests_reached_the_handlers() -> None:
    """The run above proved something: every operation was tried, no CC-CMS request was refused for its signature,
    and most operations answered a success (the rest need a live call's ID, a time window of the last day or a
    password, which generated data rarely holds: tests/test_openapi.py sends each operation's example instead)."""
    operations = [f"{op.method.upper()} {op.path}" for op in openapi.OPS if op.path != "/ccdata/v1/stream"]
    assert sorted(OUTCOMES) == sorted(operations)
    refused = {op: seen for op, seen in OUTCOMES.items() if op.startswith("POST /rest/cmsapp/") and seen["401"]}
    assert refused == {}
    answered = [op for op, seen in OUTCOMES.items() if seen.keys() & {"200", "200 0", "200 0100000"}]
    assert len(answered) >= 0.6 * len(OUTCOMES), {op: dict(OUTCOMES[op]) for op in set(OUTCOMES) - set(answered)}
