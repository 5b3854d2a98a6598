"""`ccdata migrate` and `ccdata migrate-store`: the distributed store's schema, and moving an embedded store in."""

from __future__ import annotations

import time
from pathlib import Path

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from ccdata.cli_store import UserError, open_distributed_for_writing, resolve_cluster
from ccdata.store.lock import StoreLocked, WriterLock, describe
from ccdata.store.postgres_schema import LATEST

err = Console(stderr=True)

store_option = click.option(
    "--store", "store_url", help="The PostgreSQL store, a postgresql:// URL (default: $CCDATA_STORE_URL)."
)


def _store_url(flag: str | None) -> str:
    url = resolve_cluster(flag, "CCDATA_STORE_URL", "")
    if not url:
        raise UserError("which store? pass --store postgresql://USER@HOST/DATABASE or set CCDATA_STORE_URL")
    return url


@click.command()
@store_option
def migrate(store_url: str | None) -> None:
    """Bring the PostgreSQL store's schema up to this ccdata's version (a server also does it at start).

    Each migration is applied once, in its own transaction; running it again changes nothing."""
    store = open_distributed_for_writing(_store_url(store_url), "migrate", busy_timeout_s=5.0, standby=False)
    applied = store.migrated
    store.close()
    done = f"applied migration{'s' if len(applied) > 1 else ''} {', '.join(map(str, applied))}" if applied else (
        "nothing to apply")  # fmt: skip
    click.echo(f"{store.where}: schema version {LATEST} ({done})")


@click.command("migrate-store")
@click.option("--from", "source", type=click.Path(path_type=Path), required=True, help="The embedded store file.")
@click.option("--to", "target_url", help="The PostgreSQL store, a postgresql:// URL (default: $CCDATA_STORE_URL).")
def migrate_store(source: Path, target_url: str | None) -> None:
    """Copy an embedded store (event log, rejections, call track, call results, snapshot) into an empty
    PostgreSQL store.

    The copy is one transaction: interrupted, it leaves the target empty, and can be run again. Neither store
    may be written meanwhile (stop the server first); the embedded store is left as it was."""
    from ccdata.store.migrate_store import TargetNotEmpty, copy_embedded, open_source, rows_to_copy
    from ccdata.store.ports import StoreUnavailable

    if not source.is_file():
        raise UserError(f"no embedded store at {source}: pass the SQLite file with --from")
    try:
        lock = WriterLock(source, "migrate-store")  # a server still writing it would go on without the copy
    except StoreLocked as exc:
        raise UserError(f"{source} is being written by {describe(exc.holder)}: stop it first") from None
    target = open_distributed_for_writing(_store_url(target_url), "migrate-store", busy_timeout_s=5.0, standby=False)
    started = time.perf_counter()
    try:
        db = open_source(source)
        with Progress(
            TextColumn("copying"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), TimeRemainingColumn(),
            console=err, disable=not err.is_terminal,
        ) as progress:  # fmt: skip
            task = progress.add_task("copy", total=rows_to_copy(db))
            copied = copy_embedded(db, target, lambda n: progress.advance(task, n))
        db.close()
    except TargetNotEmpty as exc:
        raise UserError(f"{exc}: migrate-store copies into an empty store only (use a new database)") from None
    except StoreUnavailable as exc:
        raise UserError(f"the copy was not made ({exc}): the target is unchanged, run the same command again") from None
    finally:
        target.close()
        lock.release()
    counts = ", ".join(f"{n:,} {kind}" for kind, n in copied.items())
    click.echo(f"copied {source} into {target.where} in {time.perf_counter() - started:.1f} s: {counts}")
