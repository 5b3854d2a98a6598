"""The two kinds of store and of session store, for tests that must hold for both: embedded (SQLite) and
distributed (PostgreSQL, Redis, on their standard local ports).

Each distributed test gets a database `ccdata_test_<random>` (or a Redis key prefix `ccdata-test-<random>:`) of its
own, removed afterwards, so parallel runs never meet. A server that is not reachable fails the test with the
command that starts it: the distributed tests never skip silently.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Protocol

import psycopg
import pytest
import redis

from ccdata.store.ports import SessionStore, Store
from ccdata.store.postgres import PostgresStore
from ccdata.store.postgres_schema import COMMIT_LOCK
from ccdata.store.redis_sessions import RedisSessionStore
from ccdata.store.sqlite import SqliteStore
from ccdata.store.sqlite_sessions import SqliteSessionStore

POSTGRES_ADMIN = os.environ.get("CCDATA_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("CCDATA_TEST_REDIS", "redis://127.0.0.1:6379/0")
POSTGRES_START = "pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start"
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
def redis_prefix() -> Iterator[str]:
    """A key prefix of this test's own; its keys are deleted afterwards."""
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=3)
    try:
        client.ping()
    except redis.ConnectionError as exc:
        pytest.fail(f"Redis is not reachable at {REDIS_URL} ({exc}); start it with: {REDIS_START}")
    prefix = f"ccdata-test-{secrets.token_hex(6)}"
    try:
        yield prefix
    finally:
        keys = list(client.scan_iter(match=f"{prefix}:*"))
        if keys:
            client.delete(*keys)
        client.close()


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
