"""Per-half-hour service level, abandonment and occupancy of a simulated history, from the records the engine
stored (see `ccdata.sim.kpis`), checked against the default scenario's staffing plan.

    .venv/bin/python -m bench.simulator_kpis --days 28 [--db PATH] [--seed N]

Without --db it backfills DAYS of the default scenario into a temporary SQLite file (from a fixed Monday midnight,
so that the history holds whole weeks); with --db it reads an existing store (e.g. one `ccdata simulate` wrote).
It prints the Markdown table of docs/simulator.md, then the checks: no half hour whose service level is more than
15 points under the plan's target, no call that hung up within 1 s of its transfer, and no break begun over the
scenario's `break_max_away`. Exit status 1 if any fails.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import msgspec

from ccdata import config as configuration
from ccdata.service import Service
from ccdata.sim.clocks import backfill
from ccdata.sim.contact_center import DAY_MS, ContactCenter
from ccdata.sim.kpis import Kpis, breaks_over_share, from_store, table
from ccdata.store.sqlite import SqliteStore

START = 1_767_571_200_000  # 2026-01-05T00:00:00Z, a Monday
MARGIN = 0.15  # the check: no half hour more than 15 points under the target
TRANSFER_GRACE_MS = 1000  # ... and no call abandoned within 1 s of a transfer


def simulate(days: float, path: Path, seed: int | None) -> float:
    config = configuration.load()
    service = Service(config, SqliteStore(path))
    end = START + int(days * DAY_MS)
    report = backfill(service, ContactCenter(config, config.simulator, START, seed=seed), end, now=lambda: end)
    service.close()
    assert report.rejected == 0, report.reasons
    return report.seconds


def target() -> float:
    """The lowest service-level target of the default scenario's staffing plan."""
    return min(pool.service_level for pool in configuration.load().simulator.staffing)


def failures(kpis: Kpis, goal: float) -> list[str]:
    found = [f"half hour {i}: service level {s.service_level:.1%}" for i, s in enumerate(kpis.slots)
             if s.service_level < goal - MARGIN]  # fmt: skip
    quick = [ms for ms in kpis.transfer_hangups_ms if ms < TRANSFER_GRACE_MS]
    if quick:
        found.append(f"{len(quick)} calls hung up within 1 s of a transfer")
    return found


def summary(kpis: Kpis) -> str:
    busy = [s for s in kpis.slots if s.available_ms]
    worst = min(kpis.slots, key=lambda s: s.service_level)
    total = kpis.total
    return (
        f"{kpis.days:g} days: service level {total.service_level:.1%} (worst half hour {worst.service_level:.1%}), "
        f"abandonment {total.abandonment:.1%}, occupancy {total.occupancy:.1%} "
        f"(half hours {min(s.occupancy for s in busy):.1%}..{max(s.occupancy for s in busy):.1%}), "
        f"{len(kpis.transfer_hangups_ms)} hang-ups after a transfer "
        f"(soonest {min(kpis.transfer_hangups_ms, default=0) / 1000:.1f} s after it)"
    )


def consult_summary(events: list[dict[str, Any]]) -> str:
    """How the log's consult calls ended (they are not customer calls: not in the figures above)."""
    kinds = Counter(e["type"] for e in events if e["type"].startswith("call.consult") or e["type"] == "call.leave")
    return (
        f"consults: {kinds['call.consult']:,} ({kinds['call.consult.transfer']:,} transfers, "
        f"{kinds['call.consult.conference']:,} conferences, {kinds['call.consult.cancel']:,} cancelled; "
        f"{kinds['call.leave']:,} helpers left a conference)"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--days", type=float, default=28)
    parser.add_argument("--db", type=Path)
    parser.add_argument("--seed", type=int)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = args.db
        if path is None:
            path = Path(tmp) / "kpis.db"
            seconds = simulate(args.days, path, args.seed)
            print(f"backfilled {args.days:g} days in {seconds:.1f} s", file=sys.stderr)
        began = time.perf_counter()
        store = SqliteStore(path)
        kpis = from_store(store)
        events = [msgspec.json.decode(body) for _, body in store.events_after(0)]
        store.close()
        print(f"figures computed in {time.perf_counter() - began:.1f} s", file=sys.stderr)
    print(table(kpis))
    print()
    print(summary(kpis))
    print(consult_summary(events))
    share = configuration.load().simulator.break_max_away
    over, most = breaks_over_share(events, share)
    print(f"breaks: at most {most:.0%} of a VDN's signed-in agents at rest when one began; {over} breaks over the "
          f"cap of {share:.0%} (at least one agent)")  # fmt: skip
    goal = target()
    problems = failures(kpis, goal)
    if over:
        problems.append(f"{over} breaks over the share")
    for problem in problems:
        print(f"FAIL ({goal:.0%} target, {MARGIN:.0%} margin): {problem}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
