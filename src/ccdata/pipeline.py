"""The ingest pipeline: inputs -> event log -> engine -> live state and records, committed together.

Every source (a JSON-lines file, the HTTP ingest endpoint, the simulator, the gateway's sign-in) goes through
`Pipeline.ingest`. An event is acknowledged only once the batch holding it is committed: its log entry and the
records it produced are written in one transaction. On start the engine is rebuilt from the last snapshot plus
the log after it, so a restart loses nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import pickle
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, NamedTuple

import msgspec

from ccdata.domain import events, operations
from ccdata.domain.engine import ACCEPTED, DUPLICATE, STATE_VERSION, Engine
from ccdata.domain.records import Record
from ccdata.store.ports import Batch, LoggedEvent, OutboxEntry, RejectedInput, Snapshot, Store, StoreUnavailable

log = logging.getLogger("ccdata.pipeline")

DEFAULT_BATCH: Final = 5000
MAX_NOTES: Final = 1000  # rejections reported one by one; the counts stay exact beyond


class Committed(NamedTuple):
    """An accepted event and the records it produced, after the commit that made them durable."""

    event: events.Event
    records: list[Record]
    seq: int = 0  # its position in the event log
    messages: Sequence[Any] | None = None  # what `Pipeline.derive` made of it when applied; None: not derived
    deliveries: int = 0  # webhook deliveries it owes, stored in its commit
    agent_events: Sequence[tuple[int, Any]] = ()  # (agent, event) for workbenches, derived when it was applied


#: Called right after an event is applied (the engine as that event left it): the messages to push once it is
#: committed (None: none wanted), and the webhook deliveries to store in the same transaction.
Derive = Callable[[events.Event, list[Record]], tuple[Sequence[Any] | None, Sequence[OutboxEntry]]]
#: Called right after an event is applied: the (agent, agent event) pairs the CC-Gateway delivers for it.
DeriveAgentEvents = Callable[[events.Event, list[Record]], Sequence[tuple[int, Any]]]


class RejectionNote(NamedTuple):
    position: int  # 1-based position of the input (the line number of a file)
    event_id: str | None
    code: str
    reason: str


@dataclass(slots=True)
class IngestReport:
    accepted: int = 0
    duplicates: int = 0
    rejected: int = 0
    reasons: Counter[str] = field(default_factory=Counter)
    notes: list[RejectionNote] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def total(self) -> int:
        return self.accepted + self.duplicates + self.rejected

    @property
    def events_per_second(self) -> float:
        return self.total / self.seconds if self.seconds else 0.0

    def reject(self, note: RejectionNote) -> None:
        self.rejected += 1
        self.reasons[note.code] += 1
        if len(self.notes) < MAX_NOTES:
            self.notes.append(note)


Input = bytes | str | dict | object


@dataclass(slots=True)
class CommitPolicy:
    """How a commit that failed for a transient reason (a locked or full store) is retried.

    The engine has already applied the batch, so giving up means going back to the log; retrying keeps the work.
    `give_up_after_s` None retries for as long as it takes (the server: readiness says so meanwhile).
    """

    first_delay_s: float = 0.05
    max_delay_s: float = 2.0
    give_up_after_s: float | None = 60.0


@dataclass(slots=True)
class SnapshotPolicy:
    """How often live state is saved, so that a start after a crash replays at most this much of the log."""

    every_events: int = 100_000
    every_s: float = 300.0


@dataclass(slots=True)
class StoreHealth:
    """Whether the last commit went through; the server's readiness reads it."""

    failing_since: float | None = None  # when the current run of failed commits began (None: the last went in)
    failures: int = 0  # commits that failed and were retried, since start
    last_error: str = ""

    @property
    def writable(self) -> bool:
        return self.failing_since is None


class _Prepared(NamedTuple):
    decoded: list[tuple[int, events.Event, bytes]]
    known: dict[str, bytes]
    batch: Batch


