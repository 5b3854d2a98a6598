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
from ccdata.cli_store import UserError, db_option, open_for_reading, open_for_writing, open_serving, resolve_db
from ccdata.domain.codes import DeviceType, reason_description
from ccdata.domain.model import Call, Leg
from ccdata.domain.records import TrackRow
from ccdata.pipeline import IngestReport, Pipeline, SnapshotPolicy, settle_collector
from ccdata.store.ports import StoreUnavailable
from ccdata.store.sqlite import SqliteStore

SHOWN_REJECTIONS = 20

# Tables are wider than 80 columns: when the output is a pipe or a file, do not squeeze them to 80.
out = Console(width=None if sys.stdout.isatty() else 140)
err = Console(stderr=True)

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


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="ccdata")
def main() -> None:
    """ccdata: contact-center call data, wire-compatible with Huawei CEC call-data interfaces."""


# --- ingest -------------------------------------------------------------------------------------------------


@main.command()
@click.argument("source", type=click.File("rb"))
@db_option
@click.option("--url", help="Send the events to a running ccdata at this URL instead of writing a store.")
@click.option("--token", envvar="CCDATA_INGEST_TOKEN", help="The ingest Bearer token (with --url; default: "
              "$CCDATA_INGEST_TOKEN, else the configuration's [ingest] token).")  # fmt: skip
@config_option
@click.option("--batch", default=2000, show_default=True, help="Events per commit (per request with --url).")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar.")
def ingest(
    source: IO[bytes],
    db: Path | None,
    url: str | None,
    token: str | None,
    config_path: str | None,
    batch: int,
    as_json: bool,
    quiet: bool,
) -> None:
    """Ingest contract events from a JSON-lines FILE (or - for standard input).

    Every line goes through the event log and the engine into the store (or, with --url, into a running
    server's). Exits 0 when every event was accepted (or was a duplicate), 1 when any was rejected; the reasons
    are printed and kept in the store. Interrupted, it can be run again: what went in is counted as duplicates.
    """
    settings = _load_config(config_path)
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
        lines = _lines(source, lambda n: progress.advance(task, n))
        if url:
            report = _ingest_over_http(lines, url, token or settings.ingest.token, batch)
            target = url
        else:
            target = str(resolve_db(db, settings.server.db))
            report = _ingest_into_store(lines, Path(target), batch, settings)
    if as_json:
        click.echo(msgspec.json.encode(_report_json(report)))
    else:
        _print_report(report, target)
    sys.exit(1 if report.rejected else 0)


def _ingest_into_store(lines: Iterator[bytes], db: Path, batch: int, settings: Any) -> IngestReport:
    store, lock = open_for_writing(db, "ingest")
    try:
        policy = SnapshotPolicy(settings.store.snapshot_every_events, settings.store.snapshot_every_s)
        pipeline = Pipeline(store, batch_size=batch, snapshot_policy=policy)
        try:
            report = pipeline.ingest(lines)
        except StoreUnavailable as exc:
            raise UserError(f"the store stopped taking writes ({exc}); run the same command again to resume") from None
        pipeline.save_snapshot()
        return report
    finally:
        store.close()
        lock.release()


def _ingest_over_http(lines: Iterator[bytes], url: str, token: str, batch: int) -> IngestReport:
    from ccdata.client.ingest import IngestClient, IngestRefused

    if not token:
        raise UserError("--url needs the server's ingest token: pass --token or set CCDATA_INGEST_TOKEN")
    client = IngestClient(url, token, batch_lines=batch, on_retry=_say_retry)
    try:
        return client.send(lines)
    except IngestRefused as exc:
        raise UserError(f"{url} refused the events: {exc} (run the same command again to resume)") from None
    finally:
        client.close()


def _say_retry(problem: str, delay: float) -> None:
    err.print(f"a batch was not acknowledged ({problem}); sending it again in {delay:.1f} s")


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


