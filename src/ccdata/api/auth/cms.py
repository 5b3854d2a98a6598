"""CC-CMS `auth-v2` verification: the signature over the raw path, query, received headers and raw body."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import parse_qsl

from starlette.requests import Request

from ccdata import signing
from ccdata.config import CmsCredential


class AuthError(Exception):
    """Why a request is not authenticated (sent back in the 401 body)."""


class CmsAuth:
    def __init__(self, credentials: list[CmsCredential], clock_skew_ms: int, clock: Callable[[], int]) -> None:
        self._by_ak = {c.ak: c for c in credentials}
        self.clock_skew_ms = clock_skew_ms
        self.clock = clock

    def verify(self, request: Request, body: bytes) -> CmsCredential:
        """The credential that signed the request; raises AuthError otherwise."""
        header = request.headers.get("authorization")
        if not header:
            raise AuthError("the Authorization header is missing")
        try:
            parsed = signing.parse_authorization(header)
            moment = signing.parse_timestamp(parsed.timestamp)
        except ValueError as exc:
            raise AuthError(str(exc)) from None
        credential = self._by_ak.get(parsed.ak)
        if credential is None:
            raise AuthError("unknown access key")
        skew = abs(self.clock() - int(moment.timestamp() * 1000))
        if skew > self.clock_skew_ms:
            raise AuthError(f"the signature timestamp is {skew // 1000} s away from the server's clock")
        headers = {}
        for name in parsed.signed_headers:
            value = request.headers.get(name)
            if value is None:
                raise AuthError(f"the signed header {name!r} is missing from the request")
            headers[name] = value
        raw_path = request.scope.get("raw_path") or request.url.path.encode()
        path = raw_path.decode("latin-1")
        # A form-encoded query turns spaces into '+': decode before normalising, as the reference signer sees it.
        raw_query = request.scope.get("query_string", b"")
        query = dict(parse_qsl(raw_query.decode("latin-1"), keep_blank_values=True)) if raw_query else {}
        canonical = signing.canonical_request(request.method, path, query, headers, body)
        if not signing.verify(credential.sk, parsed, canonical):
            raise AuthError("the signature does not match the request")
        return credential
