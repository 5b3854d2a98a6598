"""CSV answers (`Accept: text/csv`) of the DataProcess search and CC-CMS querycalltracedetail: the same rows as
the JSON answers, a header row of the wire's field names, RFC 4180, streamed; errors still in JSON."""

from __future__ import annotations

import csv
import io
import time
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ccdata.api.csv_answer import wants_csv
from ccdata.domain import tables, views
from ccdata.domain.records import CallResult, TrackRow
from ccdata.sim.clocks import backfill
from ccdata.sim.contact_center import ContactCenter
from ccdata.tabular import csv_text
from server import Api, HttpFeed, running_server
from test_http_cms_calldata import SIMULATED

NOW = time.time_ns() // 1_000_000
TRACE = "/v1/openapi/vdn/querycalltracedetail"
CSV = {"Accept": "text/csv"}
WRAP_UP = 'wrap_up = { kind = "fixed", mean = 2 }'
SURVEYED = SIMULATED.replace(WRAP_UP, WRAP_UP + "\nsurvey_rate = 0.5\nsurvey_scores = [1, 3, 5]")

text = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=12) | st.sampled_from(
    ["a,b", 'say "hi"', "line\r\nbreak", " lead", "é中文", ""]
)
number = st.integers(-(2**40), 2**40)
results = st.builds(CallResult, *([number] * 2), text, *([number] * 2), text, text, *([number] * 11),
                    st.none() | text)  # fmt: skip
track_rows = st.builds(TrackRow, number, number, text, number, number, text, text, *([number] * 8), text, text,
                       number, st.none() | number, number, number, number)  # fmt: skip


def parsed(body: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(body.decode("utf-8"), newline="")))


def as_text(view: dict[str, Any]) -> list[str]:
    """A JSON answer's values as CSV cells: strings as they are, numbers in decimal."""
    return [value if isinstance(value, str) else str(value) for value in view.values()]


@given(st.lists(results, max_size=5))
def test_call_result_columns_are_the_json_view(records: list[CallResult]) -> None:
    rows = parsed(csv_text([tables.CALL_RESULTS.names, *tables.CALL_RESULTS.rows(records)]))
    assert rows[0] == list(views.call_result(records[0]).keys()) if records else True
    assert rows[1:] == [as_text(views.call_result(r)) for r in records]


@given(st.lists(track_rows, max_size=5))
def test_track_columns_are_the_json_view(records: list[TrackRow]) -> None:
    rows = parsed(csv_text([tables.TRACK_ROWS.names, *tables.TRACK_ROWS.rows(records)]))
    assert rows[0] == list(views.track_row(records[0]).keys()) if records else True
    assert rows[1:] == [as_text(views.track_row(r)) for r in records]


@pytest.mark.parametrize(
    ("accept", "csv_wanted"),
    [
        ("text/csv", True),
        ("TEXT/CSV; charset=utf-8", True),
        ("application/json, text/csv;q=0.5", False),
        ("application/json;q=0.4, text/csv;q=0.5", True),
        ("text/csv, */*", True),
        ("text/csv;q=0", False),
        ("text/csv;q=zero", False),
        ("*/*", False),
        ("application/json", False),
        ("", False),
        (None, False),
    ],
)
def test_accept_negotiation(accept: str | None, csv_wanted: bool) -> None:
    assert wants_csv(accept) is csv_wanted


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory, mode: str) -> Iterator[Api]:
    with running_server(tmp_path_factory.mktemp("csv"), extra=SURVEYED) as running:
        service = running.service
        simulator = ContactCenter(service.config, service.config.simulator, NOW - 3_600_000, seed=5)
        api = Api(running)
        backfill(HttpFeed(api), simulator, NOW - 60_000)  # type: ignore[arg-type]  (a feed: what it ingests into)
        yield api


