"""CC-Gateway voice-call control (`voicecall/{agentid}/...`, gateway-and-monitoring-notes §A.3).

Each action looks at the agent's calls in the engine, refuses what the agent cannot do now (changing nothing), and
otherwise emits the contract event that says what the agent did:

| action | event |
|---|---|
| answer | `call.answer` |
| release / dropcall | `call.release` by the agent; from a conference `call.leave`; of its own consult |
| | `call.consult.cancel`; of a ringing call `call.noanswer` (reason 50, rejected) |
| hold / gethold | `call.hold` / `call.unhold` (gethold during a consult cancels the consult first) |
| beginmute / endmute | `call.mute` / `call.unmute` |
| callout | `call.originate` (a new call ID, the agent's) |
| callinner | `call.internal` |
| transfer, mode 0 (1 to a number) | `call.transfer` (blind) |
| transfer, mode 2 (3, 4 to a number) | `call.consult`, completed by `call.consult.transfer` when the target answers |
| transfer during an answered consult, to its target | `call.consult.transfer` |
| innerhelp | `call.consult` (mode 2: joined by `call.consult.conference` when the target answers) |
| confjoin | `call.consult.conference` |

Refusals: `200-002` answer without a ringing call; `200-010` confjoin without that held call, `200-011` confjoin
before the consulted party answered (the reference lists these codes for those interfaces); `000-002` a bad field;
`100-007` any other action the agent's calls do not allow, with the reason. `docs/compatibility.md` has the rest.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ccdata.api import http
from ccdata.api.auth.gateway import Session
from ccdata.api.gateway_wire import DIAL_CHARS, BadField, error, flag, integer, succeeded, success, text
from ccdata.api.inputs import InvalidParameter, json_object
from ccdata.domain.codes import DeviceType, Reason
from ccdata.domain.model import Agent, Call, Leg

if TYPE_CHECKING:
    from ccdata.api.gateway import Gateway

_ADDRESS_CHARS = DIAL_CHARS + "ABCDEabcde"
_CALL_DATA_MAX = 16 * 1024
#: transfer (`devicetype`, `mode`) the contract can express: the target and whether the agent consults first.
_TRANSFER_MODES = {(1, 0): False, (1, 2): True, (2, 0): False, (2, 2): True, (3, 0): False,
                   (5, 1): False, (5, 2): True, (5, 3): True, (5, 4): True}  # fmt: skip


class VoiceCalls:
    def __init__(self, gateway: Gateway) -> None:
        self.gw = gateway

    def routes(self) -> list[Route]:
        v = "/voicecall/{agentid}"
        route = self.gw.route
        return [
            route("PUT", f"{v}/answer", self.answer),
            route("DELETE", f"{v}/release", self.release),
            route("DELETE", v, self.release),  # releaseEx, the older path
            route("POST", f"{v}/dropcall/{{callid}}", self.drop_call),
            route("POST", f"{v}/hold", self.hold),
            route("POST", f"{v}/gethold", self.get_hold),
            route("POST", f"{v}/beginmute", self.begin_mute),
            route("POST", f"{v}/endmute", self.end_mute),
            route("PUT", f"{v}/callout", self.call_out),
            route("PUT", f"{v}/callinner", self.call_inner),
            route("POST", f"{v}/transfer", self.transfer),
            route("POST", f"{v}/innerhelp", self.inner_help),
            route("POST", f"{v}/confjoin", self.conf_join),
        ]

    # --- answer, release ---

    async def answer(self, request: Request, agent_id: int, session: Session) -> Response:
        agent = self.gw.signed_in_agent(agent_id)
        if agent is None:
            return error("100-006")
        wanted = request.query_params.get("callid") or None
        ringing = [c for c in self._calls(agent) if _leg(c, agent).ringing and wanted in (None, c.call_id)]
        if not ringing:
            return error("200-002", "No call is ringing at the agent" + (f" with ID {wanted}." if wanted else "."))
        return await self.gw.act("200-002", "call.answer", agent.vdn, callId=ringing[0].call_id, agentId=agent_id)

    async def release(self, request: Request, agent_id: int, session: Session) -> Response:
        agent = self.gw.signed_in_agent(agent_id)
        if agent is None:
            return error("100-006")
        call = self._current(agent)
        if call is None:
            return error("100-007", "The agent has no call to release.")
        return await self._release(agent, call)

    async def drop_call(self, request: Request, agent_id: int, session: Session) -> Response:
        agent = self.gw.signed_in_agent(agent_id)
        if agent is None:
            return error("100-006")
        call_id = request.path_params["callid"]
        call = next((c for c in self._calls(agent) if c.call_id == call_id), None)
        if call is None:
            return error("000-002", f"Call {call_id} is not a call of agent {agent_id}.")
        return await self._release(agent, call)

    async def _release(self, agent: Agent, call: Call) -> Response:
        a = agent.agent_id
        leg = _leg(call, agent)
        if leg.ringing:
            return await self.gw.act("100-007", "call.noanswer", call.vdn, callId=call.call_id, agentId=a,
                                     reason=int(Reason.AGENT_REJECTED))  # fmt: skip
        if call.consult_of and call.legs and call.legs[0].agent_id == a:
            return await self.gw.act("100-007", "call.consult.cancel", call.vdn, callId=call.call_id, agentId=a)
        if call.conference:
            return await self.gw.act("100-007", "call.leave", call.vdn, callId=call.call_id, party={"agentId": a})
        return await self.gw.act("100-007", "call.release", call.vdn, callId=call.call_id, by="agent", agentId=a)

    async def drop_all(self, agent: Agent) -> Response | None:
        """Release every call of the agent (a forced sign-out); the first refusal, if any."""
        for call in reversed(self._calls(agent)):  # a consult before the call it consults for
            if self.gw.service.engine.call(call.cc_id, call.call_id) is None:
                continue  # ended with the one released before it
            answer = await self._release(agent, call)
            if not succeeded(answer):
                return answer
        return None

    # --- hold, mute ---

    async def hold(self, request: Request, agent_id: int, session: Session) -> Response:
        agent = self.gw.signed_in_agent(agent_id)
        if agent is None:
            return error("100-006")
        call = self._talking(agent)
        if call is None:
            return error("100-007", "The agent is not talking on a call it can hold.")
        return await self.gw.act("100-007", "call.hold", call.vdn, callId=call.call_id, agentId=agent_id)

    async def get_hold(self, request: Request, agent_id: int, session: Session) -> Response:
        agent = self.gw.signed_in_agent(agent_id)
        if agent is None:
            return error("100-006")
        wanted = request.query_params.get("callid") or None
        held = [c for c in self._calls(agent) if _leg(c, agent).held and wanted in (None, c.call_id)]
        if not held:
            return error("100-007", "The agent holds no call" + (f" with ID {wanted}." if wanted else "."))
        call = held[0]
        consult = self.gw.service.engine.call(call.cc_id, call.consult) if call.consult else None
        if consult is not None:  # back to the customer: the consultation ends first
            rejection = await self.gw.emit("call.consult.cancel", call.vdn, callId=consult.call_id, agentId=agent_id)
            if rejection is not None:
                return error("100-007", rejection.reason)
        return await self.gw.act("100-007", "call.unhold", call.vdn, callId=call.call_id, agentId=agent_id)

    async def begin_mute(self, request: Request, agent_id: int, session: Session) -> Response:
        return await self._mute(agent_id, "call.mute")

    async def end_mute(self, request: Request, agent_id: int, session: Session) -> Response:
        return await self._mute(agent_id, "call.unmute")

    async def _mute(self, agent_id: int, type_: str) -> Response:
        agent = self.gw.signed_in_agent(agent_id)
        if agent is None:
            return error("100-006")
        call = next((c for c in self._calls(agent) if _leg(c, agent).call_begin), None)
        if call is None:
            return error("100-007", "The agent is not talking on a call.")
        return await self.gw.act("100-007", type_, call.vdn, callId=call.call_id, agentId=agent_id)

    # --- new calls ---

    async def call_out(self, request: Request, agent_id: int, session: Session) -> Response:
        asked = await self._asked(request, agent_id)
        if isinstance(asked, Response):
            return asked
        agent, body = asked
        try:
            called = text(body, "called", 24, pattern=DIAL_CHARS)
            caller = text(body, "caller", 24, pattern=DIAL_CHARS) or self._default_caller(agent)
            call_data = text(body, "callappdata", _CALL_DATA_MAX)
            integer(body, "skillid", 1, 10_000)
            integer(body, "mediaability", 0, 2, 0)
            integer(body, "userVideoDirection", 1, 4, 4)
        except BadField as exc:
            return error("000-002", str(exc))
        if not called:
            return error("000-002", "called is required (1-24 digits, * or #)")
        return await self._place(agent, "call.originate", call_data, caller=caller, called=called, campaign="manual")

    async def call_inner(self, request: Request, agent_id: int, session: Session) -> Response:
        asked = await self._asked(request, agent_id)
        if isinstance(asked, Response):
            return asked
        agent, body = asked
        try:
            called = integer(body, "called", 101, 999_999)
            call_data = text(body, "callappdata", _CALL_DATA_MAX)
        except BadField as exc:
            return error("000-002", str(exc))
        if called is None or called == agent_id:
            return error("000-002", "called must be the ID of another agent")
        return await self._place(agent, "call.internal", call_data, target={"agentId": called}, v=2)

    # --- transfer, help, conference ---

    async def transfer(self, request: Request, agent_id: int, session: Session) -> Response:
        asked = await self._asked(request, agent_id)
        if isinstance(asked, Response):
            return asked
        agent, body = asked
        try:
            device_type = integer(body, "devicetype", 1, 5)
            mode = integer(body, "mode", 0, 4)
            address = text(body, "address", 24, pattern=_ADDRESS_CHARS)
            text(body, "callappdata", _CALL_DATA_MAX)
            text(body, "caller", 24, pattern=DIAL_CHARS)
            integer(body, "mediaability", 0, 2, 0)
            flag(body, "holdflag", True)
            integer(body, "skillId", 1, 10_000)
        except BadField as exc:
            return error("000-002", str(exc))
        if device_type is None or mode is None or not address:
            return error("000-002", "devicetype, mode and address are required")
        consult_first = _TRANSFER_MODES.get((device_type, mode))
        if consult_first is None:
            return error("000-002", f"mode {mode} is not a transfer ccdata offers to devicetype {device_type}")
        target = _target(device_type, address)
        if isinstance(target, Response):
            return target
        consulting = self._own_consult(agent)
        if consulting is not None and _same_target(consulting, target):
            return await self.gw.act("100-007", "call.consult.transfer", consulting.vdn,
                                     callId=consulting.call_id, agentId=agent_id)  # fmt: skip
        call = self._talking(agent)
        if call is None:
            return error("100-007", "The agent is not talking on a call it can transfer.")
        if not consult_first:
            return await self.gw.act("100-007", "call.transfer", call.vdn, callId=call.call_id, agentId=agent_id,
                                     target=target)  # fmt: skip
        return await self._consult(agent, call, target, "call.consult.transfer")

    async def inner_help(self, request: Request, agent_id: int, session: Session) -> Response:
        asked = await self._asked(request, agent_id)
        if isinstance(asked, Response):
            return asked
        agent, body = asked
        try:
            address = text(body, "dstaddress", 24, pattern=DIAL_CHARS)
            device_type = integer(body, "devicetype", 1, 2, 2)
            mode = integer(body, "mode", 1, 2, 1)
            text(body, "callappdata", _CALL_DATA_MAX)
            flag(body, "holdflag", True)
        except BadField as exc:
            return error("000-002", str(exc))
        if not address:
            return error("000-002", "dstaddress is required (an agent or skill ID)")
        target = _target(device_type or 2, address)
        if isinstance(target, Response):
            return target
        call = self._talking(agent)
        if call is None:
            return error("100-007", "The agent is not talking on a call to ask help for.")
        follow_up = "call.consult.conference" if mode == 2 else None
        return await self._consult(agent, call, target, follow_up)

    async def conf_join(self, request: Request, agent_id: int, session: Session) -> Response:
        asked = await self._asked(request, agent_id)
        if isinstance(asked, Response):
            return asked
        agent, body = asked
        try:
            held_id = text(body, "callid", 64)
            text(body, "callappdata", _CALL_DATA_MAX)
        except BadField as exc:
            return error("000-002", str(exc))
        held = next((c for c in self._calls(agent) if c.call_id == held_id and _leg(c, agent).held), None)
        if held is None:
            return error("200-010", f"Call {held_id!r} is not a call the agent holds.")
        consult = self.gw.service.engine.call(held.cc_id, held.consult) if held.consult else None
        if consult is None or not _answered(consult):
            return error("200-011", "The consulted party has not answered: nothing to join yet.")
        return await self.gw.act("200-011", "call.consult.conference", consult.vdn, callId=consult.call_id,
                                 agentId=agent_id)  # fmt: skip

    async def _place(self, agent: Agent, type_: str, call_data: str, **fields: Any) -> Response:
        """A new call of the agent's (a call out, an internal call): its ID is the answer's result."""
        if refusal := self._busy_on_a_call(agent):
            return refusal
        call_id = self._new_call_id()
        if call_data:
            fields["callData"] = call_data[:4096]
        return await self.gw.act("100-007", type_, agent.vdn, result=call_id, callId=call_id, agentId=agent.agent_id,
                                 **fields)  # fmt: skip

    async def _consult(self, agent: Agent, call: Call, target: dict[str, Any], follow_up: str | None) -> Response:
        if call.consult:
            return error("100-007", f"Call {call.call_id} has a consultation in progress already.")
        consult_id = self._new_call_id()
        if follow_up is not None:
            self.gw.platform.complete_on_answer(call.cc_id, consult_id, follow_up, agent.agent_id)
        rejection = await self.gw.emit("call.consult", call.vdn, callId=consult_id, originalCallId=call.call_id,
                                       agentId=agent.agent_id, target=target, v=2)  # fmt: skip
        if rejection is not None:
            self.gw.platform.on_answer.pop((call.cc_id, consult_id), None)
            return error("100-007", rejection.reason)
        return success(consult_id)

    # --- the agent's calls ---

    def _calls(self, agent: Agent) -> list[Call]:
        engine = self.gw.service.engine
        calls = (engine.call(agent.cc_id, call_id) for call_id in agent.calls)
        return [c for c in calls if c is not None and c.agent_leg(agent.agent_id) is not None]

    def _current(self, agent: Agent) -> Call | None:
        """The call `release` ends: a consultation, else the call the agent talks on, else a ringing one, else a
        held one."""
        calls = self._calls(agent)
        for wanted in (lambda c: bool(c.consult_of) and _leg(c, agent).call_begin,
                       lambda c: _leg(c, agent).call_begin, lambda c: _leg(c, agent).ringing,
                       lambda c: _leg(c, agent).held):  # fmt: skip
            found = next((c for c in calls if wanted(c)), None)
            if found is not None:
                return found
        return None

    def _talking(self, agent: Agent) -> Call | None:
        """The customer call the agent talks on (not a consultation it placed)."""
        own = [c for c in self._calls(agent) if _leg(c, agent).call_begin and not c.consult_of]
        return own[0] if own else None

    def _own_consult(self, agent: Agent) -> Call | None:
        return next((c for c in self._calls(agent) if c.consult_of and c.legs[0].agent_id == agent.agent_id), None)

    def _busy_on_a_call(self, agent: Agent) -> Response | None:
        """A call out needs an agent that is not talking or being rung (held calls excepted)."""
        for call in self._calls(agent):
            leg = _leg(call, agent)
            if leg.call_begin or leg.ringing:
                return error("100-007", f"The agent is on call {call.call_id}: hold it or release it first.")
        return None

    @staticmethod
    def _default_caller(agent: Agent) -> str:
        """No `caller`: the platform's default, here the agent's own phone number."""
        return agent.phone or str(agent.agent_id)

    def _new_call_id(self) -> str:
        """A call ID of the platform's form (`<seconds>-<sequence>`), unique across restarts."""
        seconds = self.gw.service.now() // 1000
        return f"{seconds}-{uuid.uuid4().int % 10**8}"

    async def _asked(self, request: Request, agent_id: int) -> tuple[Agent, dict[str, Any]] | Response:
        """The signed-in agent and the request's JSON body, or the refusal."""
        agent = self.gw.signed_in_agent(agent_id)
        if agent is None:
            return error("100-006")
        try:
            body = json_object(await http.read_body(request, self.gw.service.config.server.max_body_bytes))
        except (InvalidParameter, http.BodyTooLarge) as exc:
            return error("000-002", str(exc))
        return agent, body


