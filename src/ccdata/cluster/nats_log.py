"""The event log on NATS JetStream: the distributed form's source of truth (design.md §7).

One stream per deployment, file storage, subject `<stream>.events`. Each event is one message whose `Nats-Msg-Id`
is the event's id, so JetStream drops a repeat within its duplicate window (and answers with the original's
sequence); the engine drops repeats older than that. An append is answered once JetStream has stored every event
(its ack, or, on a log its own follower follows, the last event's ack and the follower's deliveries): an event is
in the log, on disk, before anyone is told it was taken. Every node reads the stream in order from a position with an
ordered consumer (an ephemeral push consumer without acks, checked for gaps and recreated from the last position
after one, after missed heartbeats or after a reconnect).

Appends and the follower go through `nats_wire.WireConnection` (per read of the socket, not per message: see
there why); the stream's creation and information and single reads go through nats-py.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import time
from collections.abc import AsyncIterator, Sequence
from typing import Any, NamedTuple

import msgspec
import nats
from nats.js import api
from nats.js.errors import NotFoundError

from ccdata.cluster.nats_wire import (
    Message,
    Unreachable,
    WireConnection,
    WireError,
    publish_frame,
    server_of,
    status_of,
)
from ccdata.store.ports import StoreUnavailable

log = logging.getLogger("ccdata.cluster")

DUPLICATE_WINDOW_S = 120.0  # JetStream's own dedup; the engine's window covers what is older
ACK_TIMEOUT_S = 30.0  # an append whose acks have not all come by then is StoreUnavailable (retried: deduplicated)
HEARTBEAT_S = 5.0  # the follower's consumer sends one when idle; three missed and the consumer is made anew
API_TIMEOUT_S = 5.0
ADMIN_CONNECT_S = 10.0
PING_TIMEOUT_S = 2.0
START_HINT = (
    "start it with: start-stop-daemon --start --oknodo --background --exec /usr/sbin/nats-server -- "
    "-a 127.0.0.1 -p 4222 -js -sd /var/lib/nats-server"
)


class _Ack(msgspec.Struct):
    """JetStream's answer to a publish (`PubAck`), or its error."""

    seq: int = 0
    duplicate: bool = False
    error: dict[str, Any] | None = None


_decode_ack = msgspec.json.Decoder(_Ack).decode


class _Acks:
    """Where the events of one `append` landed, by index, as acks and a follower report them."""

    __slots__ = ("acks", "done", "fence", "missing")

    def __init__(self, count: int, done: asyncio.Future[None]) -> None:
        self.acks: list[_Ack | None] = [None] * count
        self.missing = count
        self.done = done  # every event's place known
        self.fence: asyncio.Future[_Ack] | None = None  # the ack of the last event, when only it asks for one

    def fill(self, index: int, ack: _Ack) -> None:
        if self.acks[index] is None:
            self.acks[index] = ack
            self.missing -= 1
            if self.missing == 0 and not self.done.done():
                self.done.set_result(None)


class Appended(NamedTuple):
    seq: int  # the stream sequence of the event (of the original, for a repeat)
    duplicate: bool  # JetStream had this id already: the message at `seq` may differ (an id conflict)


def message_id(event_id: str) -> bytes:
    """The `Nats-Msg-Id` of an event: its id, unless NATS would read it otherwise. Header values lose their
    leading and trailing blanks, so " a" would be taken for a repeat of "a": such ids (and those starting with
    "~", to keep the mapping one to one) go as "~" and their UTF-8 in hex."""
    if event_id != event_id.strip() or event_id.startswith("~"):
        return b"~" + event_id.encode().hex().encode()
    return event_id.encode()


class _Reset(Exception):
    """The follower's consumer missed something (a gap, heartbeats, its connection): make a new one."""


