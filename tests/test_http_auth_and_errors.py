"""Negative tests: every auth scheme refuses what it must, and every bad input gets its facade's error, never a 500."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from server import Api, running_server

DETAIL = "/v1/openapi/calldata/querydetailcallinfo"
AGENT_CALLS = "/v1/openapi/agent/queryagentcalls"
BODY = {"ccId": 1, "vdn": 1, "agentId": 1001}


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory, mode: str) -> Iterator[Api]:
    with running_server(tmp_path_factory.mktemp("auth")) as running:
        yield Api(running)


def assert_401(response) -> None:
    assert response.status_code == 401, response.text
    body = response.json()
    assert set(body) == {"timestamp", "status", "error", "message", "path"}
    assert body["status"] == 401 and body["message"]


# --- CC-CMS auth-v2 -----------------------------------------------------------------------------------------


def test_a_correct_signature_passes(api: Api) -> None:
    assert api.cms(AGENT_CALLS, BODY).json()["resultCode"] == "0100000"


def test_numbers_may_arrive_as_strings(api: Api) -> None:
    assert api.cms(AGENT_CALLS, {"ccId": "1", "vdn": "1", "agentId": "1001"}).json()["resultCode"] == "0100000"


@pytest.mark.parametrize(
    "tamper",
    [
        {"ak": "nobody"},
        {"sk": "wrong-secret"},
        {"sign_body": b'{"ccId":1,"vdn":2,"agentId":1001}'},
        {"sign_path": "/rest/cmsapp/v1/openapi/agent/agentprivatecall"},
        {"sign_host": "10.0.0.9:28080"},
        {"query": {"a": "1"}, "sign_query": {"a": "2"}},
        {"moment": -timedelta(minutes=10)},  # from the request's own time: not the suite's start, minutes before
        {"moment": timedelta(minutes=10)},
    ],
    ids=[
        "wrong-key",
        "wrong-secret",
        "tampered-body",
        "tampered-path",
        "tampered-host",
        "tampered-query",
        "stale",
        "future",
    ],
)
def test_tampered_or_stale_requests_get_401(api: Api, tamper: dict) -> None:
    if "moment" in tamper:
        tamper = {"moment": datetime.now(UTC) + tamper["moment"]}
    assert_401(api.cms(AGENT_CALLS, BODY, **tamper))


def test_a_signed_query_string_is_verified(api: Api) -> None:
    assert api.cms(AGENT_CALLS, BODY, query={"a": "1/2", "b": "x y"}).json()["resultCode"] == "0100000"


@pytest.mark.parametrize("header", [None, "Bearer abc", "auth-v2/ak-all/2023-11-14T22:13:20Z/host"])
def test_missing_or_malformed_authorization(api: Api, header: str | None) -> None:
    headers = {} if header is None else {"Authorization": header}
    assert_401(api.http.post("/rest/cmsapp" + AGENT_CALLS, json=BODY, headers=headers))


def test_another_vdns_data_is_refused(api: Api) -> None:
    body = api.cms(AGENT_CALLS, BODY, ak="ak-vdn2", sk="sk-vdn2").json()
    assert body["resultCode"] == "0101003" and "VDN 1" in body["resultDesc"]
    assert api.cms(AGENT_CALLS, {**BODY, "ccId": 2}).json()["resultCode"] == "0101003"


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        (b"{not json", "not valid JSON"),
        (b"[1,2]", "JSON object"),
        (b"", "empty"),
        ({"vdn": 1, "agentId": 1001}, "ccId is required"),
        ({"ccId": 1, "vdn": "abc", "agentId": 1001}, "vdn must be a number"),
        ({"ccId": 0, "vdn": 1, "agentId": 1001}, "ccId must be between 1 and 65535"),
        ({"ccId": 1, "vdn": 5001, "agentId": 1001}, "vdn must be between 1 and 5000"),
        ({"ccId": 1, "vdn": 1, "agentId": 65000}, "101-59999 or 70000-999999"),
        ({"ccId": 1, "vdn": 1, "agentId": True}, "agentId must be a number"),
        ({"ccId": 1, "vdn": 1, "agentId": 12.5}, "agentId must be a number"),
    ],
)
def test_invalid_parameters_get_0100002(api: Api, body: dict | bytes, fragment: str) -> None:
    response = api.cms(AGENT_CALLS, body)
    assert response.status_code == 200
    payload = response.json()
    assert payload["resultCode"] == "0100002" and fragment in payload["resultDesc"], payload


def test_call_id_longer_than_20_characters(api: Api) -> None:
    payload = api.cms(DETAIL, {"ccId": 1, "vdn": 1, "callId": "x" * 21}).json()
    assert payload["resultCode"] == "0100002" and "callId" in payload["resultDesc"]


def test_batch_of_more_than_3000_agents(api: Api) -> None:
    body = {"ccId": 1, "vdn": 1, "agentIds": list(range(1001, 4002))}
    assert api.cms("/v1/openapi/agentgroup/queryagentcalls", body).json()["resultCode"] == "0100002"
    bad = {"ccId": 1, "vdn": 1, "agentIds": [1001, "x"]}
    assert "agentIds" in api.cms("/v1/openapi/agentgroup/queryagentcalls", bad).json()["resultDesc"]


def test_oversized_body_is_refused_before_reading_it(api: Api) -> None:
    response = api.cms(AGENT_CALLS, b'{"pad":"' + b"x" * 2_000_000 + b'"}')
    assert response.status_code == 413 and response.json()["resultCode"] == "0100002"


def test_unknown_paths_and_methods_get_json_errors(api: Api) -> None:
    missing = api.http.get("/rest/cmsapp/v1/openapi/nothing")
    assert missing.status_code == 404 and missing.json()["status"] == 404
    wrong = api.http.get("/rest/cmsapp" + AGENT_CALLS)
    assert wrong.status_code == 405 and wrong.json()["status"] == 405


# --- CC-Gateway Guid ----------------------------------------------------------------------------------------


def test_sign_in_errors(api: Api) -> None:
    assert api.sign_in(1003, password="nope").json()["retcode"] == "100-004"
    assert api.sign_in(4242).json()["retcode"] == "100-004"  # not a configured agent
    assert api.http.put("/agentgateway/resource/onlineagent/abc", json={}).json()["retcode"] == "000-002"
    assert api.http.put("/agentgateway/resource/onlineagent/1003", content=b"{x").json()["retcode"] == "100-001"


def test_guid_of_another_agent_or_none_is_refused(api: Api) -> None:
    api.sign_in(1002)
    api.sign_in(1003)
    other = api.gateway("GET", "/calldata/1002/callinfo", 1002, guid=api.guids[1003]).json()
    assert other["retcode"] == "000-003"
    assert api.gateway("GET", "/calldata/1002/callinfo", 1002, guid="").json()["retcode"] == "000-003"
    assert api.gateway("GET", "/calldata/1001/callinfo", 1001, guid="x").json()["retcode"] == "100-006"
    bad_flag = api.gateway("GET", "/calldata/1002/callinfo", 1002, params={"isNoContainLastCall": "maybe"})
    assert bad_flag.json()["retcode"] == "000-002"


def test_already_signed_in_then_force_login_replaces_the_guid(api: Api) -> None:
    first = api.sign_in(1001)
    assert first.json()["retcode"] == "0" and first.headers["set-guid"].startswith("JSESSIONID=")
    old = api.guids[1001]
    assert api.sign_in(1001).json()["retcode"] == "100-002"
    assert api.sign_in(1001, force=True).json()["retcode"] == "0"
    assert api.guids[1001] != old
    assert api.gateway("GET", "/calldata/1001/callinfo", 1001, guid=old).json()["retcode"] == "000-003"
    assert api.gateway("DELETE", "/onlineagent/1001/logout", 1001).json() == {
        "message": "success", "retcode": "0", "result": {}}  # fmt: skip
    assert api.gateway("GET", "/calldata/1001/callinfo", 1001).json()["retcode"] == "100-006"


def test_dynamic_guid_rotates_and_a_rotated_out_guid_expires(tmp_path: Path) -> None:
    with running_server(tmp_path) as running:
        api = Api(running)
        api.sign_in(1001)
        first = api.guids[1001]
        time.sleep(1.6)  # past guid_interval_ms = 1500
        response = api.gateway("GET", "/agentevent/1001", 1001)
        second = response.headers["set-guid"].removeprefix("JSESSIONID=")
        assert second != first
        assert api.gateway("GET", "/calldata/1001/callinfo", 1001, guid=first).json()["retcode"] == "0"  # grace
        time.sleep(1.6)  # the first GUID is now older than guid_timeout_ms = 3000
        assert api.gateway("GET", "/calldata/1001/callinfo", 1001, guid=first).json()["retcode"] == "000-003"
        assert api.gateway("GET", "/calldata/1001/callinfo", 1001, guid=second).json()["retcode"] == "0"


def test_static_guid_never_rotates(tmp_path: Path) -> None:
    with running_server(tmp_path, auth_mode=1) as running:
        api = Api(running)
        api.sign_in(1001)
        guid = api.guids[1001]
        time.sleep(1.6)
        assert "set-guid" not in api.gateway("GET", "/agentevent/1001", 1001).headers
        assert api.gateway("GET", "/calldata/1001/callinfo", 1001, guid=guid).json()["retcode"] == "0"


def test_an_agent_that_stops_polling_is_signed_out(tmp_path: Path) -> None:
    with running_server(tmp_path, heartbeat_ms=1000) as running:
        api = Api(running)
        api.sign_in(1001)
        assert running.service.engine.agent(1, 1001).signed_in
        time.sleep(2.6)  # the sweeper runs every second
        assert api.gateway("GET", "/calldata/1001/callinfo", 1001).json()["retcode"] == "100-006"
        assert not running.service.engine.agent(1, 1001).signed_in


def test_sign_out_is_refused_while_a_call_is_in_progress(tmp_path: Path) -> None:
    with running_server(tmp_path) as running:
        api = Api(running)
        api.sign_in(1001)
        at = time.time_ns() // 1_000_000 - 60_000
        api.ingest_ok([
            {"id": "c1", "type": "call.arrive", "at": at, "ccId": 1, "vdn": 1, "callId": "c-1", "caller": "1",
             "called": "2"},
            {"id": "c2", "type": "call.alert", "at": at + 1, "ccId": 1, "vdn": 1, "callId": "c-1", "agentId": 1001},
        ])  # fmt: skip
        assert api.gateway("DELETE", "/onlineagent/1001/logout", 1001).json()["retcode"] == "100-010"
        by_id = api.gateway("GET", "/calldata/1001/callinfobycallid/c-1", 1001).json()
        assert by_id["retcode"] == "0" and by_id["result"]["callid"] == "c-1"
        missing = api.gateway("GET", "/calldata/1001/callinfobycallid/nope", 1001).json()
        assert missing["retcode"] == "000-002"


# --- API Fabric and DataProcess -----------------------------------------------------------------------------


def test_token_errors(api: Api) -> None:
    assert_401(api.token(secret="wrong"))
    assert_401(api.token(app="nobody"))
    assert api.token(expire="4000").status_code == 400
    assert api.token(expire="abc").status_code == 400
    assert api.http.post("/apigovernance/api/oauth/tokenByAkSk", content=b"{").status_code == 400


def test_dataprocess_refuses_missing_wrong_expired_and_out_of_scope_tokens(api: Api) -> None:
    query = {"subCcNo": "1", "vdn": "1", "callId": "x-1"}
    assert api.results(query).status_code == 200
    assert_401(api.http.post("/apiaccess/rest/dataprocess/v1/openapp/queryCallManualDetailInfo", json=query))
    assert_401(api.results(query, token="not-a-token"))
    short = api.token(expire="1").json()["AccessToken"]
    time.sleep(1.1)
    assert_401(api.results(query, token=short))
    vdn2_token = api.token("app-2", "secret-app-2").json()["AccessToken"]
    assert_401(api.results(query, token=vdn2_token))
    assert_401(api.results({**query, "subCcNo": "9"}))


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ({"subCcNo": "1", "vdn": "1"}, "callId, or at least one of beginDate and endDate"),
        ({"vdn": "1", "callId": "x"}, "subCcNo is required"),
        ({"subCcNo": "1", "vdn": "1", "beginDate": "yesterday"}, "beginDate must be a number"),
        ({"subCcNo": "1", "vdn": "1", "beginDate": "2000", "endDate": "1000"}, "beginDate is after endDate"),
        ({"subCcNo": "1", "vdn": "1", "callId": "x", "mediaType": "7"}, "mediaType 7"),
        ({"subCcNo": "1", "vdn": "1", "callId": "x", "callType": "5"}, "callType 5"),
        ({"subCcNo": "1", "vdn": "1", "callId": "x", "limit": 5000}, "limit must be between 1 and 1000"),
    ],
)
def test_dataprocess_bad_requests_get_400(api: Api, body: dict, fragment: str) -> None:
    response = api.results(body)
    assert response.status_code == 400 and fragment in response.json()["message"], response.text


def test_dataprocess_paging_is_stable(tmp_path: Path) -> None:
    with running_server(tmp_path) as running:
        api = Api(running)
        api.sign_in(1001)
        at = time.time_ns() // 1_000_000 - 3_600_000
        events = []
        for n in range(7):
            call = {"ccId": 1, "vdn": 1, "callId": f"p-{n}"}
            events += [
                {"id": f"p{n}a", "type": "call.arrive", "at": at + n * 1000, **call, "caller": "1", "called": "2"},
                {"id": f"p{n}q", "type": "call.queue", "at": at + n * 1000 + 1, **call, "skillId": 7},
                {"id": f"p{n}r", "type": "call.release", "at": at + n * 1000 + 2, **call, "by": "customer"},
            ]
        api.ingest_ok(events)
        pages = []
        for offset in (0, 3, 6):
            body = api.results({"subCcNo": 1, "vdn": 1, "beginDate": at, "offset": offset, "limit": 3}).json()
            assert body["total"] == 7
            pages += [r["callId"] for r in body["results"]]
        assert pages == [f"p-{n}" for n in range(7)]


# --- ingest -------------------------------------------------------------------------------------------------


def test_ingest_auth_body_and_report(api: Api) -> None:
    assert_401(api.ingest([], token="wrong"))
    bad = api.http.post("/ccdata/v1/events", content=b"[{", headers={"Authorization": "Bearer ingest-token"})
    assert bad.status_code == 400
    lines = b'{"id":"i1","type":"agent.login","at":1767258000000,"ccId":1,"vdn":2,"agentId":2001}\n{oops}\n'
    report = api.http.post("/ccdata/v1/events", content=lines, headers={"Authorization": "Bearer ingest-token"})
    body = report.json()
    assert (body["accepted"], body["rejected"]) == (1, 1)
    assert body["rejections"][0]["position"] == 2 and body["rejections"][0]["code"] == "invalid_event"
    again = api.http.post("/ccdata/v1/events", content=lines, headers={"Authorization": "Bearer ingest-token"})
    assert again.json()["duplicates"] == 1