def _leg(call: Call, agent: Agent) -> Leg:
    leg = call.agent_leg(agent.agent_id)
    assert leg is not None  # _calls keeps only calls with the agent's leg
    return leg


def _answered(consult: Call) -> bool:
    party = consult.legs[-1] if consult.legs else None
    return party is not None and len(consult.legs) == 2 and bool(party.call_begin) and not party.held


def _target(device_type: int, address: str) -> dict[str, Any] | Response:
    """The contract's target of a transfer or help: 1 skill queue, 2 agent, 3 IVR flow, 5 an outside number."""
    if device_type == 5:
        return {"number": address}
    if not address.isdigit():
        return error("000-002", "address must be digits for a skill, an agent or an IVR flow")
    value = int(address)
    if device_type == 1:
        return {"skillId": value} if 1 <= value <= 10_000 else error("000-002", "skill ID must be 1-10000")
    if device_type == 2:
        return {"agentId": value} if 101 <= value <= 999_999 else error("000-002", "agent ID must be 101-999999")
    if device_type == 3:
        return {"flowId": address}
    return error("000-002", f"devicetype {device_type} (system access code) is not offered")


def _same_target(consult: Call, target: dict[str, Any]) -> bool:
    party = consult.legs[-1] if consult.legs else None
    if party is None:
        return False
    if "agentId" in target:
        return party.device_type == DeviceType.AGENT and party.agent_id == target["agentId"]
    if "number" in target:
        return party.device_type == DeviceType.CALL and party.device_in == target["number"]
    return "skillId" in target and party.skill_id == target["skillId"]
