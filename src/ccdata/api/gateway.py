"""The CC-Gateway facade (`/agentgateway/resource/...`): sign-in and sign-out, event polling, call info.

Envelope `{message, retcode, result}`; `retcode` "0" on success, else a code of the reference (`100-006` not
signed in, `000-003` no permission or a wrong `Guid`, `000-002` bad parameter, ...). HTTP status is 200 for
these business answers. Signing in and out emits `agent.login` / `agent.logout` events; nothing else changes
state.

Sessions survive a restart (`start` brings them back, `stop` writes the last changes; see `auth.gateway` and
docs/compatibility.md): a session is stored before its agent.login is emitted, and at start a stored session
whose agent is no longer signed in is dropped, one whose heartbeat lapsed meanwhile is signed out.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import ipaddress
import logging
from collections.abc import Awaitable, Callable
from typing import Any, Final, NamedTuple

import msgspec
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ccdata.api import http
from ccdata.api.auth.gateway import FLUSH_INTERVAL_S, GuidCheck, Session, Sessions, log
from ccdata.api.auth.throttle import FailureLock, retry_after
from ccdata.api.gateway_calldata import CallData
from ccdata.api.gateway_events import AgentEventFeed
from ccdata.api.gateway_platform import Platform
from ccdata.api.gateway_states import AgentStates
from ccdata.api.gateway_voice import VoiceCalls
from ccdata.api.gateway_wire import DIAL_CHARS, BadField, answer, error, flag, guid_header, integer, success, text
from ccdata.api.inputs import InvalidParameter, ascii_int, check_agent_id, json_object
from ccdata.domain import events as ev
from ccdata.domain.engine import Engine
from ccdata.domain.model import Agent
from ccdata.domain.records import Record
from ccdata.pipeline import Committed, RejectionNote
from ccdata.service import Service, wall_clock_ms
from ccdata.store.ports import KEY_SPAN, QueuedEvent, SessionStore

PREFIX = "/agentgateway/resource"
#: A stored session this young whose agent is not signed in, and did nothing since it was issued, may be a sign-in on
#: another node whose agent.login this node has not applied yet: a node starting in the distributed form leaves it
#: to the heartbeat sweep.
SIGN_IN_GRACE_MS: Final = 30_000
security_log = logging.getLogger("ccdata.security")


class SignInOptions(NamedTuple):
    fields: dict[str, Any]  # the agent.login event's own fields
    web_media: bool  # checkInWebm: sign in to the web-chat media server too


_STATUS_STATE: Final = {3: "busy", 4: "idle", 5: "wrapup"}


def _sign_in_options(body: dict[str, Any], default_phone: str) -> SignInOptions | Response:
    """The sign-in body's fields (cec_07_1202), each checked; the refusal names the field and has the code of the
    reference: 100-013 phone, 100-012 agent type, 100-016 IP, 100-011 any other."""
    try:
        phone = text(body, "phonenum", 24, default_phone, DIAL_CHARS)
    except BadField as exc:
        return error("100-013", str(exc))
    try:
        agent_type = integer(body, "agenttype", 0, 255, 4)
    except BadField as exc:
        return error("100-012", str(exc))
    if agent_type not in (4, 11):
        return error("100-012", "agenttype must be 4 (PC + phone) or 11 (PC + video phone)")
    try:
        ip = text(body, "ip", 15, "127.0.0.1", "0123456789.")
        ipaddress.IPv4Address(ip)
    except (BadField, ValueError) as exc:
        return error("100-016", f"ip must be an IPv4 address ({exc})")
    try:
        status = integer(body, "status", 3, 5, 4)
        auto_answer = flag(body, "autoanswer", True)
        auto_enter_idle = flag(body, "autoenteridle", True)
        for name, default in (("releasephone", True), ("phonelinkage", False), ("checkInMailm", False),
                              ("listenStatus", False)):  # fmt: skip
            flag(body, name, default)
        web_media = flag(body, "checkInWebm", True)
        text(body, "entryIp", 15)
        text(body, "vcPhoneNumber", 24)
    except BadField as exc:
        return error("100-011", str(exc))
    if body.get("callBackUri") and body.get("serviceToken"):
        return error("100-011", "push mode (callBackUri with serviceToken) is not offered: poll agentevent")
    fields = {"phone": phone, "state": _STATUS_STATE[status or 4], "autoAnswer": auto_answer,
              "autoEnterIdle": auto_enter_idle, "workbench": True}  # fmt: skip
    return SignInOptions(fields, web_media)


def _password_matches(given: object, expected: str) -> bool:
    """Constant time in the password's content (both sides hashed to one length first); only a string matches."""
    text = given if isinstance(given, str) else ""
    same = hmac.compare_digest(
        hashlib.sha256(text.encode("utf-8", "surrogatepass")).digest(), hashlib.sha256(expected.encode()).digest()
    )
    return same and isinstance(given, str)


