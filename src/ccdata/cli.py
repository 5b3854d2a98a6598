"""The `ccdata` command."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

import click
import msgspec
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TransferSpeedColumn
from rich.table import Table

from ccdata import __version__
from ccdata.domain.codes import DeviceType, reason_description
from ccdata.domain.model import Call, Leg
from ccdata.domain.records import TrackRow
from ccdata.pipeline import IngestReport, Pipeline
from ccdata.store.sqlite import SqliteStore

DEFAULT_DB = "ccdata.db"
SHOWN_REJECTIONS = 20

# Tables are wider than 80 columns: when the output is a pipe or a file, do not squeeze them to 80.
out = Console(width=None if sys.stdout.isatty() else 140)
err = Console(stderr=True)

db_option = click.option(
    "--db",
    type=click.Path(dir_okay=False, path_type=Path),
    default=lambda: os.environ.get("CCDATA_DB", DEFAULT_DB),
    show_default="$CCDATA_DB or ./ccdata.db",
    help="The embedded store (a SQLite file; created if missing).",
)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="ccdata")
def main() -> None:
    """ccdata: contact-center call data, wire-compatible with Huawei CEC call-data interfaces."""


# --- ingest -------------------------------------------------------------------------------------------------


@main.command()
@click.argument("source", type=click.File("rb"))
@db_option
@click.option("--batch", default=2000, show_default=True, help="Events per commit.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar.")
def ingest(source: IO[bytes], db: Path, batch: int, as_json: bool, quiet: bool) -> None:
    """Ingest contract events from a JSON-lines FILE (or - for standard input).

    Every line goes through the event log and the engine into the store. Exits 0 when every event was
    accepted (or was a duplicate), 1 when any was rejected; the reasons are printed and kept in the store.
    """
    store = SqliteStore(db)
    pipeline = Pipeline(store, batch_size=batch)
    total = _size_of(source)
    show = not quiet and not as_json and err.is_terminal
    with Progress(
        TextColumn("ingesting"),
        BarColumn(),
        TransferSpeedColumn(),
        TimeElapsedColumn(),
        console=err,
        disable=not show,
    ) as progress:
        task = progress.add_task("ingest", total=total)
        report = pipeline.ingest(_lines(source, lambda n: progress.advance(task, n)))
    pipeline.save_snapshot()
    store.close()
    if as_json:
        click.echo(msgspec.json.encode(_report_json(report)))
    else:
        _print_report(report, db)
    sys.exit(1 if report.rejected else 0)


def _size_of(source: IO[bytes]) -> int | None:
    try:
        return os.fstat(source.fileno()).st_size if source.seekable() else None
    except (OSError, ValueError):
        return None


def _lines(source: IO[bytes], advance: Any) -> Iterator[bytes]:
    """The file's lines, advancing the progress bar by bytes read (blank lines are skipped by the pipeline)."""
    done = 0
    for line in source:
        done += len(line)
        if done >= 1 << 20:
            advance(done)
            done = 0
        yield line
    advance(done)


def _report_json(report: IngestReport) -> dict[str, Any]:
    return {
        "accepted": report.accepted,
        "duplicates": report.duplicates,
        "rejected": report.rejected,
        "seconds": round(report.seconds, 3),
        "eventsPerSecond": round(report.events_per_second),
        "reasons": dict(report.reasons),
        "rejections": [n._asdict() for n in report.notes],
    }


def _print_report(report: IngestReport, db: Path) -> None:
    summary = Table(title=f"ingest into {db}", show_header=False)
    summary.add_row("accepted", f"{report.accepted:,}")
    summary.add_row("duplicates", f"{report.duplicates:,}")
    summary.add_row("rejected", f"{report.rejected:,}")
    summary.add_row("elapsed", f"{report.seconds:.2f} s")
    summary.add_row("events/s", f"{report.events_per_second:,.0f}")
    out.print(summary)
    if not report.rejected:
        return
    reasons = Table(title="rejections by reason")
    reasons.add_column("reason")
    reasons.add_column("count", justify="right")
    for code, count in report.reasons.most_common():
        reasons.add_row(code, f"{count:,}")
    out.print(reasons)
    notes = Table(title=f"first {min(SHOWN_REJECTIONS, len(report.notes))} rejections")
    for column in ("line", "event id", "reason"):
        notes.add_column(column)
    for note in report.notes[:SHOWN_REJECTIONS]:
        notes.add_row(str(note.position), note.event_id or "-", f"{note.code}: {note.reason}")
    out.print(notes)
    out.print("Every rejected input is kept with its reason in the store's rejected_input table.")


# --- call ---------------------------------------------------------------------------------------------------


@main.command()
@click.argument("call_id")
@db_option
@click.option("--cc", "cc_id", default=1, show_default=True, help="Call center ID.")
@click.option("--json", "as_json", is_flag=True, help="Print the legs as JSON.")
def call(call_id: str, db: Path, cc_id: int, as_json: bool) -> None:
    """Print the legs of CALLID: its call-track rows, and its open legs if it is still in progress."""
    if not db.exists():
        err.print(f"no store at {db} (ingest events first, or pass --db)")
        sys.exit(1)
    store = SqliteStore(db)
    rows = store.find_track_rows(cc_id, call_id)
    results = store.call_results(cc_id, call_id)
    live = Pipeline(store).engine.call(cc_id, call_id)
    store.close()
    if not rows and live is None:
        err.print(f"no call {call_id} in call center {cc_id} in {db}")
        sys.exit(1)
    if as_json:
        body = {
            "callId": call_id,
            "rows": [r._asdict() for r in rows],
            "openLegs": [] if live is None else [_leg_json(leg) for leg in live.legs],
            "phase": None if live is None else live.phase.value,
            "results": [r._asdict() for r in results],
        }
        click.echo(msgspec.json.encode(body))
        return
    out.print(_legs_table(call_id, rows, live))
    out.print(_reasons_legend(rows, live), highlight=False)
    for result in results:
        evaluation = result.evaluation_value or "-"
        out.print(f"call result: agent {result.agent_id or '-'}, skill {result.skill_id or '-'}, "
                  f"leave reason {result.leave_reason}, evaluation {evaluation}")  # fmt: skip


