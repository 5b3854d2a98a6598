"""CSV answers of the record searches (DataProcess call results, CC-CMS call track) for `Accept: text/csv`, as
Wazo's call-logd answers it: the same rows as the JSON answer, a header row of the wire's field names, streamed.
Errors keep their JSON envelopes (docs/compatibility.md, "CSV answers")."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Sequence

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from ccdata.domain.tables import Table
from ccdata.tabular import CSV_TYPE, csv_chunks

ROWS_PER_CHUNK = 200  # a chunk is encoded between two writes: the event loop is never held for long

Endpoint = Callable[[Request], Awaitable[Response]]


def wants_csv(accept: str | None) -> bool:
    """True when the client names `text/csv` (q > 0) and names no JSON type with a higher q. Wildcards never
    count against CSV: a client that names it asks for it."""
    if not accept:
        return False
    csv_q = json_q = -1.0
    for media_range in accept.split(","):
        kind, _, parameters = media_range.partition(";")
        kind = kind.strip().lower()
        q = _quality(parameters)
        if kind == "text/csv":
            csv_q = max(csv_q, q)
        elif kind in ("application/json", "application/*+json"):
            json_q = max(json_q, q)
    return csv_q > 0 and csv_q >= json_q


def _quality(parameters: str) -> float:
    for parameter in parameters.split(";"):
        name, _, value = parameter.partition("=")
        if name.strip().lower() == "q":
            try:
                return min(max(float(value.strip()), 0.0), 1.0)
            except ValueError:
                return 0.0  # an unreadable weight: not what the client asks for
    return 1.0


def csv_response(table: Table, records: Sequence[tuple], headers: dict[str, str] | None = None) -> Response:
    async def chunks() -> AsyncIterator[bytes]:
        batches = (
            table.rows(records[start : start + ROWS_PER_CHUNK]) for start in range(0, len(records), ROWS_PER_CHUNK)
        )
        for chunk in csv_chunks(table.names, batches):
            yield chunk

    return StreamingResponse(chunks(), media_type=CSV_TYPE, headers=headers)


def negotiated(as_json: Endpoint, as_csv: Endpoint) -> Endpoint:
    """One route, two answers: CSV for a client whose `Accept` asks for it, JSON otherwise."""

    async def run(request: Request) -> Response:
        chosen = as_csv if wants_csv(request.headers.get("accept")) else as_json
        return await chosen(request)

    return run
