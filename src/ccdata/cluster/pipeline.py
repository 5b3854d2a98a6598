"""The pipeline of one node in the distributed form (design.md §7): state-machine replication over a shared log.

- **Ingest**: inputs are decoded here; valid events are appended to the shared event log (JetStream), the
  others are stored as rejected inputs at once. The caller is answered once this node's engine has applied the
  events (read-your-writes on any node) and the records they produced are in the record store.
- **Replica**: every node's engine applies the log in order from the latest central snapshot. Acceptance is
  decided there, in log order, so every node decides the same; a node learns its own events' outcomes from it.
- **Record writer**: one node at a time (a lease) writes the records, the accepted events and the engine's
  rejections to the shared record store, with the log position in the same transaction, and saves the central
  snapshots. Every node keeps the output it produced past the store's position, so a standby that takes the lease
  writes exactly what is missing: nothing lost, nothing twice.

The same port as the embedded `Pipeline` (`engine`, `seq`, `ingest_async`, `health`, `on_committed`, ...), so
nothing above it asks which form runs.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import pickle
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Awaitable, Callable, Iterable
from typing import NamedTuple, Protocol

from ccdata.domain import events, operations
from ccdata.domain.engine import ACCEPTED, DUPLICATE, STATE_VERSION, Engine, Outcome
from ccdata.domain.records import Record
from ccdata.pipeline import (
    MAX_NOTES,
    Committed,
    IngestReport,
    Input,
    Pipeline,
    RejectionNote,
    SnapshotPolicy,
    _cyclic_gc_paused,
    _Prepared,
    seen_again,
)
from ccdata.store.ports import Batch, LoggedEvent, OutboxEntry, RejectedInput, Snapshot, Store, StoreUnavailable

log = logging.getLogger("ccdata.cluster")

KEEP_OUTCOMES = 200_000  # outcomes of recent log positions, for the nodes that appended them to read
WRITE_BATCH = 5000
APPLY_SLICE = 200  # log entries applied at a time on the event loop (the embedded ingest's slice)
WRITE_EVERY_S = 0.02
RECORDED_TIMEOUT_S = 30.0
READ_WAIT_S = 2.0  # a record read waits at most this long for the record writer, then reads what is stored


class Appended(Protocol):
    seq: int
    duplicate: bool


class EventLog(Protocol):
    """The shared, ordered, durable log of events (NATS JetStream in `cluster.nats_log`)."""

    async def connect(self) -> None: ...

    async def close(self) -> None: ...

    async def append(self, events: list[tuple[str, bytes]]) -> list[Appended]: ...

    async def body_at(self, seq: int) -> bytes: ...

    async def last_seq(self) -> int: ...

    def follow_batches(self, after: int) -> object:  # an async iterator of lists of (seq, body), in log order
        ...


class Lease(Protocol):
    """At most one record writer at a time (a PostgreSQL advisory lock, say)."""

    def try_acquire(self) -> bool: ...

    def release(self) -> None: ...


class _Output(NamedTuple):
    """What applying one log position produced, for the record writer."""

    seq: int
    event: LoggedEvent | None  # accepted
    records: list[Record]
    rejected: RejectedInput | None  # refused by the engine
    outbox: tuple[OutboxEntry, ...] = ()  # webhook deliveries the event owes


class ClusterPipeline(Pipeline):
    shared_log = True

    def __init__(
        self,
        store: Store,
        event_log: EventLog,
        *,
        lease: Lease,
        on_committed: Callable[[Committed], None] | None = None,
        snapshot_policy: SnapshotPolicy | None = None,
    ) -> None:
        self.event_log = event_log
        self.lease = lease
        self.writer = False  # this node holds the lease
        # What each recent log position's event came to, for the node that appended it: a status alone, or a
        # rejection's (status, code, reason) — no records, so the garbage collector has little here to walk.
        self._outcomes: OrderedDict[int, str | tuple[str, str, str]] = OrderedDict()
        self._unwritten: deque[_Output] = deque()
        self._recorded = 0  # the record store's position, as last seen or written
        self._applied_event: asyncio.Event | None = None
        self._recorded_event: asyncio.Event | None = None
        self._apply_lock: asyncio.Lock | None = None
        # The events this node is appending, decoded already, by body: the replica takes them from here rather
        # than decoding them a second time when the log delivers them (the same bytes decode to the same event).
        self._decoded: dict[bytes, events.Event] = {}
        self._write_lock = threading.Lock()
        super().__init__(store, on_committed=on_committed, snapshot_policy=snapshot_policy)

    # --- start: the central snapshot, then the log ---

    def rebuild(self) -> int:
        """Live state from the central snapshot; the log after it is replayed by `start` (it is not local)."""
        snapshot = self.store.load_snapshot()
        if snapshot is not None and snapshot.version == STATE_VERSION:
            self.engine, self.seq = pickle.loads(snapshot.blob), snapshot.seq
        else:
            self.engine, self.seq = Engine(), 0
        self.snapshot_seq = self.seq
        self._recorded = self.store.position()
        return 0

    async def log_end(self) -> int:
        """The shared log's last position (other nodes append too: this node's replica may be behind it)."""
        return max(self.seq, await self.event_log.last_seq())

    async def start(self) -> None:
        """Catch up with the log as it is now (counted as replayed). The server then runs `background()`."""
        self._applied_event, self._recorded_event, self._apply_lock = asyncio.Event(), asyncio.Event(), asyncio.Lock()
        await self.event_log.connect()
        target = await self.event_log.last_seq()
        before = self.seq
        if self.seq < target:
            async for batch in self.event_log.follow_batches(self.seq):  # type: ignore[attr-defined]
                with _cyclic_gc_paused():
                    for seq, body in batch:
                        self._apply_logged(seq, body)
                if self.seq >= target:
                    break
        self.replayed = self.seq - before
        log.info("caught up with the event log: %d events replayed after the central snapshot at %d, now at %d",
                 self.replayed, self.snapshot_seq, self.seq)  # fmt: skip

    def background(self) -> dict[str, Callable[[], Awaitable[None]]]:
        """The node's long-running work, for the server to supervise (restarted after a failure: each resumes
        from where the node is)."""
        return {"log-follower": self._follow, "record-writer": self._write_or_stand_by}

    async def stop(self) -> None:
        """Write what this node still holds, if it is the writer, and give the lease up."""
        if self.writer:
            await asyncio.to_thread(self._write_all)
            await asyncio.to_thread(self.lease.release)
            self.writer = False
        await self.event_log.close()

    # --- the replica ---

    async def _follow(self) -> None:
        """Apply what has arrived, in slices of APPLY_SLICE under one lock each, telling the waiters after each:
        a lock, a wake-up and a GC pause per message cost more than the engine's work on it."""
        assert self._apply_lock is not None and self._applied_event is not None
        async for batch in self.event_log.follow_batches(self.seq):  # type: ignore[attr-defined]
            for start in range(0, len(batch), APPLY_SLICE):
                async with self._apply_lock:
                    with _cyclic_gc_paused():
                        for seq, body in batch[start : start + APPLY_SLICE]:
                            self._apply_logged(seq, body)
                self._applied_event.set()
                if start + APPLY_SLICE < len(batch):
                    await asyncio.sleep(0)  # requests in between slices

    def _apply_logged(self, seq: int, body: bytes) -> None:
        event = self._decoded.pop(body, None) or events.decode(body)  # the log holds only events that decoded
        outcome, logged_operations = operations.apply(self.engine, event)  # every node derives the same ones
        self.seq = seq
        self._outcomes[seq] = _verdict(outcome)
        if len(self._outcomes) > KEEP_OUTCOMES:
            self._outcomes.popitem(last=False)
        if outcome.status == ACCEPTED:
            logged = LoggedEvent(event.id, events.type_of(event), event.at, body)
            messages, outbox = self.derive(event, outcome.records) if self.derive is not None else (None, ())
            owed = tuple(entry._replace(seq=seq) for entry in outbox)  # the shared log's position, not the store's
            self._unwritten.append(_Output(seq, logged, [*outcome.records, *logged_operations], None, owed))
            if self.on_committed is not None:
                agent_events = self.derive_agent_events(event, outcome.records) if self.derive_agent_events else ()
                self.on_committed(Committed(event, outcome.records, seq, messages, len(owed), agent_events))
        elif outcome.status == DUPLICATE:
            self._unwritten.append(_Output(seq, None, [], None))
        else:
            code, reason = outcome.reason_code or "rejected", outcome.reason or ""
            self._unwritten.append(_Output(seq, None, [], RejectedInput(event.id, code, reason, body)))

    async def _applied(self, seq: int) -> None:
        assert self._applied_event is not None
        while self.seq < seq:
            self._applied_event.clear()
            await self._applied_event.wait()

    # --- the record writer ---

    async def _write_or_stand_by(self) -> None:
        while True:
            if not self.writer:
                self.writer = await asyncio.to_thread(self.lease.try_acquire)
                if self.writer:
                    # The last writer may have written more since this node last looked: go on from there.
                    self._recorded = max(self._recorded, await asyncio.to_thread(self.store.position))
                    log.info("this node is the record writer now (records complete up to %d)", self._recorded)
            if self.writer:
                await self._write_once()
                await asyncio.sleep(WRITE_EVERY_S)
            else:
                self._recorded = await asyncio.to_thread(self.store.position)
                self._trim()
                await asyncio.sleep(1.0)

    async def _write_once(self) -> None:
        try:
            written = await asyncio.to_thread(self._write_all)
        except StoreUnavailable as exc:
            self._commit_failed(exc)
            await asyncio.sleep(min(2.0, self.commit_policy.first_delay_s * 2 ** min(self.health.failures, 6)))
            # The COMMIT may have gone through before the connection broke: go on from what the store holds.
            with contextlib.suppress(StoreUnavailable):
                self._recorded = max(self._recorded, await asyncio.to_thread(self.store.position))
            # Still the writer? A connection cut long enough lets a standby take the lease: then this node stands by.
            self.writer = await asyncio.to_thread(self.lease.try_acquire)
            return
        if written and self._recorded_event is not None:
            self._recorded_event.set()  # here, on the loop: an asyncio.Event is not for other threads
        if written and self.health.failing_since is not None:
            log.warning("record store writable again after %d failed commits", self.health.failures)
            self.health.failing_since = None
        if self.snapshot_due():
            await self._snapshot()

    def _write_all(self) -> int:
        """Commit what was produced past the store's position, in batches; how many log positions were written.
        One thread at a time: a cancelled writer task's thread may still be at it when `stop` writes the rest."""
        with self._write_lock:
            return self._write_all_now()

    def _write_all_now(self) -> int:
        self._trim()
        written = 0
        while self._unwritten:
            batch = Batch()
            outputs = [self._unwritten[i] for i in range(min(WRITE_BATCH, len(self._unwritten)))]
            for output in outputs:
                if output.event is not None:
                    batch.events.append(output.event)
                    batch.records.extend(output.records)
                    batch.outbox.extend(output.outbox)
                if output.rejected is not None:
                    batch.rejected.append(output.rejected)
            batch.position = outputs[-1].seq
            self.store.commit(batch)
            self._recorded = batch.position
            for _ in outputs:
                self._unwritten.popleft()
            written += len(outputs)
        return written

    def _trim(self) -> None:
        while self._unwritten and self._unwritten[0].seq <= self._recorded:
            self._unwritten.popleft()

    async def _snapshot(self) -> None:
        """The central snapshot, at a position the records are complete up to (a node starting from it finds
        nothing missing between the two)."""
        assert self._apply_lock is not None
        async with self._apply_lock:  # the engine holds still while it is pickled
            await asyncio.to_thread(self._write_all)
            blob = await asyncio.to_thread(pickle.dumps, self.engine, pickle.HIGHEST_PROTOCOL)
            seq = self.seq
        try:
            await asyncio.to_thread(self.store.save_snapshot, Snapshot(seq, STATE_VERSION, blob))
        except StoreUnavailable as exc:
            log.warning("central snapshot skipped: %s", exc)
            return
        self.snapshot_seq, self._snapshot_wall = seq, time.monotonic()

    def unstored_records(self) -> list[Record]:
        """The records this node produced past the record store's position (for the record writer to store)."""
        return [record for output in self._unwritten if output.seq > self._recorded for record in output.records]

    async def records_current(self) -> None:
        """Until the record store holds the records of every event this node has applied: a record read answers
        with what the node's live state, its gateway events and its stream messages already told (the record
        writer is one write behind). At most READ_WAIT_S: a record writer that is away does not stall reads."""
        await self._recorded_up_to(self.seq, READ_WAIT_S)

    async def _recorded_up_to(self, seq: int, timeout_s: float = RECORDED_TIMEOUT_S) -> None:
        """Until the record store holds everything up to `seq` (this node's writer signals; another's is polled)."""
        assert self._recorded_event is not None
        deadline = time.monotonic() + timeout_s
        while self._recorded < seq:
            if time.monotonic() > deadline:
                log.warning("records up to %d not stored after %.0f s; answering anyway", seq, timeout_s)
                return
            self._recorded_event.clear()
            if self.writer:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._recorded_event.wait(), 1.0)
            else:
                await asyncio.sleep(0.02)
                self._recorded = await asyncio.to_thread(self.store.position)

    # --- ingest ---

    def ingest(self, inputs: Iterable[Input], *, first_position: int = 1) -> IngestReport:
        raise RuntimeError("a cluster node ingests through ingest_async (the shared log is asynchronous)")

    def save_snapshot(self) -> None:
        """Only the record writer saves the central snapshot, when due (a node's own engine may be ahead)."""

    async def ingest_async(
        self,
        inputs: Iterable[Input],
        *,
        slice_size: int = 200,
        batch_size: Callable[[], int] | None = None,
    ) -> IngestReport:
        report = IngestReport()
        started = time.perf_counter()
        chunks = self._chunks(inputs, 1, batch_size)
        # The next chunk is decoded (and its ids looked up) in a worker thread while this one goes in; an id that
        # the lookup misses because its first copy is not recorded yet is a duplicate JetStream reports.
        ahead = self._prepare_ahead(next(chunks, None))
        previous = 0  # the last log position of the chunk before: the record writer stores it meanwhile
        try:
            while ahead is not None:
                prepared, part = await ahead
                ahead = self._prepare_ahead(next(chunks, None))
                _merge(report, part)
                fresh = self._not_known(prepared, report)
                if fresh:
                    self._decoded.update((body, event) for _, event, body in fresh)
                    try:
                        appended = await self._append([(event.id, body) for _, event, body in fresh])
                        last = max(a.seq for a in appended)
                        await self._applied(last)
                    finally:
                        for _, _, body in fresh:  # those the log did not deliver: duplicates, or an append given up
                            self._decoded.pop(body, None)
                    await self._outcomes_of(fresh, appended, prepared.batch, report)
                    await self._recorded_up_to(previous)  # one chunk ahead of the writer at most
                    previous = max(previous, last)
                if prepared.batch.rejected:  # inputs that never reached the log: invalid, or an id reused
                    await self._commit_async(prepared.batch)
        finally:
            if ahead is not None:
                ahead.cancel()
        await self._recorded_up_to(previous)
        report.seconds = time.perf_counter() - started
        return report

    def _prepare_ahead(
        self, chunk: list[tuple[int, Input]] | None
    ) -> asyncio.Future[tuple[_Prepared, IngestReport]] | None:
        """`_prepare` of a chunk in a worker thread, reporting to a report of its own (merged in order)."""
        if chunk is None:
            return None

        async def prepare() -> tuple[_Prepared, IngestReport]:
            part = IngestReport()
            return await asyncio.to_thread(self._prepare, chunk, part), part

        return asyncio.ensure_future(prepare())

    def _not_known(self, prepared: _Prepared, report: IngestReport) -> list[tuple[int, events.Event, bytes]]:
        """The events the record store does not know yet: the others are duplicates or id conflicts."""
        fresh = []
        for position, event, body in prepared.decoded:
            previous = prepared.known.get(event.id)
            if previous is None:
                fresh.append((position, event, body))
                prepared.known[event.id] = body
            else:
                seen_again(position, event, body, previous, prepared.batch, report)
        return fresh

    async def _append(self, items: list[tuple[str, bytes]]) -> list[Appended]:
        delay = self.commit_policy.first_delay_s
        while True:
            try:
                appended = await self.event_log.append(items)
            except StoreUnavailable as exc:
                self._commit_failed(exc)
                await asyncio.sleep(delay)
                delay = min(delay * 2, self.commit_policy.max_delay_s)
                continue
            if self.health.failing_since is not None:
                log.warning("event log writable again after %d failed appends", self.health.failures)
                self.health.failing_since = None
            return appended

    async def _outcomes_of(
        self,
        fresh: list[tuple[int, events.Event, bytes]],
        appended: list[Appended],
        batch: Batch,
        report: IngestReport,
    ) -> None:
        for (position, event, body), ack in zip(fresh, appended, strict=True):
            if ack.duplicate:  # JetStream had the id: the same event, or another one under a reused id
                seen_again(position, event, body, await self.event_log.body_at(ack.seq), batch, report)
                continue
            verdict = self._outcomes.get(ack.seq)
            if verdict is None or verdict == DUPLICATE:
                report.duplicates += 1
            elif verdict == ACCEPTED:
                report.accepted += 1
            else:
                _, code, reason = verdict
                report.reject(RejectionNote(position, event.id, code, reason))  # stored by the record writer

    def _commit_once(self, batch: Batch) -> None:
        """Rejected inputs only (the log's events are the record writer's); a failure leaves the engine alone."""
        self.store.commit(batch)
        if self.health.failing_since is not None:
            self.health.failing_since = None


def _verdict(outcome: Outcome) -> str | tuple[str, str, str]:
    if outcome.status in (ACCEPTED, DUPLICATE):
        return outcome.status
    return outcome.status, outcome.reason_code or "rejected", outcome.reason or ""


def _merge(report: IngestReport, part: IngestReport) -> None:
    """A chunk's rejections, found ahead, into the ingest's report, after those of the chunks before it."""
    report.rejected += part.rejected
    report.reasons.update(part.reasons)
    report.notes.extend(part.notes[: max(0, MAX_NOTES - len(report.notes))])
