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
        **_monitoring_paths(),
        **_list_paths(),
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


def _list_paths() -> dict[str, Any]:
    """CC-CMS agents, VDN lists and configuration (docs/compatibility.md, "CC-CMS agents, VDN lists and
    configuration")."""
    base = "/rest/cmsapp/v1/openapi"
    vdn = {"ccId": 1, "vdn": 1}
    skills = {**vdn, "skillIds": [7]}

    def legacy(payload: Any, **more: Any) -> dict[str, Any]:
        return {"result": "0", "resultCode": "0100000", "resultDatas": payload, "resultDesc": payload, **more}

    counts = {"workSubStateBegin": 1, "lateAdjust": 0, "usable": 1, "rest": 1, "studying": 0, "setBusy": 1,
              "occupy": 0, "idle": 1, "preoccupy": 0, "answering": 0, "talking": 1, "loginEd": 5}  # fmt: skip
    operation = {
        "id": "e17#1", "callId": "1767258001-17", "phoneNo": "88881363", "subCcNo": 0, "currentAgentId": 1001,
        "currentSkillId": 7, "mediaType": 5, "submediaType": "-1", "beginTime": "2026-01-01 09:00:10",
        "endTime": "2026-01-01 09:03:40", "vdn": 1, "callType": 0, "serviceNo": 0, "operateType": 4,
        "operateObject": 65535, "operateCause": 0, "agentType": 4, "locationId": 65535,
        "logonSn": "1767258000000", "skillInfoSn": "1767258000000",
    }  # fmt: skip
    configured = {
        "workNo": 1001, "name": "Agent 1001", "status": 7, "ctiStatus": 5, "groupId": -1, "mediaType": 5,
        "vdnId": 1, "phoneNumber": "61001", "currentStateTime": 42, "loginDate": 1767258000000,
    }  # fmt: skip
    limits = {"skillId": 7, "maxCallNum": 0, "maxHoldCallNum": 0, "maxWaitTime": 0, "maxAnswerWaitTime": 0,
              "maxTalkTime": 0, "maxRestAgentNum": 0, "maxAgentWrapupTime": 0}  # fmt: skip
    queued = {
        "callId": "1767258001-17", "customerLevel": 1, "requestType": 0, "calling": "88881363", "called": "650550",
        "mediaType": "MEDIA_TYPE_PHONE", "orgiCalled": "", "callInTime": 1767258001000, "callPriority": 0,
        "waitTime": 12, "callQueueFlag": 1,
    }  # fmt: skip
    agent = {"workNo": 1001, "vdnId": 1, "citStatus": 5, "name": "Agent 1001", "phoneNumber": "61001",
             "loginDate": 1767258000000, "currentStateTime": 42, "mediaType": 5, "status": 7}  # fmt: skip
    abstract = {"agentId": 1001, "currentState": 5, "currentStateTime": 42, "locationId": 65535}
    page = {**vdn, "offset": 0, "limit": 100}
    specs: list[tuple[str, str, Any, Any]] = [
        ("agent/agentoprinfo", "An agent's operations of the last day (types: CMS reference 5.12)",
         {"currentAgentId": 1001, "beginTime": "2026-01-01 09:00:00", "endTime": "2026-01-01 10:00:00"},
         legacy([operation])),
        ("skill/agentstatusbyskill", "Agents by state whose skills contain (or are) the given skills",
         {**skills, "isSkillAllMatch": "false"}, legacy({**counts, "notlogined": 0, "callOut": 0})),
        ("skill/agentbyconfigedskill", "The agents configured with a skill", {"queryParam": {**vdn, "skillId": 7}},
         legacy([configured])),
        ("skill/skillcfginfo", "Skills' configured limits (0: none)", skills, legacy([limits])),
        ("skill/batchmultiskill", "The voice calls queued in each skill", skills,
         legacy([{"skillId": 7, "callPropertyExs": [queued]}])),
        ("agentgroup/teamagentstatusinfo", "The given agents by state", {"agentIds": [1001, 1002]}, legacy(counts)),
        ("agent/agentbyworkno", "One agent", {"queryParam": {"agentId": 1001}}, legacy(agent)),
        ("agentgroup/systemstate", "Counts over a page of the VDN's agents", {"queryParam": page},
         legacy({"busyAgent": 1, "talkingNum": 1, "idleAgent": 1, "totalLoginAgent": 5})),
        ("agentgroup/siteagentcallandskillinfobyagentids", "Agents' skills and whether they are signed in to them",
         {**vdn, "agentIds": [1001]}, legacy([{"agentId": 1001, "skills": [{"skillId": 7, "isLogin": 1}]}])),
        ("vdn/totalagentabstractex3", "A page of the VDN's agents' states (count: all of them)", page,
         legacy([abstract], count=5)),
        ("vdn/querytotalagentinfo", "Every agent's state", vdn, legacy([abstract])),
        ("vdn/totalagentdynamicinfo", "A page of the VDN's agents' CTI states", page,
         legacy([{"agentId": 1001, "state": 5}], count=5)),
        ("vdn/totalagentstate", "Every agent's CTI state", vdn, legacy([{"agentId": 1001, "state": 5}])),
        ("vdn/allagentphones", "A page of the VDN's agents' phone numbers", page,
         legacy([{"agentId": 1001, "phone": "61001"}], count=5)),
        ("configures/skills", "The VDN's configured skills", {"queryParam": vdn},
         legacy([{"id": 7, "mediaType": 5, "submediaType": "-1", "name": "defaultAudioSkill"}])),
        ("vdn/queryivrstatusinfo", "The calls in an IVR flow now", {**vdn, "flowId": 3},
         legacy([{"callId": "1767258001-17", "customerLevel": 1, "requestType": 0}])),
        ("vdn/queryAgentByStatus", "A page of the agents in a CTI state (its own envelope)",
         {"ccId": "1", "vdn": "1", "status": "5", "offset": 0, "limit": 100},
         {"returnCode": "0", "data": [abstract], "description": "success"}),
    ]  # fmt: skip
    return {
        f"{base}/{path}": {"post": _op(summary, CMS, request, response, "CC-CMS monitoring")}
        for path, summary, request, response in specs
    }