def _legs_table(call_id: str, rows: list[TrackRow], live: Call | None) -> Table:
    status = "released" if live is None else f"in progress ({live.phase.value})"
    first = rows[0].wait_begin if rows else live.arrived_at if live else 0
    day = datetime.fromtimestamp(first / 1000, tz=UTC).strftime("%Y-%m-%d")
    table = Table(title=f"call {call_id}: {status}", caption=f"times: {day} UTC; reasons: see below")
    for column in ("#", "device", "deviceIn", "enter", "leave", "waitBegin", "ackBegin", "callBegin", "callEnd",
                   "skill"):  # fmt: skip
        table.add_column(column)
    for r in rows:
        table.add_row(
            str(r.call_id_num), _device(r.device_type, r.device_no), r.device_in, str(r.enter_reason),
            str(r.leave_reason), _time(r.wait_begin), _time(r.ack_begin), _time(r.call_begin),
            _time(r.call_end), str(r.current_skill_id or "-"),
        )  # fmt: skip
    for leg in [] if live is None else live.legs:
        table.add_row(
            "open", _device(leg.device_type, leg.device_no), leg.device_in, str(leg.enter_reason), "-",
            _time(leg.wait_begin), _time(leg.ack_begin), _time(leg.call_begin), "-", str(leg.skill_id or "-"),
        )  # fmt: skip
    return table


def _reasons_legend(rows: list[TrackRow], live: Call | None) -> str:
    codes = {r.enter_reason for r in rows} | {r.leave_reason for r in rows}
    codes |= {leg.enter_reason for leg in ([] if live is None else live.legs)}
    return "\n".join(f"  {code:>2}  {reason_description(code)}" for code in sorted(codes))


def _leg_json(leg: Leg) -> dict[str, Any]:
    return {
        "deviceType": int(leg.device_type),
        "deviceNo": leg.device_no,
        "deviceIn": leg.device_in,
        "enterReason": int(leg.enter_reason),
        "waitBegin": leg.wait_begin,
        "ackBegin": leg.ack_begin,
        "callBegin": leg.call_begin,
        "skillId": leg.skill_id,
    }


def _device(device_type: int, device_no: str) -> str:
    try:
        name = DeviceType(device_type).name.lower().replace("_", "-")
    except ValueError:
        name = f"type {device_type}"
    return f"{name} {device_no}"


def _time(ms: int) -> str:
    if not ms:
        return "-"
    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%H:%M:%S.%f")[:-3]


# --- synth --------------------------------------------------------------------------------------------------


@main.command()
@click.option("--events", "count", default=100_000, show_default=True, help="How many events to write.")
@click.option("--out", "target", type=click.File("wb"), default="-", show_default=True, help="JSON-lines file.")
@click.option("--seed", default=1, show_default=True)
@click.option("--agents", default=60, show_default=True)
@click.option("--start", type=int, help="Time of the first event, ms since the epoch (default 2026-01-01).")
def synth(count: int, target: IO[bytes], seed: int, agents: int, start: int | None) -> None:
    """Write synthetic contract events (a busy contact center) as JSON lines, e.g. to try `ccdata ingest`."""
    from ccdata.sim.synthetic import DEFAULT_START, synthetic_events

    encoder = msgspec.json.Encoder()
    buffer = bytearray()
    for event in synthetic_events(count, seed=seed, agents=agents, start=start or DEFAULT_START):
        encoder.encode_into(event, buffer, len(buffer))
        buffer += b"\n"
        if len(buffer) > 1 << 20:
            target.write(buffer)
            buffer.clear()
    target.write(buffer)


# --- serve --------------------------------------------------------------------------------------------------


@main.command()
@click.option("--config", "config_path", type=click.Path(exists=True, dir_okay=False), help="TOML configuration.")
@click.option("--db", type=click.Path(dir_okay=False), help="The store (overrides [server] db).")
@click.option("--host", help="Listen address (overrides [server] host).")
@click.option("--port", type=int, help="Listen port (overrides [server] port).")
def serve(config_path: str | None, db: str | None, host: str | None, port: int | None) -> None:
    """Serve the CC-CMS, CC-Gateway, API Fabric, DataProcess and ingest interfaces."""
    import uvicorn

    from ccdata import config as configuration
    from ccdata.api.app import create_app
    from ccdata.service import Service

    try:
        settings = configuration.load(config_path)
    except (configuration.ConfigError, OSError) as exc:
        err.print(f"configuration error: {exc}")
        sys.exit(2)
    server = settings.server
    service = Service(settings, SqliteStore(db or server.db))
    err.print(f"ccdata {__version__}: replayed {service.pipeline.replayed:,} events from {db or server.db}")
    uvicorn.run(create_app(service), host=host or server.host, port=port or server.port, log_level="info")
