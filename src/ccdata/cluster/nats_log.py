"""The event log on NATS JetStream: the distributed form's source of truth (design.md §7).

One stream per deployment, file storage, subject `<stream>.events`. Each event is one message whose `Nats-Msg-Id`
is the event's id, so JetStream drops a repeat within its duplicate window (and answers with the original's
sequence); the engine drops repeats older than that. Publishes wait for JetStream's ack: an event is in the log,
on disk, before anyone is told it was taken. Every node reads the stream in order from a position with an
ordered consumer (no server-side state, recreated by the client after a reconnect).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Sequence
from typing import Any, NamedTuple

import msgspec
import nats
from nats.aio.msg import Msg
from nats.errors import ConnectionClosedError, NoServersError, OutboundBufferLimitError
from nats.errors import TimeoutError as NatsTimeout
from nats.js import api
from nats.js.errors import NotFoundError

from ccdata.store.ports import StoreUnavailable

log = logging.getLogger("ccdata.cluster")

DUPLICATE_WINDOW_S = 120.0  # JetStream's own dedup; the engine's window covers what is older
ACK_TIMEOUT_S = 30.0  # an append whose acks have not all come by then is StoreUnavailable (retried: deduplicated)


class _Ack(msgspec.Struct):
    """JetStream's answer to a publish (`PubAck`), or its error."""

    seq: int = 0
    duplicate: bool = False
    error: dict[str, Any] | None = None


_decode_ack = msgspec.json.Decoder(_Ack).decode


class _Acks:
    """The acks one `append` waits for, by index."""

    __slots__ = ("acks", "done", "missing")

    def __init__(self, count: int, done: asyncio.Future[None]) -> None:
        self.acks: list[_Ack | None] = [None] * count
        self.missing = count
        self.done = done


class Appended(NamedTuple):
    seq: int  # the stream sequence of the event (of the original, for a repeat)
    duplicate: bool  # JetStream had this id already: the message at `seq` may differ (an id conflict)


class NatsEventLog:
    """`EventLog` on a JetStream stream. `connect` before use; `close` after."""

    def __init__(self, url: str, stream: str) -> None:
        self.url = url
        self.stream = stream
        self.subject = f"{stream}.events"
        self._nc: nats.NATS | None = None
        self._js: nats.js.JetStreamContext | None = None
        self._inbox = ""  # the prefix of the reply subjects acks come back to: `<inbox>.<append>.<index>`
        self._appends = 0
        self._waiting: dict[str, _Acks] = {}  # by append number

    async def connect(self) -> None:
        if self._nc is not None:
            return
        try:
            self._nc = await nats.connect(self.url, max_reconnect_attempts=-1, connect_timeout=5)
        except (NoServersError, OSError, NatsTimeout) as exc:
            raise StoreUnavailable(
                f"NATS at {self.url} is not reachable ({exc}); start it with: start-stop-daemon --start --oknodo "
                "--background --exec /usr/sbin/nats-server -- -a 127.0.0.1 -p 4222 -js -sd /var/lib/nats-server"
            ) from exc
        self._js = self._nc.jetstream()
        self._inbox = self._nc.new_inbox()
        await self._nc.subscribe(f"{self._inbox}.*.*", cb=self._ack_arrived, pending_msgs_limit=-1)
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

    @property
    def js(self) -> nats.js.JetStreamContext:
        if self._js is None:
            raise RuntimeError("the event log is not connected")
        return self._js

    async def append(self, events: Sequence[tuple[str, bytes]]) -> list[Appended]:
        """Publish events in order and wait for every ack (pipelined: one round trip for the batch).

        Core publishes with a reply subject per event, the acks decoded straight into `_Ack` on one subscription:
        nats-py's `publish_async` costs a semaphore, a future, a callback, `json.loads` and a dataclass per event
        (and, given a stall timeout, a task switch per event that makes its flusher write each message alone)."""
        if not events:
            return []
        nc = self._nc
        if nc is None:
            raise RuntimeError("the event log is not connected")
        self._appends += 1
        key = str(self._appends)
        waiting = _Acks(len(events), asyncio.get_running_loop().create_future())
        self._waiting[key] = waiting
        prefix = f"{self._inbox}.{key}."
        try:
            for index, (event_id, body) in enumerate(events):
                await nc.publish(self.subject, body, reply=f"{prefix}{index}", headers={"Nats-Msg-Id": event_id})
            await asyncio.wait_for(waiting.done, ACK_TIMEOUT_S)
        except (ConnectionClosedError, NatsTimeout, TimeoutError, OutboundBufferLimitError) as exc:
            raise StoreUnavailable(f"the event log did not acknowledge: {exc!r}") from exc
        finally:
            del self._waiting[key]
        appended = []
        for ack in waiting.acks:
            assert ack is not None
            if ack.error is not None:
                raise StoreUnavailable(f"the event log refused an event: {ack.error.get('description', ack.error)}")
            appended.append(Appended(ack.seq, ack.duplicate))
        return appended

    async def _ack_arrived(self, message: Msg) -> None:
        key, _, index = message.subject[len(self._inbox) + 1 :].partition(".")
        waiting = self._waiting.get(key)
        if waiting is None:
            return  # an append that gave up (timed out) already
        if message.data:
            try:
                ack = _decode_ack(message.data)
            except msgspec.DecodeError:
                ack = _Ack(error={"description": f"an unreadable ack: {message.data[:200]!r}"})
        else:  # a status without a body: 503, no responders (JetStream off, or no stream for the subject)
            status = (message.headers or {}).get("Status", "no ack")
            ack = _Ack(error={"description": f"status {status} from {self.url} (is JetStream enabled?)"})
        position = int(index)
        if waiting.acks[position] is None:
            waiting.acks[position] = ack
            waiting.missing -= 1
            if waiting.missing == 0 and not waiting.done.done():
                waiting.done.set_result(None)

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

        A callback subscription that only appends: nats-py's message iterator costs a task and an `asyncio.wait`
        per message, several times the engine's own work on an event."""
        arrived: list[tuple[int, bytes]] = []
        ready = asyncio.Event()

        async def take(message: Msg) -> None:
            tokens = (message.reply or "").split(".")  # $JS.ACK.<stream>.<consumer>.<delivered>.<seq>.…
            seq = int(tokens[5]) if len(tokens) == 9 else message.metadata.sequence.stream  # else the v2 form
            arrived.append((seq, message.data))
            ready.set()

        subscription = await self.js.subscribe(
            self.subject,
            cb=take,
            ordered_consumer=True,
            config=api.ConsumerConfig(deliver_policy=api.DeliverPolicy.BY_START_SEQUENCE, opt_start_seq=after + 1),
            pending_msgs_limit=-1,
            pending_bytes_limit=-1,
        )
        try:
            while True:
                await ready.wait()
                ready.clear()
                batch, arrived = arrived, []
                if batch:
                    yield batch
        finally:
            await subscription.unsubscribe()

    async def delete(self) -> None:
        """Remove the stream and everything in it (tests; `ccdata` never calls this on its own)."""
        await self.js.delete_stream(self.stream)

    async def close(self) -> None:
        if self._nc is not None:
            await self._nc.drain()
            self._nc = None
            self._js = None
