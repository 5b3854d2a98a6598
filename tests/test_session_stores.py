"""The `SessionStore` port, embedded (SQLite) and distributed (Redis): what one process writes, a restart or another
node reads back whole."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import msgspec
import pytest

from backends import REDIS_URL, redis_prefix, session_store_of
from ccdata.store.ports import QueuedEvent, SessionStore, StoredSession
from ccdata.store.redis_sessions import RedisSessionStore


@pytest.fixture(params=["sqlite", "redis"])
def sessions(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[SessionStore, Any]]:
    with session_store_of(request.param, tmp_path) as (store, reopen):
        yield store, reopen
        store.close()


def session(agent_id: int, guid: str = "g-1", cursor: int = 0, last_poll: int = 1_700_000_001_000) -> StoredSession:
    return StoredSession(agent_id, 1, guid, 1_700_000_000_000, last_poll, {"g-0": 1_699_999_999_000}, cursor)


def event(agent_id: int, key: int) -> QueuedEvent:
    body = {"eventType": "AgentEvent_Ringing", "content": {"callId": f"c-{key}", "n": key, "ok": True, "no": None}}
    return QueuedEvent(agent_id, key, msgspec.json.encode(body))


def test_sessions_are_read_back_whole_in_agent_order_by_another_opener(sessions: tuple[SessionStore, Any]) -> None:
    store, reopen = sessions
    store.put_sessions([session(1003, cursor=7_000_999), session(1001), session(1002)])
    other = reopen()
    try:
        loaded = other.load_sessions()
        assert other.load_session(1003) == session(1003, cursor=7_000_999)
        assert other.load_session(4242) is None
    finally:
        other.close()
    assert [s.agent_id for s in loaded] == [1001, 1002, 1003]
    assert loaded[2] == session(1003, cursor=7_000_999)  # fields, rotated-out GUIDs and the cursor, types kept


def test_a_session_written_again_replaces_its_fields_but_never_moves_its_heartbeat_or_cursor_back(
    sessions: tuple[SessionStore, Any],
) -> None:
    store, _ = sessions
    store.put_sessions([session(1001, "g-1", cursor=5_000, last_poll=2_000)])
    store.put_sessions([session(1001, "g-2", cursor=3_000, last_poll=1_000)])  # another node's older copy
    assert store.load_session(1001) == session(1001, "g-2", cursor=5_000, last_poll=2_000)
    store.record_polls({1001: 1_500, 4242: 9_000})  # older than stored; an agent without a session
    assert store.load_session(1001).last_poll == 2_000
    store.record_polls({1001: 2_500})
    assert store.load_session(1001).last_poll == 2_500
    assert store.load_session(4242) is None


def test_agent_events_are_taken_once_in_key_order_whoever_queued_them(sessions: tuple[SessionStore, Any]) -> None:
    store, reopen = sessions
    other = reopen()  # another node on the same store
    try:
        store.put_sessions([session(1001, cursor=1_999)])
        store.push_agent_events([event(1001, 2_000), event(1001, 2_001), event(1001, 1_500), event(4242, 2_000)])
        other.push_agent_events([event(1001, 2_000), event(1001, 3_000)])  # a lagging node queues the same again
        assert other.take_agent_event(1001) == event(1001, 2_000)
        assert store.take_agent_event(1001) == event(1001, 2_001)
        other.push_agent_events([event(1001, 2_001), event(1001, 2_000)])  # delivered already: left out
        assert store.take_agent_event(1001) == event(1001, 3_000)
        assert other.take_agent_event(1001) is None
        assert store.take_agent_event(4242) is False  # no session
        assert store.load_session(1001).cursor == 3_000
    finally:
        other.close()


def test_skipped_events_are_gone_and_later_ones_still_come(sessions: tuple[SessionStore, Any]) -> None:
    store, _ = sessions
    store.put_sessions([session(1001, cursor=0)])
    store.push_agent_events([event(1001, k) for k in (10, 11, 12)])
    store.skip_agent_events(1001, 12)  # as of the position of key 12: every one queued so far
    store.push_agent_events([event(1001, 11), event(1001, 13)])
    assert store.take_agent_event(1001) == event(1001, 13)
    assert store.take_agent_event(1001) is None


def test_a_new_session_from_a_later_cursor_drops_what_the_old_one_was_owed(sessions: tuple[SessionStore, Any]) -> None:
    store, _ = sessions
    store.put_sessions([session(1001, cursor=0)])
    store.push_agent_events([event(1001, k) for k in (10, 11, 30)])
    store.put_sessions([session(1001, "g-new", cursor=20)])
    assert store.take_agent_event(1001) == event(1001, 30)
    store.delete_sessions([1001])
    store.push_agent_events([event(1001, 40)])
    assert store.take_agent_event(1001) is False


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


def test_a_session_file_of_the_earlier_version_keeps_its_sessions_and_their_queued_events(tmp_path: Path) -> None:
    import sqlite3

    from ccdata.store.sqlite_sessions import SqliteSessionStore

    path = tmp_path / "old.db"
    with sqlite3.connect(path) as db:  # the table as version 0.x wrote it: the queue inside the session row
        db.execute("""CREATE TABLE gateway_session (agent_id INTEGER PRIMARY KEY, vdn INTEGER NOT NULL,
            guid TEXT NOT NULL, issued_at INTEGER NOT NULL, last_poll INTEGER NOT NULL, previous BLOB NOT NULL,
            events BLOB NOT NULL)""")
        queue = [{"eventType": "AgentState_Ready", "workNo": "1001", "content": None},
                 {"eventType": "AgentEvent_Ringing", "workNo": "1001", "content": {"callid": "c-1"}}]  # fmt: skip
        db.execute("INSERT INTO gateway_session VALUES (1001, 1, 'g-1', 5, 6, '{}', ?)", (msgspec.json.encode(queue),))
    store = SqliteSessionStore(path)
    try:
        assert store.load_sessions() == [StoredSession(1001, 1, "g-1", 5, 6, {}, 0)]
        taken = [store.take_agent_event(1001), store.take_agent_event(1001), store.take_agent_event(1001)]
        assert [msgspec.json.decode(t.event) for t in taken[:2]] == queue
        assert taken[2] is None
        store.push_agent_events([event(1001, 7_000)])  # what the log causes later comes after them
        assert store.take_agent_event(1001) == event(1001, 7_000)
    finally:
        store.close()
    SqliteSessionStore(path).close()  # opened again: upgraded once, nothing repeated


def test_a_session_file_of_the_earlier_version_takes_new_and_rewritten_sessions(tmp_path: Path) -> None:
    """After the upgrade a sign-in (a new row) and a rotation (a row written again) are stored as on a new file."""
    import sqlite3

    from ccdata.store.sqlite_sessions import SqliteSessionStore

    path = tmp_path / "old.db"
    with sqlite3.connect(path) as db:  # the table as version 0.x wrote it
        db.execute("""CREATE TABLE gateway_session (agent_id INTEGER PRIMARY KEY, vdn INTEGER NOT NULL,
            guid TEXT NOT NULL, issued_at INTEGER NOT NULL, last_poll INTEGER NOT NULL, previous BLOB NOT NULL,
            events BLOB NOT NULL)""")
        db.execute("INSERT INTO gateway_session VALUES (1001, 1, 'g-1', 5, 6, '{}', '[]')")
    store = SqliteSessionStore(path)
    try:
        store.put_sessions([session(1001, "g-2"), session(1002, "g-3")])
        assert {s.agent_id: s.guid for s in store.load_sessions()} == {1001: "g-2", 1002: "g-3"}
    finally:
        store.close()


def test_a_take_for_a_copy_of_another_session_takes_nothing(sessions: tuple[SessionStore, Any]) -> None:
    """A node's copy of a replaced session (its GUID neither the stored one nor rotated out of it) gets False."""
    store, _ = sessions
    store.put_sessions([session(1001, "g-1")])
    store.push_agent_events([event(1001, 2_000), event(1001, 3_000)])
    assert store.take_agent_event(1001, "g-old") is False
    assert store.take_agent_event(1001, "g-0") == event(1001, 2_000)  # rotated out of the stored session: its own
    assert store.take_agent_event(1001, "g-1") == event(1001, 3_000)
    assert store.take_agent_event(1001, "g-1") is None


