"""`ccdata webhooks list` and `ccdata webhooks replay [ID...]`: the dead letters of the webhook deliveries.

Both work beside a running server (they take no writer lock or lease: the outbox and the dead letters are rows
of their own, written in short transactions), on the embedded store (`--db`) or the distributed one (`--store
postgresql://…`, where any node's dispatcher takes it); a re-queued delivery is attempted at a dispatcher's next
look at the outbox (within seconds), with its attempts counted from zero.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path

import click
import msgspec
from rich.console import Console
from rich.table import Table

from ccdata.cli_store import UserError, postgres_opened, resolve_store, store_option
from ccdata.store.ports import WebhookStore

out = Console(width=None if sys.stdout.isatty() else 160)


def _store(db: Path | None, store_url: str | None, config_path: str | None) -> WebhookStore:
    from ccdata import config as configuration

    try:
        settings = configuration.load(config_path) if config_path else None
    except configuration.ConfigError as exc:
        raise UserError(str(exc)) from None
    place = resolve_store(
        db, store_url, settings.server.db if settings else "", settings.cluster.store if settings else ""
    )
    if isinstance(place, Path):
        from ccdata.store.sqlite_webhooks import SqliteWebhookStore

        if not place.exists():
            raise UserError(f"no store at {place} (pass --db, or --store for a PostgreSQL one)")
        return SqliteWebhookStore(place)
    from ccdata.store.postgres_webhooks import PostgresWebhookStore

    return postgres_opened(place, lambda: PostgresWebhookStore(place))


_db = click.option("--db", type=click.Path(path_type=Path), help="The store (default: $CCDATA_DB, else ./ccdata.db).")
_config = click.option(
    "--config", "config_path", type=click.Path(exists=True, dir_okay=False), help="TOML configuration."
)


@click.group()
def webhooks() -> None:
    """Webhook deliveries that failed every attempt (the dead letters): list them, re-queue them."""


@webhooks.command("list")
@_db
@store_option
@_config
@click.option("--json", "as_json", is_flag=True, help="One JSON object per dead letter, one a line.")
def list_dead(db: Path | None, store_url: str | None, config_path: str | None, as_json: bool) -> None:
    """The dead letters, oldest first, and how many deliveries are still pending per webhook."""
    store = _store(db, store_url, config_path)
    try:
        dead, pending = store.dead(), store.pending()
    finally:
        store.close()
    if as_json:
        for letter in dead:
            d = letter.delivery
            click.echo(msgspec.json.encode({
                "id": d.id, "webhook": d.webhook, "kind": d.kind, "seq": d.seq, "vdn": d.vdn, "attempts": d.attempts,
                "diedAt": letter.died_at, "lastError": d.last_error, "data": msgspec.Raw(d.data),
            }))  # fmt: skip
        return
    table = Table("id", "webhook", "kind", "seq", "vdn", "attempts", "died at (UTC)", "last error")
    for letter in dead:
        d = letter.delivery
        died = datetime.fromtimestamp(letter.died_at / 1000, UTC).strftime("%Y-%m-%d %H:%M:%S")
        table.add_row(str(d.id), d.webhook, d.kind, str(d.seq), str(d.vdn), str(d.attempts), died, d.last_error)
    out.print(table)
    waiting = ", ".join(f"{name}: {count}" for name, count in sorted(pending.items())) or "none"
    out.print(f"{len(dead)} dead letters; pending deliveries: {waiting}")


@webhooks.command()
@click.argument("ids", nargs=-1, type=int)
@_db
@store_option
@_config
def replay(ids: tuple[int, ...], db: Path | None, store_url: str | None, config_path: str | None) -> None:
    """Re-queue the dead letters IDS (all of them when none is given)."""
    store = _store(db, store_url, config_path)
    try:
        moved = store.replay(list(ids) if ids else None)
    finally:
        store.close()
    missing = len(ids) - moved if ids else 0
    out.print(
        f"re-queued {moved} deliveries" + (f"; {missing} of the IDs given are not dead letters" if missing else "")
    )
    if missing:
        sys.exit(1)
