"""`ccdata export`: a time window of call results or call-track rows, from the store to CSV or Parquet.

Read-only (no writer lock or lease: it works beside a running server), from the embedded store (`--db`) or the
distributed one (`--store postgresql://…`), page by page (the store's `call_result_pages`, `track_row_pages`, in
the same order from either): memory stays flat whatever the window. A file is written beside its final name and renamed
when complete, so an interrupted export never leaves a partial file under that name.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, NamedTuple

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from ccdata.cli_store import UserError, db_option, open_reader, resolve_store, store_option
from ccdata.domain.tables import CALL_RESULTS_EXPORT, TRACK_ROWS_EXPORT, Table
from ccdata.store.ports import Store
from ccdata.tabular import ParquetWriter, csv_chunks

KINDS = {"results": ("call results", CALL_RESULTS_EXPORT), "track": ("call-track rows", TRACK_ROWS_EXPORT)}
FORMATS = ("csv", "parquet")
SIGPIPE_STATUS = 141  # the shell's status of a process ended by SIGPIPE (128 + 13)
END_OF_TIME = 4_102_444_800_000  # 2100-01-01, the bound every ccdata time is checked against
err = Console(stderr=True)


class Window(NamedTuple):
    begin: int  # ms, inclusive
    end: int  # ms, exclusive


class Plan(NamedTuple):
    """Validated options: what to read and where to write it."""

    kind: str
    window: Window
    vdn: int | None
    cc_id: int
    fmt: str
    output: Path | None  # None: standard output


@click.command()
@click.option(
    "--kind",
    default="results",
    show_default=True,
    metavar="[results|track]",
    help="results (call results) or track (call-track rows).",
)
@click.option(
    "--from",
    "since",
    help="Start of the window (arrival time), inclusive: YYYY-MM-DD, "
    "YYYY-MM-DDTHH:MM[:SS] (UTC unless an offset is given) or ms since the epoch. Default: the beginning.",
)
@click.option("--to", "until", metavar="WHEN", help="End of the window, exclusive, in the same forms. Default: no end.")
@click.option("--vdn", metavar="VDN", help="Only this VDN (default: every VDN, one after the other).")
@click.option("--cc", "cc_id", default="1", show_default=True, metavar="ID", help="Call center ID.")
@click.option(
    "--format",
    "fmt",
    metavar="[csv|parquet]",
    help="csv or parquet (default: parquet for an --output ending .parquet, else csv).",
)
@click.option("--output", "-o", metavar="FILE", help="The file to write, or - for standard output (CSV only).")
@db_option
@store_option
@click.option("--quiet", "-q", is_flag=True, help="No progress bar and no summary.")
def export(
    kind: str, since: str | None, until: str | None, vdn: str | None, cc_id: str, fmt: str | None,
    output: str | None, db: Path | None, store_url: str | None, quiet: bool,
) -> None:  # fmt: skip
    """Export a time window of call results or call-track rows to CSV or Parquet, in constant memory.

    Columns: the wire's field names (DataProcess queryCallManualDetailInfo, CC-CMS querycalltracedetail) in the
    wire's order, then the record's other fields. Read-only: it works beside a running server."""
    place = resolve_store(db, store_url)
    plan = _plan(kind, since, until, vdn, cc_id, fmt, output, place)
    store = open_reader(place)
    try:
        started = time.perf_counter()
        rows = _export(store, plan, quiet)
        seconds = time.perf_counter() - started
    finally:
        store.close()
    if not quiet:
        noun, _ = KINDS[plan.kind]
        where = "standard output" if plan.output is None else str(plan.output)
        err.print(f"exported {rows:,} {noun} to {where} ({plan.fmt}) in {seconds:.1f} s, "
                  f"{rows / seconds if seconds else 0:,.0f} rows/s", highlight=False, soft_wrap=True)  # fmt: skip


# --- options --------------------------------------------------------------------------------------------------


def _plan(
    kind: str, since: str | None, until: str | None, vdn: str | None, cc_id: str, fmt: str | None,
    output: str | None, place: Path | str,
) -> Plan:  # fmt: skip
    if kind not in KINDS:
        raise UserError(f"--kind must be results or track, not {kind!r}")
    window = Window(_moment("--from", since, 0), _moment("--to", until, END_OF_TIME))
    if window.begin >= window.end:
        raise UserError("--from must be before --to (the window is [from, to))")
    if output is None:
        raise UserError("--output is required: a file name, or - for standard output (CSV)")
    fmt = fmt or ("parquet" if output.lower().endswith(".parquet") else "csv")
    if fmt not in FORMATS:
        raise UserError(f"--format must be csv or parquet, not {fmt!r}")
    target = None if output == "-" else Path(output)
    if target is None and fmt == "parquet":
        raise UserError("Parquet cannot be written to standard output: give --output a file name")
    if target is not None:
        _check_target(target, place)
    return Plan(kind, window, _number("--vdn", vdn, 1, 5000), _number("--cc", cc_id, 1, 65535) or 1, fmt, target)


def _number(option: str, text: str | None, low: int, high: int) -> int | None:
    if text is None:
        return None
    value = text.strip()
    if not (value.isascii() and value.isdigit()) or not low <= int(value) <= high:
        raise UserError(f"{option} must be a whole number from {low} to {high}, not {text!r}")
    return int(value)


def _moment(option: str, text: str | None, default: int) -> int:
    """ms since the epoch from a date, a time (UTC unless it says otherwise) or a number of ms."""
    if text is None:
        return default
    value = text.strip()
    if value.isascii() and value.isdigit():
        moment = int(value)
    else:
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            raise UserError(
                f"{option} {text!r} is not a date (YYYY-MM-DD), a time (YYYY-MM-DDTHH:MM:SS, UTC unless an offset "
                "is given) or a number of milliseconds since the epoch"
            ) from None
        moment = int((parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).timestamp() * 1000)
    if not 0 <= moment <= END_OF_TIME:
        raise UserError(f"{option} {text!r} is outside 1970-01-01 .. 2100-01-01")
    return moment


def _check_target(target: Path, place: Path | str) -> None:
    if not target.parent.is_dir():
        raise UserError(f"the folder {target.parent} does not exist: create it first, or choose another --output")
    if target.is_dir():
        raise UserError(f"{target} is a folder: give --output a file name")
    if isinstance(place, Path):  # the embedded store's files (a PostgreSQL store is elsewhere)
        store_files = {Path(f"{place}{suffix}").resolve() for suffix in ("", "-wal", "-shm")}
        if target.resolve() in store_files:
            raise UserError(f"{target} is the store itself: choose another --output")


# --- writing --------------------------------------------------------------------------------------------------


def _export(store: Store, plan: Plan, quiet: bool) -> int:
    noun, table = KINDS[plan.kind]
    begin, end = plan.window
    if plan.kind == "results":
        total: int | None = store.count_call_results(plan.cc_id, begin, end, plan.vdn)
        pages = store.call_result_pages(plan.cc_id, begin, end, plan.vdn, fields=table.fields)
    else:
        total, pages = None, store.track_row_pages(plan.cc_id, begin, end, plan.vdn, fields=table.fields)
    columns = [TextColumn(f"exporting {noun}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn()]
    with Progress(*columns, console=err, disable=quiet or not err.is_terminal) as progress:
        task = progress.add_task("export", total=total)
        counted = _Counted(pages, lambda n: progress.advance(task, n))
        with _destination(plan) as sink:
            if plan.fmt == "csv":
                _write_csv(table, counted.pages(), sink)
            else:
                _write_parquet(table, counted.pages(), sink)
    return counted.rows


class _Counted:
    """The pages, counted as they go by (for the summary) and shown on the progress bar."""

    def __init__(self, pages: Iterator[list[tuple]], advance: Callable[[int], None]) -> None:
        self._pages, self._advance, self.rows = pages, advance, 0

    def pages(self) -> Iterator[list[tuple]]:
        for page in self._pages:
            self.rows += len(page)
            self._advance(len(page))
            yield page


def _write_csv(table: Table, pages: Iterator[list[tuple]], sink: IO[bytes]) -> None:
    for chunk in csv_chunks(table.names, (table.filled(rows) for rows in pages)):
        sink.write(chunk)


def _write_parquet(table: Table, pages: Iterator[list[tuple]], sink: IO[bytes]) -> None:
    writer = ParquetWriter(table, sink)
    for page in pages:
        writer.write(page)
    writer.close()


@contextmanager
def _destination(plan: Plan) -> Iterator[IO[bytes]]:
    """Standard output, or a file written beside `plan.output` and renamed onto it once complete."""
    if plan.output is None:
        try:
            yield sys.stdout.buffer
            sys.stdout.buffer.flush()
        except BrokenPipeError:  # the reader went away (`| head`): stop quietly, as a Unix tool on SIGPIPE does
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            sys.exit(SIGPIPE_STATUS)
        return
    partial = plan.output.with_name(plan.output.name + ".partial")
    try:
        with partial.open("wb") as sink:
            yield sink
        os.replace(partial, plan.output)
    except OSError as exc:
        raise UserError(f"cannot write {plan.output} ({exc.strerror or exc})") from None
    finally:
        partial.unlink(missing_ok=True)
