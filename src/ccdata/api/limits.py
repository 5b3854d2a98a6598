"""The HTTP server's limits, set deliberately (`[limits]`, docs/security.md): uvicorn's options and its httptools
protocol with what uvicorn leaves out.

uvicorn's httptools protocol has no bound on the request line and headers (a 64 MB header was accepted) and no
timeout on a request that never finishes arriving (half-sent requests stayed open for good). `protocol_class`
adds both, and caps connections in all and per source address:

- request line + headers over `max_header_bytes`: 431, connection closed;
- a request not fully received `incomplete_request_timeout_s` after its first byte (or after the connection
  opened): 408 if its headers were not complete, else the connection is closed;
- beyond `max_connections` open connections, or `max_connections_per_address` from one address: the new
  connection is closed at once.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any, Final

from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol

from ccdata.api import http
from ccdata.config import Limits


def server_options(limits: Limits) -> dict[str, Any]:
    """Keyword arguments for `uvicorn.run` / `uvicorn.Config`."""
    return {
        "http": protocol_class(limits),
        "timeout_keep_alive": limits.keep_alive_timeout_s,
        "limit_concurrency": limits.max_connections + 1,  # our protocol closes connections beyond the cap first
        "backlog": limits.backlog,
    }


class _HeadersTooLarge(Exception):
    pass


def protocol_class(limits: Limits) -> type[asyncio.Protocol]:
    """uvicorn's httptools protocol bound to these limits."""
    return type(
        "LimitedHttpToolsProtocol",
        (LimitedHttpToolsProtocol,),
        {
            "max_header_bytes": limits.max_header_bytes,
            "incomplete_timeout_s": limits.incomplete_request_timeout_s,
            "max_connections": limits.max_connections,
            "max_per_address": limits.max_connections_per_address,
        },
    )


class LimitedHttpToolsProtocol(HttpToolsProtocol):
    max_header_bytes = 16 * 1024
    incomplete_timeout_s = 10.0
    max_connections = 2048
    max_per_address = 256

    # --- connections ---

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(_WireCase(transport))  # type: ignore[arg-type]
        self._header_bytes = self._received = 0
        self._in_headers, self._began = True, False
        self._refused: str | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._address = self.client[0] if self.client else ""
        per_address = _per_address(self.server_state)
        per_address[self._address] += 1
        if len(self.connections) > self.max_connections or per_address[self._address] > self.max_per_address:
            self.logger.warning("Connection from %s refused: too many open connections.", self._address)
            transport.abort()
            return
        self._arm()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        per_address = _per_address(self.server_state)
        per_address[self._address] -= 1
        if per_address[self._address] <= 0:
            del per_address[self._address]
        super().connection_lost(exc)

    # --- the request line and headers ---

    def data_received(self, data: bytes) -> None:
        # httptools buffers a header until it is complete: bound the bytes it may be holding, chunk by chunk (the
        # callbacks below count the request line and headers exactly).
        if self._in_headers and self._received > self.max_header_bytes:
            self._refuse(431, "Request header fields too large.")
            return
        self._began = False
        super().data_received(data)
        if self._in_headers and not self._began:
            self._received += len(data)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._header_bytes = self._received = 0
        self._in_headers = self._began = True
        self._arm()

    def on_url(self, url: bytes) -> None:
        self._count(len(url))
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        self._count(len(name) + len(value) + 4)
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        self._in_headers = False
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        self._disarm()
        super().on_message_complete()

    def _count(self, size: int) -> None:
        self._header_bytes += size
        if self._header_bytes > self.max_header_bytes:
            self._refused = "Request header fields too large."
            raise _HeadersTooLarge

    def send_400_response(self, msg: str) -> None:
        if self._refused is not None:  # a callback of ours stopped the parser
            self._refuse(431, self._refused)
        else:
            super().send_400_response(msg)

    # --- the incomplete-request timer ---

    def _arm(self) -> None:
        self._disarm()
        self._timer = self.loop.call_later(self.incomplete_timeout_s, self._timed_out)

    def _disarm(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _timed_out(self) -> None:
        self._timer = None
        if self.transport.is_closing():
            return
        if self._in_headers and (self.cycle is None or self.cycle.response_complete):
            self._refuse(408, "The request was not received in time.")
        else:  # the application is reading the body: it sees a disconnect
            self.transport.close()

    def _refuse(self, status: int, message: str) -> None:
        self._disarm()
        if self.transport.is_closing():
            return
        body = message.encode("ascii")
        self.transport.write(
            b"".join(
                [
                    STATUS_LINE[status],
                    b"content-type: text/plain; charset=utf-8\r\n",
                    b"content-length: " + str(len(body)).encode("ascii") + b"\r\n",
                    b"connection: close\r\n\r\n",
                    body,
                ]
            )
        )
        self.transport.close()


def _per_address(server_state: Any) -> Counter[str]:
    counts = getattr(server_state, "ccdata_per_address", None)
    if counts is None:
        counts = server_state.ccdata_per_address = Counter()
    return counts


class _WireCase:
    """A transport that gives response header names their wire case back.

    uvicorn writes every response header name in lower case; some CEC clients read a header case-sensitively
    (Huawei's Java demo looks `Set-GUID` up with `equals`). The head of a response is written by itself, so only
    a write that starts a response is looked at.
    """

    __slots__ = ("_transport",)

    def __init__(self, transport: asyncio.Transport) -> None:
        self._transport = transport

    def write(self, data: bytes) -> None:
        if data.startswith(b"HTTP/"):
            for lower, cased in _CASED:
                data = data.replace(lower, cased, 1)
        self._transport.write(data)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


_CASED: Final = tuple((b"\r\n" + name.lower() + b": ", b"\r\n" + name + b": ") for name in http.WIRE_CASED_HEADERS)
