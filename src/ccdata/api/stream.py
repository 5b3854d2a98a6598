"""`GET /ccdata/v1/stream`: the live push as server-sent events (docs/operations.md, "Live stream").

Bearer credential: a `[[stream.clients]]` token, scoped to VDNs (the wallboard logs in with the same). Filters:
`?vdn=1,2` (default: the credential's VDNs) and `?kinds=agent,call,track,result,evaluation` (default: all).

Each message is `id: <seq>.<n>` (the log position of the event that caused it, and the message's index among
that event's), `event: <kind>`, `data: {"seq", "vdn", "kind", "data"}`. A client reconnecting with
`Last-Event-ID` gets every message after that position that the replay buffer still holds (the last
`[stream] replay_messages` since the first client connected in this process), none twice; when the buffer no
longer reaches back that far, it first gets an `event: reset` and should re-read the state it shows
(the wallboard re-reads its snapshot). A client whose queue fills (it reads slower than events come) is
disconnected with a logged reason; it reconnects with its Last-Event-ID and loses nothing the buffer holds.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
from collections import Counter, deque
from collections.abc import AsyncIterator
from typing import Final

import msgspec
from sse_starlette import EventSourceResponse
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ccdata.api import http
from ccdata.api.push import Push
from ccdata.config import StreamClient
from ccdata.domain.push import KINDS, Message
from ccdata.pipeline import Committed
from ccdata.service import Service

PATH = "/ccdata/v1/stream"
ALL_OF_EVENT: Final = 1 << 30  # a position `<seq>` without `.<n>`: every message of that event was seen
log = logging.getLogger("ccdata.stream")
_encode = msgspec.json.Encoder().encode

Position = tuple[int, int]  # (log seq, index among the event's messages)


class _Buffered:
    """A message as the replay buffer keeps it: its data already JSON (a third of the memory of the dict); the SSE
    frame is put together when sent."""

    __slots__ = ("data", "kind", "position", "vdn")

    def __init__(self, position: Position, message: Message) -> None:
        self.position = position
        self.kind = message.kind
        self.vdn = message.vdn
        self.data = _encode(message.data)

    def frame(self) -> bytes:
        seq, index = self.position
        kind = self.kind.encode()
        body = b'{"seq":%d,"vdn":%d,"kind":"%s","data":%s}' % (seq, self.vdn, kind, self.data)
        return b"id: %d.%d\nevent: %s\ndata: %s\n\n" % (seq, index, kind, body)


class Subscriber:
    """One connected client: what it asked for and the messages waiting for it (at most `size`)."""

    def __init__(self, name: str, vdns: frozenset[int], kinds: frozenset[str], size: int) -> None:
        self.name = name
        self.vdns = vdns
        self.kinds = kinds
        self.size = size
        self.waiting: deque[_Buffered] = deque()
        self.ready = asyncio.Event()
        self.dropped: str | None = None  # why the hub gave up on it

    def wants(self, kind: str, vdn: int) -> bool:
        return kind in self.kinds and vdn in self.vdns


class StreamHub:
    """Fans committed messages out to the connected clients and keeps the replay buffer."""

    def __init__(self, service: Service, push: Push) -> None:
        self.service = service
        self.push = push
        self.settings = service.config.stream
        self.buffer: deque[_Buffered] = deque()
        # Nothing at or before this position can be replayed (derived before the buffer began, or evicted).
        self.horizon: Position = (service.pipeline.seq, ALL_OF_EVENT)
        self.latest = service.pipeline.seq
        self.subscribers: set[Subscriber] = set()
        self._dropped: set[Subscriber] = set()  # dropped while the subscribers are being walked
        self.counters: Counter[str] = Counter()  # messages, slow_disconnects, resets: for the metrics
        service.subscribe(self._committed)

    # --- the commit side ---

    def _committed(self, item: Committed) -> None:
        self.latest = item.seq
        if item.messages is None:  # applied before anyone listened: not replayable
            self.horizon = (item.seq, ALL_OF_EVENT)
            return
        self.counters["messages"] += len(item.messages)
        buffer, keep = self.buffer, self.settings.replay_messages
        for index, message in enumerate(item.messages):
            entry = _Buffered((item.seq, index), message)
            buffer.append(entry)
            if len(buffer) > keep:
                self.horizon = buffer.popleft().position
            for subscriber in self.subscribers:
                if message.kind in subscriber.kinds and message.vdn in subscriber.vdns:
                    self._offer(subscriber, entry)
        if self._dropped:
            self.subscribers -= self._dropped
            self._dropped.clear()

    def _offer(self, subscriber: Subscriber, entry: _Buffered) -> None:
        if subscriber.dropped is not None:
            return
        if len(subscriber.waiting) >= subscriber.size:
            subscriber.dropped = f"{subscriber.size} messages waiting (reading slower than they come)"
            subscriber.ready.set()  # its stream ends once it has sent what is waiting
            self._dropped.add(subscriber)
            self.counters["slow_disconnects"] += 1
            log.warning("stream client %s disconnected: %s; it may reconnect with Last-Event-ID",
                        subscriber.name, subscriber.dropped)  # fmt: skip
            return
        subscriber.waiting.append(entry)
        if not subscriber.ready.is_set():
            subscriber.ready.set()

    # --- the client side ---

    def subscribe(self, subscriber: Subscriber, last: Position | None) -> list[bytes]:
        """Register a client; return what it missed since `last` (or a reset first when that is gone).

        Synchronous on the loop: no commit can come between the replay and the registration."""
        self.push.listen()
        self.subscribers.add(subscriber)
        if last is None:
            return []
        if last < self.horizon or last[0] > self.latest:
            self.counters["resets"] += 1
            reason = "the replay buffer no longer holds messages after this position; re-read the state"
            given = str(last[0]) if last[1] == ALL_OF_EVENT else f"{last[0]}.{last[1]}"
            body = _encode({"seq": self.latest, "lastEventId": given, "reason": reason})
            return [b"id: %d\nevent: reset\ndata: %s\n\n" % (self.latest, body)]
        missed: list[bytes] = []
        for entry in reversed(self.buffer):  # reconnects are recent: walk back from the newest
            if entry.position <= last:
                break
            if subscriber.wants(entry.kind, entry.vdn):
                missed.append(entry.frame())
        missed.reverse()
        return missed

    def unsubscribe(self, subscriber: Subscriber) -> None:
        self.subscribers.discard(subscriber)

    async def frames(self, subscriber: Subscriber, missed: list[bytes]) -> AsyncIterator[bytes]:
        try:
            for frame in missed:
                yield frame
            # A dropped client still gets what was waiting for it: its Last-Event-ID is then exactly where the
            # replay resumes.
            while True:
                while subscriber.waiting:
                    yield subscriber.waiting.popleft().frame()
                if subscriber.dropped is not None:
                    break
                subscriber.ready.clear()
                await subscriber.ready.wait()
        finally:
            self.unsubscribe(subscriber)


def parse_last_event_id(text: str | None) -> Position | None:
    """`<seq>` or `<seq>.<n>`; None when absent or not of that form (then the stream starts live)."""
    if not text:
        return None
    seq, dot, index = text.strip().partition(".")
    if not (seq.isascii() and seq.isdigit()) or (dot and not (index.isascii() and index.isdigit())):
        return None
    return int(seq), int(index) if dot else ALL_OF_EVENT


def stream_client(service: Service, request: Request) -> StreamClient | None:
    """The `[[stream.clients]]` credential of the request's Bearer token (compared in constant time)."""
    given = (http.bearer(request.headers.get("authorization")) or "").encode("utf-8", "surrogateescape")
    if not given:
        return None
    found = None
    for client in service.config.stream.clients:
        if hmac.compare_digest(given, client.token.encode()):
            found = client
    return found


