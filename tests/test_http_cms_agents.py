"""CC-CMS `agent/agentoprinfo` over real sockets and a real store: the reference's shape, the records one agent's
day writes, and agreement with the events fed (the event log and the call track, read with SQL)."""

from __future__ import annotations

import itertools
import json
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from ccdata.sim.synthetic import synthetic_events
from server import Api, running_server
from test_http_golden import assert_shape

QUARTER = 15 * 60 * 1000
NOW = time.time_ns() // 1_000_000
T = NOW - NOW % QUARTER - 2 * 3600_000  # two hours ago, on a quarter hour
PATH = "/v1/openapi/agent/agentoprinfo"
# The table of 4.1.3.12 (keys and JSON types; `vdn`, `callType`, `serviceNo` are Integer like their neighbours).
OPERATION = {
    "id": "1", "callId": "", "phoneNo": "'05276789'", "subCcNo": 0, "currentAgentId": 1001, "currentSkillId": 0,
    "mediaType": 5, "submediaType": "Email", "beginTime": "2026-01-01 00:00:00", "endTime": "2026-01-01 00:00:00",
    "vdn": 1, "callType": 0, "serviceNo": 0, "operateType": 1, "operateObject": 65535, "operateCause": 65535,
    "agentType": 4, "locationId": 65535, "logonSn": "1", "skillInfoSn": "1",
}  # fmt: skip


def text(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%d %H:%M:%S")


def one_agent_day(t: int) -> list[dict[str, Any]]:
    """Agent 1001: signs in, busy, rest, idle, answers a call, holds and retrieves it, transfers it out (which puts
    it in wrap-up), idle, signs out."""
    steps = [
        ("agent.login", 0, {"agentId": 1001, "skills": [7], "phone": "61001"}),
        ("agent.state", 60, {"agentId": 1001, "state": "busy", "reasonCode": 201}),
        ("agent.state", 120, {"agentId": 1001, "state": "rest", "reasonCode": 3}),
        ("agent.state", 180, {"agentId": 1001, "state": "idle"}),
        ("call.arrive", 190, {"callId": "1700000000-1", "caller": "88881363", "called": "650550"}),
        ("call.queue", 190, {"callId": "1700000000-1", "skillId": 7}),
        ("call.alert", 195, {"callId": "1700000000-1", "agentId": 1001}),
        ("call.answer", 200, {"callId": "1700000000-1", "agentId": 1001}),
        ("call.hold", 230, {"callId": "1700000000-1", "agentId": 1001}),
        ("call.unhold", 240, {"callId": "1700000000-1", "agentId": 1001}),
        ("call.transfer", 260, {"callId": "1700000000-1", "agentId": 1001, "target": {"number": "5551234"}}),
        ("call.release", 280, {"callId": "1700000000-1", "by": "customer"}),
        ("agent.state", 300, {"agentId": 1001, "state": "idle"}),
        ("agent.logout", 400, {"agentId": 1001}),
    ]
    return [{"id": f"op{n}", "type": kind, "at": t + s * 1000, "ccId": 1, "vdn": 1, **fields}
            for n, (kind, s, fields) in enumerate(steps)]  # fmt: skip


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory, mode: str) -> Iterator[Api]:
    with running_server(tmp_path_factory.mktemp("operations")) as running:
        client = Api(running)
        client.ingest_ok(one_agent_day(T))
        yield client


def window(begin: int, end: int, **more: Any) -> dict[str, Any]:
    return {"currentAgentId": 1001, "beginTime": text(begin), "endTime": text(end), **more}


def test_shape_and_envelope(api: Api) -> None:
    body = api.cms(PATH, window(T, T + QUARTER)).json()
    assert set(body) == {"result", "resultCode", "resultDatas", "resultDesc"}
    assert body["resultDesc"] and body["resultDatas"] == body["resultDesc"]
    for row in body["resultDesc"]:
        assert set(row) == set(OPERATION)
        assert_shape(row, OPERATION)


