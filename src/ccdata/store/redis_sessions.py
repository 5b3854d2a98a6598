"""The distributed `SessionStore`: the CC-Gateway's sessions and agent-event queues in Redis, where every node
sees them, so a workbench may sign in on one node and poll any other.

Per deployment (`prefix`): the set `<prefix>:gateway-agents` of agents with a session; per agent, the hash
`<prefix>:gateway-session:<agent>` (vdn, guid, issued_at, previous as JSON, last_poll, cursor) and the sorted set
`<prefix>:gateway-events:<agent>` of queued agent events (score and member prefix: the event's key). Each
operation is a Lua script, so it is atomic on the server: two nodes polling the same agent at once never get the
same event, a lagging node's push of an event already delivered is ignored, and a heartbeat or cursor never goes
back. Scores are exact: keys stay below 2^53.

Durability is the Redis server's: run it with `appendonly yes` (docs/deploy.md) so that an acknowledged write
survives a restart of Redis. A server that cannot be reached raises `redis.ConnectionError`; the gateway logs it,
keeps the session in memory and writes it again later.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from typing import Final

import msgspec
import redis

from ccdata.store.ports import QueuedEvent, StoredSession

DEFAULT_PREFIX: Final = "ccdata"
TIMEOUT_S: Final = 5.0

# KEYS: session, queue, agents set. ARGV: agent, vdn, guid, issued_at, previous, last_poll, cursor.
_PUT: Final = """
local poll = math.max(tonumber(redis.call('HGET', KEYS[1], 'last_poll') or '0'), tonumber(ARGV[6]))
local cursor = math.max(tonumber(redis.call('HGET', KEYS[1], 'cursor') or '0'), tonumber(ARGV[7]))
redis.call('HSET', KEYS[1], 'vdn', ARGV[2], 'guid', ARGV[3], 'issued_at', ARGV[4], 'previous', ARGV[5],
           'last_poll', string.format('%d', poll), 'cursor', string.format('%d', cursor))
