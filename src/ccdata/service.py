"""The application service the facades share: configuration, store, pipeline, clock.

Facades read live state and records through it, and change things only by emitting events through it (an
agent signing in through the gateway is an `agent.login` event like any other).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterable
from typing import Any

from ccdata.config import Config
from ccdata.domain.engine import Engine
from ccdata.pipeline import Committed, IngestReport, Input, Pipeline, RejectionNote
from ccdata.store.ports import Store


def wall_clock_ms() -> int:
    return time.time_ns() // 1_000_000


class Service:
    def __init__(self, config: Config, store: Store, clock: Callable[[], int] = wall_clock_ms) -> None:
        self.config = config
        self.store = store
        self.clock = clock
        self._listeners: list[Callable[[Committed], None]] = []
        self.pipeline = Pipeline(store, on_committed=self._committed)

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

    def ingest(self, inputs: Iterable[Input]) -> IngestReport:
        return self.pipeline.ingest(inputs)

    def emit(self, type_: str, vdn: int, **fields: Any) -> RejectionNote | None:
        """Apply one event of ccdata's own (a facade's action); return its rejection, or None if accepted."""
        # Never before the latest event seen: an external feed's clock may run ahead of ours.
        at = max(self.now(), self.engine.clock)
        event = {"id": f"ccdata-{uuid.uuid4()}", "type": type_, "at": at, "ccId": self.cc_id, "vdn": vdn, **fields}
        report = self.ingest([event])
        return report.notes[0] if report.rejected else None

    def close(self) -> None:
        self.pipeline.save_snapshot()
        self.store.close()

    def _committed(self, item: Committed) -> None:
        for listener in self._listeners:
            listener(item)
