"""Call results and call-track rows as tables (CSV answers of the read APIs, `ccdata export`).

Each column is named as the JSON view (`views.call_result`, `views.track_row`) names its key, in the same order,
so that a CSV's header row is the wire's field names and each cell is the text the JSON answer sends. `ccdata
export` adds, after those, the record's other fields (under names of ccdata's own, docs/compatibility.md). A test
checks every column against the JSON views, so the two cannot drift.
"""

from __future__ import annotations

from collections.abc import Iterable
from operator import attrgetter
from typing import Any, NamedTuple


class Column(NamedTuple):
    name: str  # the wire's field name
    field: str  # the record's field
    kind: type  # int or str: the record's type (a Parquet column's type)
    when_none: Any = None  # what the wire sends for a value the record leaves empty, when not "" (None is an empty
    # CSV cell already)


class Table(NamedTuple):
    columns: tuple[Column, ...]

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def fields(self) -> tuple[str, ...]:
        return tuple(c.field for c in self.columns)

    def rows(self, records: Iterable[tuple], *, wire: bool = True) -> list[tuple]:
        """The records' cells, in column order; `wire`: empty values as the wire's text (else None)."""
        cells = attrgetter(*self.fields)
        rows = [cells(record) for record in records]
        return self.filled(rows) if wire else rows

    def filled(self, rows: list[tuple]) -> list[tuple]:
        """Cells in column order (`rows`, or a store's tuples of `fields`) with empty values as the wire's text."""
        filled = [(i, c.when_none) for i, c in enumerate(self.columns) if c.when_none is not None]
        if not filled:
            return rows
        return [_filled(row, filled) if None in row else row for row in rows]

    def extended(self, *extra: Column) -> Table:
        return Table(self.columns + extra)


def _filled(row: tuple, filled: list[tuple[int, Any]]) -> tuple:
    cells = list(row)
    for index, value in filled:
        if cells[index] is None:
            cells[index] = value
    return tuple(cells)


def _ints(*pairs: str) -> tuple[Column, ...]:
    return tuple(Column(name, field, int) for name, field in zip(pairs[::2], pairs[1::2], strict=True))


#: DataProcess `queryCallManualDetailInfo` results.
CALL_RESULTS = Table((
    Column("logDate", "log_date", int),
    Column("callerNo", "caller_no", str),
    Column("calleeNo", "callee_no", str),
    Column("callId", "call_id", str),
    *_ints("callType", "call_type", "mediatype", "media_type", "waitBegin", "wait_begin", "ackBegin", "ack_begin",
           "callBegin", "call_begin", "callEnd", "call_end", "vdn", "vdn", "leaveReason", "leave_reason"),
    Column("evaluationValue", "evaluation_value", str),  # "" on the wire when not evaluated: an empty cell
))  # fmt: skip

#: CC-CMS `querycalltracedetail` rows.
TRACK_ROWS = Table((
    Column("callId", "call_id", str),
    *_ints("mediaType", "media_type", "subMediaType", "sub_media_type", "callIdNum", "call_id_num"),
    Column("callerNo", "caller_no", str),
    Column("calleeNo", "callee_no", str),
    *_ints("waitBegin", "wait_begin", "ackBegin", "ack_begin", "callBegin", "call_begin", "callEnd", "call_end",
           "subCcNo", "sub_cc_no", "deviceType", "device_type"),
    Column("deviceNo", "device_no", str),
    Column("deviceIn", "device_in", str),
    *_ints("callType", "call_type"),
    Column("releaseCause", "release_cause", int, 0),  # only a call's last row has a cause; the others send "0"
    *_ints("EnterReason", "enter_reason", "LeaveReason", "leave_reason", "CurrentSkillID", "current_skill_id"),
))  # fmt: skip

#: What `ccdata export` writes: the wire's columns, then the rest of the record.
CALL_RESULTS_EXPORT = CALL_RESULTS.extended(
    *_ints("ccId", "cc_id", "arrivedAt", "arrived_at", "subMediaType", "sub_media_type", "releaseCause",
           "release_cause", "agentId", "agent_id", "skillId", "skill_id"),
)  # fmt: skip
TRACK_ROWS_EXPORT = TRACK_ROWS.extended(*_ints("ccId", "cc_id", "vdn", "vdn", "arrivedAt", "arrived_at"))