class Pipeline:
    """Owns the engine and the store's write side. Not thread-safe: callers serialise `ingest`/`ingest_async`.

    A chunk of inputs goes through three steps: `_prepare` (decode, look the ids up in the log: CPU and disk),
    `_apply` (the engine, in memory) and `_commit` (one transaction). `ingest` runs them in turn; `ingest_async`
    runs the first and the last in a worker thread and the engine in short slices on the event loop, so that
    the loop, which also reads live state, keeps serving while a large batch goes in.
    """

    writer = True  # it writes its own records (a cluster node only while it holds the lease)
    shared_log = False  # other processes append to its log too (cluster nodes): its replica may be behind the log

    def __init__(
        self,
        store: Store,
        *,
        batch_size: int = DEFAULT_BATCH,
        on_committed: Callable[[Committed], None] | None = None,
        commit_policy: CommitPolicy | None = None,
        snapshot_policy: SnapshotPolicy | None = None,
    ) -> None:
        self.store = store
        self.batch_size = batch_size
        self.on_committed = on_committed  # told of each accepted event once it is durable
        self.derive: Derive | None = None  # None while nobody listens: the apply path pays nothing for the push
        self.derive_agent_events: DeriveAgentEvents | None = None  # set by the CC-Gateway
        self.commit_policy = commit_policy or CommitPolicy()
        self.snapshot_policy = snapshot_policy  # None: snapshots only when asked (save_snapshot)
        self.health = StoreHealth()
        self.engine = Engine()
        self.seq = 0  # the log position of the last event this pipeline applied itself
        self.ahead = False  # the engine applied events that are not committed yet
        self.snapshot_seq = 0
        self._snapshot_wall = time.monotonic()
        self.replayed = self.rebuild()

    async def log_end(self) -> int:
        """The log's last position, whoever appended it (here: this pipeline, the store's only writer)."""
        return self.seq

    def rebuild(self) -> int:
        """Rebuild live state from the snapshot and the log after it; return how many events were replayed."""
        snapshot = self.store.load_snapshot()
        if snapshot is not None and snapshot.version == STATE_VERSION:
            engine, seq = pickle.loads(snapshot.blob), snapshot.seq  # our own file, written by save_snapshot
        else:
            engine, seq = Engine(), 0
        self.snapshot_seq = seq
        replayed = 0
        with _cyclic_gc_paused():
            for position, body in self.store.events_after(seq):
                engine.apply(events.decode(body))
                replayed += 1
                seq = position
        self.engine, self.seq = engine, seq
        return replayed

    def _back_to_the_log(self) -> None:
        log.warning("an interrupted ingest left live state ahead of the log: rebuilt from the log at %d", self.seq)
        self.rebuild()
        self.ahead = False

    # --- lifecycle (the distributed form has work here; the embedded one rebuilt itself at init) ---

    async def start(self) -> None:
        """Ready to take events."""

    def background(self) -> dict[str, Callable[[], Awaitable[None]]]:
        """Long-running work the server supervises: none here."""
        return {}

    async def stop(self) -> None:
        """Nothing is held back: every acknowledged event is committed."""

    async def records_current(self) -> None:
        """Until the record store holds the records of every event applied here: at once, they are committed
        together."""

    # --- snapshots ---

    def save_snapshot(self) -> None:
        """Live state as of `seq`, pickled and stored now (the caller makes sure no event is being applied).
        Not while the engine holds events the log does not (an ingest cancelled before its commit): the snapshot
        would say `seq` of a state beyond it."""
        if self.ahead:
            log.warning("snapshot skipped: an interrupted ingest left live state ahead of the log at %d", self.seq)
            return
        blob = pickle.dumps(self.engine, protocol=pickle.HIGHEST_PROTOCOL)
        self.store.save_snapshot(Snapshot(self.seq, STATE_VERSION, blob))
        self.snapshot_seq = self.seq
        self._snapshot_wall = time.monotonic()

    def snapshot_due(self) -> bool:
        policy = self.snapshot_policy
        if policy is None or self.seq == self.snapshot_seq:
            return False
        return (
            self.seq - self.snapshot_seq >= policy.every_events
            or time.monotonic() - self._snapshot_wall >= policy.every_s
        )

    # --- ingest, in one thread ---

    def ingest(self, inputs: Iterable[Input], *, first_position: int = 1) -> IngestReport:
        """Apply inputs (JSON text of one event each, or already-parsed objects) in order."""
        report = IngestReport()
        started = time.perf_counter()
        with _cyclic_gc_paused():
            for chunk in self._chunks(inputs, first_position):
                prepared = self._prepare(chunk, report)
                committed = self._apply(prepared.decoded, prepared, report)
                self._commit_blocking(prepared.batch)
                self._notify(self._numbered(committed, prepared.batch))
                if self.snapshot_due():
                    self._try_snapshot()
        report.seconds = time.perf_counter() - started
        return report

    # --- ingest, beside an event loop ---

    async def ingest_async(
        self,
        inputs: Iterable[Input],
        *,
        slice_size: int = 200,
        batch_size: Callable[[], int] | None = None,
    ) -> IngestReport:
        """As `ingest`, without holding the event loop for more than one slice of the engine's work.

        `batch_size()`, asked before each chunk, lets the caller trade ingest speed for read latency: every step of
        the worker thread holds the interpreter the loop needs, so smaller commits while reads come in keep their
        tail latency down, and large ones while none do keep a bulk ingest fast."""
        report = IngestReport()
        started = time.perf_counter()
        if self.ahead:
            await asyncio.to_thread(self._back_to_the_log)
        for chunk in self._chunks(inputs, 1, batch_size):
            prepared = await asyncio.to_thread(self._prepare, chunk, report)
            committed: list[Committed] = []
            # From the first slice applied to the commit, the engine is ahead of the log: a cancellation in between
            # (a shutdown) leaves it so, and neither a snapshot nor the next ingest may take it as it is.
            self.ahead = bool(prepared.decoded)
            for start in range(0, len(prepared.decoded), slice_size):
                with _cyclic_gc_paused():
                    committed += self._apply(prepared.decoded[start : start + slice_size], prepared, report)
                await asyncio.sleep(0)  # let requests in between slices
            await self._commit_async(prepared.batch)
            committed = self._numbered(committed, prepared.batch)
            for start in range(0, len(committed), slice_size):
                self._notify(committed[start : start + slice_size])
                await asyncio.sleep(0)
            if self.snapshot_due():
                # Pickled in the worker thread: nothing mutates the engine meanwhile (the caller serialises writes,
                # and reads never mutate), and the loop gets the interpreter between the thread's slices.
                await asyncio.to_thread(self._try_snapshot)
        report.seconds = time.perf_counter() - started
        return report

    # --- the three steps ---

    def _chunks(
        self, inputs: Iterable[Input], first_position: int, size: Callable[[], int] | None = None
    ) -> Iterator[list[tuple[int, Input]]]:
        limit = size() if size else self.batch_size
        chunk: list[tuple[int, Input]] = []
        for position, item in enumerate(inputs, first_position):
            chunk.append((position, item))
            if len(chunk) >= limit:
                yield chunk
                chunk = []
                limit = size() if size else self.batch_size
        if chunk:
            yield chunk

    def _prepare(self, chunk: list[tuple[int, Input]], report: IngestReport) -> _Prepared:
        batch = Batch()
        decoded: list[tuple[int, events.Event, bytes]] = []
        for position, item in chunk:
            if isinstance(item, bytes | str):
                raw = item.strip().encode("utf-8", "surrogatepass") if isinstance(item, str) else item.strip()
                if not raw:
                    continue  # a blank line of a JSON-lines input is no event
            else:
                raw = None
            try:
                event = _decode(item)
            except events.InvalidEvent as exc:
                batch.rejected.append(RejectedInput(exc.event_id, "invalid_event", exc.reason, raw or _raw(item)))
                report.reject(RejectionNote(position, exc.event_id, "invalid_event", exc.reason))
                continue
            # A valid line is stored as received (strict decoding admits nothing but the contract's fields).
            decoded.append((position, event, raw or events.encode(event)))
        known = self.store.stored_events([event.id for _, event, _ in decoded])
        return _Prepared(decoded, known, batch)

    def _apply(
        self, decoded: list[tuple[int, events.Event, bytes]], prepared: _Prepared, report: IngestReport
    ) -> list[Committed]:
        committed: list[Committed] = []
        for position, event, body in decoded:
            self._apply_one(position, event, body, prepared.known, prepared.batch, report, committed)
        return committed

    def _commit_blocking(self, batch: Batch) -> None:
        policy, delay, began = self.commit_policy, self.commit_policy.first_delay_s, time.monotonic()
        while True:
            try:
                self._commit_once(batch)
                return
            except StoreUnavailable as exc:
                self._commit_failed(exc)
                waited = time.monotonic() - began
                if policy.give_up_after_s is not None and waited >= policy.give_up_after_s:
                    self.rebuild()  # the engine ran ahead of what was committed: go back to the log
                    raise
                time.sleep(delay)
                delay = min(delay * 2, policy.max_delay_s)

    async def _commit_async(self, batch: Batch) -> None:
        policy, delay = self.commit_policy, self.commit_policy.first_delay_s
        while True:
            try:
                await asyncio.to_thread(self._commit_once, batch)
                return
            except StoreUnavailable as exc:
                self._commit_failed(exc)
                await asyncio.sleep(delay)  # the server waits for the store: nothing is given up
                delay = min(delay * 2, policy.max_delay_s)

    def _commit_once(self, batch: Batch) -> None:
        try:
            last = self.store.commit(batch)
        except StoreUnavailable:
            raise
        except BaseException:
            self.rebuild()  # not a passing condition: the engine goes back to the log, the caller is told
            raise
        if batch.events:
            self.seq = last
        self.ahead = False
        health = self.health
        if health.failing_since is not None:
            log.warning(
                "store writable again after %d failed commits (%.1f s)",
                health.failures,
                time.monotonic() - health.failing_since,
            )
            health.failing_since = None

    def _commit_failed(self, exc: StoreUnavailable) -> None:
        health = self.health
        health.failures += 1
        health.last_error = str(exc)
        if health.failing_since is None:
            health.failing_since = time.monotonic()
            log.error("commit failed, retrying with back-off until the store takes it: %s", exc)
        else:
            log.warning("commit still failing (%d attempts): %s", health.failures, exc)

    def _try_snapshot(self) -> None:
        try:
            self.save_snapshot()
        except StoreUnavailable as exc:  # the next one is due soon: the log still holds everything
            log.warning("periodic snapshot skipped: %s", exc)

    def _numbered(self, committed: list[Committed], batch: Batch) -> list[Committed]:
        """The committed items with their log positions: a batch's events take consecutive positions ending at
        `seq` (one writer; `commit` returns the last), in the order they were applied."""
        if len(committed) != len(batch.events):  # nobody is told (no on_committed): nothing to number
            return committed
        first = self.seq - len(batch.events) + 1
        return [c._replace(seq=first + i) for i, c in enumerate(committed)]

    def _notify(self, committed: list[Committed]) -> None:
        if self.on_committed is not None:
            for item in committed:
                self.on_committed(item)

    def _apply_one(
        self,
        position: int,
        event: events.Event,
        body: bytes,
        known: dict[str, bytes],
        batch: Batch,
        report: IngestReport,
        committed: list[Committed],
    ) -> None:
        previous = known.get(event.id)
        if previous is not None:
            seen_again(position, event, body, previous, batch, report)
            return
        outcome, logged_operations = operations.apply(self.engine, event)
        if outcome.status == ACCEPTED:
            batch.events.append(LoggedEvent(event.id, events.type_of(event), event.at, body))
            batch.records.extend(outcome.records)
            batch.records.extend(logged_operations)
            messages: Sequence[Any] | None = None
            deliveries = 0
            if self.derive is not None:
                messages, outbox = self.derive(event, outcome.records)
                batch.outbox.extend(outbox)
                deliveries = len(outbox)
            if self.on_committed is not None:
                agent_events = self.derive_agent_events(event, outcome.records) if self.derive_agent_events else ()
                committed.append(Committed(event, outcome.records, 0, messages, deliveries, agent_events))
            known[event.id] = body  # a later copy in the same chunk is a duplicate (or a conflict)
            report.accepted += 1
        elif outcome.status == DUPLICATE:
            report.duplicates += 1
        else:
            code, reason = outcome.reason_code or "rejected", outcome.reason or ""
            batch.rejected.append(RejectedInput(event.id, code, reason, body))
            report.reject(RejectionNote(position, event.id, code, reason))


