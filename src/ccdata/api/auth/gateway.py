"""CC-Gateway sessions: the `Guid` an agent got at sign-in, static (AUTHMODE 1) or rotating (AUTHMODE 2).

In dynamic mode the event-polling interface rotates the GUID every `guid_interval_ms` and returns the new one in
`Set-GUID`; a GUID is valid for `guid_timeout_ms` after it was issued, so a client that missed one rotation
still gets through. An agent not polled for `heartbeat_timeout_ms` is signed out.
"""

from __future__ import annotations

import asyncio
import hmac
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ccdata.config import Gateway as GatewaySettings


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
    def __init__(self, settings: GatewaySettings, clock: Callable[[], int]) -> None:
        self.settings = settings
        self.clock = clock
        self.by_agent: dict[int, Session] = {}

    def open(self, agent_id: int, vdn: int) -> Session:
        now = self.clock()
        session = Session(agent_id, vdn, new_guid(), now, now)
        old = self.by_agent.get(agent_id)
        if old is not None:
            old.wakeup.set()  # a poll waiting on the replaced session returns at once
        self.by_agent[agent_id] = session
        return session

    def close(self, agent_id: int) -> None:
        session = self.by_agent.pop(agent_id, None)
        if session is not None:
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
        session.previous = {g: t for g, t in session.previous.items() if now - t <= self.settings.guid_timeout_ms}
        session.previous[session.guid] = session.issued_at
        session.guid, session.issued_at = new_guid(), now
        return session.guid

    def expired(self) -> list[Session]:
        """Sessions whose agent has not polled within the heartbeat timeout."""
        now = self.clock()
        return [s for s in self.by_agent.values() if now - s.last_poll > self.settings.heartbeat_timeout_ms]
