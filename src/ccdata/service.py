"""The application service the facades share: configuration, store, pipeline, clock, health.

Facades read live state and records through it, and change things only by emitting events through it (an
agent signing in through the gateway is an `agent.login` event like any other). In the server every write goes
through `ingest_async` / `emit_async`, one at a time, off the event loop but for short slices of engine work.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from ccdata.cluster.pipeline import ClusterPipeline, EventLog, Lease
from ccdata.config import Config
from ccdata.domain.engine import Engine
from ccdata.domain.monitoring import DAY_MS, KEEP_DAYS, Monitor, day_of
from ccdata.domain.records import CallResult
from ccdata.pipeline import CommitPolicy, Committed, IngestReport, Input, Pipeline, RejectionNote, SnapshotPolicy
from ccdata.store.ports import Store

log = logging.getLogger("ccdata.service")

#: Stale calls are released as by the platform on an abnormal release: cause 3 ("abnormal release", CDR cause
#: codes) and leave reason 19 ("an internal processing error occurs", CMS 5.9).
STALE_RELEASE_CAUSE = 3
STALE_LEAVE_REASON = 19


def wall_clock_ms() -> int:
    return time.time_ns() // 1_000_000


@dataclass
class Health:
    """What readiness reports: the store's write side, the background tasks, and what recovery did."""

    tasks: dict[str, str] = field(default_factory=dict)  # name -> "running" or "failed: <cause>"
    task_restarts: Counter[str] = field(default_factory=Counter)
    stale_calls_released: int = 0


@dataclass
class IngestTotals:
    """Every input this process was given since it started, by outcome (what `GET /metrics` counts)."""

    accepted: int = 0
    duplicates: int = 0
    rejected: Counter[str] = field(default_factory=Counter)  # by reason code

    def add(self, report: IngestReport) -> None:
        self.accepted += report.accepted
        self.duplicates += report.duplicates
        self.rejected.update(report.reasons)