redis.call('SADD', KEYS[3], ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', cursor)
"""
# KEYS: session. ARGV: last poll.
_POLLED: Final = """
local stored = redis.call('HGET', KEYS[1], 'last_poll')
if stored and tonumber(stored) < tonumber(ARGV[1]) then redis.call('HSET', KEYS[1], 'last_poll', ARGV[1]) end
"""
# KEYS: session, queue. ARGV: key, member.
_PUSH: Final = """
local cursor = redis.call('HGET', KEYS[1], 'cursor')
if not cursor or tonumber(ARGV[1]) <= tonumber(cursor) then return 0 end
if redis.call('ZCOUNT', KEYS[2], ARGV[1], ARGV[1]) > 0 then return 0 end
return redis.call('ZADD', KEYS[2], ARGV[1], ARGV[2])
"""
# KEYS: session, queue. ARGV: the caller's GUID ('': any). Returns false (no session, or another one than the
# caller's), '' (nothing queued) or the member.
_TAKE: Final = """
local stored = redis.call('HMGET', KEYS[1], 'cursor', 'guid', 'previous')
local cursor = stored[1]
if not cursor then return false end
if ARGV[1] ~= '' and ARGV[1] ~= stored[2] and cjson.decode(stored[3])[ARGV[1]] == nil then return false end
local next = redis.call('ZRANGEBYSCORE', KEYS[2], '(' .. cursor, '+inf', 'WITHSCORES', 'LIMIT', 0, 1)
if #next == 0 then return '' end
redis.call('HSET', KEYS[1], 'cursor', next[2])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', next[2])
return next[1]
"""
# KEYS: session, queue. ARGV: the last key to drop.
_SKIP: Final = """
local cursor = redis.call('HGET', KEYS[1], 'cursor')
if not cursor then return 0 end
if tonumber(ARGV[1]) > tonumber(cursor) then
  cursor = ARGV[1]
  redis.call('HSET', KEYS[1], 'cursor', cursor)
end
return redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', cursor)
"""


class RedisSessionStore:
    """The `SessionStore` port on a Redis server; `prefix` keeps one deployment's keys apart from another's."""

    def __init__(self, url: str, prefix: str = DEFAULT_PREFIX) -> None:
        self.url = url
        self.prefix = prefix
        self._agents = f"{prefix}:gateway-agents"
        self._redis = redis.Redis.from_url(url, socket_timeout=TIMEOUT_S, socket_connect_timeout=TIMEOUT_S)
        self._redis.ping()  # an unreachable server is said at start, not at the first sign-in
        scripts = {"put": _PUT, "polled": _POLLED, "push": _PUSH, "take": _TAKE, "skip": _SKIP}
        self._scripts = {name: self._redis.register_script(code) for name, code in scripts.items()}
        self._lock = threading.Lock()  # one call at a time, as the port's caller does: a guarantee, not a habit
        self._upgrade()

    def _upgrade(self) -> None:
        """The earlier version's layout (the hash `<prefix>:gateway-sessions` of whole sessions, their queued
        events inside): each session moved to its own hash, its events queued first (keys 1, 2, ...), at once
        (a node starting meanwhile retries on what is left)."""
        old = f"{self.prefix}:gateway-sessions"
        with self._redis.pipeline(transaction=True) as pipe:
            while True:
                try:
                    pipe.watch(old)
                    stored = pipe.hgetall(old)
                    if not stored:
                        return
                    pipe.multi()
                    for agent, body in stored.items():
                        agent_id, session = int(agent), msgspec.json.decode(body)
                        pipe.hset(self._session(agent_id), mapping={
                            "vdn": session["vdn"], "guid": session["guid"], "issued_at": session["issued_at"],
                            "previous": msgspec.json.encode(session.get("previous", {})),
                            "last_poll": session["last_poll"], "cursor": 0,
                        })  # fmt: skip
                        pipe.sadd(self._agents, agent_id)
                        for key, event in enumerate(session.get("events", []), 1):
                            pipe.zadd(self._queue(agent_id), {b"%d " % key + msgspec.json.encode(event): key})
                    pipe.delete(old)
                    pipe.execute()
                    return
                except redis.WatchError:
                    continue

    def _session(self, agent_id: int) -> str:
        return f"{self.prefix}:gateway-session:{agent_id}"

    def _queue(self, agent_id: int) -> str:
        return f"{self.prefix}:gateway-events:{agent_id}"

    def load_sessions(self) -> list[StoredSession]:
        with self._lock:
            agents = sorted(int(a) for a in self._redis.smembers(self._agents))
            pipe = self._redis.pipeline(transaction=True)
            for agent_id in agents:
                pipe.hgetall(self._session(agent_id))
            stored = pipe.execute()
        return [_decoded(a, fields) for a, fields in zip(agents, stored, strict=True) if fields]

    def load_session(self, agent_id: int) -> StoredSession | None:
        with self._lock:
            fields = self._redis.hgetall(self._session(agent_id))
        return _decoded(agent_id, fields) if fields else None

    def put_sessions(self, sessions: Sequence[StoredSession]) -> None:
        self._run("put", [
            ([self._session(s.agent_id), self._queue(s.agent_id), self._agents],
             [s.agent_id, s.vdn, s.guid, s.issued_at, msgspec.json.encode(s.previous), s.last_poll, s.cursor])
            for s in sessions
        ])  # fmt: skip

    def record_polls(self, polls: Mapping[int, int]) -> None:
        self._run("polled", [([self._session(a)], [at]) for a, at in polls.items()])

    def delete_sessions(self, agent_ids: Sequence[int]) -> None:
        if agent_ids:
            with self._lock:
                pipe = self._redis.pipeline(transaction=True)
                pipe.delete(*(self._session(a) for a in agent_ids), *(self._queue(a) for a in agent_ids))
                pipe.srem(self._agents, *agent_ids)
                pipe.execute()

    def push_agent_events(self, events: Sequence[QueuedEvent]) -> None:
        self._run("push", [
            ([self._session(e.agent_id), self._queue(e.agent_id)], [e.key, b"%d " % e.key + e.event]) for e in events
        ])  # fmt: skip

    def take_agent_event(self, agent_id: int, guid: str | None = None) -> QueuedEvent | bool | None:
        with self._lock:
            member = self._scripts["take"](keys=[self._session(agent_id), self._queue(agent_id)], args=[guid or ""])
        if member is None:
            return False
        if not member:
            return None
        key, _, event = member.partition(b" ")
        return QueuedEvent(agent_id, int(key), event)

    def skip_agent_events(self, agent_id: int, up_to: int) -> None:
        self._run("skip", [([self._session(agent_id), self._queue(agent_id)], [up_to])])

    def _run(self, script: str, calls: list[tuple[list[str], list[object]]]) -> None:
        """The script once per (keys, args), all in one MULTI/EXEC: all of them or none."""
        if not calls:
            return
        with self._lock:
            pipe = self._redis.pipeline(transaction=True)
            for keys, args in calls:
                self._scripts[script](keys=keys, args=args, client=pipe)
            pipe.execute()

    def close(self) -> None:
        with self._lock:
            self._redis.close()


def _decoded(agent_id: int, fields: dict[bytes, bytes]) -> StoredSession:
    return StoredSession(
        agent_id,
        int(fields[b"vdn"]),
        fields[b"guid"].decode(),
        int(fields[b"issued_at"]),
        int(fields[b"last_poll"]),
        msgspec.json.decode(fields[b"previous"]),
        int(fields[b"cursor"]),
    )
