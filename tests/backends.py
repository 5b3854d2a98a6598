"""The two modes ccdata runs in, for tests that must hold in both: embedded (one process, SQLite) and distributed
(nodes replicating a NATS JetStream log, records in PostgreSQL, gateway sessions in Redis, on their standard local
ports); and the two kinds of store and of session store, for the store-level tests.

Each distributed test gets a database `ccdata_test_<random>`, a JetStream stream `ccdata-test-<random>` and a Redis
key prefix of its own (`test-<random>:`, the deployment's name; `ccdata-test-<random>:` for the session store
tests), removed afterwards, so parallel runs never meet. A server that is not
reachable fails the test with the command that starts it: the distributed tests never skip silently.

The mode of a test is chosen by conftest's `mode` fixture (see docs/testing.md); `current_mode()` is what
`server.running_server` builds, `distributed_place(key)` where a distributed server keeps its state.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import socket
import sqlite3
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit

import psycopg
import pytest
import redis
from nats.js.errors import NotFoundError

from ccdata.cluster.nats_log import NatsEventLog
from ccdata.store.ports import SessionStore, Store
from ccdata.store.postgres import PostgresStore
from ccdata.store.postgres_schema import COMMIT_LOCK
from ccdata.store.redis_sessions import RedisSessionStore
from ccdata.store.sqlite import SqliteStore
from ccdata.store.sqlite_sessions import SqliteSessionStore

POSTGRES_ADMIN = os.environ.get("CCDATA_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("CCDATA_TEST_REDIS", "redis://127.0.0.1:6379/0")
POSTGRES_START = "pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start"
NATS_URL = os.environ.get("CCDATA_TEST_NATS", "nats://127.0.0.1:4222")
NATS_START = (
    "start-stop-daemon --start --oknodo --background --exec /usr/sbin/nats-server -- "
    "-a 127.0.0.1 -p 4222 -js -sd /var/lib/nats-server"
)
REDIS_START = (
    'redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no '
    "--dir /var/lib/redis --logfile /var/log/redis/ci.log"
)


@contextlib.contextmanager
def postgres_database() -> Iterator[str]:
    """A new, empty database of this test's own; its URL. Dropped afterwards, whoever is still connected."""
    try:
        admin = psycopg.connect(POSTGRES_ADMIN, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as exc:
        pytest.fail(f"PostgreSQL is not reachable at {POSTGRES_ADMIN} ({exc}); start it with: {POSTGRES_START}")
    name = f"ccdata_test_{secrets.token_hex(6)}"
    admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield POSTGRES_ADMIN.rsplit("/", 1)[0] + f"/{name}"
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


@contextlib.contextmanager
def redis_prefix(prefix: str | None = None) -> Iterator[str]:
    """A key prefix of this test's own (`prefix`, else a new one); its keys are deleted afterwards."""
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=3)
    try:
        client.ping()
    except redis.ConnectionError as exc:
        pytest.fail(f"Redis is not reachable at {REDIS_URL} ({exc}); start it with: {REDIS_START}")
    prefix = prefix or f"ccdata-test-{secrets.token_hex(6)}"
    try:
        yield prefix
    finally:
        keys = list(client.scan_iter(match=f"{prefix}:*"))
        if keys:
            client.delete(*keys)
        client.close()


@contextlib.contextmanager
def nats_stream(name: str | None = None) -> Iterator[str]:
    """A JetStream stream name of this test's own (`name`, else a new one; the event log creates the stream);
    deleted afterwards."""
    where = urlsplit(NATS_URL)
    try:
        socket.create_connection((where.hostname, where.port or 4222), timeout=3).close()
    except OSError as exc:
        pytest.fail(f"NATS JetStream is not reachable at {NATS_URL} ({exc}); start it with: {NATS_START}")
    name = name or f"ccdata-test-{secrets.token_hex(6)}"
    try:
        yield name
    finally:
        in_a_thread(_delete_stream(name))


async def _delete_stream(name: str) -> None:
    log = NatsEventLog(NATS_URL, name)
    await log.connect()  # creates it if nothing did: then it is deleted at once
    try:
        with contextlib.suppress(NotFoundError):
            await log.delete()
    finally:
        await log.close()


def in_a_thread(work: Any) -> Any:
    """Run a coroutine to its end on a loop of its own (also from inside a test's running loop)."""
    done: dict[str, Any] = {}

    def run() -> None:
        try:
            done["result"] = asyncio.run(work)
        except BaseException as exc:
            done["error"] = exc

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    if "error" in done:
        raise done["error"]
    return done.get("result")


# --- the two modes ---

MODES = ("embedded", "distributed")