def seen_again(
    position: int, event: events.Event, body: bytes, previous: bytes, batch: Batch, report: IngestReport
) -> None:
    """An event whose id the log already holds (as `previous`): the same event again is a duplicate, another one
    under that id is refused (`id_conflict`) and kept."""
    # Compared as events, not as text: the same event sent again with other spacing is a duplicate.
    if previous == body or events.decode(previous) == event:
        report.duplicates += 1
        return
    reason = f"event id {event.id!r} was already used by a different event"
    batch.rejected.append(RejectedInput(event.id, "id_conflict", reason, body))
    report.reject(RejectionNote(position, event.id, "id_conflict", reason))


YOUNG_GENERATION_THRESHOLD: Final = 50_000  # allocations between collections of the youngest generation (700)


def settle_collector() -> None:
    """The cyclic garbage collector set for a long-running server, once its live state is built or caught up:

    - Everything alive now is frozen out of its reach: the engine's state is large, long-lived and acyclic (so are
      modules and configuration), and every full collection walked it again. Those pauses were a server's p99
      latency. Once, not again later: what is frozen is never collected, and a later freeze would also take
      in-flight objects that may still become cyclic garbage.
    - The youngest generation is collected every 50,000 allocations instead of 700: an event's records and
      outputs live until the record writer has stored them, so a small threshold walked and promoted each of them
      several times (15 % of a cluster node's ingest, docs/performance.md §11); garbage in cycles waits longer to
      be freed, a few megabytes at most."""
    gc.collect()
    gc.freeze()
    _, middle, oldest = gc.get_threshold()
    gc.set_threshold(YOUNG_GENERATION_THRESHOLD, middle, oldest)


@contextlib.contextmanager
def _cyclic_gc_paused() -> Iterator[None]:
    """No cyclic garbage collection during an ingest: the engine's state is large and free of cycles, and full
    collections over it cost the ingest half its time. Reference counting frees everything as usual."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _decode(item: Input) -> events.Event:
    if isinstance(item, bytes | str):
        return events.decode(item)
    return events.from_builtins(item)


def _raw(item: Input) -> bytes:
    if isinstance(item, bytes):
        return item
    if isinstance(item, str):
        return item.encode("utf-8", "surrogatepass")
    try:
        return msgspec.json.encode(item)
    except (TypeError, ValueError, RecursionError, msgspec.EncodeError):
        return repr(item).encode("utf-8", "surrogatepass")
