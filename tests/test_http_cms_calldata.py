"""CC-CMS call data (issue 13): vdn/querycalls v1 and v2, calldata/querycalldetailbyid, calldata/isprocesscall.

Golden shapes against the reference examples, the reference's rules (window, paging, scope, signing), and the
consistency of querycalls with the DataProcess search on a simulator-fed server.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ccdata.sim.clocks import backfill
from ccdata.sim.contact_center import ContactCenter
from server import Api, HttpFeed, running_server
from test_http_golden import assert_shape

NOW = time.time_ns() // 1_000_000
DAY = 86_400_000
TODAY = NOW - NOW % DAY
LIVE_CALL = "1606120429-49"
ANSWERED, ABANDONED, OUTBOUND, OTHER_VDN = "1606120000-1", "1606120000-2", "1606120000-3", "1606120000-4"

# The reference examples' `data` row (4.1.1.12/13) and CDR (4.1.4.3): comments removed, the CDR example's
# "agentId " (a trailing space) spelled as its table spells it.
VDN_CALL = {
    "logDate": "1615717765000",
    "callerNo": "1212",
    "calleeNo": "12121212",
    "callId": "167789709-33",
    "callType": "1",
    "waitBegin": "1615717765000",
    "ackBegin": "1615717765000",
    "callBegin": "1615717765000",
    "callEnd": "1615717765000",
    "vdn": 170,
    "leaveReason": "1",
    "mediaType": 53,
    "subMediaType": 1,
}
CDR = {
    "vdn": 1,
    "callId": "1000000000-0001",
    "callerNo": "10000",
    "calleeNo": "10001",
    "callType": 0,
    "agentId": 100,
    "skillId": 1,
    "anonyCall": 0,
    "queueWaitTime": 10,
    "ivrCallTime": 0,
    "ackTime": 5,
    "callTime": 30,
    "releaseCause": 0,
}
V1 = "/v1/openapi/vdn/querycalls"
V2 = "/v2/openapi/vdn/querycalls"
BY_ID = "/v1/openapi/calldata/querycalldetailbyid"
PROCESSING = "/v1/openapi/calldata/isprocesscall"


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory, mode: str) -> Iterator[Api]:
    with running_server(tmp_path_factory.mktemp("calldata")) as running:
        client = Api(running)
        t = NOW - 600_000

        def e(n: int, type_: str, s: int, call: str, vdn: int = 1, **f: Any) -> dict[str, Any]:
            event = {"id": f"c{n}", "type": type_, "at": t + s * 1000, "ccId": 1, "vdn": vdn, "callId": call, **f}
            return event if call else {k: v for k, v in event.items() if k != "callId"}

        client.ingest_ok([
            e(1, "agent.login", 0, "", agentId=1001, skills=[7]),
            e(2, "agent.login", 0, "", agentId=1002, skills=[7]),
            e(3, "agent.login", 0, "", agentId=1003, skills=[7]),
            e(4, "agent.login", 0, "", 2, agentId=2001, skills=[11]),
            e(10, "call.arrive", 1, ANSWERED, caller="12345", called="23131"),
            e(11, "call.queue", 3, ANSWERED, skillId=7),
            e(12, "call.alert", 13, ANSWERED, agentId=1002),
            e(13, "call.answer", 18, ANSWERED, agentId=1002),
            e(14, "call.release", 48, ANSWERED, by="customer"),
            e(20, "call.arrive", 2, ABANDONED, caller="80000888", called="23131"),
            e(21, "call.queue", 3, ABANDONED, skillId=7),
            e(22, "call.release", 9, ABANDONED, by="customer"),
            e(30, "call.originate", 60, OUTBOUND, caller="23131", called="555000", agentId=1003, campaign="manual"),
            e(31, "call.answer", 65, OUTBOUND, party="customer"),
            e(32, "call.release", 90, OUTBOUND, by="agent", agentId=1003),
            e(40, "call.arrive", 4, OTHER_VDN, 2, caller="12345", called="777"),
            e(41, "call.queue", 5, OTHER_VDN, 2, skillId=11),
            e(42, "call.release", 6, OTHER_VDN, 2, by="customer"),
            e(50, "call.arrive", 100, LIVE_CALL, caller="88881363", called="650550"),
            e(51, "call.queue", 101, LIVE_CALL, skillId=7),
            e(52, "call.alert", 102, LIVE_CALL, agentId=1001),
            e(53, "call.answer", 103, LIVE_CALL, agentId=1001),
        ])  # fmt: skip
        client.t = t  # type: ignore[attr-defined]
        yield client


def window(api: Api, **extra: Any) -> dict[str, Any]:
    """A request shaped like the reference example (dates as numeric strings), over the fixture's calls."""
    return {"ccId": 1, "vdn": 1, "beginDate": str(api.t - 1000), "endDate": str(NOW), "limit": 10, "offset": 0} | extra  # type: ignore[attr-defined]


