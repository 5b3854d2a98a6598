"""The distributed `SessionStore`: the CC-Gateway's sessions in Redis, where every node sees them.

One hash per deployment, `<prefix>:gateway-sessions`, maps an agent ID to its whole session (msgspec JSON: the
fields, the rotated-out GUIDs and the undelivered agent events, oldest first), as the SQLite store keeps one row
per session. A call is one Redis command (HSET of every session given, HDEL of every agent given), so it is
atomic: a session is never half of one state and half of another, and a batch is all written or none.

Durability is the Redis server's: run it with `appendonly yes` (docs/deploy.md) so that an acknowledged write
survives a restart of Redis. A server that cannot be reached raises `redis.ConnectionError`; the gateway logs it,
keeps the session in memory and writes it again later.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Final

import msgspec
import redis

from ccdata.store.ports import StoredSession

DEFAULT_PREFIX: Final = "ccdata"
TIMEOUT_S: Final = 5.0


class RedisSessionStore:
    """The `SessionStore` port on a Redis server; `prefix` keeps one deployment's keys apart from another's."""

    def __init__(self, url: str, prefix: str = DEFAULT_PREFIX) -> None:
        self.url = url
        self.prefix = prefix
        self._key = f"{prefix}:gateway-sessions"
        self._redis = redis.Redis.from_url(url, socket_timeout=TIMEOUT_S, socket_connect_timeout=TIMEOUT_S)
        self._redis.ping()  # an unreachable server is said at start, not at the first sign-in
        self._encoder = msgspec.json.Encoder()
        self._decoder = msgspec.json.Decoder(StoredSession)
        self._lock = threading.Lock()  # one call at a time, as the port's caller does: a guarantee, not a habit

    def load_sessions(self) -> list[StoredSession]:
        with self._lock:
            stored = self._redis.hvals(self._key)
        return sorted((self._decoder.decode(value) for value in stored), key=lambda s: s.agent_id)

    def put_sessions(self, sessions: Sequence[StoredSession]) -> None:
        if not sessions:
            return
        mapping = {str(s.agent_id): self._encoder.encode(s) for s in sessions}  # encoded before the call
        with self._lock:
            self._redis.hset(self._key, mapping=mapping)

    def delete_sessions(self, agent_ids: Sequence[int]) -> None:
        if agent_ids:
            with self._lock:
                self._redis.hdel(self._key, *map(str, agent_ids))

    def close(self) -> None:
        with self._lock:
            self._redis.close()
