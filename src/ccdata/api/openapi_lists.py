"""The OpenAPI entries of the CC-CMS agent, skill and VDN lists and the agent operation log (`openapi.py` holds
the rest of the document)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

CMS = [{"authV2": []}]


def list_paths(op: Callable[..., dict[str, Any]]) -> dict[str, Any]:
    """CC-CMS agents, VDN lists and configuration (docs/compatibility.md, "CC-CMS agents, VDN lists and
    configuration"); `op` builds one operation as the rest of the document does."""
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
        f"{base}/{path}": {"post": op(summary, CMS, request, response, "CC-CMS monitoring")}
        for path, summary, request, response in specs
    }
