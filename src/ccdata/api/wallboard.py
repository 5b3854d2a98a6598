"""The wallboard: `/wallboard` (one static page) and `GET /ccdata/v1/wallboard?vdn=N` (its figures).

The page logs in with a `[[stream.clients]]` token, reads the figures once, then follows the live stream
(`/ccdata/v1/stream`, resuming after the figures' `seq`): agent tiles change with each agent message, queue
tiles are read again when a call changes. Every figure is computed as the CC-CMS monitoring interfaces compute
it (`cms_monitoring.skill_view`, the `Monitor`'s counters, `push.agent_message`), so the two never disagree:

- per agent: CTI state and since when (`agentstatusinfobyagentids`' currentState, currentStateTime), current call;
- per skill queue: calls waiting and the longest wait (`totalskillstatusex3`' queueSize, queueTime), agents signed
  in and idle (`skill/stateinfo`), and today's (UTC) offered, answered, abandoned calls, service level (answered
  within 20 s over offered) and average speed of answer (the answered calls' average wait);
- the VDN's service level per 5-minute interval of today, for the chart.
"""

from __future__ import annotations

from importlib import resources
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ccdata.api import http
from ccdata.api.cms_monitoring import skill_view
from ccdata.api.stream import StreamHub, stream_client
from ccdata.domain import monitoring as mon
from ccdata.domain import push
from ccdata.domain.codes import CtiAgentState as S
from ccdata.service import Service

PAGE = "/wallboard"
FIGURES = "/ccdata/v1/wallboard"
SERVICE_LEVEL_S = 20
# The page is self-contained: inline script and style, nothing fetched from elsewhere.
_CSP = "default-src 'self'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src 'self' data:"


def routes(service: Service, hub: StreamHub) -> list[Route]:
    page_bytes = resources.files("ccdata.api").joinpath("wallboard.html").read_bytes()

    async def page(request: Request) -> Response:
        headers = {"Cache-Control": "no-cache", "Content-Security-Policy": _CSP}
        return Response(page_bytes, media_type="text/html; charset=utf-8", headers=headers)

    async def figures(request: Request) -> Response:
        client = stream_client(service, request)
        if client is None:
            return http.spring_error(request, 401, "Unauthorized", "the wallboard Bearer token is missing or wrong")
        text = request.query_params.get("vdn") or str(client.vdns[0])
        if not (text.isascii() and text.isdigit()):
            return http.spring_error(request, 400, "Bad Request", f"vdn must be a VDN ID, not {text[:64]!r}")
        if int(text) not in client.vdns:
            return http.spring_error(request, 403, "Forbidden", f"VDN {text} is not in this credential's scope")
        return http.json({**wallboard_figures(service, int(text), hub.latest), "vdns": _vdns(service, client.vdns)})

    return [Route(PAGE, page, methods=["GET"]), Route(FIGURES, figures, methods=["GET"])]


def wallboard_figures(service: Service, vdn: int, seq: int) -> dict[str, Any]:
    """Everything the page shows for one VDN, as of the stream position `seq`."""
    engine, cc_id, config = service.engine, service.cc_id, service.config
    now = service.feed_time(cc_id)
    agents = []
    for agent in mon.agents_of(engine, cc_id, vdn):
        configured = config.agent(agent.agent_id)
        agents.append({**push.agent_message(engine, agent).data, "name": configured.name if configured else ""})
    skills = [_skill(service, vdn, skill.id, skill.name, skill.media) for skill in _skills_of(service, vdn)]
    chart = [
        {"start": start, "offered": c.offered, "within": c.within(SERVICE_LEVEL_S)}
        for start, c in service.monitor.intervals_of_day(mon.Key(cc_id, vdn, mon.ALL), now)
    ]
    return {"seq": seq, "now": now, "vdn": vdn, "serviceLevelS": SERVICE_LEVEL_S, "agents": agents,
            "skills": skills, "serviceLevelToday": chart}  # fmt: skip


def _skill(service: Service, vdn: int, skill_id: int, name: str, media: str) -> dict[str, Any]:
    view = skill_view(service, vdn, skill_id)
    day = view.day
    level = day.service_level(SERVICE_LEVEL_S)
    return {
        "skillId": skill_id,
        "name": name,
        "media": media,
        "waiting": len(view.waiting),
        "longestWait": max(0, view.longest_wait_ms) // 1000,
        "signedIn": len(view.agents),
        "idle": view.count(S.IDLE),
        "offered": day.offered,
        "answered": day.answered,
        "abandoned": day.abandoned,
        "serviceLevel": None if level is None else round(100 * level, 1),
        "averageSpeedOfAnswer": day.average_speed_of_answer_ms // 1000,
    }


def _skills_of(service: Service, vdn: int) -> list[Any]:
    return next((v.skills for v in service.config.vdns if v.id == vdn), [])


def _vdns(service: Service, scope: list[int]) -> list[dict[str, Any]]:
    names = {v.id: v.name for v in service.config.vdns}
    return [{"id": vdn, "name": names.get(vdn, "")} for vdn in scope]
