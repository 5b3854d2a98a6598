"""CC-Gateway client: sign-in with `Set-GUID` capture, the `Guid` header on every call, GUID rotation, polling."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx

from ccdata.client._transport import AsyncBase, Op, SyncBase, json_of
from ccdata.client.errors import AuthError, GatewayError
from ccdata.client.types import AgentEvent, GatewayCallInfo, SignIn, convert

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

    def sign_in(self, *, phone: str | None = None, status: int = 4, force: bool = False) -> Op[SignIn]:
        body: dict[str, Any] = {"password": self.password, "status": status}
        if phone is not None:
            body["phonenum"] = phone
        path = f"/onlineagent/{self.agent_id}" + ("/forcelogin" if force else "")
        answer = self.answer((yield self.request("PUT", path, json=body)))
        return convert(answer.get("result") or {}, SignIn)

    def sign_out(self) -> Op[None]:
        self.answer((yield self.request("DELETE", f"/onlineagent/{self.agent_id}/logout")))
        self.guid = None

    def poll(self) -> Op[AgentEvent | None]:
        """The next event, or None when none came within the server's long-poll wait."""
        answer = self.answer((yield self.request("GET", f"/agentevent/{self.agent_id}")))
        event = answer.get("event")
        return None if event is None else convert(event, AgentEvent)

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


class GatewayClient(SyncBase):
    """One agent on the CC-Gateway.

    >>> agent = GatewayClient("http://127.0.0.1:8043", 1901, "ccdata-agent")
    >>> agent.sign_in()  # doctest: +SKIP
    >>> for event in agent.events():  # doctest: +SKIP
    ...     print(event.eventType)
    """

    def __init__(
        self, base_url: str, agent_id: int, password: str, *, timeout: float = 30.0, http: httpx.Client | None = None
    ) -> None:
        super().__init__(http, timeout)
        self.ops = GatewayOperations(base_url, agent_id, password)

    @property
    def guid(self) -> str | None:
        return self.ops.guid

    def sign_in(self, *, phone: str | None = None, status: int = 4, force: bool = False) -> SignIn:
        return self._run(self.ops.sign_in(phone=phone, status=status, force=force))

    def sign_out(self) -> None:
        self._run(self.ops.sign_out())

    def poll(self) -> AgentEvent | None:
        return self._run(self.ops.poll())

    def events(self) -> Iterator[AgentEvent]:
        """Events as they come, polling (which is also the heartbeat) until the session ends."""
        while True:
            event = self.poll()
            if event is not None:
                yield event

    def call_info(self, *, include_last: bool = False) -> GatewayCallInfo | None:
        return self._run(self.ops.call_info(include_last=include_last))

    def call_info_by_id(self, call_id: str) -> GatewayCallInfo:
        return self._run(self.ops.call_info_by_id(call_id))


class AsyncGatewayClient(AsyncBase):
    """The same agent session over `httpx.AsyncClient`; `events()` is an async iterator."""

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

    async def sign_in(self, *, phone: str | None = None, status: int = 4, force: bool = False) -> SignIn:
        return await self._run(self.ops.sign_in(phone=phone, status=status, force=force))

    async def sign_out(self) -> None:
        await self._run(self.ops.sign_out())

    async def poll(self) -> AgentEvent | None:
        return await self._run(self.ops.poll())

    async def events(self) -> AsyncIterator[AgentEvent]:
        while True:
            event = await self.poll()
            if event is not None:
                yield event

    async def call_info(self, *, include_last: bool = False) -> GatewayCallInfo | None:
        return await self._run(self.ops.call_info(include_last=include_last))

    async def call_info_by_id(self, call_id: str) -> GatewayCallInfo:
        return await self._run(self.ops.call_info_by_id(call_id))
