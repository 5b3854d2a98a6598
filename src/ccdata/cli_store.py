"""How a command finds and opens its store: the same rule everywhere, one sentence for every mistake.

The embedded store is `--db`, else `$CCDATA_DB`, else the configuration's `[server] db`, else `./ccdata.db`. A
command that writes takes the store's writer lock (`ccdata.store.lock`); read-only commands do not. Nothing is
created but the store file itself: a missing folder is an error, not a folder made on a guess.

The distributed store is `--store`, else `$CCDATA_STORE_URL`, else `[cluster] store` (a postgresql:// URL); a
writer takes its lease instead of the file lock. The gateway's sessions are `--sessions`, else
`$CCDATA_SESSIONS_URL`, else `[cluster] sessions` (a redis:// URL); without one they stay beside an SQLite store,
or in memory beside PostgreSQL.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from ccdata.store.lock import StoreLocked, WriterLock, describe
from ccdata.store.ports import SessionStore, StoreUnavailable
from ccdata.store.sqlite import SqliteStore

DEFAULT_DB = "ccdata.db"
T = TypeVar("T")


db_option = click.option(
    "--db",
    type=click.Path(path_type=Path),  # checked here, which says what is wrong in one line
    help="The embedded store (a SQLite file; created if missing). Default: $CCDATA_DB, else the "
    "configuration's [server] db, else ./ccdata.db.",
)


class UserError(click.ClickException):
    """A mistake of the user's: printed as one line, exit status 2."""

    exit_code = 2

    def show(self, file=None) -> None:  # type: ignore[no-untyped-def]
        click.echo(f"error: {self.format_message()}", err=True)


def resolve_db(flag: str | Path | None, configured: str = "") -> Path:
    return Path(flag or os.environ.get("CCDATA_DB") or configured or DEFAULT_DB)


def resolve_cluster(flag: str | None, variable: str, configured: str) -> str:
    """A server URL of the distributed mode ("" for the embedded mode): the flag, the variable, the file."""
    return flag or os.environ.get(variable) or configured


store_option = click.option(
    "--store",
    "store_url",
    metavar="URL",
    help="The distributed store, a postgresql:// URL (default: $CCDATA_STORE_URL, else the configuration's "
    "[cluster] store; none: the embedded --db).",
)


def resolve_store(
    db: Path | None, store_url: str | None, configured_db: str = "", configured_url: str = ""
) -> Path | str:
    """Which store a command that reads (or keeps beside a server) uses: a postgresql:// URL, or the embedded
    store's file. The flags win (both is a mistake), then $CCDATA_STORE_URL and `[cluster] store`, then the
    embedded store's own rule (`resolve_db`)."""
    if db is not None and store_url:
        raise UserError("--db is the embedded store and --store the distributed one: pass one of them")
    if db is not None:
        return db
    url = resolve_cluster(store_url, "CCDATA_STORE_URL", configured_url)
    if url:
        if not url.startswith(("postgresql://", "postgres://")):
            raise UserError(
                f"--store takes a postgresql:// URL, not {url.split('://')[0]!r}: e.g. postgresql://ccdata@db/ccdata"
            )
        return url
    return resolve_db(None, configured_db)


def open_reader(place: Path | str) -> Any:
    """The store at `place` (from `resolve_store`) for reading: no writer lock, no lease."""
    if isinstance(place, Path):
        return open_for_reading(place)
    return _postgres_store(place, writer=None)


def open_distributed_for_writing(url: str, command: str, *, busy_timeout_s: float, standby: bool) -> Any:
    """A `PostgresStore` holding the record writer's lease; it is its own lock (`update`, `release`)."""
    if not url.startswith(("postgresql://", "postgres://")):
        raise UserError(
            f"--store takes a postgresql:// URL, not {url.split('://')[0]!r}: e.g. postgresql://ccdata@db/ccdata"
        )

    def waiting(holder: dict[str, Any]) -> None:
        click.echo(f"standby: waiting for the record writer's lease, held by {describe(holder)}", err=True)

    try:
        return _postgres_store(url, writer=command, standby=standby, busy_timeout_s=busy_timeout_s, on_standby=waiting)
    except StoreLocked as exc:
        raise UserError(
            f"{exc.path} is being written by {describe(exc.holder)}: one record writer at a time (pass --standby to "
            "wait and take over when it stops)"
        ) from None


def _postgres_store(url: str, **options: Any) -> Any:
    """A `PostgresStore`; a server out of reach or a database that is not a store said in one line."""
    from ccdata.store.postgres import PostgresStore

    return postgres_opened(url, lambda: PostgresStore(url, **options))


def postgres_opened(url: str, opening: Callable[[], T]) -> T:
    """What `opening` opens on the PostgreSQL store at `url`; a server out of reach or a database that is not a
    store said in one line."""
    from ccdata.store.postgres import where
    from ccdata.store.postgres_schema import SchemaError

    try:
        return opening()
    except StoreUnavailable as exc:
        raise UserError(f"cannot use the store ({exc}): is PostgreSQL running, and does the database exist?") from None
    except SchemaError as exc:
        raise UserError(f"cannot use {where(url)} as a store: {exc}") from None


class _NodeLease:
    """The CLI's lock of a cluster node: the record writer's lease is the pipeline's to take and give up."""

    def __init__(self, store: Any) -> None:
        self.store = store

    def update(self, url: str | None = None) -> None:
        """Nothing to say before the node holds the lease."""

    def release(self) -> None:
        self.store.release()


