"""The OpenAPI document of the service (served at /openapi.json, browsable at /docs)."""

from __future__ import annotations

from typing import Any

from ccdata import __version__
from ccdata.api.openapi_lists import list_paths

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
        **_monitoring_paths(),
        **list_paths(_op),
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
        **_workbench_paths(),
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
        "/ccdata/v1/simulator/ring": {
            "post": _op(
                "Offer a simulated call now to a signed-in, idle interactive agent (202; `ccdata ring`)",
                BEARER,
                {"agentId": 1901, "media": "voice", "caller": "13800138000", "skillId": 1},
                None,
                "ccdata",
                responses={
                    "202": {
                        "description": "the call rings at the agent",
                        "content": {"application/json": {"example": {"callId": "1767258001-17", "agentId": 1901}}},
                    }
                },
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


def _monitoring_paths() -> dict[str, Any]:
    """CC-CMS real-time monitoring (docs/compatibility.md, "CC-CMS real-time monitoring")."""
    base = "/rest/cmsapp/v1/openapi"
    skills = {"ccId": 1, "vdn": 1, "skillIds": [7]}

    def legacy(payload: Any) -> dict[str, Any]:
        return {"result": "0", "resultCode": "0100000", "resultDatas": payload, "resultDesc": payload}

    state = {
        "skillId": 7, "agentLoginNums": 5, "agentTalkingNums": 1, "agentIdleNums": 1, "agentAvailableNums": 1,
        "agentSetBusyNums": 1, "agentRestNums": 1, "agentMaxIdleTimeIn5": 12, "agentWorkNums": 1, "agentStudyNums": 0,
        "agentOccupyNums": 0, "agentPreOccupyNums": 0, "totalCallNums": 4, "processingCallNums": 1,
        "maxCallWaitTimesIn5": 90, "callWaitNums": 1, "evenCallTimeIn5": 55, "evenWaitTimeIn5": 17,
    }  # fmt: skip
    legacy_state = {("agentSetbusyNums" if k == "agentSetBusyNums" else k): v for k, v in state.items()}
    quality = {
        "skillId": 7, "statStartTime": 1767258000000, "inCallNum": 2, "connectedNum": 1, "callLostNum": 1,
        "in15sCallNum": 1, "wait15sLostNum": 0, "in20sCallNum": 1, "wait20sLostNum": 0,
    }  # fmt: skip
    status = {
        "agentId": 1001, "locationId": 65535, "currentStateReason": 65535, "prevState": 0, "prevStateTime": 0,
        "currentState": 5, "currentStateTime": 42, "logonTime": 1767258000000, "agentRelease": 0,
        "currentPrivateCallNum": 0,
    }  # fmt: skip
    total = {
        "skillId": 7, "queueSize": 1, "queueTime": 90, "loggedOnAgents": 5, "availAgents": 1,
        "skillDescrip": "defaultAudioSkill", "callId": "1767258001-17", "maxQueueSize": 0,
    }  # fmt: skip
    current = {
        "id": 7, "startTime": 1767258300000, "allCallCount": 3, "cnnedCallCount": 2, "abanCallCount": 1,
        "callEndCount": 3, "talkTimeOnIvr": 0, "cnnedIn20sCallCount": 2, "clearUpCallCount": 0, "clearUpTime": 0,
    }  # fmt: skip
    agent_indexes = ["IDX_AGENT_PHONE", "IDX_AGENT_CURRENT_STATE"]
    specs: list[tuple[str, str, Any, Any]] = [
        ("skill/rindex", "Real-time indicators of skill queues (at most 12 IDX_...; values are strings)",
         {**skills, "indexIds": ["IDX_COUNT_REAL_SKILL_QUEUE", "IDX_COUNT_REAL_AGENT_SIGN_IN"]},
         legacy([{"id": 7, "idxs": [{"id": "IDX_COUNT_REAL_SKILL_QUEUE", "val": "1"},
                                    {"id": "IDX_COUNT_REAL_AGENT_SIGN_IN", "val": "5"}]}])),
        ("skill/stateinfo", "Agents by state and queue figures of skills",
         {"queryParam": skills}, legacy([{**state, "allCallCount": 3, "cnnedIn20sCallCount": 2}])),
        ("realindex/skill/stateinfo", "Agents by state and queue figures of skills (the older interface)",
         {"queryParam": skills}, legacy([legacy_state])),
        ("skill/queuedevicestatus", "The calls waiting in a skill queue",
         {"ccId": 1, "vdn": 1, "skillId": 7},
         legacy([{"callId": "1767258001-17", "customerLevel": 1, "requestType": 0}])),
        ("skill/totalskillstatusex3", "Queue and agent totals of skills", skills, legacy([total])),
        ("skill/currentcallstateinfo", "The current 5-minute interval's call counters of skills", skills,
         legacy([current])),
        ("skill/batchskilloverload", "Calls of other queues answered by each skill's agents", skills,
         legacy([{"skillId": 7, "overloadDetails": [{"queueId": 8, "callNum": 1}]}])),
        ("skill/servicequality", "Service quality of the 5-minute interval holding the start of the last 5 minutes",
         skills, {"resultCode": "0100000", "resultDesc": [quality]}),
        ("realindex/agent/agentsinskill", "The signed-in agents of skills", skills,
         legacy([{"skillId": 7, "agentIds": [1001, 1002]}])),
        ("agentgroup/agentstatusinfobyagentids", "CTI state of agents (up to 6000)",
         {"agentIds": [1001]}, legacy([status])),
        ("agentgroup/rindex", "Real-time indicators of agents (at most 4 IDX_AGENT_...)",
         {"ccId": 1, "vdn": 1, "agentIds": [1001], "indexIds": agent_indexes},
         legacy([{"id": 1001, "idxs": [{"id": "IDX_AGENT_PHONE", "val": "61001"},
                                       {"id": "IDX_AGENT_CURRENT_STATE", "val": 5}]}])),
        ("rindex/vdn", "Real-time indicators of VDNs",
         {"ccId": 1, "vdnIds": [1], "indexIds": ["IDX_COUNT_REAL_VDN_CALL"]},
         legacy([{"id": "1", "idxs": [{"id": "IDX_COUNT_REAL_VDN_CALL", "val": 2}]}])),
    ]  # fmt: skip
    return {
        f"{base}/{path}": {"post": _op(summary, CMS, request, response, "CC-CMS monitoring")}
        for path, summary, request, response in specs
    }


#: The workbench's interfaces: (method, path under /agentgateway/resource, summary, request example, result).
_WORKBENCH: list[tuple[str, str, str, Any, Any]] = [
    ("put", "onlineagent/{agentid}/loginex", "Sign in to the CTI platform only", {"password": "ccdata-agent"},
     {"workno": "1001", "mediatype": "TFF"}),
    ("delete", "onlineagent/{agentid}/forcelogout", "Sign out even during a call (its calls are released)", None,
     None),
    ("delete", "onlineagent/{agentid}/forcelogoutwithreason/{reason}", "Forced sign-out with a reason (1-255)",
     None, None),
    ("post", "onlineagent/{agentid}/sayfree", "Idle (from busy, rest or wrap-up)", None, {}),
    ("post", "onlineagent/{agentid}/saybusy", "Busy (?reason=200-250&prolong=true to renew)", None, {}),
    ("post", "onlineagent/{agentid}/cancelbusy", "Leave busy", None, {}),
    ("post", "onlineagent/{agentid}/rest/{time}/{restcause}", "Rest for time s (1-86399), cause 0-255", None, {}),
    ("post", "onlineagent/{agentid}/cancelrest", "Leave rest", None, {}),
    ("post", "onlineagent/{agentid}/work", "Enter wrap-up", None, {}),
    ("post", "onlineagent/{agentid}/cancelwork", "Leave wrap-up", None, {}),
    ("post", "onlineagent/{agentid}/autoanswer/{flag}", "Auto-answer on (true) or off (false)", None, {}),
    ("post", "onlineagent/{agentid}/autoenteridle/{flag}", "Idle (true) or wrap-up after a call", None, {}),
    ("get", "onlineagent/{agentid}/agentstatus", "The agent's state", None, [{"agentState": 4, "isWorking": False}]),
    ("post", "onlineagent/{agentid}/handshake", "Heartbeat (push mode; may rotate the GUID)", None, None),
    ("put", "onlineagent/{agentid}/updateGuid", "A new GUID after a page refresh", None,
     {"guid": "<guid>.AgentGateway0"}),
    ("post", "onlineagent/{agentid}/syncagentinfo", "State and call after a refresh (drops queued events)", None,
     {"callinfo": "", "agentStateInfo": {"callFeature": 0, "callData": "", "lastState": 4, "preBusy": False,
                                         "firsttalkingFlag": False}}),
    ("put", "voicecall/{agentid}/answer", "Answer the ringing call (?callid=)", None, {}),
    ("delete", "voicecall/{agentid}/release", "Release the current call", None, {}),
    ("post", "voicecall/{agentid}/dropcall/{callid}", "Release one of the agent's calls", None, {}),
    ("post", "voicecall/{agentid}/hold", "Hold the call", None, {}),
    ("post", "voicecall/{agentid}/gethold", "Retrieve the held call (?callid=)", None, {}),
    ("post", "voicecall/{agentid}/beginmute", "Mute", None, {}),
    ("post", "voicecall/{agentid}/endmute", "Unmute", None, {}),
    ("put", "voicecall/{agentid}/callout", "Call a number; the new call ID",
     {"caller": "650550", "called": "13900139000"}, "1767258001-18"),
    ("put", "voicecall/{agentid}/callinner", "Call another agent; the new call ID", {"called": "1002"},
     "1767258001-19"),
    ("post", "voicecall/{agentid}/transfer", "Transfer (devicetype 1 skill, 2 agent, 3 IVR, 5 number)",
     {"devicetype": 2, "mode": 0, "address": "1002"}, {}),
    ("post", "voicecall/{agentid}/innerhelp", "Consult an agent or skill; the help call's ID",
     {"dstaddress": "1002", "devicetype": 2, "mode": 1}, "1767258001-20"),
    ("post", "voicecall/{agentid}/confjoin", "Three-party: join the held call and the consulted party",
     {"callid": "1767258001-17"}, {}),
    ("get", "calldata/{agentid}/allcallinfoEx/{workno}", "Every call of an agent of the VDN", None, []),
    ("get", "calldata/{agentid}/holdlist", "The agent's held calls", None, []),
    ("get", "calldata/{agentid}/appdata", "A call's data (?callId=&isEncodeResult=)", None, "ticket=42"),
    ("put", "calldata/{agentid}/setcalldataex", "Set a call's data", {"callid": "1767258001-17",
                                                                       "calldata": "ticket=42"}, {}),
]  # fmt: skip


def _workbench_paths() -> dict[str, Any]:
    paths: dict[str, Any] = {}
    for method, path, summary, request, result in _WORKBENCH:
        names = [part[1:-1] for part in path.split("/") if part.startswith("{") and part != "{agentid}"]
        params = [{"name": n, "in": "path", "required": True, "schema": {"type": "string"}} for n in names]
        body = {"message": "success", "retcode": "0"} | ({} if result is None else {"result": result})
        op = _op(summary, GUID, request, body, "CC-Gateway", parameters=_agent_param(*params))
        paths.setdefault(f"/agentgateway/resource/{path}", {})[method] = op
    return paths