def test_one_agent_day(api: Api) -> None:
    rows = api.cms_ok(PATH, {"queryParam": window(T, T + QUARTER, ccId=1)})
    seen = [(r["operateType"], r["beginTime"], r["endTime"], r["operateObject"], r["operateCause"]) for r in rows]
    at = lambda s: text(T + s * 1000)  # noqa: E731
    assert seen == [
        (1, at(0), at(0), 65535, 65535),  # sign-in
        (2, at(0), at(60), 65535, 65535),  # idle
        (0, at(0), at(400), 65535, 258),  # sign-out: the whole session (by begin, then end)
        (3, at(60), at(120), 65535, 201),  # busy, the source's reason
        (26, at(120), at(180), 1001, 3),  # rest: object the agent, cause the rest reason
        (2, at(180), at(260), 65535, 65535),  # idle, the call included
        (4, at(200), at(230), 65535, 0),  # talking until the hold
        (38, at(230), at(230), 1001, 65535),  # hold
        (4, at(240), at(260), 65535, 0),  # talking again until the transfer
        (46, at(260), at(260), 65535, 65535),  # transfer out
        (27, at(260), at(300), 65535, 0),  # wrap-up, from leaving the call
        (2, at(300), at(400), 65535, 65535),  # idle until the sign-out
    ]
    call_rows = [r for r in rows if r["callId"]]
    assert {(r["callId"], r["phoneNo"], r["currentSkillId"]) for r in call_rows} == {("1700000000-1", "88881363", 7)}
    assert len({r["id"] for r in rows}) == len(rows)
    assert {r["logonSn"] for r in rows} == {str(T)}


def test_filters_and_window(api: Api) -> None:
    holds = api.cms_ok(PATH, window(T, T + QUARTER, operateType=38))
    assert [r["operateType"] for r in holds] == [38]
    later = api.cms_ok(PATH, window(T + QUARTER, T + 2 * QUARTER))
    assert later == []  # nothing of the session overlaps the next quarter
    assert api.cms_ok(PATH, window(T, T + QUARTER) | {"currentAgentId": 1002}) == []


@pytest.mark.parametrize(
    "change",
    [
        {"endTime": "garbage"},
        {"beginTime": "2026-01-01T00:00:00"},
        {"endTime": None},
        {"currentAgentId": "x"},
        {"currentAgentId": 1_000_000},
    ],
)
def test_invalid_requests(api: Api, change: dict[str, Any]) -> None:
    body = window(T, T + QUARTER) | change
    assert api.cms(PATH, body).json()["resultCode"] == "0100002"


def test_window_rules(api: Api) -> None:
    for begin, end in ((T, T + 10 * 60_000), (T, T), (T + QUARTER, T), (T, T + 97 * QUARTER)):
        assert api.cms(PATH, window(begin, end)).json()["resultCode"] == "0100002", (begin, end)
    assert api.cms(PATH, window(T, T + QUARTER, ccId=2)).json()["resultCode"] == "0101003"
    assert api.cms(PATH, window(T, T + QUARTER), ak="ak-vdn2", sk="sk-vdn2").json()["resultDesc"] == []


def test_consistency_with_the_events_fed(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Synthetic traffic for 10 agents: per agent, the records agree with the event log and the call track."""
    start = NOW - NOW % QUARTER - 6 * 3600_000
    events = list(synthetic_events(3000, agents=10, skills=(7, 8), start=start))
    assert max(e["at"] for e in events) < NOW
    tmp = tmp_path_factory.mktemp("operations-consistency")
    with running_server(tmp) as running:
        api = Api(running)
        for chunk in range(0, len(events), 1000):
            api.ingest_ok(events[chunk : chunk + 1000])
        fed = Counter((e["type"], e["agentId"]) for e in map(json.loads, (bytes(b) for (b,) in running.sql(
            "SELECT body FROM event_log"))) if "agentId" in e)  # fmt: skip
        talks = Counter()
        for table in running.track_tables():
            talks.update(int(a) for (a,) in running.sql(
                f"SELECT device_no FROM {table} WHERE device_type = 2 AND call_begin > 0"))  # fmt: skip
        for agent in range(1001, 1011):
            rows = api.cms_ok(PATH, {"currentAgentId": agent, "beginTime": text(start), "endTime": text(NOW + QUARTER
                              - NOW % QUARTER)})  # fmt: skip
            kinds = Counter(r["operateType"] for r in rows)
            assert kinds[1] == fed["agent.login", agent] == 1
            assert kinds[38] == fed["call.hold", agent]
            assert kinds[4] == talks[agent]
            modes = [r for r in rows if r["operateType"] in (2, 3, 26, 27, 34)]
            # Every state change ends one period; so does every call the agent talked on (it goes to wrap-up).
            assert len(modes) >= fed["agent.state", agent] > 0
            login = next(r for r in rows if r["operateType"] == 1)
            assert modes[0]["beginTime"] == login["beginTime"]
            assert all(a["endTime"] == b["beginTime"] for a, b in itertools.pairwise(modes))  # they tile the day