def failed(api: Api, path: str, body: dict[str, Any], code: str, **kw: Any) -> str:
    response = api.cms(path, body, **kw)
    assert response.status_code == 200, response.text
    payload = response.json()
    assert set(payload) == {"resultCode", "resultDesc"} and payload["resultCode"] == code, payload
    return payload["resultDesc"]


# --- vdn/querycalls -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", [V1, V2])
def test_querycalls_golden(api: Api, path: str) -> None:
    body = api.cms(path, window(api, callerNo="12345", calleeNo="23131", isCallIn="true")).json()
    assert set(body) == {"resultCode", "resultDesc"} and body["resultCode"] == "0100000"
    assert set(body["resultDesc"]) == {"data", "count"} and isinstance(body["resultDesc"]["count"], int)
    [row] = body["resultDesc"]["data"]
    assert set(row) == set(VDN_CALL)
    assert_shape(row, VDN_CALL)
    assert (row["callId"], row["vdn"], row["callType"], row["leaveReason"]) == (ANSWERED, 1, "0", "15")
    assert int(row["waitBegin"]) < int(row["ackBegin"]) < int(row["callBegin"]) < int(row["callEnd"])
    assert row["logDate"] == row["callEnd"]


def test_querycalls_v1_inbound_only_v2_by_direction(api: Api) -> None:
    def ids(path: str, **extra: Any) -> list[str]:
        return [row["callId"] for row in api.cms_ok(path, window(api, **extra))["data"]]

    assert ids(V1) == [ANSWERED, ABANDONED]  # arrival order; OUTBOUND is outbound, LIVE_CALL not finished
    assert ids(V1, isCallIn="false") == [ANSWERED, ABANDONED]  # v1 has no isCallIn
    assert ids(V2, isCallIn="true") == [ANSWERED, ABANDONED]
    assert ids(V2, isCallIn="false") == [OUTBOUND]
    assert ids(V2, isCallIn=False, calleeNo="555000") == [OUTBOUND]
    [outbound] = api.cms_ok(V2, window(api, isCallIn="false"))["data"]
    assert outbound["callType"] == "7"  # SP_CALL_OUT, from the call track


def test_querycalls_paging_and_count(api: Api) -> None:
    first = api.cms_ok(V1, window(api, limit=1))
    second = api.cms_ok(V1, window(api, limit=1, offset=1))
    past = api.cms_ok(V1, window(api, limit=1, offset=2))
    assert (first["count"], second["count"], past["count"]) == (2, 2, 2)
    assert [first["data"][0]["callId"], second["data"][0]["callId"], past["data"]] == [ANSWERED, ABANDONED, []]
    defaults = api.cms_ok(V1, {k: v for k, v in window(api).items() if k not in ("limit", "offset")})
    assert [row["callId"] for row in defaults["data"]] == [ANSWERED, ABANDONED]


def test_querycalls_window_bounds_arrival(api: Api) -> None:
    t = api.t  # type: ignore[attr-defined]
    assert api.cms_ok(V1, window(api, beginDate=t + 1500, endDate=t + 2500))["count"] == 1  # ABANDONED arrived at 2 s
    assert api.cms_ok(V1, window(api, beginDate=t + 2001, endDate=NOW))["count"] == 0


@pytest.mark.parametrize(
    "extra",
    [
        {"beginDate": TODAY - DAY - 1},  # before 00:00:00 of the previous day
        {"endDate": TODAY + DAY},  # after 23:59:59.999 of today
        {"beginDate": NOW, "endDate": NOW - 1},
        {"beginDate": None},
        {"endDate": "yesterday"},
        {"limit": 101},
        {"limit": 0},
        {"offset": -1},
        {"callerNo": "12a45"},
        {"isCallIn": None},
        {"isCallIn": "yes"},
        {"ccId": 0},
    ],
)
def test_querycalls_invalid_parameters(api: Api, extra: dict[str, Any]) -> None:
    body = {k: v for k, v in (window(api, isCallIn="true") | extra).items() if v is not None}
    failed(api, V2, body, "0100002")


