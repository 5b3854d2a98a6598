"""CC-CMS VDN-level lists and configuration (`/rest/cmsapp/v1/openapi/...`): every agent's state (paged and not),
agents' phones, agents by state (`vdn/queryAgentByStatus`, its own envelope), the VDN's skills, calls in an IVR
flow.

Signed and refused as the rest of CC-CMS (`cms.py`); bodies flat or wrapped in `queryParam`. Paged lists carry
the reference's top-level `count` (every matching agent) beside `resultDesc` (the page). Decisions:
docs/compatibility.md, "CC-CMS agents, VDN lists and configuration".
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from starlette.responses import Response
from starlette.routing import Route

from ccdata.api import http
from ccdata.api.cms import Endpoint, Forbidden, Handler, _scope, endpoint_factory, success
from ccdata.api.cms_agents import live_agent, page, vdn_agent_ids
from ccdata.api.cms_monitoring import NONE, OPEN, _accepting_query_param, _now, _seconds
from ccdata.api.inputs import InvalidParameter, integer
from ccdata.config import CmsCredential
from ccdata.domain import codes
from ccdata.domain import monitoring as mon
from ccdata.domain.codes import CtiAgentState as S
from ccdata.domain.model import Phase
from ccdata.service import Service

MAX_ABSTRACT_PAGE = 1000
MAX_DYNAMIC_PAGE = 100
MAX_BY_STATUS_PAGE = 1000
#: The media type of a configured skill's media (CMS reference 5.4): voice, video call, social chat.
SKILL_MEDIA_TYPES = {"voice": codes.MediaType.PHONE, "video": 19, "chat": 53}

Row = Callable[[Service, int, int, int], dict[str, Any]]  # (service, vdn, agent ID, now) -> one agent's row


def routes(service: Service, endpoint: Endpoint | None = None) -> list[Route]:
    endpoint = endpoint or endpoint_factory(service)
    paths: dict[str, Handler] = {
        "vdn/totalagentabstractex3": lambda s, c, b: _agents(s, c, b, _abstract, MAX_ABSTRACT_PAGE),
        "vdn/querytotalagentinfo": lambda s, c, b: _agents(s, c, b, _abstract, None),
        "vdn/totalagentdynamicinfo": lambda s, c, b: _agents(s, c, b, _dynamic, MAX_DYNAMIC_PAGE),
        "vdn/totalagentstate": lambda s, c, b: _agents(s, c, b, _dynamic, None),
        "vdn/allagentphones": lambda s, c, b: _agents(s, c, b, _phone, MAX_ABSTRACT_PAGE),
        "configures/skills": configured_skills,
        "vdn/queryivrstatusinfo": ivr_calls,
        "vdn/queryAgentByStatus": agents_by_status,
    }
    return [
        Route(f"{OPEN}/{path}", endpoint(_accepting_query_param(handler)), methods=["POST"])
        for path, handler in paths.items()
    ]


def _state(service: Service, vdn: int, agent_id: int) -> tuple[S, int]:
    """An agent's CTI state and since when (an agent never signed in: not signed in, since now)."""
    agent = live_agent(service, vdn, agent_id)
    if agent is None:
        return S.NOT_SIGNED_IN, -1
    return service.engine.agent_state(agent), mon.state_since(service.engine, agent)


def _abstract(service: Service, vdn: int, agent_id: int, now: int) -> dict[str, Any]:
    state, since = _state(service, vdn, agent_id)
    duration = _seconds(now - since) if since >= 0 else 0
    return {"agentId": agent_id, "currentState": int(state), "currentStateTime": duration, "locationId": NONE}


def _dynamic(service: Service, vdn: int, agent_id: int, now: int) -> dict[str, Any]:
    return {"agentId": agent_id, "state": int(_state(service, vdn, agent_id)[0])}


def _phone(service: Service, vdn: int, agent_id: int, now: int) -> dict[str, Any]:
    """The phone the agent signed in with, else its configured phone; a string (leading zeros are kept)."""
    agent = live_agent(service, vdn, agent_id)
    configured = service.config.agent(agent_id)
    phone = agent.phone if agent and agent.signed_in and agent.phone else configured.phone if configured else ""
    return {"agentId": agent_id, "phone": phone}


def _agents(service: Service, credential: CmsCredential, body: dict[str, Any], row: Row, most: int | None) -> Response:
    """Every agent of the VDN (a page of them when `most` is given), by agent ID."""
    vdn = _scope(service, credential, body)
    ids = vdn_agent_ids(service, vdn)
    now = _now(service)
    if most is None:
        return success([row(service, vdn, i, now) for i in ids])
    offset, limit = page(body, most)
    return paged([row(service, vdn, i, now) for i in ids[offset : offset + limit]], len(ids))


def paged(rows: list[dict[str, Any]], count: int) -> Response:
    """The CC-CMS envelope with the reference's top-level `count` beside the page."""
    return http.json(
        {"result": "0", "resultCode": codes.CMS_SUCCESS, "resultDatas": rows, "resultDesc": rows, "count": count}
    )


def configured_skills(service: Service, credential: CmsCredential, body: dict[str, Any]) -> Response:
    vdn = _scope(service, credential, body)
    skills = next((v.skills for v in service.config.vdns if v.id == vdn), [])
    return success([
        {"id": s.id, "mediaType": int(SKILL_MEDIA_TYPES[s.media]), "submediaType": str(codes.NO_SUB_MEDIA_TYPE),
         "name": s.name}
        for s in skills
    ])  # fmt: skip


def ivr_calls(service: Service, credential: CmsCredential, body: dict[str, Any]) -> Response:
    """Calls of the VDN now in the IVR flow `flowId`, in arrival order."""
    vdn = _scope(service, credential, body)
    flow = str(integer(body, "flowId", 1, 1500))
    calls = sorted(
        (c for (cc, _), c in service.engine.calls.items() if cc == service.cc_id and c.vdn == vdn),
        key=lambda c: (c.arrived_at, c.call_id),
    )
    return success([
        {"callId": c.call_id, "customerLevel": min(254, max(1, c.priority)), "requestType": c.call_feature}
        for c in calls
        if c.phase == Phase.IVR and c.legs and c.legs[-1].device_type == codes.DeviceType.IVR
        and c.legs[-1].device_no == flow
    ])  # fmt: skip


def agents_by_status(service: Service, credential: CmsCredential, body: dict[str, Any]) -> Response:
    """Agents of the VDN in one CTI state (every state when `status` is left out); the reference's own envelope
    `returnCode`/`data`/`description`, errors included."""
    try:
        vdn = _scope(service, credential, body)
        status = integer(body, "status", 0, max(S), required=False)
        offset, limit = page(body, MAX_BY_STATUS_PAGE, required=True)
    except InvalidParameter as exc:
        return _by_status_envelope(codes.CMS_INVALID_PARAMETER, [], f"Invalid parameter: {exc}")
    except Forbidden as exc:
        return _by_status_envelope(codes.CMS_NO_PERMISSION, [], f"Insufficient permission: {exc}")
    now = _now(service)
    rows = [_abstract(service, vdn, i, now) for i in vdn_agent_ids(service, vdn)]
    rows = [r for r in rows if status is None or r["currentState"] == status]
    return _by_status_envelope("0", rows[offset : offset + limit], "success")


def _by_status_envelope(code: str, data: list[dict[str, Any]], description: str) -> Response:
    return http.json({"returnCode": code, "data": data, "description": description})
