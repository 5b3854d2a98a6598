"""Backfill: simulated days per wall minute for the default scenario, through the whole pipeline into SQLite,
against the simulator alone (the same days, the events thrown away) as the baseline of the same run.

    .venv/bin/python bench/backfill.py [DAYS]
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

from ccdata import config as configuration
from ccdata.service import Service
from ccdata.sim.clocks import backfill
from ccdata.sim.contact_center import DAY_MS, ContactCenter
from ccdata.store.sqlite import SqliteStore

START = 1_767_225_600_000


def main(days: int = 30) -> dict[str, float]:
    config = configuration.load()
    simulator = ContactCenter(config, config.simulator, START)
    started = time.perf_counter()
    for day in range(days):
        simulator.run_until(START + (day + 1) * DAY_MS)
    alone = time.perf_counter() - started
    with tempfile.TemporaryDirectory() as tmp:
        service = Service(config, SqliteStore(Path(tmp) / "backfill.db"))
        report = backfill(service, ContactCenter(config, config.simulator, START), START + days * DAY_MS)
        service.close()
    return {
        "days": days,
        "seconds": report.seconds,
        "days_per_minute": days / report.seconds * 60,
        "alone_days_per_minute": days / alone * 60,
        "ratio": alone / report.seconds,
        "events": report.stats.events,
        "rejected": report.rejected,
    }


if __name__ == "__main__":
    f = main(int(sys.argv[1]) if len(sys.argv) > 1 else 30)
    print(
        f"{f['days']} days in {f['seconds']:.1f} s: {f['days_per_minute']:.0f} days/min "
        f"(simulator alone {f['alone_days_per_minute']:.0f} days/min, ratio {f['ratio']:.2f}), "
        f"{f['events']:,} events, {f['rejected']} rejected"
    )
