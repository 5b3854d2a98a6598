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
from typing import NamedTuple

import nats
from nats.errors import ConnectionClosedError, NoServersError
from nats.errors import TimeoutError as NatsTimeout
from nats.js import api
from nats.aio.msg import Msg
from nats.js.errors import NotFoundError

from ccdata.store.ports import StoreUnavailable

log = logging.getLogger("ccdata.cluster")

DUPLICATE_WINDOW_S = 120.0  # JetStream's own dedup; the engine's window covers what is older
MAX_PENDING_ACKS = 8000  # publishes in flight at once (nats-py's semaphore); more wait for acks, up to STALL_S
STALL_S = 30.0


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
        self._js = self._nc.jetstream(publish_async_max_pending=MAX_PENDING_ACKS)
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

        A stall timeout only when the in-flight limit is reached: nats-py waits for it with `asyncio.wait_for`, a
        task switch per message that lets its flusher write each message alone (a socket write per event, a
        quarter of the throughput); without one, the batch goes out in a few large writes."""
        js = self.js
        try:
            futures = [
                await js.publish_async(
                    self.subject,
                    body,
                    headers={"Nats-Msg-Id": event_id},
                    wait_stall=None if js.publish_async_pending() < MAX_PENDING_ACKS else STALL_S,
                )
                for event_id, body in events
            ]
            acks = await asyncio.gather(*futures)
        except (ConnectionClosedError, NatsTimeout, nats.js.errors.TooManyStalledMsgsError) as exc:
            raise StoreUnavailable(f"the event log did not acknowledge: {exc!r}") from exc
        return [Appended(ack.seq, bool(ack.duplicate)) for ack in acks]

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
            arrived.append((message.metadata.sequence.stream, message.data))
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
