"""The OpenAPI document of the service (served at /openapi.json, browsable at /docs)."""

from __future__ import annotations

from typing import Any

from ccdata import __version__

CMS = [{"authV2": []}]
GUID = [{"guid": []}]
BEARER = [{"bearer": []}]

_CMS_ERROR = {"resultCode": "0100002", "resultDesc": "Invalid parameter: vdn is required"}


def _op(summary: str, security: list, request: Any | None, response: Any, tag: str, **extra: Any) -> dict[str, Any]:
    op: dict[str, Any] = {"summary": summary, "tags": [tag], "security": security}
    if request is not None:
        op["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": {"type": "object"}, "example": request}},
        }
    op["responses"] = {"200": {"description": "answer", "content": {"application/json": {"example": response}}}}
    op.update(extra)
    return op


def _agent_param(*more: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"name": "agentid", "in": "path", "required": True, "schema": {"type": "string"}}, *more]


def document() -> dict[str, Any]:
    agent_query = {"ccId": 1, "vdn": 1, "agentId": 1001}
    call_query = {"ccId": 1, "vdn": 1, "callId": "1767258001-17"}
    ids = ["1767258001-17"]
    envelope = {"result": "0", "resultCode": "0100000", "resultDatas": ids, "resultDesc": ids}
    paths = {
        "/rest/cmsapp/v1/openapi/agent/queryagentcalls": {
            "post": _op("Current call IDs of an agent", CMS, agent_query, envelope, "CC-CMS")
        },
        "/rest/cmsapp/v1/openapi/agentgroup/queryagentcalls": {
            "post": _op(
                "Current calls of up to 3000 agents",
                CMS,
                {"ccId": 1, "vdn": 1, "agentIds": [1001, 1002]},
                {"result": "0", "resultCode": "0100000", "resultDatas": [], "resultDesc": []},
                "CC-CMS",
            )
        },
        "/rest/cmsapp/v1/openapi/agent/agentprivatecall": {
            "post": _op("Private calls of an agent", CMS, agent_query, envelope, "CC-CMS")
        },
        "/rest/cmsapp/v1/openapi/calldata/querydetailcallinfo": {
            "post": _op(
                "Control block of a call in progress",
                CMS,
                call_query,
                {"result": "0", "resultCode": "0100000", "resultDatas": {}, "resultDesc": {}},
                "CC-CMS",
            )
        },
        "/rest/cmsapp/v1/openapi/calldata/querybasiccallinfo": {
            "post": _op(
                "Basic information of a call in progress",
                CMS,
                call_query,
                {"result": "0", "resultCode": "0100000", "resultDatas": {}, "resultDesc": {}},
                "CC-CMS",
            )
        },
        "/rest/cmsapp/v1/openapi/vdn/querycalltracedetail": {
            "post": _op(
                "Call track of a call (the month of logDate)",
                CMS,
                {**call_query, "logDate": 1767258001000},
                {"resultCode": "0100000", "resultDesc": []},
                "CC-CMS",
            )
        },
        **_call_data_paths(),
        "/rest/cmsapp/v1/ping": {
            "post": _op(
                "Health check",
                CMS,
                {"say": "Hello world!"},
                {"request": {"say": "Hello world!"}, "status": "UP"},
                "CC-CMS",
            )
        },
        "/agentgateway/resource/onlineagent/{agentid}": {
            "put": _op(
                "Sign in (Set-GUID: JSESSIONID=<guid>)",
                [],
                {"password": "ccdata-agent", "status": 4},
                {"message": "", "retcode": "0", "result": {"workno": "1001", "mediatype": "TTF"}},
                "CC-Gateway",
                parameters=_agent_param(),
            )
        },
        "/agentgateway/resource/onlineagent/{agentid}/forcelogin": {
            "put": _op(
                "Sign in, replacing a live session",
                [],
                {"password": "ccdata-agent"},
                {"message": "", "retcode": "0", "result": {"workno": "1001", "mediatype": "TTF"}},
                "CC-Gateway",
                parameters=_agent_param(),
            )
        },
        "/agentgateway/resource/onlineagent/{agentid}/logout": {
            "delete": _op(
                "Sign out",
                GUID,
                None,
                {"message": "success", "retcode": "0", "result": {}},
                "CC-Gateway",
                parameters=_agent_param(),
            )
        },
        "/agentgateway/resource/agentevent/{agentid}": {
            "get": _op(
                "Poll the agent's next event (also the heartbeat; may rotate the GUID)",
                GUID,
                None,
                {
                    "message": "",
                    "retcode": "0",
                    "event": {"eventType": "AgentEvent_Ringing", "workNo": "1001", "content": {}},
                },
                "CC-Gateway",
                parameters=_agent_param(),
            )
        },
        "/agentgateway/resource/calldata/{agentid}/callinfo": {
            "get": _op(
                "The agent's current call, or its last call",
                GUID,
                None,
                {"message": "", "retcode": "0", "result": {}},
                "CC-Gateway",
                parameters=_agent_param({"name": "isNoContainLastCall", "in": "query", "schema": {"type": "boolean"}}),
            )
        },
        "/agentgateway/resource/calldata/{agentid}/callinfobycallid/{callid}": {
            "get": _op(
                "One call of the agent (current or last)",
                GUID,
                None,
                {"message": "", "retcode": "0", "result": {}},
                "CC-Gateway",
                parameters=_agent_param(
                    {"name": "callid", "in": "path", "required": True, "schema": {"type": "string"}}
                ),
            )
        },
        "/apigovernance/api/oauth/tokenByAkSk": {
            "post": _op(
                "A Bearer token for the DataProcess interfaces",
                [],
                {"app_key": "ccdata-demo-app", "app_secret": "ccdata-demo-secret"},
                {
                    "AccessToken": "…",
                    "ApplyType": "Bearer",
                    "CreateTime": "1767258000",
                    "Expires": "600",
                    "Scope": "",
                    "AppKey": "ccdata-demo-app",
                    "UserID": "Anonymous",
                },
                "API Fabric",
                parameters=[{"name": "X-Token-Expire", "in": "header", "schema": {"type": "integer"}}],
            )
        },
        "/apiaccess/rest/dataprocess/v1/openapp/queryCallManualDetailInfo": {
            "post": _op(
                "Call-result search (CDR + satisfaction); offset/limit are a ccdata extension",
                BEARER,
                {
                    "subCcNo": "1",
                    "vdn": "1",
                    "beginDate": "1767225600000",
                    "endDate": "1767312000000",
                    "offset": 0,
                    "limit": 100,
                },
                {"total": 0, "results": []},
                "DataProcess",
            )
        },
        "/ccdata/v1/events": {
            "post": _op(
                "Ingest contract events (JSON array or JSON lines)",
                BEARER,
                [],
                {"accepted": 0, "duplicates": 0, "rejected": 0, "reasons": {}, "rejections": []},
                "ccdata",
            )
        },
    }
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "ccdata",
            "version": __version__,
            "description": "Call data wire-compatible with the Huawei CEC CC-CMS, CC-Gateway and DataProcess "
            "interfaces. Business errors of CC-CMS come back with HTTP 200, e.g. " + str(_CMS_ERROR) + ".",
        },
        "components": {
            "securitySchemes": {
                "authV2": {
                    "type": "apiKey",
                    "in": "header",
                    "name": "Authorization",
                    "description": "auth-v2/{AK}/{timestamp}/{signedHeaders}/{signature}",
                },
                "guid": {"type": "apiKey", "in": "header", "name": "Guid"},
                "bearer": {"type": "http", "scheme": "bearer"},
            }
        },
        "paths": paths,
    }


