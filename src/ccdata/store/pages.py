"""What the two record stores' export pages share (`call_result_pages`, `track_row_pages`): the columns chosen,
and the call-track rows put in each call's order when a page boundary cuts a call."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence

from ccdata.domain.records import LAST_ROW


def chosen(fields: Sequence[str] | None, known: tuple[str, ...]) -> Sequence[str]:
    """The columns to select: `fields`, each a record field (the names go into SQL), else every field."""
    if not fields:
        return known
    unknown = [name for name in fields if name not in known]
    if unknown:
        raise ValueError(f"not a record field: {unknown}")
    return fields


def in_call_order(rows: list[tuple]) -> list[tuple]:
    """A call's rows (each ending with its callIdNum) with the last row, -1, after 1..n."""
    return sorted(rows, key=lambda row: (row[-1] == LAST_ROW, row[-1]))


def calls_completed(pages: Iterator[list[tuple]], make: Callable[[tuple], object]) -> Iterator[list]:
    """Pages of call-track rows read by (call ID, callIdNum), each row ending with its call ID and callIdNum,
    as pages of whole calls in call order (-1 last): the rows so far of a page's last call wait for the next page,
    where that call may go on. `make` turns a row into what is yielded."""
    pending: list[tuple] = []
    for rows in pages:
        finished: list = []
        for row in rows:
            if pending and row[-2] != pending[0][-2]:
                finished += map(make, in_call_order(pending))
                pending = []
            pending.append(row)
        yield finished
    if pending:
        yield list(map(make, in_call_order(pending)))