def test_querycalls_window_edges_are_accepted(api: Api) -> None:
    assert api.cms_ok(V1, window(api, beginDate=TODAY - DAY, endDate=TODAY + DAY - 1))["count"] == 2


@pytest.mark.parametrize("path", [V1, V2])
def test_querycalls_scope(api: Api, path: str) -> None:
    failed(api, path, window(api, isCallIn="true"), "0101003", ak="ak-vdn2", sk="sk-vdn2")
    failed(api, path, window(api, isCallIn="true", ccId=2), "0101003")
    other = api.cms_ok(path, window(api, vdn=2, isCallIn="true"))
    assert [row["callId"] for row in other["data"]] == [OTHER_VDN]


@pytest.mark.parametrize("path", [V1, V2, BY_ID, PROCESSING])
def test_unsigned_and_badly_signed(api: Api, path: str) -> None:
    unsigned = api.http.post(f"/rest/cmsapp{path}", json=window(api, isCallIn="true"))
    assert unsigned.status_code == 401 and set(unsigned.json()) >= {"status", "error", "message", "path"}
    assert api.cms(path, window(api, isCallIn="true"), sk="wrong").status_code == 401


# --- calldata/querycalldetailbyid -----------------------------------------------------------------------------


def test_querycalldetailbyid_golden(api: Api) -> None:
    body = api.cms(BY_ID, {"queryParam": {"ccId": 1, "isCallin": "true", "callId": ANSWERED}}).json()
    assert set(body) == {"result", "resultCode", "resultDatas", "resultDesc"}
    assert (body["result"], body["resultCode"]) == ("0", "0100000")
    assert body["resultDatas"] == body["resultDesc"]
    cdr = body["resultDesc"]
    assert set(cdr) == set(CDR)  # an inbound call: no outbound-only fields
    assert_shape(cdr, CDR)
    expected = {"agentId": 1002, "skillId": 7, "queueWaitTime": 10, "ivrCallTime": 2, "ackTime": 5, "callTime": 30}
    assert {k: cdr[k] for k in expected} == expected
    assert (cdr["callType"], cdr["releaseCause"], cdr["callerNo"], cdr["vdn"]) == (0, 0, "12345", 1)


def test_querycalldetailbyid_flat_and_outbound(api: Api) -> None:
    cdr = api.cms_ok(BY_ID, {"ccId": 1, "isCallin": "false", "callId": OUTBOUND})
    assert (cdr["callType"], cdr["agentId"], cdr["callTime"]) == (7, 1003, 25)
    abandoned = api.cms_ok(BY_ID, {"ccId": 1, "isCallin": "true", "callId": ABANDONED})
    assert (abandoned["releaseCause"], abandoned["callTime"], abandoned["queueWaitTime"]) == (49, 0, 6)


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"ccId": 1, "isCallin": "true", "callId": "nope-1"}, "0100001"),
        ({"ccId": 1, "isCallin": "false", "callId": ANSWERED}, "0100001"),  # not an outbound call
        ({"ccId": 1, "isCallin": "true", "callId": LIVE_CALL}, "0100001"),  # not finished: no CDR yet
        ({"ccId": 1, "isCallin": "true"}, "0100002"),
        ({"ccId": 1, "callId": ANSWERED}, "0100002"),
        ({"ccId": 1, "isCallin": "true", "callId": "x" * 21}, "0100002"),
        ({"queryParam": "ccId=1"}, "0100002"),
        ({"ccId": 2, "isCallin": "true", "callId": ANSWERED}, "0101003"),
    ],
)
def test_querycalldetailbyid_errors(api: Api, body: dict[str, Any], code: str) -> None:
    failed(api, BY_ID, body, code)


def test_querycalldetailbyid_reveals_nothing_of_another_vdn(api: Api) -> None:
    body = {"ccId": 1, "isCallin": "true", "callId": ANSWERED}
    failed(api, BY_ID, body, "0100001", ak="ak-vdn2", sk="sk-vdn2")
    assert api.cms_ok(BY_ID, body | {"callId": OTHER_VDN})["vdn"] == 2


