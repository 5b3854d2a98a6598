"""CC-CMS skill interfaces derived from configuration and live state (`/rest/cmsapp/v1/openapi/skill/...`): agent
counts by state in skills, agents configured in a skill, skill limits, calls queued in several skills.

Signed, enveloped and refused as the rest of CC-CMS (`cms.py`); bodies flat or wrapped in `queryParam`.
Decisions: docs/compatibility.md, "CC-CMS agents, VDN lists and configuration".
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from starlette.responses import Response
from starlette.routing import Route

from ccdata.api.cms import Endpoint, Handler, _scope, endpoint_factory, success
from ccdata.api.cms_monitoring import OPEN, _accepting_query_param, _now, _seconds, _skills
from ccdata.api.inputs import InvalidParameter, integer
from ccdata.config import CmsCredential
from ccdata.domain import codes
from ccdata.domain import monitoring as mon
from ccdata.domain.codes import CtiAgentState as S
from ccdata.domain.model import Agent
from ccdata.service import Service

NO_GROUP = -1  # ccdata's configuration has no agent groups
NOT_SIGNED_IN_LOGIN_MS = 0

#: State counts of `skill/agentstatusbyskill` and `agentgroup/teamagentstatusinfo`: key -> CTI states counted.
STATE_COUNTS: dict[str, tuple[S, ...]] = {
    "workSubStateBegin": (S.WORKING,),
    "lateAdjust": (S.ADJUSTING,),
    "usable": (S.IDLE,),
    "rest": (S.REST,),
    "studying": (S.STUDY,),
    "setBusy": (S.BUSY,),
    "occupy": (S.OCCUPIED,),
    "idle": (S.IDLE,),
    "preoccupy": (S.PRE_OCCUPIED,),
    "answering": (S.ANSWERING,),
    "talking": (S.TALKING,),
}


def routes(service: Service, endpoint: Endpoint | None = None) -> list[Route]:
    endpoint = endpoint or endpoint_factory(service)
    paths: dict[str, Handler] = {
        "skill/agentstatusbyskill": agent_status_by_skill,
        "skill/agentbyconfigedskill": agents_by_configured_skill,
        "skill/skillcfginfo": skill_config_info,
        "skill/batchmultiskill": batch_multi_skill,
    }
    return [
        Route(f"{OPEN}/{path}", endpoint(_accepting_query_param(handler)), methods=["POST"])
        for path, handler in paths.items()
    ]


def _flag(body: dict[str, Any], name: str) -> bool:
    """An optional String "true"/"false" (default false; a JSON boolean is taken too)."""
    value = body.get(name)
    if value is None or value == "":
        return False
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    raise InvalidParameter(f'{name} must be "true" or "false"')


def state_counts(service: Service, agents: Iterable[Agent]) -> dict[str, int]:
    """Agents by CTI state under the reference's keys; `loginEd` the signed-in ones, `callOut` those on an outbound
    call."""
    agents = list(agents)
    states = mon.agents_by_state(service.engine, agents)
    counts = {key: sum(states[s] for s in wanted) for key, wanted in STATE_COUNTS.items()}
    counts["loginEd"] = len(agents) - states[S.NOT_SIGNED_IN]
    counts["callOut"] = sum(1 for agent in agents if _calling_out(service, agent))
    return counts


def _calling_out(service: Service, agent: Agent) -> bool:
    calls = (service.engine.call(agent.cc_id, call_id) for call_id in agent.calls)
    return any(call is not None and not call.inbound for call in calls)


def agent_status_by_skill(service: Service, credential: CmsCredential, body: dict[str, Any]) -> Response:
    """Agents of the VDN whose skills contain every queried skill (`isSkillAllMatch` "true": exactly them)."""
    vdn = _scope(service, credential, body)
    wanted = set(_skills(body))
    exact = _flag(body, "isSkillAllMatch")
    known = [a for (cc, _), a in service.engine.agents.items() if cc == service.cc_id and a.vdn == vdn]
    signed_in = [a for a in known if a.signed_in and _matches(set(a.skills), wanted, exact)]
    configured = [c for c in service.config.agents if c.vdn == vdn and _matches(set(c.skills), wanted, exact)]
    on = {a.agent_id for a in signed_in}
    counts = state_counts(service, signed_in)
    counts["notlogined"] = sum(1 for c in configured if c.id not in on)
    return success(counts)


def _matches(skills: set[int], wanted: set[int], exact: bool) -> bool:
    return skills == wanted if exact else wanted <= skills


def agents_by_configured_skill(service: Service, credential: CmsCredential, body: dict[str, Any]) -> Response:
    """The agents configured with the skill, with their live state."""
    vdn = _scope(service, credential, body)
    skill_id = integer(body, "skillId", 1, 10_000)
    now = _now(service)
    answer = []
    for configured in service.config.agents:
        if configured.vdn != vdn or skill_id not in configured.skills:
            continue
        agent = service.engine.agent(service.cc_id, configured.id)
        state = service.engine.agent_state(agent) if agent else S.NOT_SIGNED_IN
        signed_in = agent is not None and agent.signed_in
        answer.append({
            "workNo": configured.id, "name": configured.name, "status": int(codes.CTI_TO_GATEWAY_STATE[state]),
            "ctiStatus": int(state), "groupId": NO_GROUP, "mediaType": int(codes.MediaType.PHONE), "vdnId": vdn,
            "phoneNumber": agent.phone if signed_in and agent else configured.phone,
            "currentStateTime": _seconds(now - mon.state_since(service.engine, agent)) if agent else 0,
            "loginDate": agent.login_at if signed_in and agent else NOT_SIGNED_IN_LOGIN_MS,
        })  # fmt: skip
    return success(answer)


def skill_config_info(service: Service, credential: CmsCredential, body: dict[str, Any]) -> Response:
    """The configured skills' limits: ccdata configures none, so every limit is 0 ("no limit"); skills that are
    not configured in the VDN are left out."""
    vdn = _scope(service, credential, body)
    return success([
        {"skillId": skill_id, "maxCallNum": 0, "maxHoldCallNum": 0, "maxWaitTime": 0, "maxAnswerWaitTime": 0,
         "maxTalkTime": 0, "maxRestAgentNum": 0, "maxAgentWrapupTime": 0}
        for skill_id in _skills(body) if service.config.skill_media(vdn, skill_id) is not None
    ])  # fmt: skip


def batch_multi_skill(service: Service, credential: CmsCredential, body: dict[str, Any]) -> Response:
    """The voice calls queued in each skill, longest waiting first."""
    vdn = _scope(service, credential, body)
    now = _now(service)
    waiting = mon.waiting_calls(service.engine, service.cc_id, vdn)
    answer = []
    for skill_id in _skills(body):
        calls = []
        for wait in waiting:
            call = service.engine.call(service.cc_id, wait.call_id)
            if wait.skill_id != skill_id or call is None or call.media_type != codes.MediaType.PHONE:
                continue
            calls.append({
                "callId": call.call_id, "customerLevel": min(254, max(1, call.priority)),
                "requestType": call.call_feature, "calling": call.caller, "called": call.called,
                "mediaType": codes.MEDIA_TYPE_NAMES[call.media_type], "orgiCalled": call.orgi_called,
                "callInTime": call.arrived_at, "callPriority": call.priority,
                "waitTime": _seconds(now - wait.since), "callQueueFlag": 1,
            })  # fmt: skip
        answer.append({"skillId": skill_id, "callPropertyExs": calls})
    return success(answer)
