"""A lean connection to NATS for the event log's two hot paths: appending events and following the stream.

Why not nats-py here: at 30,000 events/s a node receives 60,000 messages/s (an ack and a replica delivery per
event), and nats-py handles each on its own: a regular-expression parse, a header parse, a `Msg`, a queue and a
coroutine call per message — over half of a node's interpreter time in a profile of the ingest benchmark
(docs/performance.md §11). This connection speaks the documented client protocol
(https://docs.nats.io/reference/reference-protocols/nats-protocol) and hands each subscription what one read of
the socket brought, as a list of raw messages, for the caller to take apart only as far as it needs. TLS with
`tls://` (after the server's INFO, as the protocol has it), credentials from the URL. It does no reconnecting: a
lost connection fails what waits on it, and the event log opens a new one (an append is retried, deduplicated by
its message ids; a follower resumes from the last position it applied).

nats-py stays for everything else (the stream's creation and information, reading one message): those are rare.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
import secrets
import ssl
from collections.abc import Callable
from typing import Any, NamedTuple, cast
from urllib.parse import unquote, urlsplit

log = logging.getLogger("ccdata.cluster")

CONNECT_TIMEOUT_S = 5.0
MAX_CONTROL_LINE = 1 << 20  # a protocol line (an INFO of a large cluster included) longer than this is garbage
WRITE_TIMEOUT_S = 30.0  # a server that reads nothing for this long is given up


class Server(NamedTuple):
    """Where a `nats://` or `tls://[user:password@|token@]host:port` URL points, its credentials decoded."""

    host: str
    port: int
    tls: bool = False
    user: str | None = None
    password: str | None = None
    token: str | None = None

    @property
    def where(self) -> str:
        """The URL without its credentials: for messages and logs."""
        return f"{'tls' if self.tls else 'nats'}://{self.host}:{self.port}"

    def tls_context(self) -> ssl.SSLContext | None:
        """For `tls://`: the system's trusted certificates (or those of `SSL_CERT_FILE`), host names checked."""
        return ssl.create_default_context() if self.tls else None


def server_of(url: str) -> Server:
    parts = urlsplit(url if "://" in url else f"nats://{url}")
    if parts.scheme not in ("nats", "tls"):
        raise WireError(f"{parts.scheme}://…: the event log's URL is nats://host:port or tls://host:port")
    server = Server(parts.hostname or "127.0.0.1", parts.port or 4222, tls=parts.scheme == "tls")
    if parts.username and parts.password is not None:
        return server._replace(user=unquote(parts.username), password=unquote(parts.password))
    if parts.username:
        return server._replace(token=unquote(parts.username))
    return server


class WireError(Exception):
    """The connection is gone, or the server refused something; the message says which."""


class Unreachable(WireError):
    """No connection could be made (nothing listens there, or nothing answers)."""


class Message(NamedTuple):
    subject: bytes
    reply: bytes  # b"" when there is none
    headers: bytes  # the raw header block (b"NATS/1.0 …\r\n…\r\n\r\n"), b"" for a message without headers
    payload: bytes


Handler = Callable[[list[Message]], None]
_new_message = tuple.__new__  # `Message(…)` runs a Python-level __new__: 60,000 times a second, that shows


