"""The OpenAPI document against the service: it names every route and no other, and each operation's example (with
the IDs and times of a simulator-fed server) succeeds with an answer that matches its documented schema and
carries no field the document does not name, so that a wire change without its schema fails here."""

from __future__ import annotations

import copy
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import msgspec
import pytest
from schemathesis.specs.openapi.checks import response_schema_conformance
from starlette.routing import Route

from ccdata import config as configuration
from ccdata.api import openapi
from ccdata.api.app import create_app
from ccdata.api.openapi_table import CMS, DATAPROCESS, FABRIC, GATEWAY, Op
from ccdata.api.simulator import PATH as RING_PATH
from openapi_support import PASSWORDS, Live, live_server
from server import build_service
from test_openapi_schemathesis import schema

DAY_MS = 86_400_000
DOCUMENT = openapi.document()


@pytest.mark.modes
def test_the_document_names_every_route_and_no_other(tmp_path: Path, mode: str) -> None:
    service, sessions, _ = build_service(tmp_path, configuration.load(None), mode)
    app = create_app(service, sessions=sessions)
    service.store.close()
    served = {(m.lower(), r.path) for r in app.routes if isinstance(r, Route) for m in r.methods - {"HEAD"}}
    documented = {(method, path) for path, operations in DOCUMENT["paths"].items() for method in operations}
    assert served - {("get", "/docs/signer.js")} == documented  # the page's script, like /docs/static/*
    assert len(documented) == len(openapi.OPS)


def test_every_schema_reference_resolves() -> None:
    names = set(DOCUMENT["components"]["schemas"])
    text = str(DOCUMENT)
    refs = {part.split("'")[0] for part in text.split("#/components/schemas/")[1:]}
    assert refs and refs <= names


@pytest.mark.parametrize("op", [op for op in openapi.OPS if op.example is not None], ids=lambda op: op.path)
def test_every_example_is_a_request_of_its_type(op: Op) -> None:
    """The page's examples cannot drift from the request types (ranges and patterns included)."""
    msgspec.convert(op.example, op.request)


def test_the_document_speaks_openapi_3_0() -> None:
    """The bundled Swagger UI 4 reads 3.0: no JSON Schema 2020-12 keyword that msgspec writes is left."""
    text = str(DOCUMENT)
    assert DOCUMENT["openapi"] == "3.0.3"
    assert all(word not in text for word in ("'const'", "'examples'", "'$defs'", "'type': 'null'", "prefixItems"))
    nullable = DOCUMENT["components"]["schemas"]["DeviceTrace"]["properties"]["leaveReason"]
    assert nullable == {"type": "integer", "nullable": True, "default": None}
    assert openapi.openapi30({"anyOf": [{"$ref": "#/x"}, {"type": "null"}]}) == {"allOf": [{"$ref": "#/x"}],
                                                                                  "nullable": True}  # fmt: skip


class Facts:
    """IDs and times of the live server that turn the document's examples into requests that succeed."""

    def __init__(self, live: Live) -> None:
        service = live.running.service
        deadline = time.monotonic() + 45
        while True:
            busy = [a for a in service.engine.agents.values() if a.calls and a.vdn == 1 and a.agent_id < 1900]
            page = live.api.results({"subCcNo": "1", "vdn": "1", "beginDate": "0", "callType": 0}).json()
            if busy and page["results"]:
                break
            assert time.monotonic() < deadline, "the simulator made no call (or finished none)"
            time.sleep(0.3)
        self.agent = busy[0].agent_id
        self.call = next(iter(busy[0].calls))
        self.finished = page["results"][-1]["callId"]
        self.service = service

    def fill(self, op: Op, example: Any) -> Any:
        """The example with this server's IDs and times."""
        if isinstance(example, list):
            return [self.fill(op, item) for item in example]
        if not isinstance(example, dict):
            return example
        out = {key: self.fill(op, value) for key, value in example.items()}
        if op.path == RING_PATH:  # the interactive agent of the configuration, in its skill
            return out | {"agentId": 1901, "skillId": 8}
        now = self.service.now()  # the simulator's clock, 30 times faster than the wall's
        today = now - now % DAY_MS
        quarter = now - now % 900_000  # agentoprinfo: whole quarters of an hour
        utc = lambda ms: datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d %H:%M:%S")  # noqa: E731
        replacements = {
            "callId": self.finished if "querycalldetailbyid" in op.path else self.call,
            "callid": self.call,
            "logDate": now,
            "beginDate": str(today - DAY_MS),
            "endDate": str(today + DAY_MS - 1),
            "beginTime": utc(quarter - 3_600_000),
            "endTime": utc(quarter),
            "agentId": self.agent,
            "currentAgentId": self.agent,
            "password": PASSWORDS[self.agent],
            "app_key": "app-1",
            "app_secret": "secret-app-1",
        }
        return out | {key: value for key, value in replacements.items() if key in out}


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory, mode: str) -> Iterator[tuple[Live, Facts]]:
    with live_server(tmp_path_factory.mktemp("openapi")) as server:
        yield server, Facts(server)


