"""CC-Gateway sessions: the `Guid` an agent got at sign-in, static (AUTHMODE 1) or rotating (AUTHMODE 2).

In dynamic mode the event-polling interface rotates the GUID every `guid_interval_ms` and returns the new one in
`Set-GUID`; a GUID is valid for `guid_timeout_ms` after it was issued, so a client that missed one rotation
still gets through. An agent not polled for `heartbeat_timeout_ms` is signed out.

Sessions outlive the process, and are shared by a deployment's nodes, through a `SessionStore`; what a node
holds in `by_agent` is its copy, read again from the store when a request does not match it. The store's calls
run in one thread, in the order they are made: sign-in, sign-out, rotation, agent events queued and taken are
written through (a take is awaited); heartbeats (polls) only mark a session dirty, and `flush_every` writes them
behind, every `FLUSH_INTERVAL_S` and at shutdown.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Final

from ccdata.config import Gateway as GatewaySettings
from ccdata.store.ports import QueuedEvent, SessionStore, StoredSession

FLUSH_INTERVAL_S: Final = 0.2  # the write-behind window of heartbeats
log = logging.getLogger("ccdata.gateway")


def new_guid() -> str:
    return f"{uuid.uuid4()}.AgentGateway0"


@dataclass
class Session:
    agent_id: int
    vdn: int
    guid: str
    issued_at: int
    last_poll: int
    previous: dict[str, int] = field(default_factory=dict)  # rotated-out GUID -> issued at
    cursor: int = 0  # where its agent-event queue started (a new session skips what the old one was owed)
    wakeup: asyncio.Event = field(default_factory=asyncio.Event)  # set when this node queues an event for it


class GuidCheck:
    OK = "ok"
    NOT_SIGNED_IN = "not_signed_in"
    WRONG_GUID = "wrong_guid"


class Sessions:
    def __init__(self, settings: GatewaySettings, clock: Callable[[], int], store: SessionStore) -> None:
        self.settings = settings
        self.clock = clock
        self.by_agent: dict[int, Session] = {}
        self.store = store
        # One thread: the store sees the writes in the order they were made, so a later one is a later state.
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="gateway-sessions")
        self._dirty: set[int] = set()  # heartbeats to write behind
        self._unsaved: set[int] = set()  # sessions whose write-through failed: written again by the flusher
        self._loop: asyncio.AbstractEventLoop | None = None  # the server's, for wake-ups from other threads
        # Agents whose session this node closed and is signing out: stored until then, but not to be resumed.
        self.closing: set[int] = set()

    def open(self, agent_id: int, vdn: int, cursor: int) -> Session:
        now = self.clock()
        session = Session(agent_id, vdn, new_guid(), now, now, cursor=cursor)
        old = self.by_agent.get(agent_id)
        if old is not None:
            old.wakeup.set()  # a poll waiting on the replaced session returns at once
        self.by_agent[agent_id] = session
        return session

    def close(self, agent_id: int, only: Session | None = None) -> None:
        """Close the agent's session in memory (`only`: if it is still that one); `forget` removes the stored one."""
        session = self.by_agent.get(agent_id)
        if session is not None and (only is None or session is only):
            del self.by_agent[agent_id]
            session.wakeup.set()

    def check(self, agent_id: int, guid: str | None) -> tuple[str, Session | None]:
        session = self.by_agent.get(agent_id)
        if session is None:
            return GuidCheck.NOT_SIGNED_IN, None
        if guid is None:
            return GuidCheck.WRONG_GUID, session
        given = guid.encode("utf-8", "surrogatepass")
        if hmac.compare_digest(given, session.guid.encode()):
            return GuidCheck.OK, session
        now = self.clock()
        for previous, issued in session.previous.items():  # constant time per GUID, at most a few of them
            if hmac.compare_digest(given, previous.encode()) and now - issued <= self.settings.guid_timeout_ms:
                return GuidCheck.OK, session
        return GuidCheck.WRONG_GUID, session

    async def check_shared(self, agent_id: int, guid: str | None, fresh: bool = False) -> tuple[str, Session | None]:
        """`check`, and when this node's copy does not match, against the store's session (signed in or rotated
        on another node, signed out elsewhere); `fresh`: against the store's in any case (a copy that matches may
        be of a session replaced on another node since). A copy due for a rotation is read again too: another node
        may have rotated it, and its current GUID then expires `guid_timeout_ms` after it was issued."""
        verdict, session = self.check(agent_id, guid)
        if verdict == GuidCheck.OK and not fresh and session is not None and not self.rotation_due(session):
            return verdict, session
        await self.refresh(agent_id)
        return self.check(agent_id, guid)

    async def refresh(self, agent_id: int) -> Session | None:
        """This node's copy of the agent's session made the store's (None: there is none)."""
        try:
            stored = await asyncio.wrap_future(self._writer.submit(self.store.load_session, agent_id))
        except Exception:
            log.exception("gateway sessions: could not read the session of agent %s", agent_id)
            return self.by_agent.get(agent_id)  # what this node knows is the best answer left
        mine = self.by_agent.get(agent_id)
        if agent_id in self.closing:
            return mine
        if stored is None:
            if mine is not None:
                self.close(agent_id)
            return None
        if mine is None:
            mine = self.by_agent[agent_id] = _restored(stored)
        else:
            mine.vdn, mine.guid, mine.issued_at = stored.vdn, stored.guid, stored.issued_at
            mine.previous = stored.previous
            mine.last_poll = max(mine.last_poll, stored.last_poll)
        return mine

    def rotate_if_due(self, session: Session) -> str | None:
        """In dynamic mode, a new GUID once the interval has passed; returns it (for `Set-GUID`) or None."""
        return self.rotate_now(session) if self.rotation_due(session) else None

    def rotation_due(self, session: Session) -> bool:
        return self.settings.auth_mode == 2 and self.clock() - session.issued_at >= self.settings.guid_interval_ms

    def rotate_now(self, session: Session) -> str:
        """A new GUID now, whatever the mode (a refreshed page asks for one); the old one lives out its timeout."""
        now = self.clock()
        session.previous = {g: t for g, t in session.previous.items() if now - t <= self.settings.guid_timeout_ms}
        session.previous[session.guid] = session.issued_at
        session.guid, session.issued_at = new_guid(), now
        return session.guid

    def expired(self) -> list[Session]:
        """Sessions whose agent has not polled within the heartbeat timeout."""
        return [s for s in self.by_agent.values() if self.lapsed(s)]

    def lapsed(self, session: Session) -> bool:
        return self.clock() - session.last_poll > self.settings.heartbeat_timeout_ms

    # --- the session store ---

    async def load(self) -> list[Session]:
        """Bring back the stored sessions (at start, before any request)."""
        self._loop = asyncio.get_running_loop()
        for stored in await asyncio.wrap_future(self._writer.submit(self.store.load_sessions)):
            self.by_agent[stored.agent_id] = _restored(stored)
        return list(self.by_agent.values())

    async def save(self, session: Session) -> bool:
        """Write a session through now; False if that failed (logged, and left to the flusher to retry)."""
        if await self._submit(
            f"save the session of agent {session.agent_id}", self.store.put_sessions, [_stored(session)]
        ):
            return True
        self._unsaved.add(session.agent_id)
        return False

    def forget(self, agent_id: int) -> asyncio.Future[bool]:
        """Delete the agent's stored session (closed before), after every write made before; await it to know
        it is done. Not if the agent has signed in again meanwhile: the stored session is the new one."""
        if agent_id in self.by_agent:
            done: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
            done.set_result(True)
            return done
        return self._submit(f"delete the session of agent {agent_id}", self.store.delete_sessions, [agent_id])

    def polled(self, session: Session) -> None:
        """The agent polled: its heartbeat is written behind."""
        self._dirty.add(session.agent_id)

    def queue(self, events: list[QueuedEvent]) -> None:
        """Queue agent events in the store (in order, after every write made before), and wake this node's
        waiting polls of their agents. A failure is logged: the other nodes queue the same events."""
        # Any thread may commit events (an ingest called directly): the store's thread takes them as they come,
        # and the wake-ups are handed to the event loop.
        self._writer.submit(self._logged(f"queue {len(events)} agent events", self.store.push_agent_events, events))
        woken = [s.wakeup for a in {e.agent_id for e in events} if (s := self.by_agent.get(a)) is not None]
        if woken and self._loop is not None:
            self._loop.call_soon_threadsafe(lambda: [w.set() for w in woken])

    async def take(self, agent_id: int, guid: str | None = None) -> QueuedEvent | bool | None:
        """The agent's next event, taken from the store's queue (None: none; False: the session is gone, or with
        `guid`, the GUID of this node's copy, the stored session is another one)."""
        try:
            return await asyncio.wrap_future(self._writer.submit(self.store.take_agent_event, agent_id, guid))
        except Exception:
            log.exception("gateway sessions: could not take an event of agent %s", agent_id)
            return None  # an empty poll: the event stays queued for the next one

    def skip(self, agent_id: int, up_to: int) -> asyncio.Future[bool]:
        return self._submit(f"drop the events of agent {agent_id}", self.store.skip_agent_events, agent_id, up_to)

    async def flush(self) -> None:
        """Write again the sessions whose write failed (a sign-in or a rotation), then the heartbeats of the dirty
        sessions still open, in one call each."""
        unsaved, self._unsaved = self._unsaved, set()
        whole = [self.by_agent[a] for a in sorted(unsaved) if a in self.by_agent]
        if whole and not await self._submit(
            f"save {len(whole)} sessions again", self.store.put_sessions, [_stored(s) for s in whole]
        ):
            self._unsaved.update(s.agent_id for s in whole)
        dirty, self._dirty = self._dirty, set()
        polls = {a: self.by_agent[a].last_poll for a in sorted(dirty) if a in self.by_agent}
        if polls and not await self._submit(f"save {len(polls)} heartbeats", self.store.record_polls, polls):
            self._dirty.update(polls)  # tried again at the next flush

    async def flush_every(self, seconds: float) -> None:
        while True:
            await asyncio.sleep(seconds)
            await self.flush()

    async def shut(self) -> None:
        """The last flush, then the store is closed (after every write queued before)."""
        await self.flush()
        await self._submit("close the session store", self.store.close)
        self._writer.shutdown(wait=False)  # its queue is empty: the close above was the last call

    def _submit(self, what: str, call: Callable[..., None], *args: Any) -> asyncio.Future[bool]:
        return asyncio.wrap_future(self._writer.submit(self._logged(what, call, *args)))

    @staticmethod
    def _logged(what: str, call: Callable[..., None], *args: Any) -> Callable[[], bool]:
        def run() -> bool:
            try:
                call(*args)
            except Exception:
                # Loud but not fatal: what memory holds is still right; a restart reconciles the rest.
                log.exception("gateway sessions: could not %s", what)
                return False
            return True

        return run


def _stored(session: Session) -> StoredSession:
    """A copy taken now: the writer thread must not see the session change under it."""
    return StoredSession(
        session.agent_id,
        session.vdn,
        session.guid,
        session.issued_at,
        session.last_poll,
        dict(session.previous),
        session.cursor,
    )


def _restored(stored: StoredSession) -> Session:
    return Session(
        stored.agent_id,
        stored.vdn,
        stored.guid,
        stored.issued_at,
        stored.last_poll,
        dict(stored.previous),
        stored.cursor,
    )