class WireConnection(asyncio.Protocol):
    """One NATS client connection. `open` it, `subscribe` handlers, `write` frames, `close` it.

    Handlers are plain functions, called on the event loop with every message of one subscription that one read
    of the socket completed, in order. They must not block."""

    def __init__(self) -> None:
        self._transport: asyncio.Transport | None = None
        self._rest = b""  # the start of a message whose end has not arrived yet
        self._handlers: dict[bytes, Handler] = {}
        self._sids = itertools.count(1)
        self._info: asyncio.Future[dict[str, Any]] | None = None
        self._pongs: list[asyncio.Future[None]] = []
        self._writable: asyncio.Event = asyncio.Event()
        self._writable.set()
        self.closed: asyncio.Future[None] | None = None  # done, with the reason, once the connection is gone
        self.error: str | None = None  # the last -ERR the server sent
        self._connecting = True  # until the PONG after CONNECT: an -ERR then is a refusal
        self.where = ""  # the server's URL, without credentials
        self._inbox = self.new_inbox()
        self._requests: dict[bytes, asyncio.Future[bytes]] = {}
        self._request_ids = itertools.count(1)

    # --- opening and closing ---

    @classmethod
    async def open(cls, url: str, *, name: str = "ccdata") -> WireConnection:
        """Connect, say who we are (CONNECT with headers), and wait for the server's PONG."""
        server = server_of(url)
        loop = asyncio.get_running_loop()
        connection = cls()
        connection.where = server.where
        connection._info = loop.create_future()
        connection.closed = loop.create_future()
        try:
            await asyncio.wait_for(
                loop.create_connection(lambda: connection, server.host, server.port),
                CONNECT_TIMEOUT_S,
            )
            info = await asyncio.wait_for(asyncio.shield(connection._info), CONNECT_TIMEOUT_S)
        except (OSError, TimeoutError) as exc:
            connection.close()
            raise Unreachable(f"NATS at {server.where} is not reachable ({exc!r})") from exc
        context = server.tls_context()
        if info.get("tls_required") and context is None:
            connection.close()
            raise WireError(f"NATS at {server.where} requires TLS: give its URL as tls://{server.host}:{server.port}")
        if context is not None:
            await connection._start_tls(loop, context, server)
        options: dict[str, Any] = {"verbose": False, "pedantic": False, "headers": True, "no_responders": True,
                                   "protocol": 1, "lang": "python-ccdata", "version": "1", "name": name}  # fmt: skip
        if server.user is not None:
            options |= {"user": server.user, "pass": server.password}
        elif server.token is not None:
            options["auth_token"] = server.token
        connection.send(b"CONNECT " + json.dumps(options).encode() + b"\r\n")
        try:
            await connection.ping(CONNECT_TIMEOUT_S)
        except WireError:
            connection.abort()
            raise
        connection._connecting = False
        connection.subscribe(f"{connection._inbox}.*", connection._answer)
        return connection

    async def _start_tls(self, loop: asyncio.AbstractEventLoop, context: ssl.SSLContext, server: Server) -> None:
        """TLS from here on (NATS sends its INFO in the clear, then expects the handshake)."""
        assert self._transport is not None
        try:
            transport = await asyncio.wait_for(
                loop.start_tls(self._transport, self, context, server_hostname=server.host), CONNECT_TIMEOUT_S
            )
        except (OSError, TimeoutError) as exc:  # ssl.SSLError is an OSError: a certificate not trusted, say
            self.abort()
            raise WireError(f"no TLS with NATS at {server.where}: {exc}") from exc
        if transport is None:
            self.abort()
            raise WireError(f"no TLS with NATS at {server.where}: the connection closed during the handshake")
        self._transport = cast(asyncio.Transport, transport)

    def close(self) -> None:
        if self._transport is not None:
            self._transport.close()

    def abort(self) -> None:
        """Closed now, what is still buffered dropped: for a server that stopped reading (`close` would wait to
        flush it first, and the connection would stay open meanwhile)."""
        if self._transport is not None:
            self._transport.abort()

    @property
    def is_open(self) -> bool:
        closing = self._transport is None or self._transport.is_closing()
        return self.closed is not None and not self.closed.done() and not closing

    # --- asyncio.Protocol ---

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast(asyncio.Transport, transport)  # uvloop's is not an asyncio.Transport subclass

    def connection_lost(self, exc: Exception | None) -> None:
        reason = WireError(f"the connection to NATS was lost ({exc or self.error or 'closed'})")
        for waiter in [*self._pongs, *self._requests.values(), self._info, self.closed]:
            if waiter is not None and not waiter.done():
                waiter.set_exception(reason)
        for future in (self.closed, self._info):  # retrieved: nobody has to
            if future is not None and future.done() and not future.cancelled():
                future.exception()
        self._pongs.clear()
        self._requests.clear()
        self._writable.set()  # writers wake up and find the connection gone

    def pause_writing(self) -> None:
        self._writable.clear()

    def resume_writing(self) -> None:
        self._writable.set()

    def data_received(self, data: bytes) -> None:
        # Parsed on `bytes` (a slice is one copy): what an earlier read left incomplete goes in front.
        buffer = self._rest + data if self._rest else data
        arrived: dict[bytes, list[Message]] = {}
        at = 0
        while True:
            end = buffer.find(b"\r\n", at)
            if end < 0:
                if len(buffer) - at > MAX_CONTROL_LINE:
                    self._fail(f"a protocol line longer than {MAX_CONTROL_LINE} bytes")
                break
            if buffer[at] == 0x48 or buffer[at] == 0x4D:  # HMSG, MSG: what all the traffic is
                taken = _message(buffer, at, end, arrived)
                if taken < 0:
                    break  # the payload is not all here yet
                at = taken
                continue
            self._control(buffer[at:end])
            at = end + 2
        self._rest = buffer[at:]
        for sid, messages in arrived.items():
            handler = self._handlers.get(sid)
            if handler is not None:
                handler(messages)

    def _control(self, line: bytes) -> None:
        if line == b"PING":
            self.send(b"PONG\r\n")
        elif line == b"PONG":
            if self._pongs:
                waiter = self._pongs.pop(0)
                if not waiter.done():
                    waiter.set_result(None)
        elif line.startswith(b"INFO "):
            if self._info is not None and not self._info.done():
                self._info.set_result(json.loads(line[5:]))
        elif line.startswith(b"-ERR"):
            self.error = line[5:].decode(errors="replace").strip("' ")
            log.warning("NATS said: %s", self.error)
            if self._connecting:  # a refused CONNECT (authorization) fails the PING that follows it
                for waiter in self._pongs:
                    if not waiter.done():
                        waiter.set_exception(WireError(f"NATS refused: {self.error}"))
                self._pongs.clear()
        # +OK (verbose mode only) and anything unknown: nothing to do

    def _fail(self, why: str) -> None:
        log.error("closing the NATS connection: %s", why)
        self.error = why
        self.abort()

    # --- writing ---

    def send(self, data: bytes) -> None:
        """Frames already encoded, without waiting for the socket (small answers: PONG, flow control)."""
        if self._transport is None or self._transport.is_closing():
            raise WireError(f"the connection to NATS is closed ({self.error or 'lost'})")
        self._transport.write(data)

    async def write(self, data: bytes) -> None:
        """Frames already encoded (`publish_frame`); waits while the socket's buffer is full."""
        self.send(data)
        if not self._writable.is_set():
            try:
                await asyncio.wait_for(self._writable.wait(), WRITE_TIMEOUT_S)
            except TimeoutError:
                self.abort()
                raise WireError(f"NATS read nothing of what was sent for {WRITE_TIMEOUT_S:.0f} s") from None

    async def ping(self, timeout_s: float) -> None:
        """Until the server has read everything written before (its PONG)."""
        waiter = asyncio.get_running_loop().create_future()
        self._pongs.append(waiter)
        self.send(b"PING\r\n")
        try:
            await asyncio.wait_for(waiter, timeout_s)
        except TimeoutError as exc:
            raise WireError(f"NATS did not answer a PING within {timeout_s:.0f} s") from exc

    def subscribe(self, subject: str, handler: Handler) -> bytes:
        """A subscription; its sid (for `unsubscribe`)."""
        sid = str(next(self._sids)).encode()
        self._handlers[sid] = handler
        self.send(b"SUB " + subject.encode() + b" " + sid + b"\r\n")
        return sid

    def unsubscribe(self, sid: bytes) -> None:
        self._handlers.pop(sid, None)
        with contextlib.suppress(WireError):
            self.send(b"UNSUB " + sid + b"\r\n")

    def new_inbox(self) -> str:
        return f"_INBOX.{secrets.token_hex(11)}"

    # --- request and reply (the JetStream API) ---

    async def request(self, subject: str, payload: bytes, timeout_s: float) -> bytes:
        key = str(next(self._request_ids)).encode()
        answer: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()
        self._requests[key] = answer
        try:
            await self.write(publish_frame(subject.encode(), f"{self._inbox}.".encode() + key, payload))
            return await asyncio.wait_for(answer, timeout_s)
        except TimeoutError as exc:
            raise WireError(f"NATS did not answer {subject} within {timeout_s:.0f} s") from exc
        finally:
            self._requests.pop(key, None)

    def _answer(self, messages: list[Message]) -> None:
        for message in messages:
            answer = self._requests.get(message.subject.rpartition(b".")[2])
            if answer is not None and not answer.done():
                if message.headers.startswith(b"NATS/1.0 503"):
                    answer.set_exception(WireError("no responders (is JetStream enabled on the server?)"))
                else:
                    answer.set_result(message.payload)


