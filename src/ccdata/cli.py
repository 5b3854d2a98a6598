"""The `ccdata` command."""

from __future__ import annotations

import gc
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


config_option = click.option(
    "--config", "config_path", type=click.Path(exists=True, dir_okay=False), help="TOML configuration."
)


def _load_config(config_path: str | None):
    from ccdata import config as configuration

    try:
        return configuration.load(config_path)
    except (configuration.ConfigError, OSError) as exc:
        err.print(f"configuration error: {exc}")
        sys.exit(2)


@main.command()
@config_option
@click.option("--db", type=click.Path(dir_okay=False), help="The store (overrides [server] db).")
@click.option("--host", help="Listen address (overrides [server] host).")
@click.option("--port", type=int, help="Listen port (overrides [server] port).")
@click.option("--simulate", is_flag=True, help="Run the live simulator beside the server.")
@click.option("--speed", default=1.0, show_default=True, help="Simulated seconds per wall second (--simulate).")
def serve(
    config_path: str | None, db: str | None, host: str | None, port: int | None, simulate: bool, speed: float
) -> None:
    """Serve the CC-CMS, CC-Gateway, API Fabric, DataProcess and ingest interfaces."""
    settings = _load_config(config_path)
    _serve(settings, db or settings.server.db, host, port, simulate, speed)


def _serve(settings, db: str, host: str | None, port: int | None, simulate: bool, speed: float) -> None:
    from ccdata.service import Service
    from ccdata.sim.clocks import LiveSimulator

    service = Service(settings, SqliteStore(db))
    err.print(f"ccdata {__version__}: replayed {service.pipeline.replayed:,} events from {db}")
    _run_server(service, LiveSimulator(service, speed=speed) if simulate else None, host, port)


def _run_server(service, live, host: str | None, port: int | None) -> None:
    import uvicorn

    from ccdata.api.app import create_app
    from ccdata.api.limits import server_options

    settings = service.config
    host, port = host or settings.server.host, port or settings.server.port
    # The live state built so far is long-lived: keep the cyclic collector from rescanning it on every full
    # collection (those pauses were the server's p99 latency).
    gc.collect()
    gc.freeze()
    app = create_app(service, live=live)
    uvicorn.run(app, host=host, port=port, log_level="warning", **server_options(settings.limits))


@main.command()
@config_option
@click.option("--db", type=click.Path(dir_okay=False), help="The store (overrides [server] db).")
@click.option("--days", default=1.0, show_default=True, help="Days of history, ending now.")
@click.option("--seed", type=int, help="Overrides [simulator] seed.")
def simulate(config_path: str | None, db: str | None, days: float, seed: int | None) -> None:
    """Backfill DAYS of simulated history into the store, as fast as the machine allows."""
    from ccdata.service import Service, wall_clock_ms
    from ccdata.sim.clocks import backfill
    from ccdata.sim.contact_center import ContactCenter

    settings = _load_config(config_path)
    end = wall_clock_ms()
    start = end - int(days * 86_400_000)
    service = Service(settings, SqliteStore(db or settings.server.db))
    if service.engine.clock > start:
        err.print(f"the store already holds events up to {_time(service.engine.clock)} UTC; backfill into a new one")
        sys.exit(2)
    with Progress(
        TextColumn("simulating"), BarColumn(), TextColumn("{task.percentage:>3.0f}%"), TimeElapsedColumn(),
        console=err, disable=not err.is_terminal,
    ) as progress:  # fmt: skip
        task = progress.add_task("simulate", total=end - start)
        simulator = ContactCenter(settings, settings.simulator, start, seed=seed)
        report = backfill(service, simulator, end, progress=lambda ms: progress.advance(task, ms))
    service.close()
    _print_backfill(report, days)
    sys.exit(1 if report.rejected else 0)


def _print_backfill(report, days: float) -> None:
    stats = report.stats
    table = Table(title=f"{days:g} simulated days", show_header=False)
    table.add_row("calls", f"{stats.calls:,} inbound, {stats.outbound:,} outbound")
    table.add_row("events", f"{stats.events:,} ({report.rejected:,} rejected)")
    table.add_row("events/s", f"{report.events_per_second:,.0f}")
    table.add_row("service level", f"{stats.service_level:.1%} answered within 20 s")
    table.add_row("average speed of answer", f"{stats.asa_s:.1f} s")
    table.add_row("abandonment", f"{stats.abandonment:.1%} of queued calls")
    table.add_row("wall time", f"{report.seconds:.1f} s")
    out.print(table)
    for code, count in report.reasons.items():
        out.print(f"rejected {code}: {count}")


