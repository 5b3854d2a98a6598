"""The OpenAPI document of the service (served at /openapi.json, browsable at /docs).

Every operation is one row of a table (`Op`): its request body's type and its answer's type, from
`api/schemas.py` and the SDK's `ccdata.client.types`, turned into JSON Schema by msgspec, so that the document
cannot drift from the types the SDK decodes and the tests check the facades against. The envelope each facade
wraps an answer in, and the errors it answers with, come from the operation's `Family`. OpenAPI 3.0.3 (the
bundled Swagger UI 4 renders no 3.1): msgspec's `{"type": "null"}` alternatives become `nullable`."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import msgspec

from ccdata import __version__
from ccdata.api import schemas as s
from ccdata.api.openapi_gateway import GATEWAY_OPS
from ccdata.api.openapi_lists import CMS_MONITORING_OPS
from ccdata.api.openapi_table import (
    CCDATA,
    CMS,
    CSV,
    DATAPROCESS,
    FABRIC,
    PUBLIC,
    Legacy,
    Op,
    Param,
    Plain,
    Text,
)
from ccdata.api.simulator import PATH as RING_PATH
from ccdata.api.simulator import RingRequest
from ccdata.client import types as t

_WINDOW = {"ccId": 1, "vdn": 1, "beginDate": "1767225600000", "endDate": "1767311999999", "limit": 10, "offset": 0}
_AGENT = {"ccId": 1, "vdn": 1, "agentId": 1001}
_CALL = {"ccId": 1, "vdn": 1, "callId": "1767258001-17"}
_CMS = "/rest/cmsapp/v1/openapi"

#: CC-CMS calls and call data, API Fabric, DataProcess, ingest and the service's own interfaces.
OPS: list[Op] = [
    Op("post", f"{_CMS}/agent/queryagentcalls", "Current call IDs of an agent", CMS, s.AgentQuery, Legacy(list[str]),
       _AGENT),
    Op("post", f"{_CMS}/agentgroup/queryagentcalls", "Current calls of up to 3000 agents", CMS, s.AgentsQuery,
       Legacy(list[t.AgentCalls]), {"ccId": 1, "vdn": 1, "agentIds": [1001, 1002]}),
    Op("post", f"{_CMS}/agent/agentprivatecall", "Private calls of an agent", CMS, s.AgentQuery, Legacy(list[str]),
       _AGENT),
    Op("post", f"{_CMS}/calldata/querydetailcallinfo", "Control block of a call in progress", CMS, s.CallQuery,
       Legacy(t.CallDetail), _CALL),
    Op("post", f"{_CMS}/calldata/querybasiccallinfo", "Basic information of a call in progress", CMS, s.CallQuery,
       Legacy(t.BasicCallInfo), _CALL),
    Op("post", f"{_CMS}/vdn/querycalltracedetail", "Call track of a call (the month of logDate); CSV on request",
       CMS, s.TraceQuery, Plain(list[t.TrackRow]), {**_CALL, "logDate": 1767258001000}, csv=True),
    Op("post", f"{_CMS}/vdn/querycalls", "Inbound calls of a VDN ended since yesterday", CMS, s.CallsWindow,
       Plain(s.VdnCallPage), _WINDOW),
    Op("post", "/rest/cmsapp/v2/openapi/vdn/querycalls", "Inbound or outbound calls of a VDN", CMS, s.CallsWindowV2,
       Plain(s.VdnCallPage), {**_WINDOW, "isCallIn": "true"}),
    Op("post", f"{_CMS}/calldata/querycalldetailbyid", "CDR of a call of the last day", CMS, s.CallByIdRequest,
       Legacy(t.CallRecord), {"queryParam": {"ccId": 1, "isCallin": "true", "callId": "1767258001-17"}}),
    Op("post", f"{_CMS}/calldata/isprocesscall", "Whether an agent is handling a call", CMS, s.AgentQueryRequest,
       Legacy(bool), {"queryParam": _AGENT}),
    *CMS_MONITORING_OPS,
    Op("post", "/rest/cmsapp/v1/ping", "Health check (echoes the body)", CMS, s.Ping, Text.json(s.PingAnswer),
       {"say": "Hello world!"}),
    *GATEWAY_OPS,
    Op("post", "/apigovernance/api/oauth/tokenByAkSk", "A Bearer token for the DataProcess interfaces", FABRIC,
       s.TokenRequest, Text.json(s.TokenAnswer), {"app_key": "ccdata-demo-app", "app_secret": "ccdata-demo-secret"},
       params=(Param("X-Token-Expire", "header", int, description="token lifetime in s (default 600)"),)),
    Op("post", "/apiaccess/rest/dataprocess/v1/openapp/queryCallManualDetailInfo",
       "Call-result search (CDR + satisfaction); offset/limit are a ccdata extension; CSV on request (total in "
       "X-Total-Count)", DATAPROCESS, s.ResultSearch, Text.json(s.ResultPage),
       {"subCcNo": "1", "vdn": "1", "beginDate": "1767225600000", "endDate": "1767312000000", "offset": 0,
        "limit": 100}, csv=True, params=(Param("X-APP-Key", "header", str, description="the app key (optional)"),)),
    Op("post", "/ccdata/v1/events", "Ingest contract events (a JSON array, or JSON lines)", CCDATA,
       list[dict[str, Any]], Text.json(s.IngestReport), []),
    Op("post", RING_PATH, "Offer a simulated call now to a signed-in, idle interactive agent (`ccdata ring`); "
       "refusals carry a `code` (docs/simulator.md)", CCDATA, RingRequest, Text.json(s.RingAnswer, "the call rings"),
       {"agentId": 1901, "media": "voice", "caller": "13800138000", "skillId": 1}, status="202",
       more={"404": ("unknown_agent, or the ingest endpoint is disabled", s.SpringError),
             "409": ("the agent's state forbids it (not_signed_in, not_idle, not_interactive, no_simulator)",
                     s.SpringError)}),
    Op("get", "/ccdata/v1/state/digest", "The live state's digest at this node's log position", CCDATA, None,
       Text.json(s.StateDigest)),
    Op("get", "/ccdata/v1/stream",
       "Server-sent events: agent and call states, call-track rows, call results (Last-Event-ID resumes)",
       CCDATA, None, Text("text/event-stream", "an endless stream of events"),
       params=(Param("vdn", "query", str, description="VDN IDs, comma-separated (default: the credential's)"),
               Param("kinds", "query", str, description="event kinds, comma-separated (default: all)"),
               Param("Last-Event-ID", "header", str, description="the last event seen"))),
    Op("get", "/ccdata/v1/wallboard", "The wallboard's figures of a VDN", CCDATA, None, Text.json(dict[str, Any]),
       params=(Param("vdn", "query", int),)),
    Op("get", "/wallboard", "The wallboard page", PUBLIC, None, Text("text/html", "the page")),
    Op("get", "/ccdata/v1/health", "Liveness", PUBLIC, None, Text.json(s.Health)),
    Op("post", "/ccdata/v1/health", "Liveness (the benchmarks' bare baseline)", PUBLIC, None, Text.json(s.Health)),
    Op("get", "/ccdata/v1/health/live", "Liveness", PUBLIC, None, Text.json(s.Health)),
    Op("get", "/ccdata/v1/health/ready", "Readiness (503 while not ready)", PUBLIC, None, Text.json(s.Readiness),
       more={"503": ("not ready", s.Readiness)}),
    Op("get", "/metrics", "Prometheus metrics (bearer token or loopback only, per the configuration)", CCDATA,
       None, Text("text/plain", "the Prometheus text exposition format")),
    Op("get", "/openapi.json", "This document", PUBLIC, None, Text.json(dict[str, Any])),
    Op("get", "/docs", "The interactive API documentation", PUBLIC, None, Text("text/html", "the page")),
]  # fmt: skip


@lru_cache(maxsize=1)
def document() -> dict[str, Any]:
    components: dict[str, Any] = {}
    paths: dict[str, Any] = {}
    for op in OPS:
        paths.setdefault(op.path, {})[op.method] = _operation(op, components)
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "ccdata",
            "version": __version__,
            "description": "Call data wire-compatible with the Huawei CEC CC-CMS, CC-Gateway and DataProcess "
            "interfaces. CC-CMS business errors come back with HTTP 200 (`CmsFailure`), CC-Gateway errors with "
            'HTTP 200 and a `retcode` other than "0". On this page, CC-CMS operations are signed in the browser: '
            "Authorize `authV2` with `AK:SK` (docs/client.md).",
        },
        "components": {"schemas": dict(sorted(components.items())), "securitySchemes": SECURITY_SCHEMES},
        "paths": paths,
    }


SECURITY_SCHEMES = {
    "authV2": {
        "type": "apiKey",
        "in": "header",
        "name": "Authorization",
        "description": "auth-v2/{AK}/{timestamp}/{signedHeaders}/{signature}. On /docs, enter `AK:SK`: the page "
        "signs each request with them (the secret never leaves the browser).",
    },
    "guid": {"type": "apiKey", "in": "header", "name": "Guid", "description": "from the sign-in's Set-GUID"},
    "bearer": {"type": "http", "scheme": "bearer"},
}


def _operation(op: Op, components: dict[str, Any]) -> dict[str, Any]:
    family = op.family
    out: dict[str, Any] = {
        "summary": op.summary,
        "operationId": op.operation_id,
        "tags": [op.tag or family.tag],
        "security": family.security,
    }
    params = [_parameter(p, components) for p in (*family.params, *op.params)]
    if params:
        out["parameters"] = params
    if op.request is not None:
        media = {"schema": schema_of(op.request, components)}
        if op.example is not None:
            media["example"] = op.example
        out["requestBody"] = {"required": True, "content": {"application/json": media}}
    answer = op.answer.content(family, lambda kind: schema_of(kind, components))
    if op.csv:
        answer[CSV] = {"schema": {"type": "string", "description": "the same rows as CSV, a header row first"}}
    responses = {op.status: {"description": op.answer.description, "content": answer}}
    for status, (description, kind) in {**family.errors, **op.more}.items():
        responses[status] = {
            "description": description,
            "content": {"application/json": {"schema": schema_of(kind, components)}},
        }
    out["responses"] = responses
    return out


def _parameter(param: Param, components: dict[str, Any]) -> dict[str, Any]:
    out = {"name": param.name, "in": param.where, "required": param.where == "path" or param.required}
    out["schema"] = schema_of(param.kind, components)
    if param.description:
        out["description"] = param.description
    return out


def schema_of(kind: Any, components: dict[str, Any]) -> dict[str, Any]:
    """The OpenAPI 3.0 schema of a type; the Structs it uses are added to `components`."""
    (schema,), defined = msgspec.json.schema_components([kind], ref_template="#/components/schemas/{name}")
    for name, definition in defined.items():
        components[name] = openapi30(definition)
    return openapi30(schema)


def openapi30(node: Any) -> Any:
    """JSON Schema 2020-12 as msgspec writes it, in OpenAPI 3.0's dialect: `nullable` for a null alternative,
    `enum` for `const`, `example` for `examples`."""
    if isinstance(node, list):
        return [openapi30(item) for item in node]
    if not isinstance(node, dict):
        return node
    node = {key: openapi30(value) for key, value in node.items()}
    if "const" in node:
        node["enum"] = [node.pop("const")]
    if isinstance(node.get("examples"), list) and node["examples"]:  # 3.0 has one `example`
        node["example"] = node.pop("examples")[0]
    if node.get("type") == "null":
        return {"nullable": True, "enum": [None]}
    for key in ("anyOf", "oneOf"):
        options = node.get(key)
        if options and any(option.get("enum") == [None] and option.get("nullable") for option in options):
            rest = [option for option in options if not (option.get("enum") == [None] and option.get("nullable"))]
            del node[key]
            if len(rest) == 1 and "$ref" not in rest[0]:
                node.update(rest[0])
            elif len(rest) == 1:
                node["allOf"] = rest
            else:
                node[key] = rest
            node["nullable"] = True
    return node
