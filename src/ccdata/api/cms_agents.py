"""CC-CMS agent interfaces beyond the wallboard counters (`/rest/cmsapp/v1/openapi/...`): the agent operation log
(`agent/agentoprinfo`), one agent by work number, agent counts and skills of a list of agents, system state of a
page of agents.

Signed, enveloped and refused as the rest of CC-CMS (`cms.py`); bodies flat or wrapped in `queryParam`.
Decisions: docs/compatibility.md, "CC-CMS agents, VDN lists and configuration".
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from starlette.responses import Response
from starlette.routing import Route

from ccdata.api.cms import Endpoint, Forbidden, Handler, NotInProgress, _scope, endpoint_factory, success
from ccdata.api.cms_monitoring import MAX_AGENTS, OPEN, _accepting_query_param, _id_list, _now, _seconds, _visible_agent
from ccdata.api.cms_skills import state_counts
from ccdata.api.inputs import InvalidParameter, agent_id, integer, string
from ccdata.config import CmsCredential
from ccdata.domain import codes, views
from ccdata.domain import monitoring as mon
from ccdata.domain.codes import CtiAgentState as S
from ccdata.domain.model import Agent
from ccdata.service import Service

QUARTER_MS = 15 * 60 * 1000
DAY_MS = 86_400_000
TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
MAX_SYSTEM_PAGE = 100


def routes(service: Service, endpoint: Endpoint | None = None) -> list[Route]:
    endpoint = endpoint or endpoint_factory(service)
    oprinfo = endpoint(_accepting_query_param(agent_operations), store=True)
    paths: dict[str, Handler] = {
        "agentgroup/teamagentstatusinfo": team_agent_status,
        "agent/agentbyworkno": agent_by_work_no,
        "agentgroup/systemstate": system_state,
        "agentgroup/siteagentcallandskillinfobyagentids": agent_skills,
    }
    return [
        Route(f"{OPEN}/agent/agentoprinfo", oprinfo, methods=["POST"]),
        *(Route(f"{OPEN}/{path}", endpoint(_accepting_query_param(handler)), methods=["POST"])
          for path, handler in paths.items()),
    ]  # fmt: skip


def vdn_agent_ids(service: Service, vdn: int) -> list[int]:
    """The agents of a VDN: those configured in it and those the engine knows in it, by agent ID."""
    configured = {a.id for a in service.config.agents if a.vdn == vdn}
    known = {a.agent_id for (cc, _), a in service.engine.agents.items() if cc == service.cc_id and a.vdn == vdn}
    return sorted(configured | known)


def live_agent(service: Service, vdn: int, agent_id: int) -> Agent | None:
    agent = service.engine.agent(service.cc_id, agent_id)
    return agent if agent is not None and agent.vdn == vdn else None


def page(body: dict[str, Any], most: int, required: bool = False) -> tuple[int, int]:
    """`offset` and `limit` (1..most; both optional unless `required`: the whole list from 0)."""
    offset = integer(body, "offset", 0, 10**9, required=required)
    limit = integer(body, "limit", 1, most, required=required)
    return offset or 0, limit or most


# --- agent counts, one agent, a page of agents, agents' skills ---


def team_agent_status(service: Service, credential: CmsCredential, body: dict[str, Any]) -> Response:
    """Agent counts by state over the listed agents (those of the access key's VDNs)."""
    ids = _id_list(body, "agentIds", 101, 999_999, MAX_AGENTS)
    agents = [a for a in (_visible_agent(service, credential, i) for i in ids) if a is not None]
    counts = state_counts(service, agents)
    del counts["callOut"]
    return success(counts)


def agent_by_work_no(service: Service, credential: CmsCredential, body: dict[str, Any]) -> Response:
    """One agent, configured or known, of the access key's VDNs; `citStatus` spelled as the reference spells it."""
    wanted = agent_id(body)
    configured = service.config.agent(wanted)
    agent = _visible_agent(service, credential, wanted)
    vdn = agent.vdn if agent else configured.vdn if configured else None
    if vdn is None or vdn not in credential.vdns:
        raise NotInProgress(f"agent {wanted} is not an agent of this access key's VDNs")
    state = service.engine.agent_state(agent) if agent else S.NOT_SIGNED_IN
    signed_in = agent is not None and agent.signed_in
    return success({
        "workNo": wanted, "vdnId": vdn, "citStatus": int(state), "name": configured.name if configured else "",
        "phoneNumber": agent.phone if signed_in and agent and agent.phone else None,
        "loginDate": agent.login_at if signed_in and agent else 0,
        "currentStateTime": _seconds(_now(service) - mon.state_since(service.engine, agent)) if agent else 0,
        "mediaType": int(codes.MediaType.PHONE), "status": int(codes.CTI_TO_GATEWAY_STATE[state]),
    })  # fmt: skip


def system_state(service: Service, credential: CmsCredential, body: dict[str, Any]) -> Response:
    """Counts over one page of the VDN's agents (by agent ID)."""
    vdn = _scope(service, credential, body)
    offset, limit = page(body, MAX_SYSTEM_PAGE, required=True)
    agents = [a for i in vdn_agent_ids(service, vdn)[offset : offset + limit] if (a := live_agent(service, vdn, i))]
    states = mon.agents_by_state(service.engine, agents)
    return success({
        "busyAgent": states[S.BUSY], "talkingNum": states[S.TALKING], "idleAgent": states[S.IDLE],
        "totalLoginAgent": len(agents) - states[S.NOT_SIGNED_IN],
    })  # fmt: skip


def agent_skills(service: Service, credential: CmsCredential, body: dict[str, Any]) -> Response:
    """Each agent's skills: those configured for it and those it signed in with; `isLogin` 1 for the latter."""
    vdn = _scope(service, credential, body)
    answer = []
    for wanted in _id_list(body, "agentIds", 101, 999_999, MAX_AGENTS):
        configured = service.config.agent(wanted)
        agent = live_agent(service, vdn, wanted)
        on = set(agent.skills) if agent and agent.signed_in else set()
        own = list(configured.skills) if configured and configured.vdn == vdn else []
        skills = list(dict.fromkeys([*own, *sorted(on)]))
        answer.append({"agentId": wanted, "skills": [{"skillId": s, "isLogin": int(s in on)} for s in skills]})
    return success(answer)


# --- agent/agentoprinfo ---


def _utc_time(body: dict[str, Any], name: str) -> int:
    text = string(body, name, 19)
    assert text is not None
    try:
        return int(datetime.strptime(text, TIME_FORMAT).replace(tzinfo=UTC).timestamp() * 1000)
    except ValueError:
        raise InvalidParameter(f"{name} must be a UTC time yyyy-MM-dd HH:mm:ss") from None


def operation_window(body: dict[str, Any]) -> tuple[int, int]:
    """beginTime..endTime: a positive multiple of 15 minutes, at most 24 hours (the reference)."""
    begin, end = _utc_time(body, "beginTime"), _utc_time(body, "endTime")
    span = end - begin
    if span <= 0 or span % QUARTER_MS:
        raise InvalidParameter("endTime - beginTime must be a positive multiple of 15 minutes")
    if span > DAY_MS:
        raise InvalidParameter("endTime - beginTime must be at most 24 hours")
    return begin, end


def agent_operations(service: Service, credential: CmsCredential, body: dict[str, Any]) -> Response:
    """The agent's operation records overlapping the window, of the last day only (the reference's retention:
    the rows are kept, older ones are not answered), in the access key's VDNs."""
    cc_id = integer(body, "ccId", 1, 65535, required=False)
    if cc_id is not None and cc_id != service.cc_id:
        raise Forbidden(f"call center {cc_id} is not served to this access key")
    agent_id = integer(body, "currentAgentId", 0, 999_999)
    operate_type = integer(body, "operateType", 0, 65535, required=False)
    begin, end = operation_window(body)
    assert agent_id is not None
    oldest = service.feed_time(service.cc_id) - DAY_MS
    found = service.store.agent_operations(service.cc_id, agent_id, max(begin, oldest), end, operate_type)
    return success([views.agent_operation(op) for op in found if op.vdn in credential.vdns])
