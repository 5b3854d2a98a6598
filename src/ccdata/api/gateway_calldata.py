"""CC-Gateway call data of an agent (`calldata/{agentid}/...`, gateway-and-monitoring-notes §A.4).

`callinfo` and `callinfobycallid` answer from the engine's live state (the seed pages); `allcallinfoEx` lists every
call at the agent, `holdlist` the held ones; `appdata` reads a call's data and `setcalldataex` changes it by
emitting `call.data`.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ccdata.api import http
from ccdata.api.auth.gateway import Session
from ccdata.api.gateway_wire import BadField, answer, error, flag, text
from ccdata.api.inputs import InvalidParameter, json_object
from ccdata.domain import views
from ccdata.domain.model import Agent, Call

if TYPE_CHECKING:
    from ccdata.api.gateway import Gateway

_CALL_DATA_MAX = 4096  # the contract's call data limit (the reference allows 16k: longer data is refused)


class CallData:
    def __init__(self, gateway: Gateway) -> None:
        self.gw = gateway

    def routes(self) -> list[Route]:
        c = "/calldata/{agentid}"
        route = self.gw.route
        return [
            route("GET", f"{c}/callinfo", self.call_info),
            route("GET", f"{c}/callinfobycallid/{{callid}}", self.call_info_by_id),
            route("GET", f"{c}/allcallinfoEx/{{workno}}", self.all_call_info),
            route("GET", f"{c}/holdlist", self.hold_list),
            route("GET", f"{c}/appdata", self.app_data),
            route("PUT", f"{c}/setcalldataex", self.set_call_data),
        ]

    async def call_info(self, request: Request, agent_id: int, session: Session) -> Response:
        flag_ = request.query_params.get("isNoContainLastCall", "false").lower()
        if flag_ not in ("true", "false"):
            return error("000-002", "isNoContainLastCall must be true or false")
        agent = self.gw.agent(agent_id)
        if agent is None:
            return error("100-006")
        if agent.calls:
            return answer(result=self._info(agent, self._call(agent, agent.calls[0])))
        if flag_ == "true" and agent.last_call is not None:
            return answer(result=self._info(agent, agent.last_call))
        return answer(result=None)

    async def call_info_by_id(self, request: Request, agent_id: int, session: Session) -> Response:
        call_id = request.path_params["callid"]
        agent = self.gw.agent(agent_id)
        if agent is None:
            return error("100-006")
        if call_id in agent.calls:
            return answer(result=self._info(agent, self._call(agent, call_id)))
        if agent.last_call is not None and agent.last_call.call_id == call_id:
            return answer(result=self._info(agent, agent.last_call))
        return error("000-002", f"Call {call_id} is neither a current call nor the last call of agent {agent_id}.")

    async def all_call_info(self, request: Request, agent_id: int, session: Session) -> Response:
        """Every call at an agent of the same VDN (`workno`, the agent asked about; the requester's own by default)."""
        workno = request.path_params["workno"]
        if not (workno.isascii() and workno.isdigit() and len(workno) <= 6):
            return error("000-002", "workno must be an agent ID")
        other = self.gw.agent(int(workno))
        own = self.gw.agent(agent_id)
        if other is None or own is None or other.vdn != own.vdn:
            return error("000-002", f"Agent {workno} is not an agent of this VDN.")
        return answer(result=[self._info(other, self._call(other, call_id)) for call_id in other.calls])

    async def hold_list(self, request: Request, agent_id: int, session: Session) -> Response:
        agent = self.gw.agent(agent_id)
        if agent is None:
            return error("100-006")
        held = [c for c in (self._call(agent, i) for i in agent.calls) if _holds(c, agent)]
        return answer(result=[{k: v for k, v in self._info(agent, c).items() if k in _HELD_KEYS} for c in held])

    async def app_data(self, request: Request, agent_id: int, session: Session) -> Response:
        params = dict(request.query_params)
        try:
            encode = flag(params, "isEncodeResult", False)
        except BadField:
            encode = False  # the reference: any other value is false
        call = self._named_or_current(agent_id, params.get("callId") or params.get("callid"))
        if isinstance(call, Response):
            return call
        data = call.call_data
        return answer(result=base64.b64encode(data.encode()).decode() if encode else data)

    async def set_call_data(self, request: Request, agent_id: int, session: Session) -> Response:
        try:
            body = json_object(await http.read_body(request, self.gw.service.config.server.max_body_bytes))
            data = text(body, "calldata", _CALL_DATA_MAX)
            encoded = flag(body, "isDataEncoded", False)
            wanted = text(body, "callid", 64) or None
        except (InvalidParameter, http.BodyTooLarge, BadField) as exc:
            return error("000-002", str(exc))
        if encoded:
            try:
                data = base64.b64decode(data, validate=True).decode()
            except (binascii.Error, UnicodeDecodeError):
                return error("000-002", "calldata is not Base64 of UTF-8 text (isDataEncoded is true)")
            if len(data) > _CALL_DATA_MAX:
                return error("000-002", f"calldata must be at most {_CALL_DATA_MAX} characters")
        call = self._named_or_current(agent_id, wanted)
        if isinstance(call, Response):
            return call
        return await self.gw.act("100-007", "call.data", call.vdn, callId=call.call_id, callData=data)

    # --- helpers ---

    def _named_or_current(self, agent_id: int, call_id: str | None) -> Call | Response:
        agent = self.gw.signed_in_agent(agent_id)
        if agent is None:
            return error("100-006")
        if call_id is None:
            if not agent.calls:
                return error("100-007", "The agent has no call.")
            return self._call(agent, agent.calls[0])
        if call_id not in agent.calls:
            return error("000-002", f"Call {call_id} is not a current call of agent {agent_id}.")
        return self._call(agent, call_id)

    def _call(self, agent: Agent, call_id: str) -> Call:
        return self.gw.service.engine.calls[(agent.cc_id, call_id)]

    def _info(self, agent: Agent, call: Any) -> dict[str, Any]:
        service = self.gw.service
        return views.gateway_call_info(service.engine, agent, call, self._skill, service.now())

    @property
    def _skill(self) -> Callable[[int, int], str]:
        return self.gw.service.config.skill_name


_HELD_KEYS = frozenset({"callfeature", "caller", "called", "callid"})


def _holds(call: Call, agent: Agent) -> bool:
    leg = call.agent_leg(agent.agent_id)
    return leg is not None and leg.held
