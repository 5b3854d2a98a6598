"""Reads during a 100k-event HTTP ingest (bounded, loopback; the measurement is `bench.hostile`'s).

The server, the ingest client and the reader are three processes. Signed reads must keep being answered while the
ingest runs (no stall, no error); the goal of the issue, a p99 within 2x of the p99 alone, is checked separately
and not met yet (docs/performance.md says why).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parent.parent))  # the repository root: `bench` is not installed

from bench import hostile

pytestmark = pytest.mark.embedded_only(
    "bench.hostile measures the embedded server (the distributed form's is bench.cluster)"
)


@pytest.fixture(scope="module")
def measured() -> dict[str, Any]:
    figures = hostile.reads_during_ingest(100_000)
    print(figures)
    return figures


def test_reads_are_answered_throughout_a_100k_event_ingest(measured: dict[str, Any]) -> None:
    assert measured["during_n"] >= 100  # reads kept going (each one asserted 200)
    assert measured["during_p99"] < 100, measured  # no stall: before, a read waited for the whole ingest request
    # Beside reads the server commits in small steps on purpose ([store] batch_events_beside_reads): the ingest
    # slows down, it does not stop.
    assert measured["ingest_eps_during"] >= 0.2 * measured["ingest_eps_alone"], measured


@pytest.mark.xfail(
    reason="2-3x on this 2-core machine, where one unrelated CPU-bound process alone stretches the p99 as much "
    "(docs/performance.md, 'Reads during an ingest')",
    strict=False,
)
def test_read_p99_during_the_ingest_is_within_2x_of_alone(measured: dict[str, Any]) -> None:
    assert measured["during_p99"] <= 2 * measured["alone_p99"], measured
