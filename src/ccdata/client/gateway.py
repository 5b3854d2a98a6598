"""CC-Gateway client: sign-in with `Set-GUID` capture, the `Guid` header on every call, GUID rotation, polling."""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import httpx

from ccdata.client._transport import AsyncBase, Op, SyncBase, json_of
from ccdata.client.errors import AuthError, GatewayError
from ccdata.client.types import AgentEvent, GatewayAgentStatus, GatewayCallInfo, SignIn, convert

PREFIX = "/agentgateway/resource"
NO_PERMISSION = {"000-003", "100-006"}


class GatewayOperations:
    """One agent's session. The GUID changes when a response carries `Set-GUID` (sign-in, and polling in
    dynamic mode); static mode never sends a new one, and the same code handles both."""

    def __init__(self, base_url: str, agent_id: int, password: str) -> None:
        self.base_url = base_url.rstrip("/")
        self.agent_id = agent_id
        self.password = password
        self.guid: str | None = None

    def request(self, method: str, path: str, **kw: Any) -> httpx.Request:
        headers = {"Content-Type": "application/json;charset=UTF-8"}
        if self.guid is not None:
            headers["Guid"] = self.guid
        return httpx.Request(method, f"{self.base_url}{PREFIX}{path}", headers=headers, **kw)

    def answer(self, response: httpx.Response) -> dict[str, Any]:
        fresh = response.headers.get("set-guid")
        if fresh:
            self.guid = fresh.removeprefix("JSESSIONID=")
        body = json_of(response)
        if not isinstance(body, dict) or "retcode" not in body:
            raise GatewayError(
                "unexpected", f"HTTP {response.status_code}: {response.text[:200]}", response.status_code
            )
        if body["retcode"] != "0":
            kind = AuthError if body["retcode"] in NO_PERMISSION else GatewayError
            raise kind(body["retcode"], str(body.get("message", "")), response.status_code)
        return body

    def sign_in(
        self,
        *,
        phone: str | None = None,
        status: int = 4,
        force: bool = False,
        auto_answer: bool | None = None,
        auto_enter_idle: bool | None = None,
    ) -> Op[SignIn]:
        """Sign in (status 3 busy, 4 idle, 5 wrap-up); `auto_answer`/`auto_enter_idle` default to the server's
        (the reference's default is true for both)."""
        body: dict[str, Any] = {"password": self.password, "status": status}
        if phone is not None:
            body["phonenum"] = phone
        if auto_answer is not None:
            body["autoanswer"] = auto_answer
        if auto_enter_idle is not None:
            body["autoenteridle"] = auto_enter_idle
        path = f"/onlineagent/{self.agent_id}" + ("/forcelogin" if force else "")
        answer = self.answer((yield self.request("PUT", path, json=body)))
        return convert(answer.get("result") or {}, SignIn)

    def sign_out(self) -> Op[None]:
        self.answer((yield self.request("DELETE", f"/onlineagent/{self.agent_id}/logout")))
        self.guid = None

    def force_sign_out(self) -> Op[None]:
        """Signed out even during a call (the calls are released)."""
        self.answer((yield self.request("DELETE", f"/onlineagent/{self.agent_id}/forcelogout")))
        self.guid = None

    def poll(self) -> Op[AgentEvent | None]:
        """The next event, or None when none came within the server's long-poll wait."""
        answer = self.answer((yield self.request("GET", f"/agentevent/{self.agent_id}")))
        event = answer.get("event")
        return None if event is None else convert(event, AgentEvent)

    # --- agent states ---

    def _agent_op(self, method: str, action: str, params: dict[str, Any] | None = None) -> Op[Any]:
        answer = self.answer((yield self.request(method, f"/onlineagent/{self.agent_id}/{action}", params=params)))
        return answer.get("result")

    def say_free(self) -> Op[None]:
        yield from self._agent_op("POST", "sayfree")

    def say_busy(self, reason: int = 0, *, prolong: bool = False) -> Op[None]:
        params = {"reason": reason, "prolong": str(prolong).lower()}
        yield from self._agent_op("POST", "saybusy", params)

    def cancel_busy(self) -> Op[None]:
        yield from self._agent_op("POST", "cancelbusy")

    def rest(self, seconds: int, cause: int = 0, *, prolong: bool = False) -> Op[None]:
        yield from self._agent_op("POST", f"rest/{seconds}/{cause}", {"prolong": str(prolong).lower()})

    def cancel_rest(self) -> Op[None]:
        yield from self._agent_op("POST", "cancelrest")

    def work(self) -> Op[None]:
        """Enter wrap-up."""
        yield from self._agent_op("POST", "work")

    def cancel_work(self) -> Op[None]:
        """Leave wrap-up (idle)."""
        yield from self._agent_op("POST", "cancelwork")

    def set_auto_answer(self, on: bool) -> Op[None]:
        yield from self._agent_op("POST", f"autoanswer/{str(on).lower()}")

    def set_auto_enter_idle(self, on: bool) -> Op[None]:
        yield from self._agent_op("POST", f"autoenteridle/{'true' if on else 'false'}")

    def status(self) -> Op[GatewayAgentStatus]:
        """The agent's CC-Gateway state and whether it is on a call."""
        result = yield from self._agent_op("GET", "agentstatus")
        return convert(result[0], GatewayAgentStatus)

    def heartbeat(self) -> Op[None]:
        """Push mode's heartbeat (`handshake`); polling is the heartbeat otherwise."""
        yield from self._agent_op("POST", "handshake")

    def update_guid(self) -> Op[str]:
        """A new GUID (after a page refresh); the client switches to it."""
        result = yield from self._agent_op("PUT", "updateGuid")
        return str(result["guid"])

    def sync(self) -> Op[dict[str, Any]]:
        """State and current call after a refresh; the server drops the queued events."""
        return (yield from self._agent_op("POST", "syncagentinfo"))

    # --- voice calls ---

    def _voice(self, method: str, action: str, body: dict[str, Any] | None = None, **params: Any) -> Op[Any]:
        path = f"/voicecall/{self.agent_id}" + (f"/{action}" if action else "")
        query = {k: v for k, v in params.items() if v is not None} or None
        answer = self.answer((yield self.request(method, path, json=body, params=query)))
        return answer.get("result")

    def answer_call(self, call_id: str | None = None) -> Op[None]:
        yield from self._voice("PUT", "answer", callid=call_id)

    def release(self) -> Op[None]:
        """End the current call (a consultation: cancel it; a ringing call: reject it)."""
        yield from self._voice("DELETE", "release")

    def hold(self) -> Op[None]:
        yield from self._voice("POST", "hold")

    def retrieve(self, call_id: str | None = None) -> Op[None]:
        yield from self._voice("POST", "gethold", callid=call_id)

    def mute(self) -> Op[None]:
        yield from self._voice("POST", "beginmute")

    def unmute(self) -> Op[None]:
        yield from self._voice("POST", "endmute")

    def call_out(self, called: str, *, caller: str | None = None, call_data: str | None = None) -> Op[str]:
        """Dial a number; the new call's ID."""
        body = {"called": called, "caller": caller, "callappdata": call_data}
        return str((yield from self._voice("PUT", "callout", _present(body))))

    def call_agent(self, agent_id: int) -> Op[str]:
        """An internal call to another agent; the new call's ID."""
        return str((yield from self._voice("PUT", "callinner", {"called": str(agent_id)})))

    def transfer(self, device_type: int, address: str, mode: int = 0) -> Op[None]:
        """`device_type` 1 skill, 2 agent, 3 IVR, 5 number; `mode` 0 blind (1 for a number), 2 when answered."""
        body = {"devicetype": device_type, "address": address, "mode": mode}
        yield from self._voice("POST", "transfer", body)

    def inner_help(self, address: str, *, device_type: int = 2, three_party: bool = False) -> Op[str]:
        """Consult an agent (2) or skill (1) while the customer holds; the help call's ID."""
        body = {"dstaddress": address, "devicetype": device_type, "mode": 2 if three_party else 1}
        return str((yield from self._voice("POST", "innerhelp", body)))

    def conference(self, held_call_id: str) -> Op[None]:
        """Join the held customer and the consulted party (`confjoin`)."""
        yield from self._voice("POST", "confjoin", {"callid": held_call_id})

    # --- call data ---

    def call_info(self, *, include_last: bool = False) -> Op[GatewayCallInfo | None]:
        """The agent's current call; with `include_last`, its last call when it has none now."""
        params = {"isNoContainLastCall": "true" if include_last else "false"}
        answer = self.answer((yield self.request("GET", f"/calldata/{self.agent_id}/callinfo", params=params)))
        result = answer.get("result")
        return None if result is None else convert(result, GatewayCallInfo)

    def call_info_by_id(self, call_id: str) -> Op[GatewayCallInfo]:
        path = f"/calldata/{self.agent_id}/callinfobycallid/{call_id}"
        answer = self.answer((yield self.request("GET", path)))
        return convert(answer["result"], GatewayCallInfo)

    def set_call_data(self, call_data: str, call_id: str | None = None) -> Op[None]:
        body = _present({"calldata": call_data, "callid": call_id})
        path = f"/calldata/{self.agent_id}/setcalldataex"
        self.answer((yield self.request("PUT", path, json=body)))


