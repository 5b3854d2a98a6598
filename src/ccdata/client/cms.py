"""CC-CMS client: `auth-v2` signed calls, exactly as the reference signer signs them."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import UTC, datetime
from typing import Any, TypeVar

import httpx
import msgspec

from ccdata import signing
from ccdata.client._transport import AsyncBase, Op, SyncBase, json_of
from ccdata.client.errors import AuthError, CmsError
from ccdata.client.types import (
    AgentAbstract,
    AgentCalls,
    AgentInfo,
    AgentOperation,
    AgentPhone,
    AgentSkills,
    AgentStateCounts,
    AgentStateRow,
    AgentStatus,
    BasicCallInfo,
    CallDetail,
    CallRecord,
    ConfiguredAgent,
    ConfiguredSkill,
    CurrentCallState,
    IndicatorRow,
    Page,
    QueuedCall,
    ServiceQuality,
    SkillAgents,
    SkillConfig,
    SkillOverload,
    SkillQueue,
    SkillStateInfo,
    SystemState,
    TotalSkillStatus,
    TrackRow,
    VdnCall,
    VdnCallPage,
    convert,
)

SUCCESS = "0100000"
T = TypeVar("T")
MAX_CALLS_PAGE = 100  # vdn/querycalls: at most 100 calls a page


def _utc(ms: int) -> str:
    """`yyyy-MM-dd HH:mm:ss` UTC, as agent/agentoprinfo takes its times."""
    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%d %H:%M:%S")


class CmsOperations:
    """Request building and answer parsing of the CC-CMS interfaces (no I/O)."""

    def __init__(
        self,
        base_url: str,
        ak: str,
        sk: str,
        *,
        host: str | None = None,
        cc_id: int = 1,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.ak, self.sk, self.cc_id, self.clock = ak, sk, cc_id, clock
        # The Host header is signed: it must be byte for byte what the server receives (with the port if any).
        self.host = host or httpx.URL(self.base_url).netloc.decode()

    def request(self, path: str, body: dict[str, Any]) -> httpx.Request:
        raw = msgspec.json.encode(body)
        full = f"/rest/cmsapp{path}"
        moment = datetime.fromtimestamp(self.clock(), tz=UTC)
        authorization = signing.authorization(self.ak, self.sk, moment, "POST", full, {}, {"host": self.host}, raw)
        headers = {"Host": self.host, "Authorization": authorization, "Content-Type": "application/json;charset=UTF-8"}
        return httpx.Request("POST", self.base_url + full, content=raw, headers=headers)

    @staticmethod
    def result(response: httpx.Response) -> Any:
        body = json_of(response)
        if response.status_code in (401, 403):
            message = body.get("message", "") if isinstance(body, dict) else response.text
            raise AuthError(str(response.status_code), message, response.status_code)
        if not isinstance(body, dict) or "resultCode" not in body:
            raise CmsError("unexpected", f"HTTP {response.status_code}: {response.text[:200]}", response.status_code)
        if body["resultCode"] != SUCCESS:
            raise CmsError(body["resultCode"], str(body.get("resultDesc", "")), response.status_code)
        return body["resultDesc"]

    def _call(self, path: str, body: dict[str, Any]) -> Op[Any]:
        response = yield self.request(path, {"ccId": self.cc_id, **body})
        return self.result(response)

    def agent_calls(self, vdn: int, agent_id: int) -> Op[list[str]]:
        return (yield from self._call("/v1/openapi/agent/queryagentcalls", {"vdn": vdn, "agentId": agent_id}))

    def agent_group_calls(self, vdn: int, agent_ids: list[int]) -> Op[list[AgentCalls]]:
        rows = yield from self._call("/v1/openapi/agentgroup/queryagentcalls", {"vdn": vdn, "agentIds": agent_ids})
        return convert(rows, list[AgentCalls])

    def private_calls(self, vdn: int, agent_id: int) -> Op[list[str]]:
        return (yield from self._call("/v1/openapi/agent/agentprivatecall", {"vdn": vdn, "agentId": agent_id}))

    def call_detail(self, vdn: int, call_id: str) -> Op[CallDetail]:
        info = yield from self._call("/v1/openapi/calldata/querydetailcallinfo", {"vdn": vdn, "callId": call_id})
        return convert(info, CallDetail)

    def basic_call_info(self, vdn: int, call_id: str) -> Op[BasicCallInfo]:
        info = yield from self._call("/v1/openapi/calldata/querybasiccallinfo", {"vdn": vdn, "callId": call_id})
        return convert(info, BasicCallInfo)

    def call_track(self, vdn: int, call_id: str, log_date: int) -> Op[list[TrackRow]]:
        body = {"vdn": vdn, "callId": call_id, "logDate": log_date}
        rows = yield from self._call("/v1/openapi/vdn/querycalltracedetail", body)
        return convert(rows, list[TrackRow])

    def vdn_calls(
        self,
        vdn: int,
        begin: int,
        end: int,
        *,
        inbound: bool = True,
        caller: str | None = None,
        callee: str | None = None,
        limit: int = MAX_CALLS_PAGE,
        offset: int = 0,
        v1: bool = False,
    ) -> Op[VdnCallPage]:
        body: dict[str, Any] = {"vdn": vdn, "beginDate": begin, "endDate": end, "limit": limit, "offset": offset}
        body |= {k: v for k, v in (("callerNo", caller), ("calleeNo", callee)) if v is not None}
        if not v1:
            body["isCallIn"] = "true" if inbound else "false"
        page = yield from self._call(f"/{'v1' if v1 else 'v2'}/openapi/vdn/querycalls", body)
        return convert(page, VdnCallPage)

    def call_record(self, call_id: str, inbound: bool = True) -> Op[CallRecord]:
        body = {"isCallin": "true" if inbound else "false", "callId": call_id}
        record = yield from self._call("/v1/openapi/calldata/querycalldetailbyid", body)
        return convert(record, CallRecord)

    def is_processing_call(self, vdn: int, agent_id: int) -> Op[bool]:
        answer = yield from self._call("/v1/openapi/calldata/isprocesscall", {"vdn": vdn, "agentId": agent_id})
        return bool(answer)

    # --- real-time monitoring ---

    def skill_indexes(self, vdn: int, skill_ids: list[int], index_ids: list[str]) -> Op[list[IndicatorRow]]:
        body = {"vdn": vdn, "skillIds": skill_ids, "indexIds": index_ids}
        return convert((yield from self._call("/v1/openapi/skill/rindex", body)), list[IndicatorRow])

    def skill_state_info(self, vdn: int, skill_ids: list[int], legacy: bool = False) -> Op[list[SkillStateInfo]]:
        path = "/v1/openapi/realindex/skill/stateinfo" if legacy else "/v1/openapi/skill/stateinfo"
        rows = yield from self._call(path, {"vdn": vdn, "skillIds": skill_ids})
        return convert(rows, list[SkillStateInfo])

    def queued_calls(self, vdn: int, skill_id: int) -> Op[list[QueuedCall]]:
        rows = yield from self._call("/v1/openapi/skill/queuedevicestatus", {"vdn": vdn, "skillId": skill_id})
        return convert(rows, list[QueuedCall])

    def service_quality(self, vdn: int, skill_ids: list[int]) -> Op[list[ServiceQuality]]:
        rows = yield from self._call("/v1/openapi/skill/servicequality", {"vdn": vdn, "skillIds": skill_ids})
        return convert(rows, list[ServiceQuality])

    def agent_status(self, agent_ids: list[int]) -> Op[list[AgentStatus]]:
        rows = yield from self._call("/v1/openapi/agentgroup/agentstatusinfobyagentids", {"agentIds": agent_ids})
        return convert(rows, list[AgentStatus])

    def agent_indexes(self, vdn: int, agent_ids: list[int], index_ids: list[str]) -> Op[list[IndicatorRow]]:
        body = {"vdn": vdn, "agentIds": agent_ids, "indexIds": index_ids}
        return convert((yield from self._call("/v1/openapi/agentgroup/rindex", body)), list[IndicatorRow])

    def vdn_indexes(self, vdn_ids: list[int], index_ids: list[str]) -> Op[list[IndicatorRow]]:
        body = {"vdnIds": vdn_ids, "indexIds": index_ids}
        return convert((yield from self._call("/v1/openapi/rindex/vdn", body)), list[IndicatorRow])

    def total_skill_status(self, vdn: int, skill_ids: list[int]) -> Op[list[TotalSkillStatus]]:
        rows = yield from self._call("/v1/openapi/skill/totalskillstatusex3", {"vdn": vdn, "skillIds": skill_ids})
        return convert(rows, list[TotalSkillStatus])

    def current_call_state(self, vdn: int, skill_ids: list[int]) -> Op[list[CurrentCallState]]:
        body = {"vdn": vdn, "skillIds": skill_ids}
        return convert((yield from self._call("/v1/openapi/skill/currentcallstateinfo", body)), list[CurrentCallState])

    def skill_overload(self, vdn: int, skill_ids: list[int]) -> Op[list[SkillOverload]]:
        rows = yield from self._call("/v1/openapi/skill/batchskilloverload", {"vdn": vdn, "skillIds": skill_ids})
        return convert(rows, list[SkillOverload])

    def agents_in_skill(self, vdn: int, skill_ids: list[int]) -> Op[list[SkillAgents]]:
        body = {"vdn": vdn, "skillIds": skill_ids}
        return convert((yield from self._call("/v1/openapi/realindex/agent/agentsinskill", body)), list[SkillAgents])

    # --- agents, VDN lists and configuration ---

    def agent_operations(
        self, agent_id: int, begin: int, end: int, operate_type: int | None = None
    ) -> Op[list[AgentOperation]]:
        body: dict[str, Any] = {"currentAgentId": agent_id, "beginTime": _utc(begin), "endTime": _utc(end)}
        if operate_type is not None:
            body["operateType"] = operate_type
        return convert((yield from self._call("/v1/openapi/agent/agentoprinfo", body)), list[AgentOperation])

    def agent_counts_by_skill(self, vdn: int, skill_ids: list[int], exact: bool = False) -> Op[AgentStateCounts]:
        body = {"vdn": vdn, "skillIds": skill_ids, "isSkillAllMatch": "true" if exact else "false"}
        return convert((yield from self._call("/v1/openapi/skill/agentstatusbyskill", body)), AgentStateCounts)

    def skill_agents(self, vdn: int, skill_id: int) -> Op[list[ConfiguredAgent]]:
        body = {"vdn": vdn, "skillId": skill_id}
        return convert((yield from self._call("/v1/openapi/skill/agentbyconfigedskill", body)), list[ConfiguredAgent])

    def skill_config(self, vdn: int, skill_ids: list[int]) -> Op[list[SkillConfig]]:
        rows = yield from self._call("/v1/openapi/skill/skillcfginfo", {"vdn": vdn, "skillIds": skill_ids})
        return convert(rows, list[SkillConfig])

    def skill_queues(self, vdn: int, skill_ids: list[int]) -> Op[list[SkillQueue]]:
        rows = yield from self._call("/v1/openapi/skill/batchmultiskill", {"vdn": vdn, "skillIds": skill_ids})
        return convert(rows, list[SkillQueue])

    def team_counts(self, agent_ids: list[int]) -> Op[AgentStateCounts]:
        body = {"agentIds": agent_ids}
        return convert((yield from self._call("/v1/openapi/agentgroup/teamagentstatusinfo", body)), AgentStateCounts)

    def agent_info(self, agent_id: int) -> Op[AgentInfo]:
        return convert((yield from self._call("/v1/openapi/agent/agentbyworkno", {"agentId": agent_id})), AgentInfo)

    def system_state(self, vdn: int, offset: int = 0, limit: int = 100) -> Op[SystemState]:
        body = {"vdn": vdn, "offset": offset, "limit": limit}
        return convert((yield from self._call("/v1/openapi/agentgroup/systemstate", body)), SystemState)

    def agent_skills(self, vdn: int, agent_ids: list[int]) -> Op[list[AgentSkills]]:
        path = "/v1/openapi/agentgroup/siteagentcallandskillinfobyagentids"
        return convert((yield from self._call(path, {"vdn": vdn, "agentIds": agent_ids})), list[AgentSkills])

    def agent_states(self, vdn: int, offset: int = 0, limit: int = 1000) -> Op[Page[AgentAbstract]]:
        return (yield from self._page("vdn/totalagentabstractex3", vdn, offset, limit, AgentAbstract))

    def all_agent_states(self, vdn: int) -> Op[list[AgentAbstract]]:
        rows = yield from self._call("/v1/openapi/vdn/querytotalagentinfo", {"vdn": vdn})
        return convert(rows, list[AgentAbstract])

    def agent_state_page(self, vdn: int, offset: int = 0, limit: int = 100) -> Op[Page[AgentStateRow]]:
        return (yield from self._page("vdn/totalagentdynamicinfo", vdn, offset, limit, AgentStateRow))

    def all_agent_state_rows(self, vdn: int) -> Op[list[AgentStateRow]]:
        return convert((yield from self._call("/v1/openapi/vdn/totalagentstate", {"vdn": vdn})), list[AgentStateRow])

    def agent_phones(self, vdn: int, offset: int = 0, limit: int = 1000) -> Op[Page[AgentPhone]]:
        return (yield from self._page("vdn/allagentphones", vdn, offset, limit, AgentPhone))

    def configured_skills(self, vdn: int) -> Op[list[ConfiguredSkill]]:
        return convert((yield from self._call("/v1/openapi/configures/skills", {"vdn": vdn})), list[ConfiguredSkill])

    def ivr_calls(self, vdn: int, flow_id: int) -> Op[list[QueuedCall]]:
        rows = yield from self._call("/v1/openapi/vdn/queryivrstatusinfo", {"vdn": vdn, "flowId": flow_id})
        return convert(rows, list[QueuedCall])

    def agents_by_status(
        self, vdn: int, status: int | None = None, offset: int = 0, limit: int = 1000
    ) -> Op[list[AgentAbstract]]:
        """Its own envelope: `returnCode` ("0" when it worked), `data`, `description`."""
        body: dict[str, Any] = {"ccId": str(self.cc_id), "vdn": str(vdn), "offset": offset, "limit": limit}
        if status is not None:
            body["status"] = str(status)
        response = yield self.request("/v1/openapi/vdn/queryAgentByStatus", body)
        answer = json_of(response)
        if response.status_code in (401, 403) or not isinstance(answer, dict) or "returnCode" not in answer:
            return self.result(response)  # raises the same errors as the other interfaces
        if answer["returnCode"] != "0":
            raise CmsError(answer["returnCode"], str(answer.get("description", "")), response.status_code)
        return convert(answer.get("data", []), list[AgentAbstract])

    def _page(self, path: str, vdn: int, offset: int, limit: int, kind: type[T]) -> Op[Page[T]]:
        response = yield self.request(f"/v1/openapi/{path}", {"ccId": self.cc_id, "vdn": vdn, "offset": offset,
                                                              "limit": limit})  # fmt: skip
        rows = self.result(response)
        return Page(convert(rows, list[kind]), int(json_of(response).get("count", len(rows))))  # type: ignore[valid-type]

    def ping(self, say: Any = "ping") -> Op[dict[str, Any]]:
        response = yield self.request("/v1/ping", {"say": say})
        if response.status_code in (401, 403):
            raise AuthError(str(response.status_code), response.text, response.status_code)
        return response.json()


class CmsClient(SyncBase):
    """CC-CMS over `httpx.Client`.

    >>> cms = CmsClient("http://127.0.0.1:8043", "ccdata-demo-ak", "ccdata-demo-sk")
    >>> cms.agent_calls(vdn=1, agent_id=1001)  # doctest: +SKIP
    ['1795343553-244']
    """

    def __init__(
        self,
        base_url: str,
        ak: str,
        sk: str,
        *,
        host: str | None = None,
        cc_id: int = 1,
        timeout: float = 10.0,
        http: httpx.Client | None = None,
    ) -> None:
        super().__init__(http, timeout)
        self.ops = CmsOperations(base_url, ak, sk, host=host, cc_id=cc_id)

    def agent_calls(self, vdn: int, agent_id: int) -> list[str]:
        """The IDs of the calls the agent is handling now."""
        return self._run(self.ops.agent_calls(vdn, agent_id))

    def agent_group_calls(self, vdn: int, agent_ids: list[int]) -> list[AgentCalls]:
        """The calls of up to 3000 agents, with their status."""
        return self._run(self.ops.agent_group_calls(vdn, agent_ids))

    def private_calls(self, vdn: int, agent_id: int) -> list[str]:
        """The IDs of the calls waiting in the agent's private queue."""
        return self._run(self.ops.private_calls(vdn, agent_id))

    def call_detail(self, vdn: int, call_id: str) -> CallDetail:
        """The control block of a call in progress."""
        return self._run(self.ops.call_detail(vdn, call_id))

    def basic_call_info(self, vdn: int, call_id: str) -> BasicCallInfo:
        return self._run(self.ops.basic_call_info(vdn, call_id))

    def call_track(self, vdn: int, call_id: str, log_date: int) -> list[TrackRow]:
        """The call-track rows of a call, from the table of the month of `log_date` (ms)."""
        return self._run(self.ops.call_track(vdn, call_id, log_date))

    def vdn_calls(self, vdn: int, begin: int, end: int, **options: Any) -> VdnCallPage:
        """A page of the finished calls of the VDN that arrived in [begin, end] (ms, at most since yesterday
        00:00 UTC); options: `inbound` (True; False: outbound), `caller`, `callee`, `limit` (<= 100), `offset`,
        `v1` (the v1 interface: inbound calls only)."""
        return self._run(self.ops.vdn_calls(vdn, begin, end, **options))

    def vdn_calls_all(self, vdn: int, begin: int, end: int, **options: Any) -> Iterator[VdnCall]:
        """Every call of the window, page after page."""
        offset = 0
        while page := self.vdn_calls(vdn, begin, end, offset=offset, **options).data:
            yield from page
            offset += len(page)

    def call_record(self, call_id: str, inbound: bool = True) -> CallRecord:
        """The CDR of a call that ended since yesterday 00:00 UTC in one of the access key's VDNs."""
        return self._run(self.ops.call_record(call_id, inbound))

    def is_processing_call(self, vdn: int, agent_id: int) -> bool:
        """Whether the agent has a call now (alerting, talking, held, conference)."""
        return self._run(self.ops.is_processing_call(vdn, agent_id))

    # --- real-time monitoring (docs/compatibility.md, "CC-CMS real-time monitoring") ---

    def skill_indexes(self, vdn: int, skill_ids: list[int], index_ids: list[str]) -> list[IndicatorRow]:
        """`skill/rindex`: up to 12 `IDX_...` indicators of each skill (values are strings; `row.number(id)`)."""
        return self._run(self.ops.skill_indexes(vdn, skill_ids, index_ids))

    def skill_state_info(self, vdn: int, skill_ids: list[int], legacy: bool = False) -> list[SkillStateInfo]:
        """`skill/stateinfo` (`legacy`: `realindex/skill/stateinfo`): agents by state and queue figures."""
        return self._run(self.ops.skill_state_info(vdn, skill_ids, legacy))

    def queued_calls(self, vdn: int, skill_id: int) -> list[QueuedCall]:
        """`skill/queuedevicestatus`: the calls waiting in a skill queue, longest-waiting first."""
        return self._run(self.ops.queued_calls(vdn, skill_id))

    def service_quality(self, vdn: int, skill_ids: list[int]) -> list[ServiceQuality]:
        """`skill/servicequality`: the 5-minute interval holding the start of the last 5 minutes."""
        return self._run(self.ops.service_quality(vdn, skill_ids))

    def agent_status(self, agent_ids: list[int]) -> list[AgentStatus]:
        """`agentgroup/agentstatusinfobyagentids`: each agent's CTI state (0 outside the access key's VDNs)."""
        return self._run(self.ops.agent_status(agent_ids))

    def agent_indexes(self, vdn: int, agent_ids: list[int], index_ids: list[str]) -> list[IndicatorRow]:
        """`agentgroup/rindex`: up to 4 `IDX_AGENT_...` indicators of each agent."""
        return self._run(self.ops.agent_indexes(vdn, agent_ids, index_ids))

    def vdn_indexes(self, vdn_ids: list[int], index_ids: list[str]) -> list[IndicatorRow]:
        """`rindex/vdn`: VDN real-time indicators."""
        return self._run(self.ops.vdn_indexes(vdn_ids, index_ids))

    def total_skill_status(self, vdn: int, skill_ids: list[int]) -> list[TotalSkillStatus]:
        """`skill/totalskillstatusex3`."""
        return self._run(self.ops.total_skill_status(vdn, skill_ids))

    def current_call_state(self, vdn: int, skill_ids: list[int]) -> list[CurrentCallState]:
        """`skill/currentcallstateinfo`: the current 5-minute interval's counters."""
        return self._run(self.ops.current_call_state(vdn, skill_ids))

    def skill_overload(self, vdn: int, skill_ids: list[int]) -> list[SkillOverload]:
        """`skill/batchskilloverload`: calls of other queues answered by each skill's agents."""
        return self._run(self.ops.skill_overload(vdn, skill_ids))

    def agents_in_skill(self, vdn: int, skill_ids: list[int]) -> list[SkillAgents]:
        """`realindex/agent/agentsinskill`: the signed-in agents of each skill."""
        return self._run(self.ops.agents_in_skill(vdn, skill_ids))

    # --- agents, VDN lists and configuration (docs/compatibility.md, "CC-CMS agents, VDN lists and configuration") ---

    def agent_operations(
        self, agent_id: int, begin: int, end: int, operate_type: int | None = None
    ) -> list[AgentOperation]:
        """`agent/agentoprinfo`: the agent's operations in [begin, end] (ms; a multiple of 15 minutes, at most a day;
        only the last day is answered); `operate_type` one type of CMS reference 5.12."""
        return self._run(self.ops.agent_operations(agent_id, begin, end, operate_type))

    def agent_counts_by_skill(self, vdn: int, skill_ids: list[int], exact: bool = False) -> AgentStateCounts:
        """`skill/agentstatusbyskill`: agents by state whose skills contain (`exact`: are) the given skills."""
        return self._run(self.ops.agent_counts_by_skill(vdn, skill_ids, exact))

    def skill_agents(self, vdn: int, skill_id: int) -> list[ConfiguredAgent]:
        """`skill/agentbyconfigedskill`: the agents configured with a skill, with their state."""
        return self._run(self.ops.skill_agents(vdn, skill_id))

    def skill_config(self, vdn: int, skill_ids: list[int]) -> list[SkillConfig]:
        """`skill/skillcfginfo`: the skills' configured limits."""
        return self._run(self.ops.skill_config(vdn, skill_ids))

    def skill_queues(self, vdn: int, skill_ids: list[int]) -> list[SkillQueue]:
        """`skill/batchmultiskill`: the voice calls queued in each skill."""
        return self._run(self.ops.skill_queues(vdn, skill_ids))

    def team_counts(self, agent_ids: list[int]) -> AgentStateCounts:
        """`agentgroup/teamagentstatusinfo`: the given agents by state."""
        return self._run(self.ops.team_counts(agent_ids))

    def agent_info(self, agent_id: int) -> AgentInfo:
        """`agent/agentbyworkno`: one agent."""
        return self._run(self.ops.agent_info(agent_id))

    def system_state(self, vdn: int, offset: int = 0, limit: int = 100) -> SystemState:
        """`agentgroup/systemstate`: counts over a page of the VDN's agents."""
        return self._run(self.ops.system_state(vdn, offset, limit))

    def agent_skills(self, vdn: int, agent_ids: list[int]) -> list[AgentSkills]:
        """`agentgroup/siteagentcallandskillinfobyagentids`: each agent's skills, signed in or not."""
        return self._run(self.ops.agent_skills(vdn, agent_ids))

    def agent_states(self, vdn: int, offset: int = 0, limit: int = 1000) -> Page[AgentAbstract]:
        """`vdn/totalagentabstractex3`: a page of the VDN's agents' states."""
        return self._run(self.ops.agent_states(vdn, offset, limit))

    def all_agent_states(self, vdn: int) -> list[AgentAbstract]:
        """`vdn/querytotalagentinfo`: every agent's state."""
        return self._run(self.ops.all_agent_states(vdn))

    def agent_state_page(self, vdn: int, offset: int = 0, limit: int = 100) -> Page[AgentStateRow]:
        """`vdn/totalagentdynamicinfo`."""
        return self._run(self.ops.agent_state_page(vdn, offset, limit))

    def all_agent_state_rows(self, vdn: int) -> list[AgentStateRow]:
        """`vdn/totalagentstate`."""
        return self._run(self.ops.all_agent_state_rows(vdn))

    def agent_phones(self, vdn: int, offset: int = 0, limit: int = 1000) -> Page[AgentPhone]:
        """`vdn/allagentphones`."""
        return self._run(self.ops.agent_phones(vdn, offset, limit))

    def configured_skills(self, vdn: int) -> list[ConfiguredSkill]:
        """`configures/skills`: the VDN's skills."""
        return self._run(self.ops.configured_skills(vdn))

    def ivr_calls(self, vdn: int, flow_id: int) -> list[QueuedCall]:
        """`vdn/queryivrstatusinfo`: the calls in an IVR flow now."""
        return self._run(self.ops.ivr_calls(vdn, flow_id))

    def agents_by_status(
        self, vdn: int, status: int | None = None, offset: int = 0, limit: int = 1000
    ) -> list[AgentAbstract]:
        """`vdn/queryAgentByStatus`: a page of the agents in a CTI state (every state if None)."""
        return self._run(self.ops.agents_by_status(vdn, status, offset, limit))

    def ping(self, say: Any = "ping") -> dict[str, Any]:
        return self._run(self.ops.ping(say))