def test_dataprocess_csv_has_the_json_rows_for_every_filter(api: Api) -> None:
    token = api.token().json()["AccessToken"]
    everything = {"subCcNo": 1, "vdn": 1, "beginDate": NOW - 3_600_000, "endDate": NOW, "limit": 1000}
    rows = api.results(everything, token).json()["results"]
    assert len(rows) >= 100
    some = rows[len(rows) // 2]
    evaluated = next(r["evaluationValue"] for r in rows if r["evaluationValue"])
    for body in (
        everything,
        everything | {"offset": 10, "limit": 25},
        everything | {"callerNo": some["callerNo"]},
        everything | {"evaluationValue": evaluated},
        everything | {"callType": 0},
        {"subCcNo": 1, "vdn": 1, "callId": some["callId"]},
    ):
        as_json = api.results(body, token).json()
        response = api.http.post(
            "/apiaccess/rest/dataprocess/v1/openapp/queryCallManualDetailInfo",
            json=body,
            headers={"Authorization": f"Bearer {token}", **CSV},
        )
        assert response.status_code == 200
        assert response.headers["content-type"] == "text/csv; charset=utf-8; header=present"
        assert response.headers["transfer-encoding"] == "chunked"  # streamed
        assert response.headers["x-total-count"] == str(as_json["total"])
        assert response.content.endswith(b"\r\n") and b"\n" not in response.content.replace(b"\r\n", b"")
        table = parsed(response.content)
        assert table[0] == list(rows[0].keys())  # the wire's field names, in the JSON answer's order
        assert table[1:] == [as_text(row) for row in as_json["results"]], body
        assert len(table) - 1 == min(body.get("limit", 100), as_json["total"] - body.get("offset", 0))


def test_call_track_csv_has_the_json_rows(api: Api) -> None:
    token = api.token().json()["AccessToken"]
    body = {"subCcNo": 1, "vdn": 1, "beginDate": NOW - 3_600_000, "endDate": NOW, "limit": 30}
    calls = api.results(body, token).json()["results"]
    compared = 0
    for call in calls:
        request = {"ccId": 1, "vdn": 1, "callId": call["callId"], "logDate": int(call["logDate"])}
        rows = api.cms_ok(TRACE, request)
        response = api.cms(TRACE, request, headers=CSV)
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/csv")
        table = parsed(response.content)
        assert table[0] == list(rows[0].keys())  # the wire's field names, in the JSON answer's order
        assert table[1:] == [as_text(row) for row in rows]
        compared += len(rows)
    assert len(calls) == 30 and compared >= 30


def test_errors_keep_their_json_envelopes(api: Api) -> None:
    url = "/apiaccess/rest/dataprocess/v1/openapp/queryCallManualDetailInfo"
    refused = api.http.post(url, json={"subCcNo": 1, "vdn": 1, "beginDate": 0}, headers=CSV)
    assert refused.status_code == 401 and refused.headers["content-type"].startswith("application/json")
    assert refused.json()["error"] == "Unauthorized"
    token = api.token().json()["AccessToken"]
    bad = api.http.post(url, json={"subCcNo": 1, "vdn": 1}, headers={"Authorization": f"Bearer {token}", **CSV})
    assert bad.status_code == 400 and bad.json()["message"].startswith("callId, or at least one")
    request = {"ccId": 1, "vdn": 1, "callId": "x" * 21, "logDate": NOW}
    invalid = api.cms(TRACE, request, headers=CSV)
    assert invalid.status_code == 200 and invalid.json()["resultCode"] == "0100002"
    request = {"ccId": 1, "vdn": 2, "callId": "1-1", "logDate": NOW}
    other = api.cms(TRACE, request, ak="ak-vdn2", sk="sk-vdn2", headers=CSV)
    assert other.status_code == 200 and other.content == b"callId,mediaType,subMediaType,callIdNum,callerNo," \
        b"calleeNo,waitBegin,ackBegin,callBegin,callEnd,subCcNo,deviceType,deviceNo,deviceIn,callType," \
        b"releaseCause,EnterReason,LeaveReason,CurrentSkillID\r\n"  # fmt: skip  # no rows: the header alone
    request = {"ccId": 1, "vdn": 1, "callId": "1-1", "logDate": NOW}
    unsigned = api.http.post("/rest/cmsapp" + TRACE, json=request, headers=CSV)
    assert unsigned.status_code == 401 and unsigned.headers["content-type"].startswith("application/json")
