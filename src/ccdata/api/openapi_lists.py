"""The OpenAPI table rows of the CC-CMS real-time monitoring, agent, skill and VDN lists and the agent operation
log (docs/compatibility.md, "CC-CMS real-time monitoring" and "CC-CMS agents, VDN lists and configuration");
`openapi.py` holds the rest of the document."""

from __future__ import annotations

from typing import Any

from ccdata.api import schemas as s
from ccdata.api.openapi_table import CMS, Legacy, Op, Plain, Text
from ccdata.client import types as t

_BASE = "/rest/cmsapp/v1/openapi"
_VDN = {"ccId": 1, "vdn": 1}
_SKILLS = {**_VDN, "skillIds": [7]}
_PAGE = {**_VDN, "offset": 0, "limit": 100}
_TAG = "CC-CMS monitoring"


def _op(path: str, summary: str, request: Any, answer: Any, example: Any) -> Op:
    return Op("post", f"{_BASE}/{path}", summary, CMS, request, answer, example, tag=_TAG)


CMS_MONITORING_OPS: list[Op] = [
    _op("skill/rindex", "Real-time indicators of skill queues (at most 12 IDX_...; values are strings)",
        s.SkillIndexQuery, Legacy(list[t.IndicatorRow]),
        {**_SKILLS, "indexIds": ["IDX_COUNT_REAL_SKILL_QUEUE", "IDX_COUNT_REAL_AGENT_SIGN_IN"]}),
    _op("skill/stateinfo", "Agents by state and queue figures of skills", s.SkillsQueryRequest,
        Legacy(list[t.SkillStateInfo]), {"queryParam": _SKILLS}),
    _op("realindex/skill/stateinfo", "Agents by state and queue figures of skills (the older interface)",
        s.SkillsQueryRequest, Legacy(list[t.SkillStateInfo]), {"queryParam": _SKILLS}),
    _op("skill/queuedevicestatus", "The calls waiting in a skill queue", s.SkillQuery, Legacy(list[t.QueuedCall]),
        {**_VDN, "skillId": 7}),
    _op("skill/totalskillstatusex3", "Queue and agent totals of skills", s.SkillsQuery,
        Legacy(list[t.TotalSkillStatus]), _SKILLS),
    _op("skill/currentcallstateinfo", "The current 5-minute interval's call counters of skills", s.SkillsQuery,
        Legacy(list[t.CurrentCallState]), _SKILLS),
    _op("skill/batchskilloverload", "Calls of other queues answered by each skill's agents", s.SkillsQuery,
        Legacy(list[t.SkillOverload]), _SKILLS),
    _op("skill/servicequality", "Service quality of the 5-minute interval holding the start of the last 5 minutes",
        s.SkillsQuery, Plain(list[t.ServiceQuality]), _SKILLS),
    _op("realindex/agent/agentsinskill", "The signed-in agents of skills", s.SkillsQuery,
        Legacy(list[t.SkillAgents]), _SKILLS),
    _op("agentgroup/agentstatusinfobyagentids", "CTI state of agents (up to 6000)", s.AgentIdsQuery,
        Legacy(list[t.AgentStatus]), {"agentIds": [1001]}),
    _op("agentgroup/rindex", "Real-time indicators of agents (at most 4 IDX_AGENT_...)", s.AgentIndexQuery,
        Legacy(list[t.IndicatorRow]),
        {**_VDN, "agentIds": [1001], "indexIds": ["IDX_AGENT_PHONE", "IDX_AGENT_CURRENT_STATE"]}),
    _op("rindex/vdn", "Real-time indicators of VDNs", s.VdnIndexQuery, Legacy(list[s.VdnIndicatorRow]),
        {"ccId": 1, "vdnIds": [1], "indexIds": ["IDX_COUNT_REAL_VDN_CALL"]}),
    _op("agent/agentoprinfo", "An agent's operations of the last day (types: CMS reference 5.12)",
        s.AgentOperationsQuery, Legacy(list[t.AgentOperation]),
        {"currentAgentId": 1001, "beginTime": "2026-01-01 09:00:00", "endTime": "2026-01-01 10:00:00"}),
    _op("skill/agentstatusbyskill", "Agents by state whose skills contain (or are) the given skills",
        s.SkillMatchQuery, Legacy(t.AgentStateCounts), {**_SKILLS, "isSkillAllMatch": "false"}),
    _op("skill/agentbyconfigedskill", "The agents configured with a skill", s.SkillQueryRequest,
        Legacy(list[t.ConfiguredAgent]), {"queryParam": {**_VDN, "skillId": 7}}),
    _op("skill/skillcfginfo", "Skills' configured limits (0: none)", s.SkillsQuery, Legacy(list[t.SkillConfig]),
        _SKILLS),
    _op("skill/batchmultiskill", "The voice calls queued in each skill", s.SkillsQuery, Legacy(list[t.SkillQueue]),
        _SKILLS),
    _op("agentgroup/teamagentstatusinfo", "The given agents by state", s.AgentIdsQuery, Legacy(t.AgentStateCounts),
        {"agentIds": [1001, 1002]}),
    _op("agent/agentbyworkno", "One agent", s.OneAgentRequest, Legacy(t.AgentInfo), {"queryParam": {"agentId": 1001}}),
    _op("agentgroup/systemstate", "Counts over a page of the VDN's agents", s.VdnPageRequest,
        Legacy(t.SystemState), {"queryParam": _PAGE}),
    _op("agentgroup/siteagentcallandskillinfobyagentids", "Agents' skills and whether they are signed in to them",
        s.AgentsQuery, Legacy(list[t.AgentSkills]), {**_VDN, "agentIds": [1001]}),
    _op("vdn/totalagentabstractex3", "A page of the VDN's agents' states (count: all of them)", s.VdnPage,
        Legacy(list[t.AgentAbstract], count=True), _PAGE),
    _op("vdn/querytotalagentinfo", "Every agent's state", s.VdnScope, Legacy(list[t.AgentAbstract]), _VDN),
    _op("vdn/totalagentdynamicinfo", "A page of the VDN's agents' CTI states", s.VdnPage,
        Legacy(list[t.AgentStateRow], count=True), _PAGE),
    _op("vdn/totalagentstate", "Every agent's CTI state", s.VdnScope, Legacy(list[t.AgentStateRow]), _VDN),
    _op("vdn/allagentphones", "A page of the VDN's agents' phone numbers", s.VdnPage,
        Legacy(list[t.AgentPhone], count=True), _PAGE),
    _op("configures/skills", "The VDN's configured skills", s.VdnRequest, Legacy(list[t.ConfiguredSkill]),
        {"queryParam": _VDN}),
    _op("vdn/queryivrstatusinfo", "The calls in an IVR flow now", s.IvrQuery, Legacy(list[t.QueuedCall]),
        {**_VDN, "flowId": 3}),
    _op("vdn/queryAgentByStatus", "A page of the agents in a CTI state (its own envelope)", s.AgentsByStatusQuery,
        Text.json(s.AgentsByStatusAnswer), {"ccId": "1", "vdn": "1", "status": "5", "offset": 0, "limit": 100}),
]  # fmt: skip