def _print_report(report: IngestReport, target: str) -> None:
    summary = Table(title=f"ingest into {target}", show_header=False)
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
def call(call_id: str, db: Path | None, cc_id: int, as_json: bool) -> None:
    """Print the legs of CALLID: its call-track rows, and its open legs if it is still in progress.

    Read-only: it works beside a server writing the same store."""
    db = resolve_db(db)
    store = open_for_reading(db)
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
@config_option
@db_option
@click.option("--host", help="Listen address (overrides [server] host).")
@click.option("--port", type=int, help="Listen port (overrides [server] port).")
@click.option("--simulate", is_flag=True, help="Run the live simulator beside the server.")
@click.option("--speed", default=1.0, show_default=True, help="Simulated seconds per wall second (--simulate).")
@click.option("--access-log", type=click.Choice(["text", "json", "off"]), help="Overrides [server] access_log.")
@click.option("--allow-demo-secrets", is_flag=True, help="Listen beyond loopback even with the public demo secrets.")
@click.option("--store", "store_url", help="The distributed record store, a postgresql:// URL (default: "
              "$CCDATA_STORE_URL, else [cluster] store; none: the embedded --db).")  # fmt: skip
@click.option("--sessions", "sessions_url", help="The gateway's shared sessions, a redis:// URL (default: "
              "$CCDATA_SESSIONS_URL, else [cluster] sessions).")  # fmt: skip
@click.option("--standby", is_flag=True, help="With --store: wait for the record writer's lease instead of refusing.")
@click.option("--events", "events_url", help="The shared event log of a cluster node, a nats:// URL (default: "
              "$CCDATA_EVENTS_URL, else [cluster] events; needs --store).")  # fmt: skip
def serve(
    config_path: str | None,
    db: Path | None,
    host: str | None,
    port: int | None,
    simulate: bool,
    speed: float,
    access_log: str | None,
    allow_demo_secrets: bool,
    store_url: str | None,
    sessions_url: str | None,
    standby: bool,
    events_url: str | None,
) -> None:
    """Serve the CC-CMS, CC-Gateway, API Fabric, DataProcess and ingest interfaces."""
    from ccdata.service import Service
    from ccdata.sim.clocks import LiveSimulator

    settings = _load_config(config_path)
    if access_log:
        settings.server.access_log = access_log
    host, port = host or settings.server.host, settings.server.port if port is None else port
    _refuse_public_demo_secrets(settings, host, allow_demo_secrets or settings.server.allow_demo_secrets)
    standby = standby or settings.cluster.standby
    store, lock, sessions, where, event_log = open_serving(
        settings, db, store_url, sessions_url, standby, "serve", events_url
    )
    lease = store if event_log is not None else None
    service = Service(settings, store, event_log=event_log, lease=lease)
    live = LiveSimulator(service, speed=speed) if simulate else None
    origin = config_path or "the packaged demo configuration"
    _run_server(service, live, host, port, lock, f"{where}, configuration {origin}", sessions)


def _refuse_public_demo_secrets(settings: Any, host: str, allowed: bool) -> None:
    from ccdata.config import public_demo_secrets

    found = public_demo_secrets(settings)
    if found and not allowed and not _is_loopback(host):
        raise UserError(
            f"refusing to listen on {host} with the public demo secrets ({', '.join(found)}): set your own in a "
            "--config file, or pass --allow-demo-secrets"
        )


def _is_loopback(host: str) -> bool:
    import ipaddress

    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _run_server(service: Any, live: Any, host: str, port: int, lock: Any, where: str, sessions: Any = None) -> None:
    import uvicorn

    from ccdata.api.app import create_app
    from ccdata.api.limits import server_options

    _configure_logging(service.config.server.access_log)
    url = f"http://{host}:{port}" if ":" not in host else f"http://[{host}]:{port}"
    lock.update(url)
    pipeline = service.pipeline
    err.print(
        f"ccdata {__version__} serving {url}  (docs {url}/docs, readiness {url}/ccdata/v1/health/ready)\n"
        f"  {where}; replayed {pipeline.replayed:,} events after the snapshot at {pipeline.snapshot_seq:,}",
        highlight=False,
        soft_wrap=True,
    )
    # The ingest's worker thread and the event loop share one interpreter: a loop that gave it away for a
    # socket wait gets it back within 0.5 ms instead of 5 (halves reads' p99 during an ingest, bench.hostile).
    sys.setswitchinterval(0.0005)
    try:
        # The process is the server's own: the collector is set for it once the start has built live state.
        app = create_app(service, live=live, sessions=sessions, started=settle_collector)
        uvicorn.run(
            app, host=host, port=port, log_level="warning", log_config=None, **server_options(service.config.limits)
        )
    finally:
        lock.release()