def open_cluster_node(url: str, events_url: str, deployment: str, busy_timeout_s: float) -> tuple[Any, Any, Any]:
    """(store, lock, event log) of a node of the distributed form: any number of them share one PostgreSQL and one
    JetStream stream; the record writer among them is whichever holds the lease."""
    from ccdata.cluster.nats_log import NatsEventLog

    if not url.startswith(("postgresql://", "postgres://")):
        raise UserError("--events needs --store postgresql://…: the nodes share their records there")
    if not events_url.startswith(("nats://", "tls://")):
        raise UserError(f"--events takes a nats:// URL, not {events_url.split('://')[0]!r}: e.g. nats://bus:4222")
    store = _postgres_store(url, writer=None, busy_timeout_s=busy_timeout_s)
    return store, _NodeLease(store), NatsEventLog(events_url, f"ccdata-{deployment}")


def open_sessions(url: str, deployment: str) -> SessionStore:
    """The shared session store on Redis; an unreachable server is said in one line."""
    import redis

    from ccdata.store.redis_sessions import RedisSessionStore

    if not url.startswith(("redis://", "rediss://", "unix://")):
        raise UserError(f"--sessions takes a redis:// URL, not {url.split('://')[0]!r}: e.g. redis://cache:6379/0")
    try:
        return RedisSessionStore(url, deployment)
    except redis.RedisError as exc:
        raise UserError(f"cannot use the session store at {url.split('@')[-1]} ({exc}): is Redis running?") from None


def open_for_writing(path: Path, command: str, *, busy_timeout_s: float = 5.0) -> tuple[SqliteStore, WriterLock]:
    _check_place(path)
    try:
        lock = WriterLock(path, command)
    except StoreLocked as exc:
        url = exc.holder.get("url")
        how = (
            f"send it events with `ccdata ingest --url {url} FILE`"
            if url
            else "wait for it to finish, or stop it first"
        )
        raise UserError(f"{path} is being written by {describe(exc.holder)}: {how}") from None
    except OSError as exc:  # a read-only or pseudo file system, no permission, no space
        raise UserError(f"cannot write in {path.parent} ({exc.strerror}): choose a writable place for --db") from None
    try:
        return _open(path, busy_timeout_s), lock
    except BaseException:
        lock.release()
        raise


def open_for_reading(path: Path) -> SqliteStore:
    if not path.exists():
        raise UserError(f"no store at {path} (ingest events first, or pass --db)")
    return _open(path, 5.0)


def _check_place(path: Path) -> None:
    folder = path.parent
    if not folder.is_dir():
        raise UserError(f"the folder {folder} does not exist: create it first, or choose another --db")
    if path.is_dir():
        raise UserError(f"{path} is a folder, not a store file: choose a file name for --db")


def _open(path: Path, busy_timeout_s: float) -> SqliteStore:
    _check_is_ccdata_store(path)
    try:
        return SqliteStore(path, busy_timeout_s=busy_timeout_s)
    except sqlite3.DatabaseError as exc:
        text = str(exc)
        if "readonly" in text or "unable to open" in text:
            raise UserError(
                f"cannot open {path} for writing ({text}): check its and its folder's permissions"
            ) from None
        raise UserError(f"cannot use {path} as a store: {text}") from None


def _check_is_ccdata_store(path: Path) -> None:
    """An existing file must be a ccdata store: never add tables to someone else's database, or read garbage."""
    if not path.exists() or path.stat().st_size == 0:
        return
    try:
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            tables = {name for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        finally:
            db.close()
    except sqlite3.DatabaseError:
        raise UserError(f"{path} is not a ccdata store (not an SQLite database): choose another --db") from None
    if tables and "event_log" not in tables:
        raise UserError(f"{path} is an SQLite database of something else, not a ccdata store: choose another --db")


def open_serving(
    settings: Any,
    db: Path | None,
    store_url: str | None,
    sessions_url: str | None,
    standby: bool,
    command: str,
    events_url: str | None = None,
) -> tuple[Any, Any, SessionStore | None, str, Any]:
    """The store a server writes, its lock or lease, its session store (None: beside the store), a description,
    and the shared event log of a cluster node (None: the embedded log in the store)."""
    cluster = settings.cluster
    url = resolve_cluster(store_url, "CCDATA_STORE_URL", cluster.store)
    events_at = resolve_cluster(events_url, "CCDATA_EVENTS_URL", cluster.events)
    busy_timeout_s = settings.store.busy_timeout_ms / 1000
    if url and db is not None:
        raise UserError("--db is the embedded store and --store the distributed one: pass one of them")
    event_log = None
    if events_at:
        store, lock, event_log = open_cluster_node(url or "", events_at, cluster.deployment, busy_timeout_s)
        described = f"store {store.where}, events {events_at.split('@')[-1]} stream {event_log.stream}"
    elif url:
        store = open_distributed_for_writing(url, command, busy_timeout_s=busy_timeout_s, standby=standby)
        lock, described = store, f"store {store.where}"
    else:
        path = resolve_db(db, settings.server.db)
        store, lock = open_for_writing(path, command, busy_timeout_s=busy_timeout_s)
        described = f"store {path}"
    sessions_at = resolve_cluster(sessions_url, "CCDATA_SESSIONS_URL", cluster.sessions)
    if not sessions_at:
        in_memory = "" if not url else ", gateway sessions in memory (no --sessions)"
        return store, lock, None, described + in_memory, event_log
    try:
        sessions = open_sessions(sessions_at, cluster.deployment)
    except BaseException:
        store.close()
        lock.release()
        raise
    return (
        store,
        lock,
        sessions,
        f"{described}, sessions {sessions_at.split('@')[-1]} ({cluster.deployment})",
        event_log,
    )