# --- calldata/isprocesscall -------------------------------------------------------------------------------------


def test_isprocesscall_golden(api: Api) -> None:
    body = api.cms(PROCESSING, {"queryParam": {"ccId": 1, "vdn": 1, "agentId": 1001}}).json()
    assert body == {"result": "0", "resultCode": "0100000", "resultDatas": True, "resultDesc": True}
    for idle in (1002, 1003, 1999):  # answered and released; released; never signed in
        assert api.cms_ok(PROCESSING, {"ccId": 1, "vdn": 1, "agentId": idle}) is False


def test_isprocesscall_errors(api: Api) -> None:
    failed(api, PROCESSING, {"ccId": 1, "vdn": 1, "agentId": 1001}, "0101003", ak="ak-vdn2", sk="sk-vdn2")
    failed(api, PROCESSING, {"ccId": 1, "vdn": 1, "agentId": 60000}, "0100002")
    failed(api, PROCESSING, {"ccId": 1, "vdn": 1}, "0100002")
    assert api.cms_ok(PROCESSING, {"ccId": 1, "vdn": 2, "agentId": 1001}) is False  # another VDN's agent


# --- consistency with the DataProcess search on a simulator-fed server -----------------------------------------

SIMULATED = """
[simulator]
ring_time = { kind = "fixed", mean = 2 }

[[simulator.access_codes]]
called = "650550"
vdn = 1
skills = [{ skill = 7 }]
calls_per_hour = [300, 300, 300, 300, 300, 300, 300, 300, 300, 300, 300, 300,
                  300, 300, 300, 300, 300, 300, 300, 300, 300, 300, 300, 300]

[[simulator.skills]]
skill = 7
handle_time = { kind = "fixed", mean = 20 }
wrap_up = { kind = "fixed", mean = 2 }

[[simulator.campaigns]]
vdn = 1
skill = 7
calls_per_hour = 120
answer_rate = 0.7
talk_time = { kind = "fixed", mean = 30 }
start_hour = 0
end_hour = 24
weekdays = [0, 1, 2, 3, 4, 5, 6]
"""


def all_calls(api: Api, path: str, body: dict[str, Any]) -> list[str]:
    ids: list[str] = []
    while True:
        page = api.cms_ok(path, body | {"limit": 100, "offset": len(ids)})
        ids += [row["callId"] for row in page["data"]]
        if not page["data"]:
            assert len(ids) == page["count"]
            return ids


def dataprocess_calls(api: Api, begin: int, end: int) -> list[str]:
    token = api.token().json()["AccessToken"]
    found: list[str] = []
    while True:
        body = {"subCcNo": 1, "vdn": 1, "beginDate": begin, "endDate": end, "offset": len(found), "limit": 1000}
        page = api.results(body, token).json()
        found += [row["callId"] for row in page["results"]]
        if not page["results"]:
            assert len(found) == page["total"]
            return found


def test_querycalls_are_exactly_the_dataprocess_calls(tmp_path: Path) -> None:
    with running_server(tmp_path, extra=SIMULATED) as running:
        service = running.service
        start = max(NOW - 2 * 3_600_000, TODAY - DAY)
        simulator = ContactCenter(service.config, service.config.simulator, start, seed=13)
        api = Api(running)
        backfill(HttpFeed(api), simulator, NOW - 60_000)  # type: ignore[arg-type]  (a feed: what it ingests into)
        directions: set[bool] = set()
        for begin, end in ((TODAY - DAY, NOW), (start + 1_800_000, start + 3_600_000)):
            body = {"ccId": 1, "vdn": 1, "beginDate": begin, "endDate": end}
            inbound = all_calls(api, V2, body | {"isCallIn": "true"})
            outbound = all_calls(api, V2, body | {"isCallIn": "false"})
            found = dataprocess_calls(api, begin, end)
            assert len(inbound) >= 40
            directions |= {True} | ({False} if outbound else set())
            assert sorted(inbound + outbound) == sorted(found)  # the same calls, none twice
            assert [c for c in found if c in set(inbound)] == inbound  # and in the same order
            assert all_calls(api, V1, body) == inbound
        assert directions == {True, False}  # the preview campaign's outbound calls were part of it