class Service:
    def __init__(
        self,
        config: Config,
        store: Store,
        clock: Callable[[], int] = wall_clock_ms,
        *,
        commit_policy: CommitPolicy | None = None,
        event_log: EventLog | None = None,
        lease: Lease | None = None,
    ) -> None:
        """`event_log` (with the record writer's `lease`): the distributed form, a replica of a shared log."""
        self.config = config
        self.store = store
        self.clock = clock
        self._listeners: list[Callable[[Committed], None]] = []
        settings = config.store
        snapshots = SnapshotPolicy(settings.snapshot_every_events, settings.snapshot_every_s)
        if event_log is not None:
            if lease is None:
                raise ValueError("the distributed form needs the record writer's lease")
            self.pipeline: Pipeline = ClusterPipeline(
                store, event_log, lease=lease, on_committed=self._committed, snapshot_policy=snapshots
            )
        else:
            self.pipeline = Pipeline(
                store, on_committed=self._committed, commit_policy=commit_policy, snapshot_policy=snapshots
            )
        self.health = Health()
        self.totals = IngestTotals()
        self._writing: asyncio.Lock | None = None  # made on the server's loop, at first use
        self._last_event_wall: dict[int, float] = {}  # per call center, when its latest event came in
        self._started = time.monotonic()  # replayed events count as arrived at start
        self._last_read = 0.0
        self.monitor = self._rebuilt_monitor()

    @property
    def engine(self) -> Engine:
        return self.pipeline.engine

    @property
    def cc_id(self) -> int:
        return self.config.call_center.id

    def now(self) -> int:
        return self.clock()

    def subscribe(self, listener: Callable[[Committed], None]) -> None:
        self._listeners.append(listener)

    def ready(self) -> tuple[bool, list[str]]:
        """Ready when the store takes writes and every background task runs; else the reasons why not."""
        reasons = [f"task {name} {state}" for name, state in self.health.tasks.items() if state != "running"]
        store = self.pipeline.health
        if not store.writable:
            reasons.append(f"the store refuses writes ({store.last_error}); commits are being retried")
        return not reasons, reasons

    # --- writes ---

    def ingest(self, inputs: Iterable[Input]) -> IngestReport:
        """Ingest in this thread (the command line, a backfill before the server starts)."""
        report = self.pipeline.ingest(inputs)
        self.totals.add(report)
        return report

    async def ingest_async(self, inputs: Iterable[Input]) -> IngestReport:
        """Ingest beside the event loop: one writer at a time, the loop free between slices of work."""
        return await self.ingest_made(lambda: inputs)

    async def ingest_made(self, make: Callable[[], Iterable[Input]]) -> IngestReport:
        """Ingest the inputs `make()` returns, made under the writer's lock: they see (through `subscribe`) every
        event committed before them, so that the live simulator reacts to a facade's action before it acts on."""
        if self._writing is None:
            self._writing = asyncio.Lock()
        async with self._writing:
            report = await self.pipeline.ingest_async(make(), batch_size=self._batch_size_now)
        self.totals.add(report)
        return report

    async def records_current(self) -> None:
        """Before a read of records: the distributed form waits until they include every event applied here."""
        await self.pipeline.records_current()

    def note_read(self) -> None:
        """A request other than an ingest came in: writes go in smaller commits for a while (fair sharing)."""
        self._last_read = time.monotonic()

    def _batch_size_now(self) -> int:
        settings = self.config.store
        if time.monotonic() - self._last_read < settings.reads_recent_s:
            return settings.batch_events_beside_reads
        return settings.batch_events

    def emit(self, type_: str, vdn: int, **fields: Any) -> RejectionNote | None:
        """Apply one event of ccdata's own in this thread; return its rejection, or None if accepted."""
        report = self.ingest([self._own_event(type_, vdn, fields)])
        return report.notes[0] if report.rejected else None

    async def emit_async(self, type_: str, vdn: int, **fields: Any) -> RejectionNote | None:
        """Apply one event of ccdata's own (a facade's action); return its rejection, or None if accepted."""
        report = await self.ingest_async([self._own_event(type_, vdn, fields)])
        return report.notes[0] if report.rejected else None

    def _own_event(self, type_: str, vdn: int, fields: dict[str, Any]) -> dict[str, Any]:
        cc_id = fields.pop("ccId", self.cc_id)
        # Never before the latest event seen: an external feed's clock may run ahead of ours.
        at = fields.pop("at", None) or max(self.now(), self.engine.clock_of(cc_id))
        event_id = fields.pop("id", None) or f"ccdata-{uuid.uuid4()}"
        return {"id": event_id, "type": type_, "at": at, "ccId": cc_id, "vdn": vdn, **fields}

    # --- stale calls ---

    def feed_time(self, cc_id: int) -> int:
        """A call center's event clock, moved on by the wall time since its latest event arrived: a replay of old
        data keeps its own time, a feed gone silent lets its time pass."""
        arrived = self._last_event_wall.get(cc_id, self._started)
        return self.engine.clock_of(cc_id) + int((time.monotonic() - arrived) * 1000)

    async def release_stale_calls(self) -> int:
        """Release, by an event of ccdata's own, every call with no event for `stale_call_timeout_s`."""
        timeout_ms = int(self.config.engine.stale_call_timeout_s * 1000)
        if timeout_ms <= 0:
            return 0
        released = 0
        for cc_id in list(self.engine.clocks):
            at = self.feed_time(cc_id)
            for call in self.engine.stale_calls(cc_id, at - timeout_ms):
                rejection = await self.emit_async(
                    "call.release", call.vdn, ccId=cc_id, callId=call.call_id, at=max(at, call.last_at),
                    id=f"ccdata-stale-{cc_id}-{call.call_id}-{call.last_at}",
                    by="system", cause=STALE_RELEASE_CAUSE, leaveReason=STALE_LEAVE_REASON,
                )  # fmt: skip
                if rejection is None:
                    released += 1
                    log.warning(
                        "released stale call %s of call center %d (no event for %.0f s; last at %d)",
                        call.call_id, cc_id, (at - call.last_at) / 1000, call.last_at,
                    )  # fmt: skip
                else:
                    log.error("could not release stale call %s: %s", call.call_id, rejection.reason)
        self.health.stale_calls_released += released
        return released

    # --- lifecycle ---

    async def start(self) -> None:
        """Before serving: the distributed form catches up with the shared log (the embedded one did at init)."""
        await self.pipeline.start()
        if isinstance(self.pipeline, ClusterPipeline):
            # The catch-up told the monitor of every event after the central snapshot, and the call results of
            # those the store already held had been counted from the store: count each once, from the store (on
            # the clocks caught up), and those the store does not hold yet from the node's own output.
            monitor = self._rebuilt_monitor()
            monitor.feed(r for r in self.pipeline.unstored_records() if type(r) is CallResult)
            self.monitor = monitor

    def background(self) -> dict[str, Callable[[], Any]]:
        """Long-running work of the pipeline, for the server to supervise."""
        return self.pipeline.background()

    async def stop(self) -> None:
        await self.pipeline.stop()

    async def snapshot_async(self) -> None:
        """Save live state now (at a clean stop, or on demand), without racing an ingest."""
        if self._writing is None:
            self._writing = asyncio.Lock()
        async with self._writing:  # no event is applied while the engine is pickled in the worker thread
            await asyncio.to_thread(self.pipeline.save_snapshot)

    def close(self) -> None:
        self.pipeline.save_snapshot()
        self.store.close()

    def _rebuilt_monitor(self) -> Monitor:
        """Monitoring counters rebuilt from the stored call results of the kept days (the replay at start wrote
        none: its records were committed with their events); the committed stream feeds them afterwards."""
        monitor = Monitor()
        for cc_id in self.engine.clocks:  # each call center's kept days, on its own clock
            since = day_of(self.engine.clock_of(cc_id)) - (KEEP_DAYS - 1) * DAY_MS
            monitor.feed(self.store.call_results_released_since(cc_id, since))
        return monitor

    def _committed(self, item: Committed) -> None:
        self._last_event_wall[item.event.cc_id] = time.monotonic()
        for record in item.records:
            if type(record) is CallResult:
                self.monitor.add(record)
        for listener in self._listeners:
            listener(item)
