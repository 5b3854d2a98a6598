"""`POST /ccdata/v1/simulator/ring`: a simulated call offered now to a signed-in interactive agent (`ccdata ring`).

A developer's workbench need not wait for the simulated traffic: the live simulator makes a normal call (it
arrives, queues in the skill and rings that agent), so records and monitoring see it like any other. Bearer
credential: the ingest token. Body: `{"agentId": 1901, "media": "voice"|"chat", "caller": "…", "skillId": 1}`
(all but `agentId` optional). 202 with the call's ID, or an error body with a `code` (docs/simulator.md).
"""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec
from msgspec import Meta
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ccdata.api import http, ingest
from ccdata.service import Service
from ccdata.sim.clocks import LiveSimulator
from ccdata.sim.workbench import RingRefused

PATH = "/ccdata/v1/simulator/ring"
MAX_BODY = 4096
STATUS = {"bad_field": 400, "unknown_agent": 404}  # every other refusal: 409, the agent's state forbids it
ERRORS = {400: "Bad Request", 404: "Not Found", 409: "Conflict"}


class RingRequest(msgspec.Struct, forbid_unknown_fields=True, rename="camel"):
    agent_id: int
    media: Literal["voice", "chat"] = "voice"
    caller: Annotated[str, Meta(min_length=1, max_length=32)] | None = None
    skill_id: int | None = None


def routes(service: Service, live: LiveSimulator | None) -> list[Route]:
    async def ring(request: Request) -> Response:
        if (refusal := ingest.refused(request, service)) is not None:
            return refusal
        if live is None:
            return _refuse(request, "no_simulator", "no simulator runs beside this server: start it with "
                           "`ccdata serve --simulate` or `ccdata demo`")  # fmt: skip
        try:
            asked = msgspec.json.decode(await http.read_body(request, MAX_BODY), type=RingRequest)
        except http.BodyTooLarge as exc:
            return _refuse(request, "bad_field", str(exc))
        except msgspec.DecodeError as exc:  # a validation error names the field: "… - at `$.agentId`"
            return _refuse(request, "bad_field", f"the body is not a ring request: {exc}")
        try:
            call_id = live.ring(asked.agent_id, asked.media, asked.caller, asked.skill_id)
        except RingRefused as exc:
            return _refuse(request, exc.code, str(exc))
        return http.json({"callId": call_id, "agentId": asked.agent_id}, 202)

    return [Route(PATH, ring, methods=["POST"])]


def _refuse(request: Request, code: str, message: str) -> Response:
    status = STATUS.get(code, 409)
    return http.spring_error(request, status, ERRORS[status], message, code=code)