class NatsEventLog:
    """`EventLog` on a JetStream stream. `connect` before use; `close` after."""

    def __init__(self, url: str, stream: str) -> None:
        self.url = url
        self.stream = stream
        self.subject = f"{stream}.events"
        self._nc: nats.NATS | None = None
        self._js: nats.js.JetStreamContext | None = None
        self._wire: WireConnection | None = None
        self._wire_lock = asyncio.Lock()
        self._where = url  # the server, without credentials, once connected (for messages)
        self._inbox = b""  # the prefix of the reply subjects acks come back to: `<inbox>.<append>.<index>`
        self._tag = secrets.token_hex(8).encode()  # this log's appends in the `Ccdata-Append` header
        self._appends = 0
        self._waiting: dict[bytes, _Acks] = {}  # by append number
        self._following = 0  # followers running on this log
        self._delivered = 0  # the last position a follower has received
        self._known_end = 0  # the last position an ack has told
        self._progress_waiters: list[tuple[int, asyncio.Future[None]]] = []

    async def connect(self) -> None:
        if self._nc is not None:
            return
        await self._connection()  # first: it fails at once, saying why (unreachable, refused, TLS)
        self._nc = await self._admin_connection()
        self._js = self._nc.jetstream()
        config = api.StreamConfig(
            name=self.stream,
            subjects=[self.subject],
            storage=api.StorageType.FILE,
            retention=api.RetentionPolicy.LIMITS,
            duplicate_window=DUPLICATE_WINDOW_S,
        )
        try:
            await self._js.stream_info(self.stream)
        except NotFoundError:
            await self._js.add_stream(config)
            log.info("created JetStream stream %s (file storage)", self.stream)

    async def _admin_connection(self) -> nats.NATS:
        """nats-py, for the rare requests: it reconnects by itself once connected, but its first connect would
        retry a refusal or an unreachable server forever, so that one is bounded in time."""
        try:
            server = server_of(self.url)
        except WireError as exc:
            raise StoreUnavailable(str(exc)) from exc
        errors: list[Exception] = []

        async def failed(exc: Exception) -> None:
            errors.append(exc)

        try:
            return await asyncio.wait_for(
                nats.connect(server.where, user=server.user, password=server.password, token=server.token,
                             tls=server.tls_context(), tls_hostname=server.host if server.tls else None,
                             max_reconnect_attempts=-1, connect_timeout=5, error_cb=failed),
                ADMIN_CONNECT_S,
            )  # fmt: skip
        except (TimeoutError, OSError, nats.errors.Error) as exc:
            why = errors[-1] if errors else exc
            raise StoreUnavailable(f"NATS at {server.where} is not reachable ({why!r}); {START_HINT}") from exc

    async def _connection(self) -> WireConnection:
        """The lean connection of the hot paths, opened again if it was lost."""
        async with self._wire_lock:
            if self._wire is None or not self._wire.is_open:
                try:
                    wire = await WireConnection.open(self.url, name=f"ccdata {self.stream}")
                except Unreachable as exc:
                    raise StoreUnavailable(f"{exc}; {START_HINT}") from exc
                except WireError as exc:
                    raise StoreUnavailable(str(exc)) from exc
                self._where = wire.where
                self._inbox = wire.new_inbox().encode()
                wire.subscribe(f"{self._inbox.decode()}.*.*", self._acks_arrived)
                if self._wire is not None:
                    log.warning("connected to NATS again at %s", wire.where)
                self._wire = wire
            return self._wire

    async def _check(self, wire: WireConnection) -> None:
        """After a wait that came to nothing: a connection that does not answer a PING is closed, so that the next
        use opens a new one (a network that drops packets without closing the connection looks like this)."""
        if wire.is_open:
            try:
                await wire.ping(PING_TIMEOUT_S)
            except WireError as exc:
                log.warning("closing the connection to NATS at %s: %s", wire.where, exc)
                wire.abort()

    @property
    def js(self) -> nats.js.JetStreamContext:
        if self._js is None:
            raise RuntimeError("the event log is not connected")
        return self._js

    async def append(self, events: Sequence[tuple[str, bytes]]) -> list[Appended]:
        """Publish events in order; the position of each in the log (or of the earlier event with its id).

        While a follower of this log is caught up, only the last event asks for JetStream's ack (the fence: once
        it is answered, the stream has taken or dropped every event before it) and the follower tells where the
        others landed, from a header naming this append: an ack per event was a message to receive and decode
        per event, a fifth of a node's interpreter time (docs/performance.md §11). Otherwise, and for an event the
        follower did not see (JetStream dropped it as a repeat), every event asks for its ack."""
        if not events:
            return []
        wire = await self._connection()
        if self._following and self._delivered >= self._known_end:
            return await self._append_fenced(wire, events)
        return await self._append_acked(wire, events)

    async def _append_acked(self, wire: WireConnection, events: Sequence[tuple[str, bytes]]) -> list[Appended]:
        key, waiting = self._expect(len(events))
        try:
            await self._publish(wire, key, events, acked=range(len(events)), tagged=False)
            await self._until(wire, waiting.done, "every event's ack", lambda: waiting.missing)
        finally:
            del self._waiting[key]
        return self._appended(waiting)

    async def _append_fenced(self, wire: WireConnection, events: Sequence[tuple[str, bytes]]) -> list[Appended]:
        key, waiting = self._expect(len(events))
        waiting.fence = asyncio.get_running_loop().create_future()
        try:
            await self._publish(wire, key, events, acked=range(len(events) - 1, len(events)), tagged=True)
            fence = await self._until(wire, waiting.fence, "the last event's ack", lambda: waiting.missing)
            if fence.error is not None:
                raise StoreUnavailable(f"the event log refused an event: {fence.error.get('description', fence.error)}")
            # Everything this append got into the stream is at or before the fence, or before the stream's end if
            # the fence itself was a repeat: the follower has seen it all once it is there.
            end = fence.seq if not fence.duplicate else await self._stream_end(wire)
            await self._until(wire, self._delivered_to(end), f"the follower at {end}", lambda: waiting.missing)
        finally:
            del self._waiting[key]
        missing = [index for index, ack in enumerate(waiting.acks) if ack is None]
        if missing:  # dropped as repeats of earlier events: their acks say of which
            again = await self._append_acked(wire, [events[i] for i in missing])
            for index, appended in zip(missing, again, strict=True):
                waiting.acks[index] = _Ack(appended.seq, appended.duplicate)
        return self._appended(waiting)

    def _expect(self, count: int) -> tuple[bytes, _Acks]:
        self._appends += 1
        key = str(self._appends).encode()
        waiting = _Acks(count, asyncio.get_running_loop().create_future())
        self._waiting[key] = waiting
        return key, waiting

    async def _publish(
        self, wire: WireConnection, key: bytes, events: Sequence[tuple[str, bytes]], acked: range, tagged: bool
    ) -> None:
        """One write: per event an HPUB with its id (and, `tagged`, this append's tag for the follower:
        `<log>.<append>.<index>`), with a reply subject for those in `acked`."""
        subject, tag, reply = self.subject.encode(), b"%s.%s." % (self._tag, key), b"%s.%s." % (self._inbox, key)
        frames = []
        for index, (event_id, body) in enumerate(events):
            if tagged:
                headers = b"NATS/1.0\r\nNats-Msg-Id: %s\r\nCcdata-Append: %s%d\r\n\r\n" % (
                    message_id(event_id),
                    tag,
                    index,
                )
            else:
                headers = b"NATS/1.0\r\nNats-Msg-Id: %s\r\n\r\n" % message_id(event_id)
            frames.append(publish_frame(subject, b"%s%d" % (reply, index) if index in acked else b"", body, headers))
        try:
            await wire.write(b"".join(frames))
        except WireError as exc:
            raise StoreUnavailable(f"the event log did not take the events: {exc}") from exc

    async def _until(self, wire: WireConnection, waiter: asyncio.Future[Any], what: str, missing: Any) -> Any:
        """`waiter`'s result, or StoreUnavailable when the connection is lost or ACK_TIMEOUT_S pass first."""
        assert wire.closed is not None
        await asyncio.wait([waiter, wire.closed], timeout=ACK_TIMEOUT_S, return_when="FIRST_COMPLETED")
        if not waiter.done():
            waiter.cancel()
            why = (wire.error or "the connection was lost") if wire.closed.done() else f"{ACK_TIMEOUT_S:.0f} s"
            await self._check(wire)
            raise StoreUnavailable(f"the event log did not acknowledge {missing()} events (waiting for {what}): {why}")
        return waiter.result()

    def _appended(self, waiting: _Acks) -> list[Appended]:
        appended = []
        for ack in waiting.acks:
            assert ack is not None
            if ack.error is not None:
                raise StoreUnavailable(f"the event log refused an event: {ack.error.get('description', ack.error)}")
            appended.append(Appended(ack.seq, ack.duplicate))
        return appended

    def _acks_arrived(self, messages: list[Message]) -> None:
        for message in messages:
            _, key, index = message.subject.rsplit(b".", 2)
            waiting = self._waiting.get(key)
            if waiting is None:
                continue  # an append that gave up (timed out) already
            ack = self._ack(message)
            if ack.seq > self._known_end:
                self._known_end = ack.seq
            if waiting.fence is not None:
                if not waiting.fence.done():
                    waiting.fence.set_result(ack)
                if ack.error is not None or ack.duplicate:  # the follower sees neither
                    waiting.fill(int(index), ack)
            else:
                waiting.fill(int(index), ack)

    def _landed(self, key: bytes, index: int, seq: int) -> None:
        """A follower saw an event of one of this log's appends at `seq`."""
        waiting = self._waiting.get(key)
        if waiting is not None:
            waiting.fill(index, _Ack(seq))

    def _delivered_to(self, seq: int) -> asyncio.Future[None]:
        """Done once a follower of this log has received everything up to `seq`."""
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        if self._delivered >= seq:
            waiter.set_result(None)
        else:
            self._progress_waiters.append((seq, waiter))
        return waiter

    def _delivered_up_to(self, seq: int) -> None:
        self._delivered = seq
        if self._progress_waiters:
            waiting = []
            for end, waiter in self._progress_waiters:
                if waiter.done():
                    continue
                if end <= seq:
                    waiter.set_result(None)
                else:
                    waiting.append((end, waiter))
            self._progress_waiters = waiting

    async def _stream_end(self, wire: WireConnection) -> int:
        try:
            answer = msgspec.json.decode(await wire.request(f"$JS.API.STREAM.INFO.{self.stream}", b"", API_TIMEOUT_S))
        except WireError as exc:
            raise StoreUnavailable(f"the event log did not answer: {exc}") from exc
        if "error" in answer:
            raise StoreUnavailable(f"the event log did not answer: {answer['error'].get('description')}")
        return int(answer["state"]["last_seq"])

    def _ack(self, message: Message) -> _Ack:
        if message.payload:
            try:
                return _decode_ack(message.payload)
            except msgspec.DecodeError:
                return _Ack(error={"description": f"an unreadable ack: {message.payload[:200]!r}"})
        # A status without a body: 503, no responders (JetStream off, or no stream for the subject).
        status, _ = status_of(message.headers)
        return _Ack(error={"description": f"status {status or 'none'} from {self._where} (is JetStream enabled?)"})

    async def body_at(self, seq: int) -> bytes:
        message = await self.js.get_msg(self.stream, seq)
        return message.data or b""

    async def last_seq(self) -> int:
        info = await self.js.stream_info(self.stream)
        return info.state.last_seq

    async def follow(self, after: int) -> AsyncIterator[tuple[int, bytes]]:
        """(seq, body) of every event after `after`, in order, then each new one as it comes (forever)."""
        async for batch in self.follow_batches(after):
            for item in batch:
                yield item

    async def follow_batches(self, after: int) -> AsyncIterator[list[tuple[int, bytes]]]:
        """As `follow`, in lists of what has arrived since the last one was taken (one, or thousands in a burst).

        An ordered consumer: every message is checked to follow the one before (the consumer's own sequence);
        a gap, three missed heartbeats or a lost connection make a new consumer from the last position taken."""
        last = after
        while True:
            try:
                async for batch in self._consume(last):
                    last = batch[-1][0]
                    yield batch
            except (_Reset, StoreUnavailable, WireError) as exc:
                log.warning("the event log's follower starts again after %d: %s", last, exc)
                if self._wire is not None:
                    await self._check(self._wire)
                await asyncio.sleep(0.2 if isinstance(exc, _Reset) else 1.0)

    async def _consume(self, after: int) -> AsyncIterator[list[tuple[int, bytes]]]:
        wire = await self._connection()
        follower = _Follower(wire, self)
        deliver = wire.new_inbox()
        try:
            sid = wire.subscribe(deliver, follower.arrived)
        except WireError as exc:
            follower.forget()
            raise StoreUnavailable(f"could not follow the event log: {exc}") from exc
        try:
            await self._create_consumer(wire, deliver, after)
            self._following += 1
            try:
                while True:
                    yield await follower.next_batch()
            finally:
                self._following -= 1
        finally:
            wire.unsubscribe(sid)  # the server removes an ephemeral consumer without interest by itself
            follower.forget()

    async def _create_consumer(self, wire: WireConnection, deliver: str, after: int) -> None:
        config = {"deliver_subject": deliver, "deliver_policy": "by_start_sequence", "opt_start_seq": after + 1,
                  "ack_policy": "none", "max_deliver": 1, "flow_control": True, "filter_subject": self.subject,
                  "idle_heartbeat": int(HEARTBEAT_S * 1e9), "mem_storage": True, "num_replicas": 1}  # fmt: skip
        request = msgspec.json.encode({"stream_name": self.stream, "config": config})
        try:
            answer = msgspec.json.decode(await wire.request(f"$JS.API.CONSUMER.CREATE.{self.stream}", request,
                                                            API_TIMEOUT_S))  # fmt: skip
        except WireError as exc:
            raise StoreUnavailable(f"could not follow the event log: {exc}") from exc
        if "error" in answer:
            raise StoreUnavailable(f"could not follow the event log: {answer['error'].get('description')}")

    async def delete(self) -> None:
        """Remove the stream and everything in it (tests; `ccdata` never calls this on its own)."""
        await self.js.delete_stream(self.stream)

    async def close(self) -> None:
        if self._wire is not None:
            self._wire.close()
            self._wire = None
        if self._nc is not None:
            await self._nc.drain()
            self._nc = None
            self._js = None