def test_events_skipped_up_to_a_key_leave_the_later_ones(sessions: tuple[SessionStore, Any]) -> None:
    store, _ = sessions
    store.put_sessions([session(1001, cursor=10)])
    store.push_agent_events([event(1001, 2_000), event(1001, 3_000), event(1001, 3_999), event(1001, 4_000)])
    store.skip_agent_events(1001, 3_999)
    store.push_agent_events([event(1001, 3_001)])  # a lagging node's: already skipped
    assert store.take_agent_event(1001) == event(1001, 4_000)
    assert store.take_agent_event(1001) is None


def test_redis_sessions_of_the_earlier_version_keep_their_sessions_and_their_queued_events() -> None:
    """As the SQLite file of the earlier version: its sessions are read back, their queued events come first."""
    with redis_prefix() as prefix:
        client = __import__("redis").Redis.from_url(REDIS_URL)
        queue = [{"eventType": "AgentState_Ready", "workNo": "1001", "content": None}]
        old = {"agent_id": 1001, "vdn": 1, "guid": "g-1", "issued_at": 5, "last_poll": 6, "previous": {},
               "events": queue}  # fmt: skip
        client.hset(f"{prefix}:gateway-sessions", "1001", msgspec.json.encode(old))
        client.close()
        store = RedisSessionStore(REDIS_URL, prefix)
        try:
            assert store.load_sessions() == [StoredSession(1001, 1, "g-1", 5, 6, {}, 0)]
            assert msgspec.json.decode(store.take_agent_event(1001).event) == queue[0]
        finally:
            store.close()


class _FailingOnce:
    """The real SQLite session store, whose next `put_sessions` fails once when armed (a disk or network error)."""

    def __init__(self, inner: SessionStore) -> None:
        self.inner = inner
        self.fail_next = False

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def put_sessions(self, sessions: Any) -> None:
        if self.fail_next:
            self.fail_next = False
            raise OSError("injected: the session store is not writable")
        self.inner.put_sessions(sessions)


def test_a_rotation_whose_write_failed_is_written_by_the_next_flush(tmp_path: Path) -> None:
    import asyncio

    from ccdata.api.auth.gateway import Sessions
    from ccdata.config import Gateway
    from ccdata.store.sqlite_sessions import SqliteSessionStore

    async def scenario() -> None:
        store = _FailingOnce(SqliteSessionStore(tmp_path / "sessions.db"))
        sessions = Sessions(Gateway(), lambda: 1_700_000_000_000, store)  # type: ignore[arg-type]
        await sessions.load()
        session = sessions.open(1001, 1, cursor=0)
        assert await sessions.save(session)
        store.fail_next = True
        sessions.rotate_now(session)
        assert not await sessions.save(session)  # logged; the client still gets the new GUID
        assert store.inner.load_session(1001).guid != session.guid
        await sessions.flush()
        assert store.inner.load_session(1001).guid == session.guid  # what a restart or another node reads
        await sessions.shut()

    asyncio.run(scenario())
