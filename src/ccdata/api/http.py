"""HTTP plumbing shared by the facades: JSON responses, bounded body reading, the Spring-style error body."""

from __future__ import annotations

from typing import Any, Final

import msgspec
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from ccdata.api.auth.throttle import retry_after
from ccdata.service import wall_clock_ms

_encoder = msgspec.json.Encoder()
#: Response headers CEC clients read case-sensitively: written in this case on the wire (see api/limits.py).
WIRE_CASED_HEADERS: Final = (b"Set-GUID",)
JSON_TYPE = "application/json;charset=UTF-8"


#: Where each facade's envelope carries its business code: CC-CMS, CC-Gateway, and the AICC/OIFDE style.
RESULT_CODE_KEYS = ("resultCode", "retcode", "returnCode")


class JsonResponse(Response):
    """A JSON answer that tells the request's scope its business code (`state["resultCode"]`), so that the
    metrics count answers by it without parsing the body again; header names keep the case given."""

    media_type = JSON_TYPE

    def __init__(self, body: Any, status: int = 200, headers: dict[str, str] | None = None) -> None:
        super().__init__(_encoder.encode(body), status_code=status)
        for name, value in (headers or {}).items():
            self.raw_headers.append((name.encode("latin-1"), value.encode("latin-1")))
        self.result_code = _result_code(body)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.result_code is not None:
            scope.setdefault("state", {})["resultCode"] = self.result_code
        await super().__call__(scope, receive, send)


def _result_code(body: Any) -> str | None:
    if type(body) is dict:
        for key in RESULT_CODE_KEYS:
            code = body.get(key)
            if type(code) is str:
                return code
    return None


def json(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    """A JSON answer. Header names keep the case given here on the wire (Starlette would lower-case them, and
    Huawei's own clients look `Set-GUID` up case-sensitively)."""
    return JsonResponse(body, status, headers)


def spring_error(
    request: Request,
    status: int,
    error: str,
    message: str,
    headers: dict[str, str] | None = None,
    code: str | None = None,
) -> Response:
    """The error body CEC's Spring-based services send (`timestamp`, `status`, `error`, `message`, `path`); ccdata's
    own endpoints add a machine-readable `code`."""
    body = {
        "timestamp": wall_clock_ms(),
        "status": status,
        "error": error,
        "message": message,
        "path": request.scope.get("path", ""),
    }
    if code is not None:
        body["code"] = code
    return json(body, status, headers)


def too_many_requests(request: Request, wait_s: float, message: str = "too many requests; try again later") -> Response:
    """429 with `Retry-After` (whole seconds): the answer where the reference defines no other."""
    return spring_error(request, 429, "Too Many Requests", message, {"Retry-After": retry_after(wait_s)})


def client_address(request: Request) -> str:
    """The peer's address: the unit of per-source limits (behind a proxy, every client shares the proxy's)."""
    return request.client.host if request.client else ""


def bearer(authorization: str | None) -> str | None:
    """The credential of an `Authorization: Bearer <credential>` header (the scheme is case-insensitive, RFC 9110
    11.1), or None."""
    if not authorization:
        return None
    scheme, _, credential = authorization.strip().partition(" ")
    if scheme.lower() != "bearer" or not credential.strip():
        return None
    return credential.strip()


class BodyTooLarge(Exception):
    pass


async def read_body(request: Request, limit: int) -> bytes:
    """The raw body, refusing more than `limit` bytes without reading them all."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isascii() and declared.isdigit():
        if int(declared) > limit:
            raise BodyTooLarge(f"the body is larger than {limit} bytes")
        return await request.body()  # the server delivers no more than the declared length
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge(f"the body is larger than {limit} bytes")
        chunks.append(chunk)
    body = b"".join(chunks)
    request._body = body  # later readers (signature checks) see the same bytes
    return body