def _configure_logging(access_style: str) -> None:
    """ccdata's log on standard error; access lines bare in JSON style, so that each line is one JSON object."""
    import logging

    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger("ccdata")
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO)
    access = logging.getLogger("ccdata.access")
    access_handler = logging.StreamHandler(sys.stderr)
    access_handler.setFormatter(
        logging.Formatter("%(message)s" if access_style == "json" else "%(asctime)s %(message)s")
    )
    access.handlers[:] = [access_handler]
    access.propagate = False
    uvicorn_errors = logging.getLogger("uvicorn.error")
    uvicorn_errors.handlers[:] = [handler]
    uvicorn_errors.setLevel(logging.WARNING)


@main.command()
@config_option
@db_option
@click.option("--days", default=1.0, show_default=True, help="Days of history, ending now.")
@click.option("--seed", type=int, help="Overrides [simulator] seed.")
def simulate(config_path: str | None, db: Path | None, days: float, seed: int | None) -> None:
    """Backfill DAYS of simulated history into the store, as fast as the machine allows, up to now.

    On a store that already holds events, the history goes on from its last event instead (adopting the calls
    and agents in progress then), so that an interrupted backfill can be run again.
    """
    from ccdata.service import Service, wall_clock_ms
    from ccdata.sim.clocks import backfill, continue_or_start

    settings = _load_config(config_path)
    end = wall_clock_ms()
    store, lock = open_for_writing(resolve_db(db, settings.server.db), "simulate")
    service = Service(settings, store)
    simulator, note = continue_or_start(service, end - int(days * 86_400_000), seed=seed)
    if note is not None:
        err.print(note, soft_wrap=True)  # one line, however narrow the terminal
    with Progress(
        TextColumn("simulating"), BarColumn(), TextColumn("{task.percentage:>3.0f}%"), TimeElapsedColumn(),
        console=err, disable=not err.is_terminal,
    ) as progress:  # fmt: skip
        task = progress.add_task("simulate", total=max(1, end - simulator.now))
        report = backfill(service, simulator, end, progress=lambda ms: progress.advance(task, ms))
    service.close()
    lock.release()
    _print_backfill(report, round(max(0, report.end - report.start) / 86_400_000, 2))
    sys.exit(1 if report.rejected else 0)


def _print_backfill(report, days: float) -> None:
    stats = report.stats
    table = Table(title=f"{days:g} simulated days", show_header=False)
    table.add_row("calls", f"{stats.calls:,} inbound, {stats.outbound:,} outbound")
    table.add_row("events", f"{stats.events:,} ({report.rejected:,} rejected)")
    table.add_row("events/s", f"{report.events_per_second:,.0f}")
    table.add_row("service level", f"{stats.service_level:.1%} answered within 20 s")
    table.add_row("average speed of answer", f"{stats.asa_s:.1f} s")
    # Each call once: a transferred call was answered; one that hung up waiting after its transfer is not an
    # abandoned call, and is counted apart.
    table.add_row("abandonment", f"{stats.abandonment:.1%} of queued calls ({stats.abandoned:,} calls)")
    table.add_row("transfers", f"{stats.transfers:,} ({stats.abandoned_after_transfer:,} hung up waiting after it)")
    # Consult calls are not customer calls: not in the figures above, counted apart by how they ended.
    table.add_row("consults", f"{stats.consults:,} ({stats.consult_transfers:,} transfers, "
                  f"{stats.consult_conferences:,} conferences, {stats.consult_cancels:,} cancelled)")  # fmt: skip
    table.add_row("wall time", f"{report.seconds:.1f} s")
    out.print(table)
    for code, count in report.reasons.items():
        out.print(f"rejected {code}: {count}")


DEMO_DB = Path("data/demo.db")


@main.command()
@config_option
@click.option("--db", type=click.Path(path_type=Path), default=DEMO_DB, show_default=True,
              help="The demo's store; an existing one made by `ccdata demo` is continued.")  # fmt: skip
