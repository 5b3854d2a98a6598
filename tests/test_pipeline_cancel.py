"""An ingest cancelled between applying a chunk and committing it (a shutdown in the middle of the simulator's
step): the engine is ahead of the log, so no snapshot is taken of it and the next ingest starts from the log."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from ccdata.domain import events
from ccdata.domain.engine import Engine
from ccdata.pipeline import Pipeline
from ccdata.store.sqlite import SqliteStore
from test_pipeline_store import answered_call

pytestmark = pytest.mark.embedded_only(
    "the embedded pipeline's apply-then-commit of a chunk (a node commits nothing: the log is JetStream's)"
)


async def cancelled_mid_chunk(pipeline: Pipeline, lines: list[bytes]) -> None:
    before = pipeline.engine.accepted
    task = asyncio.create_task(pipeline.ingest_async(lines, slice_size=1))
    while pipeline.engine.accepted == before:  # the first slice applied, the commit not reached
        await asyncio.sleep(0)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)


def test_a_cancelled_ingest_leaves_no_snapshot_ahead_of_the_log(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "c.db")
    pipeline = Pipeline(store)
    first, second = answered_call("1767258001-1"), answered_call("1767258101-2", first=100)[1:]  # one sign-in
    asyncio.run(pipeline.ingest_async(first))
    pipeline.save_snapshot()
    asyncio.run(cancelled_mid_chunk(pipeline, second))
    assert pipeline.ahead and pipeline.engine.accepted > store.last_seq()  # applied, not in the log
    pipeline.save_snapshot()  # refused: it would be a state beyond its position
    assert store.load_snapshot().seq == len(first)
    report = asyncio.run(pipeline.ingest_async(second))  # starts from the log again: nothing counted twice
    assert report.accepted == len(second) and not pipeline.ahead
    clean = Engine()
    for _, body in store.events_after(0):
        clean.apply(events.decode(body))
    assert pipeline.engine.state() == clean.state()
    store.close()
