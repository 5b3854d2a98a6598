"""CC-CMS client: `auth-v2` signed calls, exactly as the reference signer signs them."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import msgspec

from ccdata import signing
from ccdata.client._transport import AsyncBase, Op, SyncBase, json_of
from ccdata.client.errors import AuthError, CmsError
from ccdata.client.types import (
    AgentCalls,
    AgentStatus,
    BasicCallInfo,
    CallDetail,
    CallRecord,
    CurrentCallState,
    IndicatorRow,
    QueuedCall,
    ServiceQuality,
    SkillAgents,
    SkillOverload,
    SkillStateInfo,
    TotalSkillStatus,
    TrackRow,
    VdnCall,
    VdnCallPage,
    convert,
)

SUCCESS = "0100000"
MAX_CALLS_PAGE = 100  # vdn/querycalls: at most 100 calls a page


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

    async def ping(self, say: Any = "ping") -> dict[str, Any]:
        return await self._run(self.ops.ping(say))
