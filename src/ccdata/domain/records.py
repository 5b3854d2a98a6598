"""Durable records the engine produces: call-track rows, call results and late evaluations.

Records are immutable facts. The store writes them; nothing ever edits a track row. A call result is written
once at the release and only its `evaluation_value` changes afterwards (an `EvaluationRecord`).
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import lru_cache
from typing import NamedTuple

LAST_ROW: int = -1  # callIdNum of a call's last track row (the only one with a releaseCause)


class TrackRow(NamedTuple):
    """One closed leg: a row of the call-track table (`tbilllog`) of the month of the call's arrival."""

    cc_id: int
    vdn: int
    call_id: str
    call_id_num: int
    arrived_at: int  # selects the monthly table; not itself a tbilllog column
    caller_no: str
    callee_no: str
    media_type: int
    sub_media_type: int
    wait_begin: int
    ack_begin: int
    call_begin: int
    call_end: int
    sub_cc_no: int
    device_type: int
    device_no: str
    device_in: str
    call_type: int
    release_cause: int | None
    enter_reason: int
    leave_reason: int
    current_skill_id: int


class CallResult(NamedTuple):
    """The call-result record (CDR + satisfaction) of a call that reached the agent (manual) service."""

    cc_id: int
    vdn: int
    call_id: str
    arrived_at: int
    log_date: int
    caller_no: str
    callee_no: str
    call_type: int  # the DataProcess callType table
    media_type: int
    sub_media_type: int
    wait_begin: int
    ack_begin: int
    call_begin: int
    call_end: int
    leave_reason: int
    release_cause: int
    agent_id: int
    skill_id: int
    evaluation_value: str | None


class EvaluationRecord(NamedTuple):
    """A satisfaction result that arrived after the call result was written."""

    cc_id: int
    vdn: int
    call_id: str
    arrived_at: int
    evaluation_value: str


class AgentOperation(NamedTuple):
    """One agent operation (`agent/agentoprinfo`, CMS reference 5.12): a period of an agent's own state, a
    connected stretch of a call, or an instant call operation (begin = end). Derived from contract events by
    `ccdata.domain.operations`; immutable once written."""

    cc_id: int
    vdn: int
    agent_id: int
    operation_id: str  # the event that wrote it, "#n" for its n-th record
    operate_type: int
    begin_at: int
    end_at: int
    call_id: str  # "" when the operation is not about a call
    phone_no: str  # the customer's number, "" when not about a call
    skill_id: int
    media_type: int
    call_type: int  # the call-track table; -1 when not about a call
    operate_object: int
    operate_cause: int
    logon_at: int  # the sign-in the operation belongs to (its `logonSn`)


Record = TrackRow | CallResult | EvaluationRecord | AgentOperation


def month_of(ms: int) -> str:
    """`YYYYMM` of a UTC millisecond timestamp: the month that names a call-track table."""
    return _month_of_day(ms // 86_400_000)


@lru_cache(maxsize=4096)
def _month_of_day(day: int) -> str:
    # One strftime per UTC day rather than per row: the ingest writes a track row every few events.
    return datetime.fromtimestamp(day * 86_400, tz=UTC).strftime("%Y%m")
