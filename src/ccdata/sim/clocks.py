"""The simulator's two clocks: a backfill as fast as the machine allows, and a live run beside the server.

Neither writes an event dated after the wall clock (a live run at `speed` > 1 excepted: it runs ahead by design),
and both carry on what the store already holds: a simulator started on a store with events adopts the engine's
calls and agents (`ContactCenter.adopting`) from just after the call center's last event.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial

from ccdata.domain.engine import Engine
from ccdata.pipeline import Committed, IngestReport
from ccdata.service import Service, wall_clock_ms
from ccdata.sim.contact_center import HOUR_MS, ContactCenter, Stats

log = logging.getLogger("ccdata.simulator")

FILL_LIMIT_MS = 24 * HOUR_MS  # a live simulator fills at most this much of the time the server was down
CATCH_UP_SLICE_MS = 10 * 60_000  # simulated per step while catching up, so that requests get in between

DRAIN_LIMIT_MS = 4 * HOUR_MS  # after the last arrival, calls in progress get this long to finish (never past now)


def log_end(engine: Engine, cc_id: int) -> int:
    """The time of the call center's latest event in the log (0: none): a simulation continues after it."""
    return engine.clock_of(cc_id)


def continue_or_start(service: Service, start: int, *, seed: int | None = None) -> tuple[ContactCenter, str | None]:
    """The simulation of a backfill: from `start` on a store without events of the call center; otherwise from
    just after its last event, adopting its live state, so that the history goes on with no gap. The note says
    which (None: a fresh start)."""
    config = service.config
    end_of_log = log_end(service.engine, config.call_center.id)
    if not end_of_log:
        return ContactCenter(config, config.simulator, start, seed=seed), None
    simulator = ContactCenter.adopting(config, config.simulator, service.engine, end_of_log + 1, seed=seed)
    adopted = simulator.adoption
    when = datetime.fromtimestamp(end_of_log / 1000, tz=UTC).strftime("%Y-%m-%d %H:%M:%S")
    if end_of_log >= wall_clock_ms():  # a feed or a fast live run ahead of the wall clock: no history to write
        return simulator, f"the store holds events up to {when} UTC, after now: nothing to simulate"
    note = (f"the store holds events up to {when} UTC: continuing from there, with its {adopted.calls} calls in "
            f"progress and {adopted.agents} agents signed in")  # fmt: skip
    return simulator, note


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
    now: Callable[[], int] = wall_clock_ms,
) -> BackfillReport:
    """Simulate up to `end` and ingest it hour by hour; with `drain`, then let the calls in progress finish.

    Nothing is dated after `now()`: `end` must not be in the future, and the drain stops at now (calls still in
    progress then stay in progress, for a later simulation to adopt).
    """
    if end > (wall := now()):
        raise ValueError(f"a backfill cannot end in the future: {end} is after now ({wall})")
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
        limit = min(end + DRAIN_LIMIT_MS, now())
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
    """Runs beside the server: simulated time follows the wall clock, `speed` times faster.

    At speed 1 (or less) simulated time is the wall clock itself, so no event is dated after it; a log that ends
    ahead of it (a feed with a fast clock, an earlier run at --speed 10) is waited for, not overtaken. Faster, the
    simulation starts after the log's end and runs ahead of the wall clock, as asked.
    """

    TICK_S = 0.1

    def __init__(self, service: Service, speed: float = 1.0, simulator: ContactCenter | None = None) -> None:
        """Carry on a simulation that a backfill brought up to now, or adopt what the store holds and go on."""
        self.service = service
        self.speed = speed
        self._given = simulator is not None
        self._adopt(simulator)
        self.rejected = 0
        service.subscribe(self._committed)

    def _adopt(self, simulator: ContactCenter | None = None) -> None:
        self.started_wall = wall_clock_ms()
        service, config = self.service, self.service.config
        end_of_log = log_end(service.engine, config.call_center.id)
        # The simulation starts after every event already stored, so that it adopts a settled state, and fills the
        # time the server was down (up to FILL_LIMIT_MS) before it follows the clock: the history has no hole.
        adopt_at = max(end_of_log + 1, self.started_wall - FILL_LIMIT_MS) if end_of_log else self.started_wall
        if simulator is not None:
            adopt_at = simulator.now
        self.started_sim = max(self.started_wall, end_of_log + 1) if self.speed > 1 else self.started_wall
        self.simulator = simulator or ContactCenter.adopting(config, config.simulator, service.engine, adopt_at)
        self._adopted_at = service.pipeline.seq

    def started(self) -> None:
        """The service has started: a cluster node has caught up with the shared log since this simulator adopted
        its state (from the central snapshot); adopt what the engine holds now, or the simulation would carry on
        from a past state (its events refused, `time_regression`)."""
        if not self._given and self.service.pipeline.seq != self._adopted_at:
            self._adopt()

    def sim_now(self) -> int:
        """Where simulated time should be now: the next step catches up to it."""
        return self.started_sim + int((wall_clock_ms() - self.started_wall) * self.speed)

    def data_now(self) -> int:
        """The data's clock: where the simulation is (at most a tick behind `sim_now`, or still catching up after
        a downtime). A facade's event (a workbench's action) is dated here, so that the simulation follows it at
        once without jumping over time it has yet to fill."""
        return self.simulator.now

    async def step(self) -> None:
        """Catch up with the clock, a slice of simulated time at a time (a gap to fill may be hours long)."""
        target = self.sim_now()
        while True:
            until = min(target, self.simulator.now + CATCH_UP_SLICE_MS)
            # Made under the writer's lock: a workbench's action committed meanwhile is followed first.
            report = await self.service.ingest_made(partial(self.simulator.run_until, until))
            if report.rejected:
                self.rejected += report.rejected
                for note in report.notes[:5]:
                    log.error("simulator event rejected: %s %s: %s", note.event_id, note.code, note.reason)
            if self.simulator.now >= target:
                return
            await asyncio.sleep(0)

    async def run(self) -> None:
        while True:
            await self.step()
            await asyncio.sleep(self.TICK_S)

    def ring(self, agent_id: int, media: str = "voice", caller: str | None = None, skill: int | None = None) -> str:
        """A call for an idle interactive agent now (`ccdata ring`); its events go in with the next step."""
        return self.simulator.ring(agent_id, media, caller, skill)

    def _committed(self, item: Committed) -> None:
        """Interactive agents are driven by real clients (a workbench over the gateway): the simulation follows
        what they did, as the platform and the other parties (sim/workbench.py)."""
        if not self.simulator.made(item.event.id):
            self.simulator.follow(item.event)
        self.simulator.settle(self.service.engine)  # its own events too: a release ends an agent's call
