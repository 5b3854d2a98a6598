"""CC-Gateway agent states and session upkeep (`onlineagent/{agentid}/...`, gateway-and-monitoring-notes §A.1-A.2).

Each state operation checks the agent's state first and refuses with `100-009` (state change refused) what the
agent cannot do now, changing nothing; otherwise it emits one `agent.state` (or `agent.settings`) event, and the
agent hears the result as agent events. Busy or rest asked for during a call apply when the call ends (CEC's
"pre-busy"); idle asked for during a call cancels that. An operation that would change nothing (idle when idle,
wrap-up when in wrap-up) succeeds without an event. `docs/compatibility.md` lists each decision.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ccdata.api import http
from ccdata.api.auth.gateway import GuidCheck, Session
from ccdata.api.gateway_wire import BadField, error, flag, guid_header, integer, success
from ccdata.domain import codes, views
from ccdata.domain.codes import CtiAgentState
from ccdata.domain.model import Agent
from ccdata.pipeline import RejectionNote
from ccdata.service import wall_clock_ms

if TYPE_CHECKING:
    from ccdata.api.gateway import Gateway


class AgentStates:
    def __init__(self, gateway: Gateway) -> None:
        self.gw = gateway
        self.rest_until: dict[int, int] = {}  # agent -> when its rest is over (wall clock): AgentState_Rest_Timeout

    def routes(self) -> list[Route]:
        a = "/onlineagent/{agentid}"
        route = self.gw.route
        return [
            route("POST", f"{a}/sayfree", self.say_free),
            route("POST", f"{a}/saybusy", self.say_busy),
            route("POST", f"{a}/cancelbusy", self.cancel_busy),
            route("POST", f"{a}/rest/{{time}}/{{restcause}}", self.rest),
            route("POST", f"{a}/cancelrest", self.cancel_rest),
            route("POST", f"{a}/work", self.work),
            route("POST", f"{a}/cancelwork", self.cancel_work),
            route("POST", f"{a}/autoanswer/{{flag}}", self.auto_answer),
            route("POST", f"{a}/autoenteridle/{{flag}}", self.auto_enter_idle),
            route("GET", f"{a}/agentstatus", self.agent_status),
            route("POST", f"{a}/handshake", self.heartbeat),
            route("PUT", f"{a}/heartbeat", self.heartbeat),
            route("PUT", f"{a}/updateGuid", self.update_guid),
            route("POST", f"{a}/syncagentinfo", self.sync_agent_info),
            route("DELETE", f"{a}/forcelogout", self.force_logout),
            route("DELETE", f"{a}/forcelogoutwithreason/{{reason}}", self.force_logout_with_reason),
        ]

    # --- states ---

    async def say_free(self, request: Request, agent_id: int, session: Session) -> Response:
        agent = self.gw.signed_in_agent(agent_id)
        if agent is None:
            return error("100-006")
        if self._ringing(agent):
            return error("100-009", "A call is ringing at the agent: answer or release it first.")
        if (agent.calls and agent.next_mode is None) or (not agent.calls and agent.mode == CtiAgentState.IDLE):
            return success()  # nothing to change
        return await self._set(agent, "idle")

    async def say_busy(self, request: Request, agent_id: int, session: Session) -> Response:
        agent = self.gw.signed_in_agent(agent_id)
        if agent is None:
            return error("100-006")
        try:
            reason = integer(dict(request.query_params), "reason", 0, 250, 0)
            prolong = flag(dict(request.query_params), "prolong", False)
        except BadField as exc:
            return error("000-002", str(exc))
        if reason and reason < 200:
            return error("000-002", "reason must be 200-250 (or 0 or empty: no reason)")
        if refusal := self._not_again(agent, CtiAgentState.BUSY, prolong):
            return refusal
        return await self._set(agent, "busy", reason or None)

    async def cancel_busy(self, request: Request, agent_id: int, session: Session) -> Response:
        return await self._cancel(agent_id, (CtiAgentState.BUSY, CtiAgentState.STUDY), "busy")

    async def rest(self, request: Request, agent_id: int, session: Session) -> Response:
        agent = self.gw.signed_in_agent(agent_id)
        if agent is None:
            return error("100-006")
        params = {**request.path_params, **request.query_params}
        try:
            seconds = integer(params, "time", 1, 86_399)
            cause = integer(params, "restcause", 0, 255)
            prolong = flag(params, "prolong", False)
        except BadField as exc:
            return error("000-002", str(exc))
        if refusal := self._not_again(agent, CtiAgentState.REST, prolong):
            return refusal
        if rejection := await self._emit_state(agent, "rest", cause or None):
            return error("100-009", rejection.reason)
        self.rest_until[agent_id] = wall_clock_ms() + (seconds or 0) * 1000
        return success()

    async def cancel_rest(self, request: Request, agent_id: int, session: Session) -> Response:
        return await self._cancel(agent_id, (CtiAgentState.REST,), "rest")

    async def work(self, request: Request, agent_id: int, session: Session) -> Response:
        agent = self.gw.signed_in_agent(agent_id)
        if agent is None:
            return error("100-006")
        if agent.calls:
            return error("100-009", "The agent has a call: wrap-up follows it by itself.")
        if agent.mode == CtiAgentState.WORKING:
            return success()
        return await self._set(agent, "wrapup")

    async def cancel_work(self, request: Request, agent_id: int, session: Session) -> Response:
        return await self._cancel(agent_id, (CtiAgentState.WORKING,), "wrap-up")

    async def auto_answer(self, request: Request, agent_id: int, session: Session) -> Response:
        value = request.path_params["flag"].lower()
        if value not in ("true", "false"):
            return error("000-002", "isautoanswer must be true or false")
        return await self._settings(agent_id, autoAnswer=value == "true")

    async def auto_enter_idle(self, request: Request, agent_id: int, session: Session) -> Response:
        # The reference: `true` is idle after a call; any other string of 1-5 characters is wrap-up.
        value = request.path_params["flag"]
        if not 1 <= len(value) <= 5:
            return error("000-002", "the flag must be true, or 1-5 characters for wrap-up after a call")
        return await self._settings(agent_id, autoEnterIdle=value == "true")

    # --- status and session upkeep ---

    async def agent_status(self, request: Request, agent_id: int, session: Session) -> Response:
        agent = self.gw.signed_in_agent(agent_id)
        if agent is None:
            return error("100-006")
        cti = self.gw.service.engine.agent_state(agent)
        state = int(codes.CTI_TO_GATEWAY_STATE.get(cti, codes.GatewayAgentState.UNKNOWN))
        talking = cti in (CtiAgentState.TALKING, CtiAgentState.ANSWERING)
        return success([{"agentState": state, "isWorking": talking}])

    async def heartbeat(self, request: Request, agent_id: int, session: Session) -> Response:
        """`handshake` (push mode's heartbeat) and the demo's `heartbeat`: the session lives on; in dynamic mode
        the GUID rotates here as it does on a poll."""
        if self.gw.sessions.rotation_due(session):
            # The rotation is stored: against the stored session first (this copy may be of a replaced one).
            if refusal := await self._stale(request, agent_id):
                return refusal
            session = self.gw.sessions.by_agent.get(agent_id, session)
        session.last_poll = wall_clock_ms()
        rotated = self.gw.sessions.rotate_if_due(session)
        if rotated:
            await self.gw.sessions.save(session)
        else:
            self.gw.sessions.polled(session)
        headers = guid_header(rotated) if rotated else None
        return http.json({"message": "success", "retcode": "0"}, headers=headers)

    async def update_guid(self, request: Request, agent_id: int, session: Session) -> Response:
        """A refreshed page gets a new GUID (the old one stays valid for the GUID timeout, as after a rotation)."""
        if refusal := await self._stale(request, agent_id):  # the rotation is stored: not over a newer session
            return refusal
        session = self.gw.sessions.by_agent.get(agent_id, session)
        guid = self.gw.sessions.rotate_now(session)
        if not await self.gw.sessions.save(session):
            return error("100-007", "The session could not be stored.")
        return success({"guid": guid}, headers=guid_header(guid))

    async def sync_agent_info(self, request: Request, agent_id: int, session: Session) -> Response:
        """After a browser refresh: the agent's state and current call; the queued events are dropped (as the
        reference says: the page rebuilds itself from this answer)."""
        agent = self.gw.signed_in_agent(agent_id)
        if agent is None:
            return error("100-006")
        # Up to the log position the answer shows: what another node queued after it is still to come.
        await self.gw.sessions.skip(agent_id, self.gw.position_key())
        return success(self._sync_info(agent))

    def _sync_info(self, agent: Agent) -> dict[str, Any]:
        engine = self.gw.service.engine
        call = engine.call(agent.cc_id, agent.calls[0]) if agent.calls else None
        cti = engine.agent_state(agent)
        state = int(codes.CTI_TO_GATEWAY_STATE.get(cti, codes.GatewayAgentState.UNKNOWN))
        feature = views.gateway_call_type(call.call_type, call.call_feature) if call is not None else 0
        leg = call.agent_leg(agent.agent_id) if call is not None else None
        return {
            "callinfo": call.call_id if call is not None else "",
            "agentStateInfo": {
                "callFeature": feature,
                "callData": call.call_data if call is not None else "",
                "lastState": state,
                "preBusy": agent.next_mode is not None,
                "firsttalkingFlag": bool(leg is not None and leg.call_begin),
            },
        }

    async def force_logout(self, request: Request, agent_id: int, session: Session) -> Response:
        return await self._force_logout(request, agent_id, session)

    async def force_logout_with_reason(self, request: Request, agent_id: int, session: Session) -> Response:
        try:
            integer(request.path_params, "reason", 1, 255)
        except BadField as exc:
            return error("100-005", str(exc))
        return await self._force_logout(request, agent_id, session)

    async def _force_logout(self, request: Request, agent_id: int, session: Session) -> Response:
        """Signed out even during a call: the agent's calls are released first (ringing ones go back to routing)."""
        if refusal := await self._stale(request, agent_id):
            return refusal
        agent = self.gw.signed_in_agent(agent_id)
        if agent is None:
            return error("100-006")
        if refusal := await self.gw.voice.drop_all(agent):
            return refusal
        rejection = await self.gw.service.emit_async("agent.logout", agent.vdn, agentId=agent_id)
        if rejection is not None:
            return error("100-007", rejection.reason)
        self.gw.sessions.close(agent_id)
        await self.gw.sessions.forget(agent_id)
        return http.json({"message": "success", "retcode": "0"})

    def remind_rests(self) -> None:
        """`AgentState_Rest_Timeout` once an agent's rest is over (a reminder: it rests on until it cancels)."""
        now = wall_clock_ms()
        for agent_id, until in list(self.rest_until.items()):
            agent = self.gw.signed_in_agent(agent_id)
            if agent is None or agent.mode != CtiAgentState.REST:
                del self.rest_until[agent_id]
            elif now >= until:
                del self.rest_until[agent_id]
                self.gw.tell(agent_id, "AgentState_Rest_Timeout", None)

    # --- helpers ---

    async def _stale(self, request: Request, agent_id: int) -> Response | None:
        """The refusal of a GUID that only this node's copy still matches: the stored session is checked (signed
        out, or replaced on another node since), for a request that signs out or stores a rotation."""
        verdict, _ = await self.gw.sessions.check_shared(agent_id, request.headers.get("guid"), fresh=True)
        if verdict == GuidCheck.NOT_SIGNED_IN:
            return error("100-006")
        if verdict == GuidCheck.WRONG_GUID:
            return error("000-003", "The Guid header does not match this agent's session.")
        return None

    def _ringing(self, agent: Agent) -> bool:
        return self.gw.service.engine.agent_state(agent) == CtiAgentState.ANSWERING

    def _not_again(self, agent: Agent, mode: CtiAgentState, prolong: bool) -> Response | None:
        """Busy or rest again (a new reason or a longer rest) needs `prolong=true`; a ringing agent can't."""
        if self._ringing(agent):
            return error("100-009", "A call is ringing at the agent: answer or release it first.")
        current = _own_state(agent)
        if current == mode and not prolong:
            return error("100-009", "The agent is in that state already; send prolong=true to renew it.")
        return None

    async def _cancel(self, agent_id: int, modes: tuple[CtiAgentState, ...], what: str) -> Response:
        agent = self.gw.signed_in_agent(agent_id)
        if agent is None:
            return error("100-006")
        current = _own_state(agent)
        if current not in modes:
            return error("100-009", f"The agent is not in {what}.")
        return await self._set(agent, "idle")

    async def _set(self, agent: Agent, state: str, reason: int | None = None) -> Response:
        rejection = await self._emit_state(agent, state, reason)
        return error("100-009", rejection.reason) if rejection is not None else success()

    async def _emit_state(self, agent: Agent, state: str, reason: int | None) -> RejectionNote | None:
        fields: dict[str, Any] = {"agentId": agent.agent_id, "state": state}
        if reason is not None:
            fields["reasonCode"] = reason
        return await self.gw.service.emit_async("agent.state", agent.vdn, **fields)

    async def _settings(self, agent_id: int, **fields: bool) -> Response:
        agent = self.gw.signed_in_agent(agent_id)
        if agent is None:
            return error("100-006")
        return await self.gw.act("100-007", "agent.settings", agent.vdn, agentId=agent_id, **fields)


def _own_state(agent: Agent) -> CtiAgentState | None:
    """The state the agent set: during a call, the one it asked for after it (None: none)."""
    return agent.next_mode if agent.calls else agent.mode