class AsyncCmsClient(AsyncBase):
    """CC-CMS over `httpx.AsyncClient`: the methods of `CmsClient`, awaitable."""

    def __init__(
        self,
        base_url: str,
        ak: str,
        sk: str,
        *,
        host: str | None = None,
        cc_id: int = 1,
        timeout: float = 10.0,
        http: httpx.AsyncClient | None = None,
    ) -> None:
        super().__init__(http, timeout)
        self.ops = CmsOperations(base_url, ak, sk, host=host, cc_id=cc_id)

    async def agent_calls(self, vdn: int, agent_id: int) -> list[str]:
        return await self._run(self.ops.agent_calls(vdn, agent_id))

    async def agent_group_calls(self, vdn: int, agent_ids: list[int]) -> list[AgentCalls]:
        return await self._run(self.ops.agent_group_calls(vdn, agent_ids))

    async def private_calls(self, vdn: int, agent_id: int) -> list[str]:
        return await self._run(self.ops.private_calls(vdn, agent_id))

    async def call_detail(self, vdn: int, call_id: str) -> CallDetail:
        return await self._run(self.ops.call_detail(vdn, call_id))

    async def basic_call_info(self, vdn: int, call_id: str) -> BasicCallInfo:
        return await self._run(self.ops.basic_call_info(vdn, call_id))

    async def call_track(self, vdn: int, call_id: str, log_date: int) -> list[TrackRow]:
        return await self._run(self.ops.call_track(vdn, call_id, log_date))

    async def vdn_calls(self, vdn: int, begin: int, end: int, **options: Any) -> VdnCallPage:
        return await self._run(self.ops.vdn_calls(vdn, begin, end, **options))

    async def vdn_calls_all(self, vdn: int, begin: int, end: int, **options: Any) -> AsyncIterator[VdnCall]:
        offset = 0
        while page := (await self.vdn_calls(vdn, begin, end, offset=offset, **options)).data:
            for call in page:
                yield call
            offset += len(page)

    async def call_record(self, call_id: str, inbound: bool = True) -> CallRecord:
        return await self._run(self.ops.call_record(call_id, inbound))

    async def is_processing_call(self, vdn: int, agent_id: int) -> bool:
        return await self._run(self.ops.is_processing_call(vdn, agent_id))

    # --- real-time monitoring (docs/compatibility.md, "CC-CMS real-time monitoring") ---

    async def skill_indexes(self, vdn: int, skill_ids: list[int], index_ids: list[str]) -> list[IndicatorRow]:
        return await self._run(self.ops.skill_indexes(vdn, skill_ids, index_ids))

    async def skill_state_info(self, vdn: int, skill_ids: list[int], legacy: bool = False) -> list[SkillStateInfo]:
        return await self._run(self.ops.skill_state_info(vdn, skill_ids, legacy))

    async def queued_calls(self, vdn: int, skill_id: int) -> list[QueuedCall]:
        return await self._run(self.ops.queued_calls(vdn, skill_id))

    async def service_quality(self, vdn: int, skill_ids: list[int]) -> list[ServiceQuality]:
        return await self._run(self.ops.service_quality(vdn, skill_ids))

    async def agent_status(self, agent_ids: list[int]) -> list[AgentStatus]:
        return await self._run(self.ops.agent_status(agent_ids))

    async def agent_indexes(self, vdn: int, agent_ids: list[int], index_ids: list[str]) -> list[IndicatorRow]:
        return await self._run(self.ops.agent_indexes(vdn, agent_ids, index_ids))

    async def vdn_indexes(self, vdn_ids: list[int], index_ids: list[str]) -> list[IndicatorRow]:
        return await self._run(self.ops.vdn_indexes(vdn_ids, index_ids))

    async def total_skill_status(self, vdn: int, skill_ids: list[int]) -> list[TotalSkillStatus]:
        return await self._run(self.ops.total_skill_status(vdn, skill_ids))

    async def current_call_state(self, vdn: int, skill_ids: list[int]) -> list[CurrentCallState]:
        return await self._run(self.ops.current_call_state(vdn, skill_ids))

    async def skill_overload(self, vdn: int, skill_ids: list[int]) -> list[SkillOverload]:
        return await self._run(self.ops.skill_overload(vdn, skill_ids))

    async def agents_in_skill(self, vdn: int, skill_ids: list[int]) -> list[SkillAgents]:
        return await self._run(self.ops.agents_in_skill(vdn, skill_ids))

    # --- agents, VDN lists and configuration ---

    async def agent_operations(
        self, agent_id: int, begin: int, end: int, operate_type: int | None = None
    ) -> list[AgentOperation]:
        return await self._run(self.ops.agent_operations(agent_id, begin, end, operate_type))

    async def agent_counts_by_skill(self, vdn: int, skill_ids: list[int], exact: bool = False) -> AgentStateCounts:
        return await self._run(self.ops.agent_counts_by_skill(vdn, skill_ids, exact))

    async def skill_agents(self, vdn: int, skill_id: int) -> list[ConfiguredAgent]:
        return await self._run(self.ops.skill_agents(vdn, skill_id))

    async def skill_config(self, vdn: int, skill_ids: list[int]) -> list[SkillConfig]:
        return await self._run(self.ops.skill_config(vdn, skill_ids))

    async def skill_queues(self, vdn: int, skill_ids: list[int]) -> list[SkillQueue]:
        return await self._run(self.ops.skill_queues(vdn, skill_ids))

    async def team_counts(self, agent_ids: list[int]) -> AgentStateCounts:
        return await self._run(self.ops.team_counts(agent_ids))

    async def agent_info(self, agent_id: int) -> AgentInfo:
        return await self._run(self.ops.agent_info(agent_id))

    async def system_state(self, vdn: int, offset: int = 0, limit: int = 100) -> SystemState:
        return await self._run(self.ops.system_state(vdn, offset, limit))

    async def agent_skills(self, vdn: int, agent_ids: list[int]) -> list[AgentSkills]:
        return await self._run(self.ops.agent_skills(vdn, agent_ids))

    async def agent_states(self, vdn: int, offset: int = 0, limit: int = 1000) -> Page[AgentAbstract]:
        return await self._run(self.ops.agent_states(vdn, offset, limit))

    async def all_agent_states(self, vdn: int) -> list[AgentAbstract]:
        return await self._run(self.ops.all_agent_states(vdn))

    async def agent_state_page(self, vdn: int, offset: int = 0, limit: int = 100) -> Page[AgentStateRow]:
        return await self._run(self.ops.agent_state_page(vdn, offset, limit))

    async def all_agent_state_rows(self, vdn: int) -> list[AgentStateRow]:
        return await self._run(self.ops.all_agent_state_rows(vdn))

    async def agent_phones(self, vdn: int, offset: int = 0, limit: int = 1000) -> Page[AgentPhone]:
        return await self._run(self.ops.agent_phones(vdn, offset, limit))

    async def configured_skills(self, vdn: int) -> list[ConfiguredSkill]:
        return await self._run(self.ops.configured_skills(vdn))

    async def ivr_calls(self, vdn: int, flow_id: int) -> list[QueuedCall]:
        return await self._run(self.ops.ivr_calls(vdn, flow_id))

    async def agents_by_status(
        self, vdn: int, status: int | None = None, offset: int = 0, limit: int = 1000
    ) -> list[AgentAbstract]:
        return await self._run(self.ops.agents_by_status(vdn, status, offset, limit))

    async def ping(self, say: Any = "ping") -> dict[str, Any]:
        return await self._run(self.ops.ping(say))