@click.option("--fresh", is_flag=True, help="Start the demo's store over (only a store `ccdata demo` made).")
@click.option("--backfill-hours", default=2.0, show_default=True, help="History simulated before going live.")
@click.option("--speed", default=1.0, show_default=True, help="Simulated seconds per wall second.")
@click.option("--port", type=int, help="Listen port (overrides [server] port).")
def demo(config_path: str | None, db: Path, fresh: bool, backfill_hours: float, speed: float, port: int | None) -> None:
    """A store of simulated history, then the server with the live simulator, and how to query it.

    The first run makes DB with BACKFILL_HOURS of history; later runs continue it (the simulator picks up every
    call and agent where the last run left them, and fills the time in between). A store that `ccdata demo` did
    not make is never changed or deleted.
    """
    from ccdata.service import Service, wall_clock_ms
    from ccdata.sim.clocks import LiveSimulator, backfill, continue_or_start

    settings = _load_config(config_path)
    if db == DEMO_DB:
        db.parent.mkdir(exist_ok=True)  # the demo's own folder (git-ignored), not a guess at a user's path
    store, lock = _open_demo_store(db, fresh)
    end = wall_clock_ms()
    service = Service(settings, store)
    # One simulation: the backfill (or the continuation of the last demo's store) brings it up to now, then it
    # goes on live.
    simulator, note = continue_or_start(service, end - int(backfill_hours * 3_600_000))
    if note is not None:
        err.print(note, soft_wrap=True)
    start = simulator.now
    report = backfill(service, simulator, end, drain=False)
    hours = max(0, end - start) / 3_600_000
    err.print(f"simulated {hours:.1f} h: {report.stats.calls:,} calls, {report.stats.events:,} events")
    port = port or settings.server.port
    host = settings.server.host
    click.echo(_demo_text(service, f"http://{host}:{port}", str(db)))
    live = LiveSimulator(service, speed=speed, simulator=simulator)
    _run_server(service, live, host, port, lock, f"store {db}, the packaged demo configuration")


def _open_demo_store(db: Path, fresh: bool) -> tuple[Any, Any]:
    existed = db.exists()
    store, lock = open_for_writing(db, "demo")
    if existed and store.meta("created_by") != "demo":
        store.close()
        lock.release()
        raise UserError(
            f"{db} exists and was not made by `ccdata demo`, so the demo leaves it alone: choose another --db, "
            f"or run `ccdata serve --simulate --db {db}`"
        )
    if existed and fresh:
        store.close()
        for suffix in ("", "-wal", "-shm"):
            Path(f"{db}{suffix}").unlink(missing_ok=True)
        store = SqliteStore(db)
    store.set_meta("created_by", "demo")
    return store, lock


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
        f"  Gateway agents   {', '.join(map(str, interactive))} (yours: calls ring there while idle and wait), "
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
        f"  .venv/bin/ccdata ring {agent} --url {url}   # signed in and idle: a call rings there now",
        "  # DataProcess (token from tokenByAkSk): the call results of the last hour",
        "  .venv/bin/ccdata query results --vdn 1 --begin $(( $(date +%s) * 1000 - 3600000 ))",
        "  # any CC-CMS request with curl",
        f"  .venv/bin/ccdata sign POST /rest/cmsapp/v1/openapi/agent/queryagentcalls "
        f'--body \'{{"ccId":1,"vdn":1,"agentId":{busy}}}\' --curl',
        "",
    ]
    return "\n".join(lines)


def _register_client_commands() -> None:
    from ccdata import cli_query_cms  # noqa: F401  (adds the CC-CMS list commands to `query`)
    from ccdata.cli_cluster import migrate, migrate_store
    from ccdata.cli_export import export
    from ccdata.cli_query import query, sign
    from ccdata.cli_ring import ring
    from ccdata.cli_webhooks import webhooks

    main.add_command(query)
    main.add_command(sign)
    main.add_command(ring)
    main.add_command(migrate)
    main.add_command(migrate_store)
    main.add_command(webhooks)
    main.add_command(export)


_register_client_commands()
