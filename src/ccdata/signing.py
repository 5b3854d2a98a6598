"""The CC-CMS `auth-v2` (C2) request signature, exactly as Huawei's reference signer computes it.

Authorization = `auth-v2/{AK}/{timestamp}/{signedHeaders}/{signature}` where
- timestamp is `yyyy-MM-dd'T'HH:mm:ss'Z'` (UTC, whole seconds);
- signingKey = hex(HMAC-SHA256(SK, "auth-v2/{AK}/{timestamp}/{signedHeaders}"));
- signature = hex(HMAC-SHA256(signingKey as hex text, CanonicalRequest));
- CanonicalRequest = method, raw path, the canonical query (only if there is one), signedHeaders, the canonical
  headers (each line `name:value`, percent-encoded, sorted), then the percent-encoded body (only if not empty),
  joined by newlines. Percent-encoding keeps only `A-Z a-z 0-9 - . _ ~`, with upper-case hex.
See `shared/reference/cec-api-notes.md` A.3 and H.1; `tests/test_signing.py` checks the published vectors.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from datetime import UTC, datetime
from functools import lru_cache
from typing import Final, NamedTuple

AUTH_VERSION: Final = "auth-v2"
TIMESTAMP_FORMAT: Final = "%Y-%m-%dT%H:%M:%SZ"
_UNRESERVED: Final = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
_HEX: Final = b"0123456789ABCDEF"
_GAP: Final = b"\x00"  # never in the output: every byte becomes an unreserved character, "%" or a hex digit
# Three byte tables give each input byte's three output slots: the byte itself and two gaps if it is unreserved,
# else "%" and its two hex digits.
_FIRST: Final = bytes(b if b in _UNRESERVED else ord("%") for b in range(256))
_SECOND: Final = bytes(_GAP[0] if b in _UNRESERVED else _HEX[b >> 4] for b in range(256))
_THIRD: Final = bytes(_GAP[0] if b in _UNRESERVED else _HEX[b & 15] for b in range(256))


def normalize(value: str | bytes) -> str:
    """Percent-encode every byte of the UTF-8 form except the unreserved ones.

    Table operations in C (`bytes.translate`, strided slice assignment), never a Python loop over the bytes: a
    1 MB body is encoded in about a millisecond, so a request is as cheap to refuse as it is to send.
    """
    data = value.encode("utf-8", "surrogatepass") if isinstance(value, str) else value
    if not data:
        return ""
    out = bytearray(3 * len(data))
    out[0::3] = data.translate(_FIRST)
    out[1::3] = data.translate(_SECOND)
    out[2::3] = data.translate(_THIRD)
    return out.translate(None, _GAP).decode("ascii")


def timestamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime(TIMESTAMP_FORMAT)


@lru_cache(maxsize=4096)
def parse_timestamp(text: str) -> datetime:
    """The strict reference format; raises ValueError on anything else. Cached: a busy client signs many requests
    within one second, and strptime is the slowest step of a verification."""
    return datetime.strptime(text, TIMESTAMP_FORMAT).replace(tzinfo=UTC)


def signed_headers(names: list[str] | tuple[str, ...]) -> str:
    # The reference sorts the original names (a Java TreeSet, case-sensitive), then lower-cases them.
    return ";".join(name.lower() for name in sorted(names))


def canonical_request(
    method: str,
    path: str,
    query: Mapping[str, str],
    headers: Mapping[str, str],
    body: bytes | str,
) -> str:
    names = signed_headers(list(headers))
    lines = [method.upper(), path]
    if query:
        lines.append("&".join(sorted(f"{normalize(k)}={normalize(v or '')}" for k, v in query.items())))
    lines.append(names)
    lines.append("\n".join(sorted(f"{normalize(k.lower())}:{normalize(v)}" for k, v in headers.items())) + "\n")
    text = "\n".join(lines)
    if body:
        text += normalize(body)
    return text


def _hex_hmac(key: bytes, message: str) -> str:
    return hmac.new(key, message.encode(), hashlib.sha256).hexdigest()


def signature(sk: str, prefix: str, canonical: str) -> str:
    return _hex_hmac(_signing_key(sk, prefix).encode(), canonical)


@lru_cache(maxsize=4096)
def _signing_key(sk: str, prefix: str) -> str:
    # The key depends only on the secret, AK, second and header names: shared by a second's requests of a client.
    return _hex_hmac(sk.encode(), prefix)


def authorization(
    ak: str,
    sk: str,
    moment: datetime,
    method: str,
    path: str,
    query: Mapping[str, str],
    headers: Mapping[str, str],
    body: bytes | str,
) -> str:
    """The `Authorization` header value for a request (the client side of auth-v2)."""
    prefix = f"{AUTH_VERSION}/{ak}/{timestamp(moment)}/{signed_headers(list(headers))}"
    return f"{prefix}/{signature(sk, prefix, canonical_request(method, path, query, headers, body))}"


class ParsedAuthorization(NamedTuple):
    ak: str
    timestamp: str
    signed_headers: tuple[str, ...]
    signature: str

    @property
    def prefix(self) -> str:
        return f"{AUTH_VERSION}/{self.ak}/{self.timestamp}/{';'.join(self.signed_headers)}"


def parse_authorization(value: str) -> ParsedAuthorization:
    """Split an `auth-v2` header; raises ValueError saying what is wrong."""
    parts = value.strip().split("/")
    if len(parts) != 5:
        raise ValueError("the Authorization header is not auth-v2/{AK}/{timestamp}/{signedHeaders}/{signature}")
    version, ak, ts, names, sig = parts
    if version != AUTH_VERSION:
        raise ValueError(f"unsupported authorization version {version!r}")
    if not ak or not names or not sig:
        raise ValueError("the Authorization header has an empty AK, signed-header list or signature")
    return ParsedAuthorization(ak, ts, tuple(names.split(";")), sig)


def verify(sk: str, parsed: ParsedAuthorization, canonical: str) -> bool:
    """Constant-time comparison of the received signature with the one computed from the request."""
    expected = signature(sk, parsed.prefix, canonical)
    return hmac.compare_digest(expected.encode(), parsed.signature.encode())