class Gateway:
    def __init__(self, service: Service, store: SessionStore, simulated: bool = False) -> None:
        self.service = service
        self.settings = service.config.gateway
        self.sessions = Sessions(self.settings, wall_clock_ms, store)  # GUID and heartbeat timers: real time
        self.pending_logouts = self.sessions.closing  # heartbeats lapsed: signed out as soon as the engine lets
        limits = service.config.limits
        self.agent_lock = FailureLock(limits.sign_in_failures_per_agent, limits.failure_window_s, limits.lock_s)
        self.address_lock = FailureLock(limits.sign_in_failures_per_address, limits.failure_window_s, limits.lock_s)
        self._flusher: asyncio.Task[None] | None = None
        auto_answer = service.config.gateway.auto_answer
        self.platform = Platform(self, auto_answer=simulated if auto_answer is None else auto_answer)
        self.feed = AgentEventFeed(lambda: service.engine, self.platform.auto_answer)
        self.states = AgentStates(self)
        self.voice = VoiceCalls(self)
        self.call_data = CallData(self)
        # Agents signed in through the CC-Gateway (on any node): their agent events are queued. Taken from the
        # engine, then kept as events are applied (a set, not a look over every agent per event); taken again
        # when the pipeline rebuilt its engine from the log.
        self._workbench_of: Engine | None = None
        self._workbench_agents: set[int] = set()
        # Agents whose stored session outlived an upgrade: the earlier version logged their agent.login without
        # the workbench flag. Workbench agents too, until they sign in again or out.
        self._resumed: set[int] = set()
        service.pipeline.derive_agent_events = self._agent_events
        service.subscribe(self._deliver)

    @property
    def cc_id(self) -> int:
        return self.service.cc_id

    @property
    def workbench_agents(self) -> set[int]:
        engine = self.service.engine
        if engine is not self._workbench_of:
            self._workbench_of = engine
            self._workbench_agents = {a.agent_id for a in engine.agents.values()
                                      if a.workbench and a.cc_id == self.cc_id}  # fmt: skip
            self._workbench_agents |= {a for a in self._resumed if self.signed_in_agent(a) is not None}
        return self._workbench_agents

    async def start(self) -> None:
        """Bring back the last run's sessions, agreeing with the engine, before the first request."""
        shared = self.service.pipeline.shared_log  # other nodes sign agents in
        for session in await self.sessions.load():
            agent = self.agent(session.agent_id)
            untouched = agent is None or (not agent.signed_in and agent.last_at < session.issued_at)
            if shared and untouched and wall_clock_ms() - session.issued_at < SIGN_IN_GRACE_MS:
                continue  # maybe signing in on another node right now: its heartbeat decides, as any session's
            if agent is None or not agent.signed_in:
                # Its login never committed (a crash between storing the session and emitting the event) or
                # it was signed out while the session could not follow: nothing to resume.
                log.warning("gateway: agent %s is not signed in; its stored session is dropped", session.agent_id)
                self.sessions.close(session.agent_id)
                await self.sessions.forget(session.agent_id)
            elif not agent.workbench:
                self._resumed.add(session.agent_id)
                self.workbench_agents.add(session.agent_id)
        await self.sweep()  # heartbeats that lapsed while the server was down: agent.logout now, not a second later
        self._flusher = asyncio.create_task(self.sessions.flush_every(FLUSH_INTERVAL_S))

    async def stop(self) -> None:
        """Write what is still behind and close the session store."""
        if self._flusher is not None:
            self._flusher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._flusher
        await self.platform.stop()
        await self.sessions.shut()

    def routes(self) -> list[Route]:
        agent = "/onlineagent/{agentid}"
        return [
            self.route("PUT", agent, self.sign_in, needs_guid=False),
            self.route("PUT", f"{agent}/forcelogin", self.force_sign_in, needs_guid=False),
            self.route("PUT", f"{agent}/loginex", self.platform_sign_in, needs_guid=False),
            self.route("DELETE", f"{agent}/logout", self.sign_out, needs_guid=False),
            self.route("GET", "/agentevent/{agentid}", self.poll),
            *self.states.routes(),
            *self.voice.routes(),
            *self.call_data.routes(),
        ]

    # --- plumbing shared by the gateway's interfaces ---

    def route(
        self, method: str, path: str, handler: Callable[..., Awaitable[Response]], needs_guid: bool = True
    ) -> Route:
        return Route(f"{PREFIX}{path}", self._guarded(handler, needs_guid), methods=[method])

    def _guarded(
        self, handler: Callable[..., Awaitable[Response]], needs_guid: bool = True
    ) -> Callable[[Request], Awaitable[Response]]:
        async def run(request: Request) -> Response:
            text = request.path_params["agentid"]
            try:
                agent_id = ascii_int(text, "agentid", max_digits=6)
                check_agent_id(agent_id, "agentid")
            except InvalidParameter as exc:
                return error("000-002", str(exc))
            if not needs_guid:
                return await handler(request, agent_id)
            verdict, session = await self.sessions.check_shared(agent_id, request.headers.get("guid"))
            if verdict == GuidCheck.NOT_SIGNED_IN:
                return error("100-006")
            if verdict == GuidCheck.WRONG_GUID or session is None:
                return error("000-003", "The Guid header does not match this agent's session.")
            return await handler(request, agent_id, session)

        return run

    def agent(self, agent_id: int) -> Agent | None:
        return self.service.engine.agent(self.service.cc_id, agent_id)

    def signed_in_agent(self, agent_id: int) -> Agent | None:
        """The agent as the engine knows it, if signed in (what every workbench action needs)."""
        agent = self.agent(agent_id)
        return agent if agent is not None and agent.signed_in else None

    async def emit(self, type_: str, vdn: int, **fields: Any) -> RejectionNote | None:
        return await self.service.emit_async(type_, vdn, **fields)

    async def act(self, refused: str, type_: str, vdn: int, result: Any = None, **fields: Any) -> Response:
        """Emit one contract event for the agent's request: `success` once it is applied, else `refused` with the
        engine's reason (the facade checked the documented preconditions first; this is the last word)."""
        rejection = await self.service.emit_async(type_, vdn, **fields)
        return error(refused, rejection.reason) if rejection is not None else success(result)

    def tell(self, agent_id: int, event_type: str, content: Any) -> None:
        """Queue an agent event that no contract event causes (a reminder) for the agent's next poll: after the
        events of the log position this node has applied (the node whose timer it is tells it, no other)."""
        event = {"eventType": event_type, "workNo": str(agent_id), "content": content}
        self.sessions.queue([QueuedEvent(agent_id, self.position_key(), _encode(event))])

    def position_key(self) -> int:
        """The last key of the log position this node has applied (what its live state shows)."""
        return _last_key(self.service.pipeline.seq)

    async def _log_end_key(self) -> int:
        """The last key of the log's end (a cluster node may be behind it): a session opened now is owed nothing
        queued before, whichever node queues it."""
        try:
            return _last_key(await self.service.pipeline.log_end())
        except Exception:  # the log out of reach: the sign-in's event fails on its own
            log.warning("gateway: the log's end is out of reach; the session starts at this node's position")
            return self.position_key()

    def _agent_events(self, e: ev.Event, records: list[Record]) -> list[tuple[int, dict[str, Any]]]:
        """Right after `e` was applied: the agent events of workbench agents (every node derives the same ones
        from the log, in its order, with the engine as each event left it)."""
        agents = self.workbench_agents
        if isinstance(e, ev.AgentLogin | ev.AgentLogout) and e.cc_id == self.cc_id:
            self._resumed.discard(e.agent_id)
            agent = self.agent(e.agent_id)
            if agent is not None and agent.workbench:
                agents.add(e.agent_id)
            elif e.agent_id in agents:  # its sign-out (ShutdownService) is still owed
                agents.discard(e.agent_id)
                agents = {e.agent_id}
        if not agents:
            return []  # nobody polls: an ingest of thousands of events costs nothing here
        return [(a, event) for a, event in self.feed.events(e, records) if a in agents]

    def _deliver(self, item: Committed) -> None:
        """Once committed: the event's agent events queued, keyed by its log position. Every node queues the same
        ones (the store takes each once), so none is lost while any node runs."""
        if item.agent_events:
            base = item.seq * KEY_SPAN
            self.sessions.queue([QueuedEvent(agent_id, base + index, _encode(event))
                                 for index, (agent_id, event) in enumerate(item.agent_events)])  # fmt: skip
        self.platform.committed(item)

    # --- sign-in and sign-out ---

    async def sign_in(self, request: Request, agent_id: int) -> Response:
        return await self._sign_in(request, agent_id, force=False)

    async def force_sign_in(self, request: Request, agent_id: int) -> Response:
        return await self._sign_in(request, agent_id, force=True)

    async def platform_sign_in(self, request: Request, agent_id: int) -> Response:
        """`loginex`: sign-in to the CTI platform only (no WebM/MailM media), otherwise the same."""
        return await self._sign_in(request, agent_id, force=False, platform_only=True)

    async def _sign_in(self, request: Request, agent_id: int, force: bool, platform_only: bool = False) -> Response:
        try:
            body = json_object(await http.read_body(request, self.service.config.server.max_body_bytes))
        except (InvalidParameter, http.BodyTooLarge) as exc:
            return error("100-001", str(exc))
        address = http.client_address(request)
        if refusal := self._locked(agent_id, address):
            return refusal
        configured = self.service.config.agent(agent_id)
        if configured is None or not _password_matches(body.get("password"), configured.password):
            self._failed_sign_in(agent_id, address)
            return error("100-004")
        self.agent_lock.succeed(agent_id)
        self.address_lock.succeed(address)
        parsed = _sign_in_options(body, configured.phone)
        if isinstance(parsed, Response):
            return parsed
        if not force and (agent_id in self.sessions.by_agent or ((live := self.agent(agent_id)) and live.signed_in)):
            return error("100-002")
        # The session exists before the sign-in event, so that the agent's first poll returns its events, and is
        # stored before it, so that every sign-in the log holds has its session after a restart.
        session = self.sessions.open(agent_id, configured.vdn, cursor=await self._log_end_key())
        if not await self.sessions.save(session):
            self.sessions.close(agent_id, only=session)
            return error("100-003", "The session could not be stored.")
        rejection = await self.service.emit_async(
            "agent.login", configured.vdn, agentId=agent_id, skills=configured.skills, force=force, **parsed.fields
        )
        if rejection is not None:
            self.sessions.close(agent_id, only=session)
            self.sessions.forget(agent_id)  # not awaited: a session left behind by a crash is dropped at start
            return error("100-007", rejection.reason)
        self.pending_logouts.discard(agent_id)
        chat = any(self.service.config.skill_media(configured.vdn, s) == "chat" for s in configured.skills)
        web = parsed.web_media and chat and not platform_only
        agent = self.agent(agent_id)
        result = {
            "vdnid": configured.vdn,
            "workno": str(agent_id),
            "mediatype": "T" + ("T" if web else "F") + "F",
            "loginTime": str(agent.login_at if agent is not None else wall_clock_ms()),
            "isForceChange": "false",
            "serverName": "AgentGateway",
        }
        return answer(result=result, headers=guid_header(session.guid))

    def _locked(self, agent_id: int, address: str) -> Response | None:
        """The refusal of a locked agent (000-007) or source address (100-016), before the password is looked at."""
        if seconds := self.address_lock.locked_for(address):
            return error("100-016", f"Too many failed sign-ins from this address; locked for {retry_after(seconds)} s.")
        if seconds := self.agent_lock.locked_for(agent_id):
            return error("000-007", f"Too many failed sign-ins of this agent; locked for {retry_after(seconds)} s.")
        return None

    def _failed_sign_in(self, agent_id: int, address: str) -> None:
        lock_s = self.service.config.limits.lock_s
        if self.agent_lock.fail(agent_id):
            security_log.warning("CC-Gateway: agent %d locked for %d s after failed sign-ins (last from %s)",
                        agent_id, lock_s, address)  # fmt: skip
        if self.address_lock.fail(address):
            security_log.warning("CC-Gateway: address %s locked for %d s after failed sign-ins", address, lock_s)

    async def sign_out(self, request: Request, agent_id: int) -> Response:
        # Against the stored session: this node's copy may be of one replaced on another node since.
        verdict, session = await self.sessions.check_shared(agent_id, request.headers.get("guid"), fresh=True)
        if verdict == GuidCheck.NOT_SIGNED_IN:
            agent = self.agent(agent_id)
            return error("100-008" if agent is not None and not agent.signed_in else "100-006")
        if verdict == GuidCheck.WRONG_GUID or session is None:
            return error("000-003", "The Guid header does not match this agent's session.")
        rejection = await self.service.emit_async("agent.logout", session.vdn, agentId=agent_id)
        if rejection is not None and rejection.code == "agent_has_calls":
            return error("100-010", "The agent has calls in progress.")
        self.sessions.close(agent_id)
        await self.sessions.forget(agent_id)
        return answer(message="success", result={})

    # --- polling ---

    async def poll(self, request: Request, agent_id: int, session: Session) -> Response:
        """The agent's next event from the shared queue (whichever node queued it; taken once), waiting up to
        `poll_wait_ms` for one."""
        session.last_poll = wall_clock_ms()
        session.wakeup.clear()  # before the take: an event queued after it wakes the wait below
        taken = await self.sessions.take(agent_id, session.guid)
        if taken is False and self.sessions.by_agent.get(agent_id) is session:
            # The stored session is not this node's copy (the agent signed in again, or out, on another node):
            # the request is answered as the store's session says, and this copy is not used again.
            self.sessions.close(agent_id, only=session)
            verdict, fresh = await self.sessions.check_shared(agent_id, request.headers.get("guid"))
            if verdict == GuidCheck.WRONG_GUID:
                return error("000-003", "The Guid header does not match this agent's session.")
            if verdict != GuidCheck.OK or fresh is None:
                return error("100-006")
            session = fresh
            session.last_poll = wall_clock_ms()
            session.wakeup.clear()
            taken = await self.sessions.take(agent_id, session.guid)
        if taken is None and self.settings.poll_wait_ms:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(session.wakeup.wait(), self.settings.poll_wait_ms / 1000)
            taken = await self.sessions.take(agent_id) if self.sessions.by_agent.get(agent_id) is session else None
        if taken is False or self.sessions.by_agent.get(agent_id) is not session:
            self.sessions.close(agent_id, only=session)
            return error("100-006")  # signed out (here or on another node) or replaced while waiting
        session.last_poll = wall_clock_ms()
        rotated = self.sessions.rotate_if_due(session)
        if rotated:
            await self.sessions.save(session)  # the store knows the new GUID before the client does
        else:
            self.sessions.polled(session)  # the heartbeat is written behind
        headers = guid_header(rotated) if rotated else None
        event = msgspec.json.decode(taken.event) if taken else None
        return http.json({"message": "", "retcode": "0", "event": event}, headers=headers)

    async def sweep(self) -> None:
        """Sign out agents whose client stopped polling (the heartbeat), retrying those still on a call."""
        for session in self.sessions.expired():
            # Another node may have the agent's polls: the store's heartbeat decides.
            fresh = await self.sessions.refresh(session.agent_id)
            if fresh is None or not self.sessions.lapsed(fresh):
                continue
            # Closed at once, but stored until the agent is signed out: a restart in between signs it out then.
            self.sessions.close(session.agent_id)
            self.pending_logouts.add(session.agent_id)
        for agent_id in list(self.pending_logouts):
            agent = self.service.engine.agent(self.service.cc_id, agent_id)
            if agent is None or not agent.signed_in:
                await self._signed_out(agent_id)
                continue
            if await self.service.emit_async("agent.logout", agent.vdn, agentId=agent_id) is None:
                await self._signed_out(agent_id)
        self.states.remind_rests()

    async def _signed_out(self, agent_id: int) -> None:
        self.pending_logouts.discard(agent_id)
        await self.sessions.forget(agent_id)  # written before the sweep goes on: a restart finds it gone


_encode = msgspec.json.Encoder().encode


def _last_key(seq: int) -> int:
    """The last agent-event key of a log position (its reminders' place)."""
    return seq * KEY_SPAN + KEY_SPAN - 1
