"""`POST /ccdata/v1/events`: contract events over HTTP, into the same log and engine as `ccdata ingest`.

Body: a JSON array of events, or JSON lines. Bearer credential: `[ingest] token` of the configuration (an empty
token disables the endpoint). Idempotent: an event already in the log is counted as a duplicate. The reply counts
accepted, duplicate and rejected events and gives each rejection's position (1-based), event id, code and reason.
"""

from __future__ import annotations

import hashlib
import hmac
import pickle

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ccdata.api import http
from ccdata.api.inputs import InvalidParameter, json_value
from ccdata.service import Service

PATH = "/ccdata/v1/events"
STATE_PATH = "/ccdata/v1/state/digest"


def refused(request: Request, service: Service) -> Response | None:
    """The ingest credential's check (this endpoint and `ccdata ring`'s): None when the request carries it."""
    token = service.config.ingest.token
    if not token:
        return http.spring_error(request, 404, "Not Found", "the ingest endpoint is disabled ([ingest] token)")
    given = http.bearer(request.headers.get("authorization")) or ""
    if not hmac.compare_digest(given.encode("utf-8", "surrogateescape"), token.encode()):
        return http.spring_error(request, 401, "Unauthorized", "the ingest Bearer token is missing or wrong")
    return None


def routes(service: Service) -> list[Route]:
    settings = service.config.ingest

    async def state_digest(request: Request) -> Response:
        """The live state's digest at this node's log position: equal on every node at the same position (the
        distributed form's replicas are checked with it). On the loop: the engine holds still while it is read."""
        if refusal := refused(request, service):
            return refusal
        digest = hashlib.sha256(pickle.dumps(service.engine.state(), protocol=pickle.HIGHEST_PROTOCOL)).hexdigest()
        return http.json({"seq": service.pipeline.seq, "digest": digest})

    async def post_events(request: Request) -> Response:
        if refusal := refused(request, service):
            return refusal
        try:
            body = await http.read_body(request, settings.max_body_bytes)
        except http.BodyTooLarge as exc:
            return http.spring_error(request, 413, "Payload Too Large", str(exc))
        if body.lstrip().startswith(b"["):
            # An array is one JSON document: malformed anywhere, it is refused whole (JSON lines are judged each).
            try:
                items = await run_in_threadpool(json_value, body)  # a 16 MiB array: tens of ms, not on the loop
            except InvalidParameter as exc:
                return http.spring_error(request, 400, "Bad Request", f"{exc} (as a JSON array)")
        else:
            items = body.splitlines()
        report = await service.ingest_async(items)
        return http.json(
            {
                "accepted": report.accepted,
                "duplicates": report.duplicates,
                "rejected": report.rejected,
                "reasons": dict(report.reasons),
                "rejections": [
                    {"position": n.position, "eventId": n.event_id, "code": n.code, "reason": n.reason}
                    for n in report.notes
                ],
            }
        )

    return [Route(PATH, post_events, methods=["POST"]), Route(STATE_PATH, state_digest, methods=["GET"])]
