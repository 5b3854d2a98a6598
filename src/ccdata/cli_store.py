"""How a command finds and opens the embedded store: the same rule everywhere, one sentence for every mistake.

The store is `--db`, else `$CCDATA_DB`, else the configuration's `[server] db`, else `./ccdata.db`. A command
that writes takes the store's writer lock (`ccdata.store.lock`); read-only commands do not. Nothing is created
but the store file itself: a missing folder is an error, not a folder made on a guess.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import click

from ccdata.store.lock import StoreLocked, WriterLock, describe
from ccdata.store.sqlite import SqliteStore

DEFAULT_DB = "ccdata.db"


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
