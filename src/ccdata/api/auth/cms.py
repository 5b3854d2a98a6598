"""CC-CMS `auth-v2` verification: the signature over the raw path, query, received headers and raw body.

Two steps, so that a request is refused as early as it can be: `precheck` looks at the headers alone (the
Authorization format, the timestamp's skew, the signed headers' presence) before the body is read; `verify` then
computes the signature. An unknown access key is verified against a throw-away secret, so that it costs the same
and gets the same answer as a wrong signature: access keys cannot be told apart from the outside.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from urllib.parse import parse_qsl

from starlette.requests import Request

from ccdata import signing
from ccdata.config import CmsCredential

REFUSED = "the access key is unknown or the signature does not match the request"


class AuthError(Exception):
    """Why a request is not authenticated (sent back in the 401 body)."""


class CmsAuth:
    def __init__(self, credentials: list[CmsCredential], clock_skew_ms: int, clock: Callable[[], int]) -> None:
        self._by_ak = {c.ak: c for c in credentials}
        self._decoy_sk = secrets.token_hex(16)  # for unknown access keys: same work, never a match
        self.clock_skew_ms = clock_skew_ms
        self.clock = clock

    def precheck(self, request: Request) -> signing.ParsedAuthorization:
        """What can be refused from the headers alone; the same for every access key, known or not."""
        header = request.headers.get("authorization")
        if not header:
            raise AuthError("the Authorization header is missing")
        try:
            parsed = signing.parse_authorization(header)
            moment = signing.parse_timestamp(parsed.timestamp)
        except ValueError as exc:
            raise AuthError(str(exc)) from None
        skew = abs(self.clock() - int(moment.timestamp() * 1000))
        if skew > self.clock_skew_ms:
            raise AuthError(f"the signature timestamp is {skew // 1000} s away from the server's clock")
        for name in parsed.signed_headers:
            if name not in request.headers:
                raise AuthError(f"the signed header {name[:64]!r} is missing from the request")
        return parsed

    def verify(self, request: Request, body: bytes, parsed: signing.ParsedAuthorization | None = None) -> CmsCredential:
        """The credential that signed the request; raises AuthError otherwise."""
        if parsed is None:
            parsed = self.precheck(request)
        headers = {name: request.headers[name] for name in parsed.signed_headers}
        path = (request.scope.get("raw_path") or request.url.path.encode()).decode("latin-1")
        canonical = signing.canonical_request(request.method, path, _query(request), headers, body)
        credential = self._by_ak.get(parsed.ak)
        secret = credential.sk if credential is not None else self._decoy_sk
        if not signing.verify(secret, parsed, canonical) or credential is None:
            raise AuthError(REFUSED)
        return credential


def _query(request: Request) -> dict[str, str]:
    """The decoded query (a form-encoded query turns spaces into '+', as the reference signer sees it). A name
    given twice is refused: the signer's map holds one value per name, so the request would be ambiguous."""
    raw_query = request.scope.get("query_string", b"")
    if not raw_query:
        return {}
    query: dict[str, str] = {}
    for name, value in parse_qsl(raw_query.decode("latin-1"), keep_blank_values=True):
        if name in query:
            raise AuthError(f"the query parameter {name[:64]!r} is given more than once")
        query[name] = value
    return query