def _present(body: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in body.items() if v is not None}


#: The operations both clients offer, each as a method of the same name and arguments.
OPERATIONS = (
    "sign_in", "sign_out", "force_sign_out", "poll", "say_free", "say_busy", "cancel_busy", "rest", "cancel_rest",
    "work", "cancel_work", "set_auto_answer", "set_auto_enter_idle", "status", "heartbeat", "update_guid", "sync",
    "answer_call", "release", "hold", "retrieve", "mute", "unmute", "call_out", "call_agent", "transfer",
    "inner_help", "conference", "call_info", "call_info_by_id", "set_call_data",
)  # fmt: skip


class GatewayClient(SyncBase):
    """One agent on the CC-Gateway; every operation of `GatewayOperations` is a method (see `OPERATIONS`).

    >>> agent = GatewayClient("http://127.0.0.1:8043", 1901, "ccdata-agent")
    >>> agent.sign_in(auto_answer=False)  # doctest: +SKIP
    >>> for event in agent.events():  # doctest: +SKIP
    ...     if event.eventType == "AgentEvent_Ringing":
    ...         agent.answer_call(event.call_id)
    """

    def __init__(
        self, base_url: str, agent_id: int, password: str, *, timeout: float = 30.0, http: httpx.Client | None = None
    ) -> None:
        super().__init__(http, timeout)
        self.ops = GatewayOperations(base_url, agent_id, password)

    @property
    def guid(self) -> str | None:
        return self.ops.guid

    def events(self) -> Iterator[AgentEvent]:
        """Events as they come, polling (which is also the heartbeat) until the session ends."""
        while True:
            event = self.poll()  # type: ignore[attr-defined]
            if event is not None:
                yield event


