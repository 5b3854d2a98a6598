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
from typing import Final, NamedTuple

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


class _Buffered(NamedTuple):
    position: Position
    kind: str
    vdn: int
    frame: bytes


class Subscriber:
    """One connected client: what it asked for and the frames waiting for it."""

    def __init__(self, name: str, vdns: frozenset[int], kinds: frozenset[str], size: int) -> None:
        self.name = name
        self.vdns = vdns
        self.kinds = kinds
        self.queue: asyncio.Queue[bytes] = asyncio.Queue(size)
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
        self.counters: Counter[str] = Counter()  # messages, slow_disconnects, resets: for the metrics
        service.subscribe(self._committed)

    # --- the commit side ---

    def _committed(self, item: Committed) -> None:
        self.latest = item.seq
        if item.messages is None:  # applied before anyone listened: not replayable
            self.horizon = (item.seq, ALL_OF_EVENT)
            return
        for index, message in enumerate(item.messages):
            self._publish((item.seq, index), message)

    def _publish(self, position: Position, message: Message) -> None:
        body = {"seq": position[0], "vdn": message.vdn, "kind": message.kind, "data": message.data}
        frame = b"id: %d.%d\nevent: %s\ndata: %s\n\n" % (*position, message.kind.encode(), _encode(body))
        self.counters["messages"] += 1
        self.buffer.append(_Buffered(position, message.kind, message.vdn, frame))
        while len(self.buffer) > self.settings.replay_messages:
            self.horizon = self.buffer.popleft().position
        for subscriber in list(self.subscribers):
            if subscriber.wants(message.kind, message.vdn):
                self._offer(subscriber, frame)

    def _offer(self, subscriber: Subscriber, frame: bytes) -> None:
        try:
            subscriber.queue.put_nowait(frame)
        except asyncio.QueueFull:
            self.subscribers.discard(subscriber)
            subscriber.dropped = f"{subscriber.queue.maxsize} messages waiting (reading slower than they come)"
            self.counters["slow_disconnects"] += 1
            log.warning("stream client %s disconnected: %s; it may reconnect with Last-Event-ID",
                        subscriber.name, subscriber.dropped)  # fmt: skip

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
            body = _encode({"seq": self.latest, "lastEventId": f"{last[0]}.{last[1]}", "reason": reason})
            return [b"id: %d\nevent: reset\ndata: %s\n\n" % (self.latest, body)]
        missed: list[bytes] = []
        for entry in reversed(self.buffer):  # reconnects are recent: walk back from the newest
            if entry.position <= last:
                break
            if subscriber.wants(entry.kind, entry.vdn):
                missed.append(entry.frame)
        missed.reverse()
        return missed

    def unsubscribe(self, subscriber: Subscriber) -> None:
        self.subscribers.discard(subscriber)

    async def frames(self, subscriber: Subscriber, missed: list[bytes]) -> AsyncIterator[bytes]:
        try:
            for frame in missed:
                yield frame
            # A dropped client still gets what its queue holds (it was dropped because the queue was full, so a
            # get never waits then): its Last-Event-ID is then exactly where the replay resumes.
            while subscriber.dropped is None or not subscriber.queue.empty():
                yield await subscriber.queue.get()
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
        )

    return [Route(PATH, stream, methods=["GET"])]


def _closed(hub: StreamHub, subscriber: Subscriber):  # type: ignore[no-untyped-def]
    async def run(message: object) -> None:
        hub.unsubscribe(subscriber)

    return run