class _Follower:
    """What one consumer has delivered and not been taken yet; the checks of an ordered consumer."""

    def __init__(self, wire: WireConnection, event_log: NatsEventLog) -> None:
        self.wire = wire
        self.log = event_log
        self.tag = event_log._tag + b"."
        self.arrivals: list[tuple[int, bytes]] = []
        self.delivered = 0  # the consumer's sequence of the last message
        self.ready = asyncio.Event()
        self.heard = time.monotonic()
        self.broken: str | None = None
        # Flow control requests not answered yet: answered once the messages before them are taken, so that the
        # server waits while the node applies what it has (a catch-up holds a batch, not the whole stream).
        self.flow_control: list[bytes] = []
        assert wire.closed is not None
        wire.closed.add_done_callback(self._connection_lost)

    def _connection_lost(self, _: object) -> None:
        self._break("the connection to NATS was lost")

    def forget(self) -> None:
        """Done with: the connection need not tell it anything more."""
        assert self.wire.closed is not None
        self.wire.closed.remove_done_callback(self._connection_lost)

    def arrived(self, messages: list[Message]) -> None:
        self.heard = time.monotonic()
        for message in messages:
            if message.reply.startswith(b"$JS.ACK."):
                tokens = message.reply.split(b".")  # $JS.ACK.[<domain>.<hash>.]<stream>.<consumer>.<n>.<seq>.<cseq>…
                at = 5 if len(tokens) == 9 else 7
                seq, consumer_seq = int(tokens[at]), int(tokens[at + 1])
                if consumer_seq != self.delivered + 1:
                    self._break(f"a gap in the consumer's sequence ({self.delivered} then {consumer_seq})")
                    return
                self.delivered = consumer_seq
                self.arrivals.append((seq, message.payload))
                at = message.headers.find(b"Ccdata-Append: ")
                if at > 0 and message.headers.startswith(self.tag, at + 15):  # one of this log's appends
                    _, key, index = message.headers[at + 15 : message.headers.find(b"\r", at)].split(b".")
                    self.log._landed(key, int(index), seq)
            else:
                self._status(message)
        if self.arrivals and self.arrivals[-1][0] > self.log._delivered:
            self.log._delivered_up_to(self.arrivals[-1][0])
        self.ready.set()

    def _status(self, message: Message) -> None:
        """Flow control and heartbeats (status 100) of the consumer."""
        status, fields = status_of(message.headers)
        if status != 100:
            return
        with contextlib.suppress(WireError):
            if message.reply:  # a flow control request: an empty answer lets the server go on
                if self.arrivals:
                    self.flow_control.append(message.reply)
                else:
                    self.wire.send(publish_frame(message.reply, b"", b""))
            stalled = fields.get(b"Nats-Consumer-Stalled")  # a heartbeat saying it waits for an answer
            if stalled:
                self.wire.send(publish_frame(stalled, b"", b""))
        last = fields.get(b"Nats-Last-Consumer")
        if last is not None and int(last) != self.delivered:
            self._break(f"the consumer delivered {int(last)}, this node has {self.delivered}")

    def _break(self, why: str) -> None:
        self.broken = why
        self.ready.set()

    async def next_batch(self) -> list[tuple[int, bytes]]:
        while not self.arrivals:
            if self.broken is not None:
                raise _Reset(self.broken)
            if not self.wire.is_open:
                raise _Reset("the connection to NATS was lost")
            self.ready.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.ready.wait(), HEARTBEAT_S)
            if not self.arrivals and time.monotonic() - self.heard > 3 * HEARTBEAT_S:
                raise _Reset(f"no message nor heartbeat for {3 * HEARTBEAT_S:.0f} s")
        batch, self.arrivals = self.arrivals, []
        if self.flow_control:
            with contextlib.suppress(WireError):  # a lost connection is found on the next call
                self.wire.send(b"".join(publish_frame(reply, b"", b"") for reply in self.flow_control))
            self.flow_control = []
        return batch
