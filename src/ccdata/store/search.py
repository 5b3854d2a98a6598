"""The call-result search as SQL, shared by the SQLite and PostgreSQL stores (they differ in the parameter mark)."""

from __future__ import annotations

from ccdata.store.ports import CallResultQuery


def call_result_condition(query: CallResultQuery, mark: str) -> tuple[str, list[object]]:
    """The WHERE clause of a DataProcess / CC-CMS call-result search, and its arguments."""
    conditions = [f"cc_id = {mark}", f"vdn = {mark}"]
    args: list[object] = [query.cc_id, query.vdn]
    for column, value in (
        ("call_id", query.call_id),
        ("caller_no", query.caller_no),
        ("callee_no", query.callee_no),
        ("call_type", query.call_type),
        ("media_type", query.media_type),
        ("evaluation_value", query.evaluation_value),
    ):
        if value is not None:
            conditions.append(f"{column} = {mark}")
            args.append(value)
    if query.inbound is not None:
        conditions.append("call_type = 0" if query.inbound else "call_type != 0")
    if query.begin is not None:
        conditions.append(f"arrived_at >= {mark}")
        args.append(query.begin)
    if query.end is not None:
        conditions.append(f"arrived_at <= {mark}")
        args.append(query.end)
    return " AND ".join(conditions), args