def _tried(op: Op) -> bool:
    """The operations whose example (or, for the gateway's queries, whose bare call) succeeds on its own."""
    if op.family in (CMS, FABRIC, DATAPROCESS) or op.path == RING_PATH:
        return op.example is not None
    quiet = ("agentstatus", "callinfo", "holdlist", "allcallinfoEx", "syncagentinfo", "updateGuid", "handshake")
    return (op.family is GATEWAY and op.path.endswith(quiet)) or op.path.endswith("/forcelogin")


@pytest.mark.modes
@pytest.mark.parametrize("op", [op for op in openapi.OPS if _tried(op)], ids=lambda op: f"{op.method} {op.path}")
def test_every_example_succeeds_with_the_documented_answer(op: Op, live: tuple[Live, Facts]) -> None:
    server, facts = live
    operation = schema[op.path][op.method.upper()]
    path_parameters = {"agentid": facts.agent, "workno": facts.agent} if "{agentid}" in op.path else None
    body = facts.fill(op, copy.deepcopy(op.example)) if op.example is not None else None
    case = operation.Case(body=body, path_parameters=path_parameters, media_type="application/json")
    if body is None:
        case = operation.Case(path_parameters=path_parameters)
    if op.path == RING_PATH:
        server.api.sign_in(1901, password=PASSWORDS[1901], force=True)  # signed in and idle
    response = server.send(case)
    assert response.status_code == int(op.status), response.text
    answer = response.json()
    code = next((answer[k] for k in ("resultCode", "retcode", "returnCode") if k in answer), None)
    assert code in (None, "0", "0100000"), answer
    case.validate_response(response, checks=[response_schema_conformance])
    documented = DOCUMENT["paths"][op.path][op.method]["responses"][op.status]["content"]["application/json"]["schema"]
    assert undocumented(answer, documented) == [], answer


def undocumented(value: Any, schema_: dict[str, Any], where: str = "") -> list[str]:
    """The fields of `value` that `schema_` does not name (a CC-CMS anyOf: its first, the success answer)."""
    if "$ref" in schema_:
        return undocumented(value, DOCUMENT["components"]["schemas"][schema_["$ref"].rsplit("/", 1)[1]], where)
    if "allOf" in schema_:
        return undocumented(value, schema_["allOf"][0], where)
    if "anyOf" in schema_:
        return undocumented(value, schema_["anyOf"][0], where)
    if isinstance(value, list) and "items" in schema_:
        return [name for item in value for name in undocumented(item, schema_["items"], f"{where}[]")]
    if isinstance(value, dict) and "properties" in schema_:
        found = []
        for key, item in value.items():
            if key in schema_["properties"]:
                found += undocumented(item, schema_["properties"][key], f"{where}.{key}")
            else:
                found.append(f"{where}.{key}")
        return found
    return []


def test_undocumented_finds_a_field_the_document_does_not_name() -> None:
    documented = DOCUMENT["paths"]["/rest/cmsapp/v1/openapi/agentgroup/queryagentcalls"]["post"]["responses"]
    answer_schema = documented["200"]["content"]["application/json"]["schema"]
    ok = {"result": "0", "resultCode": "0100000", "resultDatas": [{"agentId": 1001, "callList": []}]}
    assert undocumented(ok, answer_schema) == []
    renamed = {**ok, "resultDesc": [{"agentID": 1001}]}
    assert undocumented(renamed, answer_schema) == [".resultDesc[].agentID"]