@main.command()
@config_option
@click.option("--db", default="data/demo.db", show_default=True, type=click.Path(dir_okay=False))
@click.option("--backfill-hours", default=2.0, show_default=True, help="History simulated before going live.")
@click.option("--speed", default=1.0, show_default=True, help="Simulated seconds per wall second.")
@click.option("--port", type=int, help="Listen port (overrides [server] port).")
def demo(config_path: str | None, db: str, backfill_hours: float, speed: float, port: int | None) -> None:
    """A fresh store, a short backfill, then the server with the live simulator, and how to query it."""
    from ccdata.service import Service, wall_clock_ms
    from ccdata.sim.clocks import LiveSimulator, backfill
    from ccdata.sim.contact_center import ContactCenter

    settings = _load_config(config_path)
    for suffix in ("", "-wal", "-shm"):
        Path(db + suffix).unlink(missing_ok=True)
    end = wall_clock_ms()
    service = Service(settings, SqliteStore(db))
    # One simulation: the backfill brings it up to now, then it goes on live.
    simulator = ContactCenter(settings, settings.simulator, end - int(backfill_hours * 3_600_000))
    report = backfill(service, simulator, end, drain=False)
    err.print(f"backfilled {backfill_hours:g} h: {report.stats.calls:,} calls, {report.stats.events:,} events")
    port = port or settings.server.port
    click.echo(_demo_text(service, f"http://{settings.server.host}:{port}", db))
    _run_server(service, LiveSimulator(service, speed=speed, simulator=simulator), None, port)


def _demo_text(service, url: str, db: str) -> str:
    settings = service.config
    cms = settings.cms.credentials[0] if settings.cms.credentials else None
    app = settings.dataprocess.apps[0] if settings.dataprocess.apps else None
    interactive = [a.id for a in settings.agents if a.interactive]
    agent = interactive[0] if interactive else settings.agents[0].id
    password = settings.agent(agent).password
    # An agent on a call right now, and that call, so that the commands below answer with live data.
    engine = service.engine
    on_call = sorted((a for a in engine.agents.values() if a.calls and a.vdn == 1), key=lambda a: a.agent_id)
    busy = on_call[0].agent_id if on_call else settings.agents[0].id
    call_id = on_call[0].calls[0] if on_call else "<a callId from above>"
    lines = [
        "",
        f"ccdata demo: {url}   interactive API docs: {url}/docs   store: {db}",
        "Demo credentials (public, from the default configuration):",
        f"  CC-CMS AK/SK     {cms.ak} / {cms.sk}" if cms else "  CC-CMS: no AK/SK configured",
        f"  DataProcess app  {app.app_key} / {app.app_secret}" if app else "  DataProcess: no app configured",
        f"  Gateway agents   {', '.join(map(str, interactive))} (left for you; calls ring there once signed in), "
        f"password {password}",
        "",
        "Ready to paste, in another terminal in the project folder (`ccdata query` is the client SDK's command):",
        f"  export CCDATA_URL={url} CCDATA_AK={cms.ak if cms else ''} CCDATA_SK={cms.sk if cms else ''} "
        f"CCDATA_APP_KEY={app.app_key if app else ''} CCDATA_APP_SECRET={app.app_secret if app else ''}",
        "  # CC-CMS (auth-v2 signed): an agent's calls now, a call's control block, the call track",
        f"  .venv/bin/ccdata query agent-calls --vdn 1 --agent {busy}",
        f"  .venv/bin/ccdata query call-detail --vdn 1 --call {call_id}",
        f"  .venv/bin/ccdata query call-track --vdn 1 --call {call_id} --log-date {engine.clock}",
        "  # CC-Gateway: sign an agent in, read its call; or with curl, keeping the Guid from Set-GUID",
        f"  .venv/bin/ccdata query call-info --agent {agent} --password {password} --last",
        f"  curl -si -X PUT {url}/agentgateway/resource/onlineagent/{agent} -H 'Content-Type: application/json' "
        f'-d \'{{"password":"{password}","status":4}}\' | grep -i set-guid',
        f"  curl -s {url}/agentgateway/resource/agentevent/{agent} -H 'Guid: <guid>'",
        "  # DataProcess (token from tokenByAkSk): the call results of the last hour",
        "  .venv/bin/ccdata query results --vdn 1 --begin $(( $(date +%s) * 1000 - 3600000 ))",
        "  # any CC-CMS request with curl",
        f"  .venv/bin/ccdata sign POST /rest/cmsapp/v1/openapi/agent/queryagentcalls "
        f'--body \'{{"ccId":1,"vdn":1,"agentId":{busy}}}\' --curl',
        "",
    ]
    return "\n".join(lines)


def _register_client_commands() -> None:
    from ccdata.cli_query import query, sign

    main.add_command(query)
    main.add_command(sign)


_register_client_commands()