def _message(buffer: bytes, at: int, end: int, arrived: dict[bytes, list[Message]]) -> int:
    """Take one MSG or HMSG at `at` (its control line ends at `end`) into `arrived` by sid; where the next
    begins, or -1 if its payload is not all in `buffer` yet."""
    fields = buffer[at:end].split()
    if buffer[at] == 0x48:  # HMSG <subject> <sid> [reply] <header bytes> <total bytes>
        header_size, total = int(fields[-2]), int(fields[-1])
        reply = fields[3] if len(fields) == 6 else b""
    else:  # MSG <subject> <sid> [reply] <total bytes>
        header_size, total = 0, int(fields[-1])
        reply = fields[3] if len(fields) == 5 else b""
    start = end + 2
    stop = start + total
    if len(buffer) < stop + 2:
        return -1
    split = start + header_size
    message = _new_message(Message, (fields[1], reply, buffer[start:split], buffer[split:stop]))
    sid = fields[2]
    if sid in arrived:
        arrived[sid].append(message)
    else:
        arrived[sid] = [message]
    return stop + 2


def publish_frame(subject: bytes, reply: bytes, payload: bytes, headers: bytes = b"") -> bytes:
    """One PUB or HPUB, ready to write (`headers` a whole header block: b"NATS/1.0\\r\\nName: value\\r\\n\\r\\n")."""
    to = b"%s %s" % (subject, reply) if reply else subject
    if headers:
        return b"HPUB %s %d %d\r\n%s%s\r\n" % (to, len(headers), len(headers) + len(payload), headers, payload)
    return b"PUB %s %d\r\n%s\r\n" % (to, len(payload), payload)


def status_of(headers: bytes) -> tuple[int, dict[bytes, bytes]]:
    """The status code of a header block (0 for none) and its headers, for the rare messages that need them."""
    lines = headers.split(b"\r\n")
    first = lines[0].split(b" ", 2)
    status = int(first[1]) if len(first) > 1 and first[1].isdigit() else 0
    fields = {}
    for line in lines[1:]:
        name, colon, value = line.partition(b":")
        if colon:
            fields[name.strip()] = value.strip()
    return status, fields