class AsyncGatewayClient(AsyncBase):
    """The same agent session over `httpx.AsyncClient`: the same methods, awaited; `events()` is an async
    iterator."""

    def __init__(
        self,
        base_url: str,
        agent_id: int,
        password: str,
        *,
        timeout: float = 30.0,
        http: httpx.AsyncClient | None = None,
    ) -> None:
        super().__init__(http, timeout)
        self.ops = GatewayOperations(base_url, agent_id, password)

    @property
    def guid(self) -> str | None:
        return self.ops.guid

    async def events(self) -> AsyncIterator[AgentEvent]:
        while True:
            event = await self.poll()  # type: ignore[attr-defined]
            if event is not None:
                yield event


def _sync_method(name: str) -> Callable[..., Any]:
    @functools.wraps(getattr(GatewayOperations, name))
    def method(self: GatewayClient, *args: Any, **kwargs: Any) -> Any:
        return self._run(getattr(self.ops, name)(*args, **kwargs))

    return method


def _async_method(name: str) -> Callable[..., Any]:
    @functools.wraps(getattr(GatewayOperations, name))
    async def method(self: AsyncGatewayClient, *args: Any, **kwargs: Any) -> Any:
        return await self._run(getattr(self.ops, name)(*args, **kwargs))

    return method


for _name in OPERATIONS:
    setattr(GatewayClient, _name, _sync_method(_name))
    setattr(AsyncGatewayClient, _name, _async_method(_name))
