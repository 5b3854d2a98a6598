"""The event log's lean NATS connection (nats_wire) and the event log on it (nats_log), over real sockets.

Against the shared JetStream server (backends.NATS_URL, a stream of the test's own) where nothing is done to the
server; against a `nats-server` of the test's own (a free port, a temporary store directory, stopped afterwards)
where the server is killed and started again or needs authorization. Only the parser test feeds a connection
bytes by hand (the parser is pure): everything else goes through a real server.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Coroutine, Iterator
from pathlib import Path
from typing import Any

import pytest
import uvloop

from backends import NATS_URL, nats_stream
from ccdata.cluster import nats_log, nats_wire
from ccdata.cluster.nats_log import NatsEventLog
from ccdata.cluster.nats_wire import Message, WireConnection, WireError, publish_frame, status_of
from ccdata.store.ports import StoreUnavailable

NATS_SERVER = "/usr/sbin/nats-server"

# --- running coroutines ---


def run(work: Coroutine[Any, Any, Any], timeout_s: float = 30.0, loop: str = "asyncio") -> Any:
    """`work` on a new event loop of the kind `loop` (production's `ccdata serve` runs on uvloop), bounded in time:
    a hang is a failure, not a stuck suite."""

    async def bounded() -> Any:
        return await asyncio.wait_for(work, timeout_s)

    factory = uvloop.new_event_loop if loop == "uvloop" else None
    with asyncio.Runner(loop_factory=factory) as runner:
        if loop == "uvloop":
            assert isinstance(runner.get_loop(), uvloop.Loop)
        return runner.run(bounded())


class Follower:
    """A task following the log from a position; what it has yielded so far, in order."""

    def __init__(self, log: NatsEventLog, after: int) -> None:
        self.log = log
        self.items: list[tuple[int, bytes]] = []
        self.batches = 0
        self.grew = asyncio.Event()
        self.task = asyncio.create_task(self._follow(after))

    async def _follow(self, after: int) -> None:
        async with contextlib.aclosing(self.log.follow_batches(after)) as batches:
            async for batch in batches:
                assert batch, "an empty batch"
                self.items.extend(batch)
                self.batches += 1
                self.grew.set()

    async def until(self, count: int, timeout_s: float) -> list[tuple[int, bytes]]:
        """Once it has `count` items (more is a failure: something was delivered twice)."""
        deadline = time.monotonic() + timeout_s
        while len(self.items) < count:
            if self.task.done():
                self.task.result()  # its error
                raise AssertionError("the follower stopped")
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"the follower has {len(self.items)} of {count} after {timeout_s} s")
            self.grew.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.grew.wait(), left)
        assert len(self.items) == count, f"{len(self.items)} items, {count} expected"
        return self.items

    async def nothing_more(self, count: int, wait_s: float = 0.5) -> None:
        await asyncio.sleep(wait_s)
        assert len(self.items) == count, f"more than {count}: {self.items[count:][:5]}"

    async def stop(self) -> None:
        self.task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self.task


async def connected(url: str, stream: str) -> NatsEventLog:
    log = NatsEventLog(url, stream)
    await log.connect()
    return log


def events(prefix: str, count: int, size: Callable[[int], int] = lambda i: 40) -> list[tuple[str, bytes]]:
    """`count` events with unique ids and bodies that name their id (so a repeat or a swap shows)."""
    made = []
    for i in range(count):
        head = f"{prefix}-{i}|".encode()
        made.append((f"{prefix}-{i}", (head + os.urandom(size(i)))[: max(size(i), len(head))]))
    return made


async def append_all(log: NatsEventLog, batches: list[list[tuple[str, bytes]]]) -> list[tuple[int, bytes]]:
    """Each batch appended in turn; (seq, body) of every event as the appends said."""
    out = []
    for batch in batches:
        appended = await log.append(batch)
        assert len(appended) == len(batch)
        assert not any(a.duplicate for a in appended)
        out += [(a.seq, body) for a, (_, body) in zip(appended, batch, strict=True)]
    return out


# --- a nats-server of the test's own ---


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class OwnServer:
    """`nats-server` with JetStream on a free port and a store directory of its own: killed, started again."""

    def __init__(self, folder: Path, *options: str) -> None:
        self.port = free_port()
        self.store = folder / "jetstream"
        self.logfile = folder / "nats-server.log"
        self.options = options
        self.process: subprocess.Popen[bytes] | None = None

    def url(self, auth: str = "") -> str:
        return f"nats://{auth + '@' if auth else ''}127.0.0.1:{self.port}"

    def start(self) -> None:
        assert os.path.exists(NATS_SERVER), f"{NATS_SERVER} is not installed (apt-get install nats-server)"
        command = [NATS_SERVER, "-a", "127.0.0.1", "-p", str(self.port), "-js", "-sd", str(self.store), *self.options]
        with open(self.logfile, "ab") as out:
            self.process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(f"nats-server did not start: {self.logfile.read_text()[-2000:]}") from None
                time.sleep(0.05)

    def kill(self) -> None:
        """SIGKILL: no goodbye to its clients, nothing flushed on purpose."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()


@contextlib.contextmanager
def own_server(folder: Path, *options: str) -> Iterator[OwnServer]:
    server = OwnServer(folder, *options)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def fast_heartbeats(monkeypatch: pytest.MonkeyPatch) -> None:
    """The follower's consumer sends idle heartbeats every 0.5 s (three missed: 1.5 s), not every 5 s."""
    monkeypatch.setattr(nats_log, "HEARTBEAT_S", 0.5)


# --- 1, 8: appends come back from the follower, in order, exactly; on asyncio and on uvloop ---


@pytest.mark.parametrize("loop", ["asyncio", "uvloop"])
def test_appended_events_come_back_in_order_from_the_follower(loop: str) -> None:
    with nats_stream() as stream:
        run(append_then_follow(stream), timeout_s=40, loop=loop)


async def append_then_follow(stream: str) -> None:
    writer, reader = await connected(NATS_URL, stream), await connected(NATS_URL, stream)
    live = Follower(reader, 0)  # following before anything is there: everything arrives live
    try:
        made = events("e", 3000, size=lambda i: i % 300)  # 0 to 299 bytes: an empty body too
        made[7] = (made[7][0], b"a body\r\nMSG x 1 3\r\nwith protocol lines in it\r\n")
        batches = [made[i : i + 500] for i in range(0, 3000, 500)]
        expected = await append_all(writer, batches)
        assert [seq for seq, _ in expected] == list(range(1, 3001))
        assert await live.until(3000, 20) == expected
        await live.nothing_more(3000)
        assert await writer.last_seq() == 3000

        middle = Follower(reader, 1234)  # from a position: right after it, from the stream's storage
        assert await middle.until(3000 - 1234, 20) == expected[1234:]
        await middle.stop()

        more = events("f", 10)
        expected += await append_all(writer, [more])  # both followers of the reader's one connection go on
        assert (await live.until(3010, 10))[3000:] == expected[3000:]
        assert [seq for seq, _ in expected[3000:]] == list(range(3001, 3011))
        assert await writer.body_at(3008) == more[7][1]
    finally:
        await live.stop()
        await writer.close()
        await reader.close()


# --- 2: duplicates ---


def test_an_id_appended_again_is_a_duplicate_of_the_original_and_followed_once() -> None:
    with nats_stream() as stream:
        run(duplicates(stream))


async def duplicates(stream: str) -> None:
    log = await connected(NATS_URL, stream)
    follower = Follower(log, 0)  # on the appending log's own connection
    try:
        first = await log.append([("a", b"A"), ("b", b"B"), ("c", b"C")])
        assert [(x.seq, x.duplicate) for x in first] == [(1, False), (2, False), (3, False)]
        again = await log.append([("b", b"B"), ("d", b"D"), ("a", b"A")])
        assert [(x.seq, x.duplicate) for x in again] == [(2, True), (4, False), (1, True)]
        within = await log.append([("e", b"E"), ("e", b"E")])  # a repeat within one append
        assert [(x.seq, x.duplicate) for x in within] == [(5, False), (5, True)]
        items = await follower.until(5, 10)
        assert items == [(1, b"A"), (2, b"B"), (3, b"C"), (4, b"D"), (5, b"E")]
        await follower.nothing_more(5)
        assert await log.last_seq() == 5
    finally:
        await follower.stop()
        await log.close()


def test_ids_that_differ_by_blanks_at_their_ends_are_different_events() -> None:
    """NATS trims header values: " a", "a " and "a" must still be three events, "~61" a fourth."""
    with nats_stream() as stream:
        run(blank_ended_ids(stream), timeout_s=20)


async def blank_ended_ids(stream: str) -> None:
    log = await connected(NATS_URL, stream)
    batch = [("a", b"1"), (" a", b"2"), ("a ", b"3"), ("~61", b"4"), ("~", b"5")]
    assert [(a.seq, a.duplicate) for a in await log.append(batch)] == [(n, False) for n in range(1, 6)]
    assert [(a.seq, a.duplicate) for a in await log.append(batch)] == [(n, True) for n in range(1, 6)]
    await log.close()


# --- appends on a log that a follower of its own follows: acked by the follower, the last by JetStream ---


def test_a_followed_log_asks_an_ack_of_the_last_event_only_and_still_knows_every_place() -> None:
    with nats_stream() as stream:
        run(fenced_appends(stream), timeout_s=40)


async def fenced_appends(stream: str) -> None:
    log = await connected(NATS_URL, stream)
    first = await log.append(events("before", 3))  # nobody follows yet: every event asks for its ack
    assert [a.seq for a in first] == [1, 2, 3]
    assert "Ccdata-Append" not in await stored_headers(log, 2)
    follower = Follower(log, 0)
    await follower.until(3, 10)
    batch = [*events("a", 4), ("before-1", b"again"), *events("b", 3)]  # a repeat in the middle
    appended = await log.append(batch)
    assert [(a.seq, a.duplicate) for a in appended] == [
        (4, False), (5, False), (6, False), (7, False), (2, True), (8, False), (9, False), (10, False)
    ]  # fmt: skip
    assert "Ccdata-Append" in await stored_headers(log, 5)  # the follower told where it landed
    last_repeated = [*events("c", 2), ("a-0", b"again")]  # the fence itself a repeat: the stream's end is asked
    appended = await log.append(last_repeated)
    assert [(a.seq, a.duplicate) for a in appended] == [(11, False), (12, False), (4, True)]
    items = await follower.until(12, 10)
    assert [seq for seq, _ in items] == list(range(1, 13))
    await follower.nothing_more(12)
    await follower.stop()
    await log.close()


async def stored_headers(log: NatsEventLog, seq: int) -> dict[str, str]:
    message = await log.js.get_msg(log.stream, seq)
    return dict(message.headers or {})


def test_two_followed_logs_appending_the_same_events_each_learn_one_place_for_each() -> None:
    with nats_stream() as stream:
        run(two_nodes_same_events(stream), timeout_s=40)


async def two_nodes_same_events(stream: str) -> None:
    """Two nodes take the same feed at once (a retry sent to another node): each event lands once, and of the two
    appends that carried it exactly one is told it landed, the other that it is a repeat, at the same place."""
    one, two = await connected(NATS_URL, stream), await connected(NATS_URL, stream)
    await one.append(events("warm", 1))
    followers = [Follower(one, 0), Follower(two, 0)]
    for follower in followers:
        await follower.until(1, 10)
    batch = events("same", 500)
    first, second = await asyncio.gather(one.append(batch), two.append(batch))
    for a, b in zip(first, second, strict=True):
        assert a.seq == b.seq
        assert a.duplicate != b.duplicate
    for follower in followers:
        items = await follower.until(501, 10)
        assert sorted(body for _, body in items[1:]) == sorted(body for _, body in batch)
        await follower.nothing_more(501)
        await follower.stop()
    await one.close()
    await two.close()


# --- 3: messages split across socket reads ---


def test_large_bodies_and_many_small_ones_arrive_intact_across_socket_reads(monkeypatch: pytest.MonkeyPatch) -> None:
    reads: list[tuple[int, int]] = []  # (bytes read, bytes left incomplete for the next read) of every read
    received = WireConnection.data_received

    def counted(self: WireConnection, data: bytes) -> None:
        received(self, data)
        reads.append((len(data), len(self._rest)))

    monkeypatch.setattr(WireConnection, "data_received", counted)
    flow_control: list[bytes] = []  # the consumer's flow control requests the follower answered
    status = nats_log._Follower._status

    def answered(self: Any, message: Message) -> None:
        if message.reply:
            flow_control.append(message.reply)
        status(self, message)

    monkeypatch.setattr(nats_log._Follower, "_status", answered)
    with nats_stream() as stream:
        run(large_and_small(stream), timeout_s=60)
    assert flow_control, "the server asked for no flow control: the test proves nothing about answering it"
    assert sum(1 for _, rest in reads if rest) > 10, "no message was split across reads: the test proves nothing"
    assert max(rest for _, rest in reads) > 64 * 1024  # a large message waited for several reads


async def large_and_small(stream: str) -> None:
    writer, reader = await connected(NATS_URL, stream), await connected(NATS_URL, stream)
    follower = Follower(reader, 0)
    try:
        large = events("large", 12, size=lambda i: 200_000 + i * 50_000)  # 200 KB to 750 KB, random bytes
        small = events("small", 20_000, size=lambda i: random.randrange(0, 120))
        mixed = [*large[:4], *small[:10_000], *large[4:8], *small[10_000:], *large[8:]]
        batches = [mixed[i : i + 2003] for i in range(0, len(mixed), 2003)]
        expected = await append_all(writer, batches)
        items = await follower.until(len(mixed), 40)
        assert len(items) == len(expected)
        for got, want in zip(items, expected, strict=True):
            assert got == want, (got[0], len(got[1]), want[0], len(want[1]))
        assert follower.batches < len(items)  # handed over many at a time
    finally:
        await follower.stop()
        await writer.close()
        await reader.close()


class RecordingTransport:
    """What the parser writes back (PONG): the one stand-in of this file, for the connection's pure parser."""

    def __init__(self) -> None:
        self.written = b""
        self.closed = False

    def write(self, data: bytes) -> None:
        self.written += data

    def is_closing(self) -> bool:
        return self.closed

    def close(self) -> None:
        self.closed = True

    def abort(self) -> None:
        self.closed = True


def recorded_stream() -> tuple[bytes, dict[str, list[Message]], int]:
    """A server's bytes as recorded: MSG and HMSG (with and without a reply, headers, an empty payload, payloads
    holding protocol lines and CRLFs), PING, +OK; the messages by subscription; the number of PINGs."""
    heartbeat = b"NATS/1.0 100 Idle Heartbeat\r\nNats-Last-Consumer: 7\r\nNats-Last-Stream: 42\r\n\r\n"
    flow = b"NATS/1.0 100 FlowControl Request\r\n\r\n"
    with_id = b"NATS/1.0\r\nNats-Msg-Id: ev-1\r\n\r\n"
    sent: list[tuple[str, Message]] = [
        ("1", Message(b"log.events", b"", b"", b"hello")),
        ("1", Message(b"log.events", b"$JS.ACK.s.c.1.2.2.1700000000.0", b"", b"\r\nMSG log.events 1 3\r\nab\r\n")),
        ("2", Message(b"_INBOX.x.1", b"", b"", b"")),
        ("1", Message(b"log.events", b"$JS.ACK.s.c.1.3.3.1700000000.0", with_id, b"body\r\nPING\r\n")),
        ("1", Message(b"_INBOX.deliver", b"", heartbeat, b"")),
        ("2", Message(b"_INBOX.x.2", b"$JS.FC.s.c.xyz", flow, b"")),
        ("1", Message(b"log.events", b"", b"", bytes(range(256)) * 40)),
    ]
    frames = []
    for index, (sid, m) in enumerate(sent):
        to = m.subject + b" " + sid.encode() + (b" " + m.reply if m.reply else b"")
        if m.headers:
            size = len(m.headers) + len(m.payload)
            frames.append(b"HMSG %s %d %d\r\n%s%s\r\n" % (to, len(m.headers), size, m.headers, m.payload))
        else:
            frames.append(b"MSG %s %d\r\n%s\r\n" % (to, len(m.payload), m.payload))
        if index in (1, 4):
            frames.append(b"PING\r\n")
        if index == 2:
            frames.append(b"+OK\r\n")
    by_sid: dict[str, list[Message]] = {}
    for sid, m in sent:
        by_sid.setdefault(sid, []).append(m)
    return b"".join(frames), by_sid, 2


def parse(stream: bytes, chunks: Iterator[int]) -> tuple[dict[str, list[list[Message]]], bytes, WireConnection]:
    connection = WireConnection()
    transport = RecordingTransport()
    connection.connection_made(transport)  # type: ignore[arg-type]
    calls: dict[str, list[list[Message]]] = {"1": [], "2": []}
    assert connection.subscribe("log.events", calls["1"].append) == b"1"
    assert connection.subscribe("_INBOX.x.*", calls["2"].append) == b"2"
    transport.written = b""
    at = 0
    while at < len(stream):
        size = next(chunks)
        connection.data_received(stream[at : at + size])
        at += size
    return calls, transport.written, connection


def test_the_parser_takes_messages_whatever_the_socket_reads_cut() -> None:
    stream, sent, pings = recorded_stream()
    rng = random.Random(7)
    cuts = {
        "byte by byte": iter(lambda: 1, None),
        "all at once": iter(lambda: len(stream), None),
        "random reads": iter(lambda: rng.randrange(1, 50), None),
        "larger random reads": iter(lambda: rng.randrange(1, 3000), None),
    }
    for name, chunks in cuts.items():
        calls, written, connection = parse(stream, chunks)
        for sid in ("1", "2"):
            assert all(calls[sid]), (name, "a handler called with nothing")
            assert [m for batch in calls[sid] for m in batch] == sent[sid], (name, sid)
            assert all(type(m) is Message for batch in calls[sid] for m in batch)
        assert written == b"PONG\r\n" * pings, (name, written)
        assert connection._rest == b"", name
        if name == "all at once":  # one read: one call per subscription with all of its messages
            assert [len(batch) for batch in calls["1"]] == [len(sent["1"])]
            assert [len(batch) for batch in calls["2"]] == [len(sent["2"])]
    # The headers of a heartbeat and of a flow control request, as the follower reads them.
    heartbeat = sent["1"][3]
    assert status_of(heartbeat.headers) == (100, {b"Nats-Last-Consumer": b"7", b"Nats-Last-Stream": b"42"})
    assert status_of(sent["2"][1].headers) == (100, {})
    assert status_of(b"") == (0, {})
    assert publish_frame(b"a.b", b"", b"xy") == b"PUB a.b 2\r\nxy\r\n"


def test_the_parser_fails_a_protocol_line_too_long() -> None:
    connection = WireConnection()
    transport = RecordingTransport()
    connection.connection_made(transport)  # type: ignore[arg-type]
    connection.data_received(b'INFO {"connect_urls": ["' + b"x" * 8000 + b'"]}\r\n')  # a large cluster's INFO
    assert not transport.closed
    connection.data_received(b"INFO " + b"x" * (nats_wire.MAX_CONTROL_LINE + 1))  # no line end: garbage
    assert transport.closed
    assert connection.error is not None and "longer than" in connection.error


# --- 4: the follower's consumer goes away ---


def test_the_follower_makes_a_new_consumer_when_its_consumer_is_deleted(fast_heartbeats: None) -> None:
    with nats_stream() as stream:
        run(consumer_deleted(stream), timeout_s=40)


async def consumer_deleted(stream: str) -> None:
    writer, reader = await connected(NATS_URL, stream), await connected(NATS_URL, stream)
    follower = Follower(reader, 0)
    try:
        expected = await append_all(writer, [events("before", 100)])
        await follower.until(100, 10)
        consumers = [c.name for c in await writer.js.consumers_info(stream)]
        assert len(consumers) == 1, consumers
        await writer.js.delete_consumer(stream, consumers[0])
        started = time.monotonic()
        expected += await append_all(writer, [events("after", 100)])  # the deleted consumer delivers none of these
        assert await follower.until(200, 15) == expected
        recovered_in = time.monotonic() - started
        await follower.nothing_more(200)
        now = [c.name for c in await writer.js.consumers_info(stream)]
        assert len(now) == 1 and now != consumers, now
        assert recovered_in > 1.0, f"delivered after {recovered_in:.1f} s: was the consumer deleted?"
    finally:
        await follower.stop()
        await writer.close()
        await reader.close()


# --- a connection that goes silent (a network partition: no FIN, no RST) ---


class Relay:
    """A TCP relay to the shared NATS server, to fault the network between a client and it: `silence()` drops
    every byte of the connections made so far, in both directions, leaving them open (what a partition, or a
    firewall that forgot the connection, looks like to both ends); connections made later go through."""

    def __init__(self) -> None:
        self.links: list[tuple[asyncio.StreamWriter, asyncio.StreamWriter]] = []
        self.silenced: set[int] = set()
        self.tasks: set[asyncio.Task[None]] = set()

    async def start(self) -> str:
        where = NATS_URL.rsplit("/", 1)[-1].rsplit("@", 1)[-1]
        self.target = (where.rsplit(":", 1)[0], int(where.rsplit(":", 1)[1]))
        self.server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        return f"nats://127.0.0.1:{self.server.sockets[0].getsockname()[1]}"

    async def _accept(self, client_in: asyncio.StreamReader, client_out: asyncio.StreamWriter) -> None:
        server_in, server_out = await asyncio.open_connection(*self.target)
        number = len(self.links)
        self.links.append((client_out, server_out))
        for source, sink in ((client_in, server_out), (server_in, client_out)):
            task = asyncio.create_task(self._pump(number, source, sink))
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)

    async def _pump(self, number: int, source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
        with contextlib.suppress(OSError):
            while data := await source.read(65536):
                if number not in self.silenced:
                    sink.write(data)
        sink.close()

    def silence(self) -> None:
        self.silenced |= set(range(len(self.links)))

    def close(self) -> None:
        for ends in self.links:
            for end in ends:
                end.close()
        self.server.close()


@contextlib.asynccontextmanager
async def through_a_relay(stream: str) -> Any:
    relay = Relay()
    url = await relay.start()
    writer, reader = await connected(NATS_URL, stream), await connected(url, stream)
    try:
        yield relay, writer, reader
    finally:
        relay.close()
        await writer.close()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(reader.close(), 5)


def test_the_follower_leaves_a_connection_gone_silent(fast_heartbeats: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(nats_log, "API_TIMEOUT_S", 1.0)
    with nats_stream() as stream:
        run(follower_on_a_silent_connection(stream), timeout_s=30)


async def follower_on_a_silent_connection(stream: str) -> None:
    async with through_a_relay(stream) as (relay, writer, reader):
        follower = Follower(reader, 0)
        try:
            expected = await append_all(writer, [events("before", 10)])
            await follower.until(10, 5)
            relay.silence()
            expected += await append_all(writer, [events("after", 10)])
            assert await follower.until(20, 8) == expected  # heartbeats missed after 1.5 s: a new connection
        finally:
            await follower.stop()


def test_an_append_after_a_timeout_on_a_silent_connection_goes_through(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(nats_log, "ACK_TIMEOUT_S", 1.0)
    with nats_stream() as stream:
        run(append_on_a_silent_connection(stream), timeout_s=30)


async def append_on_a_silent_connection(stream: str) -> None:
    async with through_a_relay(stream) as (relay, _, appender):
        assert [a.seq for a in await appender.append([("one", b"1")])] == [1]
        relay.silence()
        with pytest.raises(StoreUnavailable, match="did not acknowledge"):
            await appender.append([("two", b"2")])  # the timeout: loud, as it should be
        appended = await append_retrying(appender, [("two", b"2")], timeout_s=4)  # then a new connection
        assert [a.seq for a in appended] == [2]


def test_an_append_to_a_server_that_stopped_reading_fails_in_time_and_the_next_goes_through(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A server that takes no more bytes (stopped, or its machine hung): the append fails within the write
    timeout instead of waiting for TCP to give up, and the connection is dropped at once, so the next append
    after the server is back opens a new one."""
    monkeypatch.setattr(nats_wire, "WRITE_TIMEOUT_S", 1.0)
    monkeypatch.setattr(nats_log, "ACK_TIMEOUT_S", 1.0)
    with own_server(tmp_path) as server:
        run(append_to_a_stopped_server(server), timeout_s=40)


async def append_to_a_stopped_server(server: OwnServer) -> None:
    log = await connected(server.url(), "stopped")
    await log.append(events("warm", 1))
    assert server.process is not None
    server.process.send_signal(signal.SIGSTOP)
    try:
        started = time.monotonic()
        with pytest.raises(StoreUnavailable):
            await log.append(events("big", 20_000, size=lambda i: 1000))  # more than the sockets' buffers hold
        assert time.monotonic() - started < 10
    finally:
        server.process.send_signal(signal.SIGCONT)
    appended = await append_retrying(log, events("after", 3), timeout_s=10)
    assert not any(a.duplicate for a in appended)
    await log.close()


def test_a_slow_follower_holds_a_window_of_the_stream_not_all_of_it() -> None:
    """Flow control is answered once the messages before it are taken: while the node applies slowly (a long
    catch-up), the server waits, and the follower holds about a window of the stream, not the whole backlog."""
    with nats_stream() as stream:
        run(slow_follower(stream), timeout_s=60)


async def slow_follower(stream: str) -> None:
    log = await connected(NATS_URL, stream)
    total = 40_000
    for start in range(0, total, 5_000):
        await log.append(events(f"e{start}", 5_000, size=lambda i: 1000))  # 40 MB
    taken = 0
    async with contextlib.aclosing(log.follow_batches(0)) as batches:
        async for batch in batches:
            taken += len(batch)
            await asyncio.sleep(0.3)  # applying slowly
            if taken > 2_000:
                break
        received = log._delivered
    assert received < total / 2, f"{received} of {total} received while {taken} were taken"
    await log.close()


# --- 5: the server restarts ---


@pytest.mark.parametrize(("loop", "logs"), [("asyncio", "two logs"), ("uvloop", "one log")])
def test_appends_and_the_follower_go_on_across_a_server_restart(
    tmp_path: Path, fast_heartbeats: None, loop: str, logs: str
) -> None:
    """The writer and the follower on logs of their own, or on one log (one lean connection, as a node has)."""
    with own_server(tmp_path) as server:
        run(restart(server, shared=logs == "one log"), timeout_s=60, loop=loop)


async def append_retrying(log: NatsEventLog, batch: list[tuple[str, bytes]], timeout_s: float) -> list[Any]:
    """An append retried (same ids: deduplicated) while the event log is unavailable."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            return await log.append(batch)
        except StoreUnavailable:
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.2)


async def restart(server: OwnServer, shared: bool) -> None:
    url = server.url()
    writer = await connected(url, "restarts")
    reader = writer if shared else await connected(url, "restarts")
    follower = Follower(reader, 0)
    try:
        made = events("r", 900, size=lambda i: 50 + i % 500)
        await append_all(writer, [made[:150], made[150:300]])
        await follower.until(300, 10)

        server.kill()
        with pytest.raises(StoreUnavailable):
            await writer.append(made[300:450])  # NATS is gone: said so, at once
        await asyncio.sleep(0.5)  # the follower finds its connection gone, tries again and again meanwhile
        server.start()
        for start in range(300, 900, 150):
            await append_retrying(writer, made[start : start + 150], timeout_s=20)

        items = await follower.until(900, 30)
        assert [seq for seq, _ in items] == list(range(1, 901))
        assert [body for _, body in items] == [body for _, body in made]
        await follower.nothing_more(900)
        assert await writer.last_seq() == 900
    finally:
        await follower.stop()
        await writer.close()
        await reader.close()


def test_concurrent_appends_on_one_log_each_get_their_own_acks() -> None:
    with nats_stream() as stream:
        run(concurrent_appends(stream), timeout_s=30)


async def concurrent_appends(stream: str) -> None:
    log = await connected(NATS_URL, stream)
    follower = Follower(log, 0)
    try:
        batches = [events(f"c{n}", 100 + n) for n in range(20)]
        results = await asyncio.gather(*(log.append(batch) for batch in batches))
        by_seq = {}
        for batch, appended in zip(batches, results, strict=True):
            seqs = [a.seq for a in appended]
            assert seqs == sorted(seqs) and not any(a.duplicate for a in appended)
            by_seq |= {a.seq: body for a, (_, body) in zip(appended, batch, strict=True)}
        total = sum(len(b) for b in batches)
        assert sorted(by_seq) == list(range(1, total + 1))  # every event its own position
        assert await follower.until(total, 20) == sorted(by_seq.items())
    finally:
        await follower.stop()
        await log.close()


# --- 6: authorization ---


def test_user_and_password_from_the_url(tmp_path: Path) -> None:
    with own_server(tmp_path, "--user", "u", "--pass", "p@ss:w") as server:
        run(authorized(server.url("u:p@ss:w"), refused=server.url("u:wrong")))


def test_a_percent_encoded_password_from_the_url(tmp_path: Path) -> None:
    with own_server(tmp_path, "--user", "u", "--pass", "p/ss%w") as server:
        url = server.url("u:p%2Fss%25w")
        run(lean_then_log(url, refused=server.url("u:wrong")), timeout_s=6)


async def lean_then_log(url: str, refused: str) -> None:
    (await WireConnection.open(url)).close()  # the lean connection takes it
    await authorized(url, refused)


def test_a_token_from_the_url(tmp_path: Path) -> None:
    with own_server(tmp_path, "--auth", "s3cr3t-t0ken") as server:
        run(authorized(server.url("s3cr3t-t0ken"), refused=server.url("n0t-th3-t0ken")))


async def authorized(url: str, refused: str) -> None:
    log = await connected(url, "authorized")
    follower = Follower(log, 0)
    try:
        expected = await append_all(log, [events("a", 50)])
        assert await follower.until(50, 10) == expected
    finally:
        await follower.stop()
        await log.close()
    started = time.monotonic()
    with pytest.raises(WireError, match="NATS refused: Authorization Violation"):
        await WireConnection.open(refused)
    assert time.monotonic() - started < 3


def test_a_wrong_password_fails_the_event_logs_connect_loudly(tmp_path: Path) -> None:
    with own_server(tmp_path, "--user", "u", "--pass", "p") as server:
        run(connect_refused(server.url("u:wrong"), "Authorization Violation"), timeout_s=6)


async def connect_refused(url: str, *said: str) -> None:
    log = NatsEventLog(url, "refused")
    try:
        with pytest.raises(StoreUnavailable) as refusal:
            await log.connect()
        for words in said:
            assert words in str(refusal.value)
    finally:
        await log.close()


# --- 7: TLS and an unreachable server ---


def test_an_unknown_scheme_is_refused_with_a_clear_message() -> None:
    async def refused() -> None:
        with pytest.raises(WireError, match=r"nats://host:port or tls://host:port"):
            await WireConnection.open("http://127.0.0.1:4222")
        log = NatsEventLog("ws://127.0.0.1:4222", "never-made")
        try:
            with pytest.raises(StoreUnavailable, match=r"nats://host:port or tls://host:port"):
                await log.connect()
        finally:
            await log.close()

    run(refused(), timeout_s=10)


@pytest.fixture
def tls_server(tmp_path: Path) -> Iterator[tuple[OwnServer, Path]]:
    """A NATS server that requires TLS, with a self-signed certificate for 127.0.0.1 (and the certificate)."""
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    with own_server(tmp_path, "--tls", "--tlscert", str(cert), "--tlskey", str(key)) as server:
        yield server, cert


def test_a_tls_server_is_used_over_tls_with_a_trusted_certificate(
    tls_server: tuple[OwnServer, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    server, cert = tls_server
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))  # the system's trust store, as an operator would extend it
    url = server.url().replace("nats://", "tls://")

    async def over_tls() -> None:
        log = await connected(url, "secure")
        follower = Follower(log, 0)
        try:
            expected = await append_all(log, [events("tls", 300), events("tls2", 300)])
            assert await follower.until(600, 10) == expected
        finally:
            await follower.stop()
            await log.close()

    run(over_tls(), timeout_s=30)


def test_a_tls_server_with_an_untrusted_certificate_is_refused(tls_server: tuple[OwnServer, Path]) -> None:
    server, _ = tls_server
    url = server.url().replace("nats://", "tls://")

    async def refused() -> None:
        with pytest.raises(WireError, match=r"no TLS with NATS at tls://127.0.0.1:\d+: .*CERTIFICATE_VERIFY_FAILED"):
            await WireConnection.open(url)

    run(refused(), timeout_s=10)


def test_a_server_that_requires_tls_asked_for_without_it_says_to_use_tls(tls_server: tuple[OwnServer, Path]) -> None:
    server, _ = tls_server

    async def refused() -> None:
        with pytest.raises(WireError, match=r"requires TLS: give its URL as tls://127.0.0.1:"):
            await WireConnection.open(server.url())

    run(refused(), timeout_s=10)


def test_an_unreachable_server_fails_the_lean_connection_at_once() -> None:
    url = f"nats://127.0.0.1:{free_port()}"

    async def unreachable() -> None:
        with pytest.raises(WireError, match=f"NATS at {url} is not reachable"):
            await WireConnection.open(url)

    run(unreachable(), timeout_s=8)


def test_an_unreachable_server_fails_the_event_logs_connect_with_how_to_start_it() -> None:
    url = f"nats://127.0.0.1:{free_port()}"
    run(connect_refused(url, f"NATS at {url} is not reachable", "start it with:", "nats-server"), timeout_s=6)


# --- 9: JetStream errors are loud ---


def test_an_append_to_a_deleted_stream_is_refused_at_once() -> None:
    with nats_stream() as stream:
        run(deleted_stream(stream), timeout_s=20)


async def deleted_stream(stream: str) -> None:
    log = await connected(NATS_URL, stream)
    try:
        await log.append([("x-1", b"one")])
        await log.delete()
        started = time.monotonic()
        with pytest.raises(StoreUnavailable, match="the event log refused an event: status 503"):
            await log.append([("x-2", b"two"), ("x-3", b"three")])
        assert time.monotonic() - started < 3
    finally:
        await log.close()


def test_an_event_larger_than_the_server_takes_is_refused_and_the_next_append_works() -> None:
    with nats_stream() as stream:
        run(too_large(stream), timeout_s=20)


async def too_large(stream: str) -> None:
    log = await connected(NATS_URL, stream)
    try:
        started = time.monotonic()
        with pytest.raises(StoreUnavailable):
            await log.append([("big", b"x" * 2_000_000)])  # over the server's max_payload (1 MB by default)
        assert time.monotonic() - started < 3
        appended = await log.append([("small", b"fine")])  # a new connection
        assert [(a.seq, a.duplicate) for a in appended] == [(1, False)]
    finally:
        await log.close()


# --- the connection's own operations ---


def test_the_connection_requests_pings_and_fails_waiters_when_lost() -> None:
    with nats_stream():
        run(connection_operations(), timeout_s=15)


async def connection_operations() -> None:
    wire = await WireConnection.open(NATS_URL)
    try:
        info = await wire.request("$JS.API.INFO", b"", 5)
        assert b'"type":"io.nats.jetstream.api.v1.account_info_response"' in info.replace(b" ", b"")
        got: list[Message] = []
        sid = wire.subscribe("ccdata.wiretest.echo", got.extend)
        await wire.write(publish_frame(b"ccdata.wiretest.echo", b"", b"one"))
        await wire.write(publish_frame(b"ccdata.wiretest.echo", b"r.1", b"two", headers=b"NATS/1.0\r\nk: v\r\n\r\n"))
        await wire.ping(5)  # the server has read both; their deliveries come before its PONG
        await wire.ping(5)
        assert [(m.payload, m.reply) for m in got] == [(b"one", b""), (b"two", b"r.1")]
        assert status_of(got[1].headers) == (0, {b"k": b"v"})
        wire.unsubscribe(sid)
        await wire.write(publish_frame(b"ccdata.wiretest.echo", b"", b"three"))
        await wire.ping(5)
        assert len(got) == 2
        with pytest.raises(WireError, match="no responders"):
            await wire.request("ccdata.wiretest.nobody", b"", 5)
    finally:
        wire.close()
    assert wire.closed is not None
    with pytest.raises(WireError, match="lost"):
        await asyncio.wait_for(wire.closed, 5)
    assert not wire.is_open
    with pytest.raises(WireError, match="closed"):
        wire.send(b"PING\r\n")