class BadFilter(ValueError):
    pass


def scope_filter(client: StreamClient, text: str | None) -> frozenset[int]:
    """The `vdn` filter: VDNs of the credential's scope (all of them by default)."""
    if not text:
        return frozenset(client.vdns)
    wanted = set()
    for part in text.split(","):
        if not (part.isascii() and part.strip().isdigit()):
            raise BadFilter(f"vdn must be a comma-separated list of VDN IDs, not {text[:64]!r}")
        vdn = int(part)
        if vdn not in client.vdns:
            raise PermissionError(f"VDN {vdn} is not in this credential's scope")
        wanted.add(vdn)
    return frozenset(wanted)


def kinds_filter(text: str | None) -> frozenset[str]:
    if not text:
        return frozenset(KINDS)
    kinds = {part.strip() for part in text.split(",")}
    if unknown := kinds - set(KINDS):
        raise BadFilter(f"unknown kinds {sorted(unknown)[:5]}; kinds are {', '.join(KINDS)}")
    return frozenset(kinds)


def routes(hub: StreamHub) -> list[Route]:
    settings = hub.settings

    async def stream(request: Request) -> Response:
        client = stream_client(hub.service, request)
        if client is None:
            return http.spring_error(request, 401, "Unauthorized", "the stream Bearer token is missing or wrong")
        try:
            vdns = scope_filter(client, request.query_params.get("vdn"))
            kinds = kinds_filter(request.query_params.get("kinds"))
        except BadFilter as exc:
            return http.spring_error(request, 400, "Bad Request", str(exc))
        except PermissionError as exc:
            return http.spring_error(request, 403, "Forbidden", str(exc))
        subscriber = Subscriber(client.name, vdns, kinds, settings.client_queue)
        missed = hub.subscribe(subscriber, parse_last_event_id(request.headers.get("last-event-id")))
        return EventSourceResponse(
            hub.frames(subscriber, missed),
            ping=settings.ping_s,
            send_timeout=settings.send_timeout_s,
            client_close_handler_callable=_closed(hub, subscriber),
            shutdown_event=_Farewell(subscriber),  # type: ignore[arg-type]
            shutdown_grace_period=1.0,
        )

    return [Route(PATH, stream, methods=["GET"])]


class _Farewell:
    """What sse-starlette `set()`s when the server shuts down: the client's stream ends cleanly (its response
    completed, no "returned without completing response" error), and it reconnects with its Last-Event-ID."""

    def __init__(self, subscriber: Subscriber) -> None:
        self.subscriber = subscriber

    def set(self) -> None:
        self.subscriber.dropped = "the server is shutting down"
        self.subscriber.ready.set()


def _closed(hub: StreamHub, subscriber: Subscriber):  # type: ignore[no-untyped-def]
    async def run(message: object) -> None:
        hub.unsubscribe(subscriber)

    return run
