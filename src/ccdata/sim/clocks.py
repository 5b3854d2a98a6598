"""The simulator's two clocks: a backfill as fast as the machine allows, and a live run beside the server."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from ccdata.domain import events as ev
from ccdata.pipeline import Committed, IngestReport
from ccdata.service import Service, wall_clock_ms
from ccdata.sim.contact_center import HOUR_MS, ContactCenter, Stats

log = logging.getLogger("ccdata.simulator")

DRAIN_LIMIT_MS = 4 * HOUR_MS  # after the last arrival, calls in progress get this long to finish


@dataclass
class BackfillReport:
    stats: Stats
    accepted: int
    rejected: int
    reasons: dict[str, int]
    seconds: float
    start: int
    end: int

    @property
    def events_per_second(self) -> float:
        return self.stats.events / self.seconds if self.seconds else 0.0


def backfill(
    service: Service,
    simulator: ContactCenter,
    end: int,
    *,
    drain: bool = True,
    progress: Callable[[int], None] | None = None,
) -> BackfillReport:
    """Simulate up to `end` and ingest it hour by hour; with `drain`, then let the calls in progress finish."""
    start = simulator.now
    began = time.perf_counter()
    totals = IngestReport()
    hour = start
    while hour < end:
        step = min(end, hour - hour % HOUR_MS + HOUR_MS)
        _ingest(service, simulator.run_until(step), totals)
        if progress is not None:
            progress(step - hour)
        hour = step
    if drain:
        simulator.close_arrivals()
        limit = end + DRAIN_LIMIT_MS
        while simulator.busy() and (next_at := simulator.next_time()) is not None and next_at <= limit:
            _ingest(service, simulator.run_until(min(limit, next_at + 60_000)), totals)
    return BackfillReport(
        simulator.stats, totals.accepted, totals.rejected, dict(totals.reasons), time.perf_counter() - began,
        start, end,
    )  # fmt: skip


def _ingest(service: Service, events: list[dict], totals: IngestReport) -> None:
    if not events:
        return
    report = service.ingest(events)
    totals.accepted += report.accepted
    totals.rejected += report.rejected
    totals.duplicates += report.duplicates
    totals.reasons.update(report.reasons)


class LiveSimulator:
    """Runs beside the server: simulated time follows the wall clock, `speed` times faster."""

    TICK_S = 0.1

    def __init__(self, service: Service, speed: float = 1.0, simulator: ContactCenter | None = None) -> None:
        """Go live with a new simulation, or carry on one that a backfill brought up to now."""
        self.service = service
        self.speed = speed
        self.started_wall = wall_clock_ms()
        # Never before the data already stored (a backfill ending now, a feed ahead of our clock).
        self.started_sim = max(self.started_wall, service.engine.clock + 1, simulator.now if simulator else 0)
        config = service.config
        self.simulator = simulator or ContactCenter(config, config.simulator, self.started_sim)
        self.interactive = {a.id for a in config.agents if a.interactive}
        self.rejected = 0
        service.subscribe(self._committed)

    def sim_now(self) -> int:
        return self.started_sim + int((wall_clock_ms() - self.started_wall) * self.speed)

    async def step(self) -> None:
        events = self.simulator.run_until(self.sim_now())
        if events:
            report = await self.service.ingest_async(events)
            if report.rejected:
                self.rejected += report.rejected
                for note in report.notes[:5]:
                    log.error("simulator event rejected: %s %s: %s", note.event_id, note.code, note.reason)

    async def run(self) -> None:
        while True:
            await self.step()
            await asyncio.sleep(self.TICK_S)

    def _committed(self, item: Committed) -> None:
        """Interactive agents are signed in by real clients: route calls to them while they are."""
        event = item.event
        if isinstance(event, ev.AgentLogin) and event.agent_id in self.interactive:
            self.simulator.agent_signed_in(event.agent_id)
        elif isinstance(event, ev.AgentLogout) and event.agent_id in self.interactive:
            self.simulator.agent_signed_out(event.agent_id)