SWAGGER_PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>ccdata API</title>
<link rel="stylesheet" href="/docs/static/swagger-ui.css"></head>
<body><div id="ui"></div>
<script src="/docs/static/swagger-ui-bundle.js"></script>
<script>SwaggerUIBundle({url: "/openapi.json", dom_id: "#ui"});</script>
</body></html>
"""


def _call_data_paths() -> dict[str, Any]:
    """CC-CMS call data of the last day (issue 13)."""
    window = {"ccId": 1, "vdn": 1, "beginDate": "1767225600000", "endDate": "1767311999999", "limit": 10, "offset": 0}
    page = {"resultCode": "0100000", "resultDesc": {"data": [], "count": 0}}
    cdr = {"callId": "1767258001-17", "vdn": 1, "callType": 0, "agentId": 1001, "callTime": 30}
    busy = {"result": "0", "resultCode": "0100000", "resultDatas": False, "resultDesc": False}
    return {
        "/rest/cmsapp/v1/openapi/vdn/querycalls": {
            "post": _op("Inbound calls of a VDN ended since yesterday", CMS, window, page, "CC-CMS")
        },
        "/rest/cmsapp/v2/openapi/vdn/querycalls": {
            "post": _op("Inbound or outbound calls of a VDN", CMS, {**window, "isCallIn": "true"}, page, "CC-CMS")
        },
        "/rest/cmsapp/v1/openapi/calldata/querycalldetailbyid": {
            "post": _op(
                "CDR of a call of the last day",
                CMS,
                {"queryParam": {"ccId": 1, "isCallin": "true", "callId": "1767258001-17"}},
                {"result": "0", "resultCode": "0100000", "resultDatas": cdr, "resultDesc": cdr},
                "CC-CMS",
            )
        },
        "/rest/cmsapp/v1/openapi/calldata/isprocesscall": {
            "post": _op(
                "Whether an agent is handling a call",
                CMS,
                {"queryParam": {"ccId": 1, "vdn": 1, "agentId": 1001}},
                busy,
                "CC-CMS",
            )
        },
    }
