"""The ingest pipeline: inputs -> event log -> engine -> live state and records, committed together.

Every source (a JSON-lines file, the HTTP ingest endpoint, the simulator, the gateway's sign-in) goes through
`Pipeline.ingest`. An event is acknowledged only once the batch holding it is committed: its log entry and the
records it produced are written in one transaction. On start the engine is rebuilt from the last snapshot plus
the log after it, so a restart loses nothing.
"""

from __future__ import annotations

import contextlib
import gc
import pickle
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Final, NamedTuple

import msgspec

from ccdata.domain import events
from ccdata.domain.engine import ACCEPTED, DUPLICATE, STATE_VERSION, Engine
from ccdata.domain.records import Record
from ccdata.store.ports import Batch, LoggedEvent, RejectedInput, Snapshot, Store

DEFAULT_BATCH: Final = 5000
MAX_NOTES: Final = 1000  # rejections reported one by one; the counts stay exact beyond


class Committed(NamedTuple):
    """An accepted event and the records it produced, after the commit that made them durable."""

    event: events.Event
    records: list[Record]


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


class Pipeline:
    """Owns the engine and the store's write side. Not thread-safe: callers serialise `ingest`."""

    def __init__(
        self, store: Store, *, batch_size: int = DEFAULT_BATCH, on_committed: Callable[[Committed], None] | None = None
    ) -> None:
        self.store = store
        self.batch_size = batch_size
        self.on_committed = on_committed  # told of each accepted event once it is durable
        self.engine = Engine()
        self.seq = 0
        self.replayed = self.rebuild()

    def rebuild(self) -> int:
        """Rebuild live state from the snapshot and the log after it; return how many events were replayed."""
        snapshot = self.store.load_snapshot()
        if snapshot is not None and snapshot.version == STATE_VERSION:
            engine, seq = pickle.loads(snapshot.blob), snapshot.seq  # our own file, written by save_snapshot
        else:
            engine, seq = Engine(), 0
        replayed = 0
        for position, body in self.store.events_after(seq):
            engine.apply(events.decode(body))
            replayed += 1
            seq = position
        self.engine, self.seq = engine, seq
        return replayed

    def save_snapshot(self) -> None:
        blob = pickle.dumps(self.engine, protocol=pickle.HIGHEST_PROTOCOL)
        self.store.save_snapshot(Snapshot(self.seq, STATE_VERSION, blob))

    def ingest(self, inputs: Iterable[Input], *, first_position: int = 1) -> IngestReport:
        """Apply inputs (JSON text of one event each, or already-parsed objects) in order."""
        report = IngestReport()
        started = time.perf_counter()
        chunk: list[tuple[int, Input]] = []
        with _cyclic_gc_paused():
            for position, item in enumerate(inputs, first_position):
                chunk.append((position, item))
                if len(chunk) >= self.batch_size:
                    self._ingest_chunk(chunk, report)
                    chunk = []
            if chunk:
                self._ingest_chunk(chunk, report)
        report.seconds = time.perf_counter() - started
        return report

    def _ingest_chunk(self, chunk: list[tuple[int, Input]], report: IngestReport) -> None:
        batch = Batch()
        committed: list[Committed] = []
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
        for position, event, body in decoded:
            self._apply(position, event, body, known, batch, report, committed)
        try:
            last = self.store.commit(batch)
        except BaseException:
            self.rebuild()  # the engine ran ahead of what was committed: go back to the log
            raise
        if batch.events:
            self.seq = last
        if self.on_committed is not None:
            for item in committed:
                self.on_committed(item)

    def _apply(
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
            # Compared as events, not as text: the same event sent again with other spacing is a duplicate.
            if previous == body or events.decode(previous) == event:
                report.duplicates += 1
                return
            reason = f"event id {event.id!r} was already used by a different event"
            batch.rejected.append(RejectedInput(event.id, "id_conflict", reason, body))
            report.reject(RejectionNote(position, event.id, "id_conflict", reason))
            return
        outcome = self.engine.apply(event)
        if outcome.status == ACCEPTED:
            batch.events.append(LoggedEvent(event.id, events.type_of(event), event.at, body))
            batch.records.extend(outcome.records)
            if self.on_committed is not None:
                committed.append(Committed(event, outcome.records))
            known[event.id] = body  # a later copy in the same chunk is a duplicate (or a conflict)
            report.accepted += 1
        elif outcome.status == DUPLICATE:
            report.duplicates += 1
        else:
            code, reason = outcome.reason_code or "rejected", outcome.reason or ""
            batch.rejected.append(RejectedInput(event.id, code, reason, body))
            report.reject(RejectionNote(position, event.id, code, reason))


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