@dataclass(frozen=True)
class Place:
    """Where a distributed deployment keeps its state: records, event log, gateway sessions."""

    store_url: str
    deployment: str  # `[cluster] deployment`: the stream is `ccdata-<deployment>`, the Redis key prefix itself

    @property
    def stream(self) -> str:
        return f"ccdata-{self.deployment}"

    @property
    def prefix(self) -> str:
        return self.deployment

    def cluster_toml(self) -> str:
        """The `[cluster]` table of a `ccdata serve` process that is a node of this place."""
        return (
            f'\n[cluster]\nstore = "{self.store_url}"\nevents = "{NATS_URL}"\nsessions = "{REDIS_URL}"\n'
            f'deployment = "{self.deployment}"\n'
        )


class _Modes:
    """The mode of the running test, and the distributed places made for it, by key (a server's folder): a server
    started again on the same folder finds its database, stream and sessions again."""

    def __init__(self) -> None:
        self.mode: str | None = None
        self.owners: list[contextlib.ExitStack] = []  # innermost last: the test's, inside its module's
        self.places: dict[str, Place] = {}


_MODES = _Modes()


def current_mode() -> str | None:
    return _MODES.mode


@contextlib.contextmanager
def in_mode(mode: str | None) -> Iterator[None]:
    """Tests run in `mode` (None: tests that choose no mode) until the block ends; its places are removed then."""
    previous = _MODES.mode
    _MODES.mode = mode
    try:
        with owning_places():
            yield
    finally:
        _MODES.mode = previous


@contextlib.contextmanager
def owning_places() -> Iterator[None]:
    """The distributed places made inside the block are removed when it ends."""
    with contextlib.ExitStack() as owner:
        _MODES.owners.append(owner)
        try:
            yield
        finally:
            _MODES.owners.remove(owner)


def distributed_place(key: str) -> Place:
    """The place of `key` (made at its first use): a database, a stream and a Redis prefix of this test's own."""
    if key in _MODES.places:
        return _MODES.places[key]
    if not _MODES.owners:
        raise RuntimeError("a distributed place is made inside a test (conftest's `mode` fixture owns it)")
    owner = _MODES.owners[-1]
    url = owner.enter_context(postgres_database())
    place = Place(url, f"test-{secrets.token_hex(6)}")
    owner.enter_context(nats_stream(place.stream))
    owner.enter_context(redis_prefix(place.prefix))
    _MODES.places[key] = place
    owner.callback(_MODES.places.pop, key, None)  # runs first: nothing finds the place while it is removed
    return place


class Backend(Protocol):
    name: str
    place: str  # what a process would be told to open: a file path or a postgresql:// URL

    def open(self, **options: Any) -> Store:
        """A store on this place, as a process (re)starting would open it."""
        ...

    def block_writes(self) -> contextlib.AbstractContextManager[None]:
        """Another writer holding the store's write lock for the duration."""
        ...


class SqliteBackend:
    name = "sqlite"

    def __init__(self, path: Path) -> None:
        self.place = str(path)

    def open(self, **options: Any) -> SqliteStore:
        return SqliteStore(self.place, **options)

    @contextlib.contextmanager
    def block_writes(self) -> Iterator[None]:
        blocker = sqlite3.connect(self.place, isolation_level=None, timeout=0, check_same_thread=False)
        blocker.execute("BEGIN IMMEDIATE")
        try:
            yield
        finally:
            blocker.execute("ROLLBACK")
            blocker.close()


class PostgresBackend:
    name = "postgres"

    def __init__(self, url: str) -> None:
        self.place = url

    def open(self, **options: Any) -> PostgresStore:
        return PostgresStore(self.place, **options)

    @contextlib.contextmanager
    def block_writes(self) -> Iterator[None]:
        with psycopg.connect(self.place) as blocker:  # a transaction until the block ends
            blocker.execute("SELECT pg_advisory_xact_lock(%s)", (COMMIT_LOCK,))
            yield
            blocker.rollback()


@contextlib.contextmanager
def backend_of(kind: str, tmp_path: Path) -> Iterator[Backend]:
    if kind == "sqlite":
        yield SqliteBackend(tmp_path / "ccdata.db")
    else:
        with postgres_database() as url:
            yield PostgresBackend(url)


@contextlib.contextmanager
def session_store_of(kind: str, tmp_path: Path) -> Iterator[tuple[SessionStore, Any]]:
    """A session store, and a function that opens another on the same place (a restart, another node)."""
    if kind == "sqlite":
        path = tmp_path / "sessions.db"
        yield SqliteSessionStore(path), lambda: SqliteSessionStore(path)
    else:
        with redis_prefix() as prefix:
            yield RedisSessionStore(REDIS_URL, prefix), lambda: RedisSessionStore(REDIS_URL, prefix)
