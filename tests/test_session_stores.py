"""The `SessionStore` port, embedded (SQLite) and distributed (Redis): what one process writes, a restart or another
node reads back whole."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from backends import REDIS_URL, redis_prefix, session_store_of
from ccdata.store.ports import SessionStore, StoredSession
from ccdata.store.redis_sessions import RedisSessionStore


@pytest.fixture(params=["sqlite", "redis"])
def sessions(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[SessionStore, Any]]:
    with session_store_of(request.param, tmp_path) as (store, reopen):
        yield store, reopen
        store.close()


def session(agent_id: int, guid: str = "g-1", events: int = 0) -> StoredSession:
    queued: list[dict[str, object]] = [
        {"eventType": "AgentEvent_Ringing", "content": {"callId": f"c-{n}", "n": n, "ok": True, "no": None}}
        for n in range(events)
    ]
    return StoredSession(agent_id, 1, guid, 1_700_000_000_000, 1_700_000_001_000, {"g-0": 1_699_999_999_000}, queued)


def test_sessions_are_read_back_whole_in_agent_order_by_another_opener(sessions: tuple[SessionStore, Any]) -> None:
    store, reopen = sessions
    store.put_sessions([session(1003, events=2), session(1001), session(1002, events=1)])
    other = reopen()
    try:
        loaded = other.load_sessions()
    finally:
        other.close()
    assert [s.agent_id for s in loaded] == [1001, 1002, 1003]
    assert loaded[2] == session(1003, events=2)  # fields, rotated-out GUIDs and the event queue, JSON types kept
    assert loaded[0].events == []


def test_a_session_written_again_replaces_the_stored_one(sessions: tuple[SessionStore, Any]) -> None:
    store, _ = sessions
    store.put_sessions([session(1001, "g-1", events=3)])
    store.put_sessions([session(1001, "g-2", events=1)])
    (stored,) = store.load_sessions()
    assert (stored.guid, len(stored.events)) == ("g-2", 1)


def test_deleted_sessions_are_gone_and_others_stay(sessions: tuple[SessionStore, Any]) -> None:
    store, _ = sessions
    store.put_sessions([session(1001), session(1002), session(1003)])
    store.delete_sessions([1001, 1003, 4242])  # an agent with no session is no error
    store.delete_sessions([])
    store.put_sessions([])
    assert [s.agent_id for s in store.load_sessions()] == [1002]


def test_two_deployments_on_one_redis_never_see_each_others_sessions() -> None:
    with redis_prefix() as first, redis_prefix() as second:
        a, b = RedisSessionStore(REDIS_URL, first), RedisSessionStore(REDIS_URL, second)
        a.put_sessions([session(1001)])
        assert b.load_sessions() == []
        a.close()
        b.close()


def test_an_unreachable_redis_is_said_at_start() -> None:
    import redis

    with pytest.raises(redis.ConnectionError):
        RedisSessionStore("redis://127.0.0.1:1/0")
