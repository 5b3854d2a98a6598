"""CC-Gateway sessions: the `Guid` an agent got at sign-in, static (AUTHMODE 1) or rotating (AUTHMODE 2).

In dynamic mode the event-polling interface rotates the GUID every `guid_interval_ms` and returns the new one in
`Set-GUID`; a GUID is valid for `guid_timeout_ms` after it was issued, so a client that missed one rotation
still gets through. An agent not polled for `heartbeat_timeout_ms` is signed out.

Sessions outlive the process through a `SessionStore`. Its calls run in one writer thread, in the order they are
made: sign-in, sign-out and rotation are written through (awaited); polls and queued agent events only mark a
session dirty, and `flush_every` writes the dirty ones behind, every `FLUSH_INTERVAL_S` and at shutdown.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import uuid
from collections import deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Final

from ccdata.config import Gateway as GatewaySettings
from ccdata.store.ports import SessionStore, StoredSession

FLUSH_INTERVAL_S: Final = 0.2  # the write-behind window: polls and queued events younger than this may be lost
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
    events: deque[dict[str, Any]] = field(default_factory=deque)
    wakeup: asyncio.Event = field(default_factory=asyncio.Event)


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
        self._dirty: set[int] = set()

    def open(self, agent_id: int, vdn: int) -> Session:
        now = self.clock()
        session = Session(agent_id, vdn, new_guid(), now, now)
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

    def rotate_if_due(self, session: Session) -> str | None:
        """In dynamic mode, a new GUID once the interval has passed; returns it (for `Set-GUID`) or None."""
        now = self.clock()
        if self.settings.auth_mode != 2 or now - session.issued_at < self.settings.guid_interval_ms:
            return None
        return self.rotate_now(session)

    def rotate_now(self, session: Session) -> str:
        """A new GUID now, whatever the mode (a refreshed page asks for one); the old one lives out its timeout."""
        now = self.clock()
        session.previous = {g: t for g, t in session.previous.items() if now - t <= self.settings.guid_timeout_ms}
        session.previous[session.guid] = session.issued_at
        session.guid, session.issued_at = new_guid(), now
        return session.guid

    def expired(self) -> list[Session]:
        """Sessions whose agent has not polled within the heartbeat timeout."""
        now = self.clock()
        return [s for s in self.by_agent.values() if now - s.last_poll > self.settings.heartbeat_timeout_ms]

    # --- the session store ---

    async def load(self) -> list[Session]:
        """Bring back the stored sessions (at start, before any request)."""
        for stored in await asyncio.wrap_future(self._writer.submit(self.store.load_sessions)):
            self.by_agent[stored.agent_id] = _restored(stored)
        return list(self.by_agent.values())

    async def save(self, session: Session) -> bool:
        """Write a session through now; False if that failed (logged, and left to the flusher to retry)."""
        if await self._submit(
            f"save the session of agent {session.agent_id}", self.store.put_sessions, [_stored(session)]
        ):
            return True
        self._dirty.add(session.agent_id)
        return False

    def forget(self, agent_id: int) -> asyncio.Future[bool]:
        """Delete the agent's stored session (closed before), after every write made before; await it to know
        it is done. Not if the agent has signed in again meanwhile: the stored session is the new one."""
        if agent_id in self.by_agent:
            done: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
            done.set_result(True)
            return done
        return self._submit(f"delete the session of agent {agent_id}", self.store.delete_sessions, [agent_id])

    def changed(self, session: Session) -> None:
        """The session changed in a way that may be written behind (a poll, a queued or delivered event)."""
        self._dirty.add(session.agent_id)

    async def flush(self) -> None:
        """Write the dirty sessions still open, in one call."""
        dirty, self._dirty = self._dirty, set()
        sessions = [self.by_agent[a] for a in sorted(dirty) if a in self.by_agent]
        if not sessions:
            return
        ok = await self._submit(
            f"save {len(sessions)} sessions", self.store.put_sessions, [_stored(s) for s in sessions]
        )
        if not ok:
            self._dirty.update(s.agent_id for s in sessions)  # tried again at the next flush

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
        def run() -> bool:
            try:
                call(*args)
            except Exception:
                # Loud but not fatal: what memory holds is still right; a restart reconciles the rest.
                log.exception("gateway sessions: could not %s", what)
                return False
            return True

        return asyncio.wrap_future(self._writer.submit(run))


def _stored(session: Session) -> StoredSession:
    """A copy taken now: the writer thread must not see the session change under it."""
    return StoredSession(
        session.agent_id,
        session.vdn,
        session.guid,
        session.issued_at,
        session.last_poll,
        dict(session.previous),
        list(session.events),
    )


def _restored(stored: StoredSession) -> Session:
    return Session(
        stored.agent_id,
        stored.vdn,
        stored.guid,
        stored.issued_at,
        stored.last_poll,
        dict(stored.previous),
        deque(stored.events),
    )
