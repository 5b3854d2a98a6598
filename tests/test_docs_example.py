"""The complete call written out in docs/events.md produces exactly the records the page describes."""

from __future__ import annotations

import re
from pathlib import Path

from ccdata.domain import events
from ccdata.domain.engine import ACCEPTED, Engine
from ccdata.domain.records import CallResult, EvaluationRecord, TrackRow

PAGE = Path(__file__).parent.parent / "docs" / "events.md"
T = 1_767_258_000_000


def test_the_documented_call() -> None:
    block = re.search(r"```jsonl\n(.*?)```", PAGE.read_text(), re.S).group(1)
    engine = Engine()
    records = []
    for line in block.strip().splitlines():
        outcome = engine.apply(events.decode(line))
        assert outcome.status == ACCEPTED, outcome
        records.extend(outcome.records)
    rows = [
        (r.call_id_num, r.device_type, r.device_no, r.enter_reason, r.leave_reason,
         *((t - T) / 1000 for t in (r.wait_begin, r.ack_begin, r.call_begin, r.call_end)), r.current_skill_id)
        for r in records if isinstance(r, TrackRow)
    ]  # fmt: skip
    assert rows == [
        (1, 3, "100", 0, 0, 1.2, 1.2, 1.2, 21.2, 0),
        (2, 2, "1001", 0, 18, 21.2, 26.2, 29, 60, 7),
        (3, 2, "1001", 9, 28, 60, 75, 75, 120, 7),
        (-1, 2, "1002", 28, 15, 120, 130, 133, 250, 8),
    ]
    (result,) = [r for r in records if isinstance(r, CallResult)]
    times = [(t - T) / 1000 for t in (result.wait_begin, result.ack_begin, result.call_begin, result.call_end)]
    assert times == [21.2, 26.2, 29, 250]
    assert (result.leave_reason, result.agent_id, result.skill_id) == (15, 1001, 7)
    (evaluation,) = [r for r in records if isinstance(r, EvaluationRecord)]
    assert evaluation.evaluation_value == "5"
    assert engine.agent(1, 1001).mode == 6 and engine.agent(1, 1002).mode == 1


def test_the_documented_consult() -> None:
    first, consult = re.findall(r"```jsonl\n(.*?)```", PAGE.read_text(), re.S)[:2]
    engine = Engine()
    records = []
    lines = first.strip().splitlines()[:7] + consult.strip().splitlines()  # the call answered at 29 s, then it
    for line in lines:
        outcome = engine.apply(events.decode(line))
        assert outcome.status == ACCEPTED, outcome
        records.extend(outcome.records)
    rows = [
        (r.call_id, r.call_id_num, r.device_no, r.enter_reason, r.leave_reason, r.call_type,
         *((t - T) / 1000 if t else None for t in (r.wait_begin, r.ack_begin, r.call_begin, r.call_end)))
        for r in records if isinstance(r, TrackRow)
    ]  # fmt: skip
    original, other = "1767258001-17", "1767258040-18"
    assert rows[1:] == [
        (original, 2, "1001", 0, 18, 0, 21.2, 26.2, 29, 40),
        (other, 1, "1001", 0, 0, 51, 40, 40, 40, 60),
        (other, -1, "1002", 0, 0, 51, 40, 40, 45, 60),
        (original, 3, "1001", 9, 0, 0, 40, None, None, 60),
    ]
    assert engine.call(1, original).agent_leg(1002).call_begin == T + 60_000
    assert engine.agent(1, 1001).mode == 6
