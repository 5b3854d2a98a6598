"""Golden tests: a request of each reference example's shape gets an answer with the same keys and JSON types."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from server import Api, running_server

NOW = time.time_ns() // 1_000_000
CALL = "1606120429-49"

# The reference examples (seed pages and the CMS reference), as JSON; the CMS reference's comments are removed
# and its duplicated keys resolved as a JSON parser does (the last one wins).
DETAIL = {
    "trunkNo": 582,
    "deviceType": 2,
    "deviceNo": 1177,
    "dsn": 49,
    "callData": "",
    "totalTalkingTimes": 116,
    "cb": 1,
    "keyId": "",
    "callingNum": "88881363",
    "calledNum": "650550",
    "orgiCalledNum": "",
    "callDataLen": 0,
    "callSkill": "defaultAudioSkill",
    "partyNum": 2,
    "callFeature": 0,
    "place": 0,
    "waitTime": 0,
    "logonTimes": 127,
    "handle": 0,
    "time": 1606120429,
    "mediaType": "MEDIA_TYPE_PHONE",
    "submediaType": 0,
    "server": 0,
    "mid": 5,
    "priority": 0,
}
BASIC = {
    "time": 1606115215000,
    "dsn": 0,
    "handle": 0,
    "server": 0,
    "keyId": "",
    "callingNum": "88881364",
    "calledNum": "650550",
    "mid": 5,
    "trunkNo": 582,
    "priority": 0,
    "deviceType": 2,
    "deviceNo": 1177,
    "callSkill": "defaultAudioSkill",
    "partyNum": 1,
    "callFeature": 0,
    "orgiCalledNum": "",
    "mediaType": 5,
    "place": 0,
    "waitTime": 0,
    "totalTalkingTimes": 275,
    "logonTimes": 284,
    "serviceType": 2,
    "callInCause": 65535,
    "enterReason": 0,
    "submediaType": 0,
    "mediaBillType": 0,
}
TRACK_ROW = {
    "callId": "1678978542-92",
    "callIdNum": "-1",
    "callerNo": "80000888",
    "calleeNo": "624192",
    "waitBegin": "1615717765000",
    "ackBegin": "1615717765000",
    "callBegin": "1615717765000",
    "callEnd": "1615717765000",
    "subCcNo": "0",
    "deviceType": "1",
    "deviceNo": "1",
    "deviceIn": "1",
    "callType": "1",
    "releaseCause": "1",
    "EnterReason": "11",
    "LeaveReason": "11",
    "CurrentSkillID": "0",
    "mediaType": 53,
    "subMediaType": 1,
}
CALL_LIST = {"callId": "1605494261-1449", "callStatus": 5, "callInOut": 0, "submediaType": "Email", "mediaType": 5}
CALL_INFO = {
    "callfeature": 0,
    "callid": "1476838963-224",
    "caller": "70004",
    "called": "60015",
    "callskill": "voice",
    "callskillid": 20011,
    "orgicallednum": "",
    "calldata": "",
    "begintime": 1476838963000,
    "endtime": None,
    "userPriority": 0,
    "trunkNo": 65535,
    "logontimes": 0,
    "mediaType": 5,
    "mediaAbility": 1,
    "waitTime": 0,
    "trace": {
        "waitBeginTime": 1626179227000,
        "waitEndTime": 1626179227000,
        "answerBeginTime": 1626179227000,
        "answerEndTime": 1626179227000,
        "talkBeginTime": 1626179227000,
        "talkEndTime": 1626179227000,
        "deviceNo": 2005,
        "deviceType": 2,
        "callDirectMode": "NORMAL_DIRECT",
        "enterReason": 0,
        "enterReasonDesc": "Normal reason",
        "leaveReason": 0,
        "leaveReasonDesc": "Normal reason",
        "vdnId": 214,
    },
}
# A call in progress has not left the agent yet: ccdata sends null for what has not happened (compatibility.md).
NOT_YET = {"talkEndTime", "leaveReason", "leaveReasonDesc"}
DP_RESULT = {"callId": "1669464198-17002955", "vdn": 1, "evaluationValue": "1", "callBegin": "100010"}  # fmt: skip


def shape(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: shape(v) for k, v in value.items()}
    if isinstance(value, list):
        return [shape(value[0])] if value else []
    return type(value).__name__


def assert_shape(ours: dict[str, Any], example: dict[str, Any], nullable: frozenset[str] = frozenset()) -> None:
    assert set(example) <= set(ours), set(example) - set(ours)
    for key, value in example.items():
        if key in nullable and ours[key] is None:
            continue
        if isinstance(value, dict):
            assert_shape(ours[key], value, nullable)
        else:
            assert shape(ours[key]) == shape(value), (key, ours[key], value)


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory, mode: str) -> Iterator[Api]:
    with running_server(tmp_path_factory.mktemp("golden")) as running:
        client = Api(running)
        client.sign_in(1001)
        t = NOW - 300_000

        def e(n: int, type_: str, s: int, call: str = CALL, **f: Any) -> dict[str, Any]:
            return {"id": f"g{n}", "type": type_, "at": t + s * 1000, "ccId": 1, "vdn": 1, "callId": call, **f}

        done = "1606120000-1"
        client.ingest_ok([
            e(1, "call.arrive", 0, caller="88881363", called="650550", trunkNo=582),
            e(2, "call.queue", 1, skillId=7),
            e(3, "call.alert", 2, agentId=1001),
            e(4, "call.answer", 3, agentId=1001),
            e(5, "call.arrive", 0, done, caller="80000888", called="624192"),
            e(6, "call.queue", 1, done, skillId=7),
            e(7, "call.release", 9, done, by="customer"),
            e(8, "call.evaluate", 10, done, evaluationValue="1"),
        ])  # fmt: skip
        client.done, client.t = done, t  # type: ignore[attr-defined]
        yield client


def test_querydetailcallinfo(api: Api) -> None:
    body = api.cms("/v1/openapi/calldata/querydetailcallinfo", {"ccId": 1, "vdn": 1, "callId": CALL}).json()
    assert shape({k: body[k] for k in ("result", "resultCode")}) == {"result": "str", "resultCode": "str"}
    assert body["resultDatas"] == body["resultDesc"]
    assert_shape(body["resultDesc"], DETAIL)
    assert list(body["resultDesc"]) == list(DETAIL)  # the example's key order too


def test_querybasiccallinfo(api: Api) -> None:
    body = api.cms("/v1/openapi/calldata/querybasiccallinfo", {"ccId": 1, "vdn": 1, "callId": CALL}).json()
    assert_shape(body["resultDesc"], BASIC)


@pytest.mark.parametrize("path", ["/v1/openapi/agent/queryagentcalls", "/v1/openapi/agent/agentprivatecall"])
def test_agent_call_id_lists(api: Api, path: str) -> None:
    body = api.cms(path, {"ccId": 1, "vdn": 1, "agentId": 1001}).json()
    assert set(body) == {"result", "resultCode", "resultDatas", "resultDesc"}
    assert (body["result"], body["resultCode"]) == ("0", "0100000")
    assert all(isinstance(c, str) for c in body["resultDesc"])
    if path.endswith("queryagentcalls"):
        assert body["resultDesc"] == [CALL]


def test_agentgroup_queryagentcalls(api: Api) -> None:
    body = api.cms("/v1/openapi/agentgroup/queryagentcalls", {"ccId": 1, "vdn": 1, "agentIds": [1001, 1002]}).json()
    assert [row["agentId"] for row in body["resultDesc"]] == [1001, 1002]
    assert body["resultDesc"][1]["callList"] == []
    assert_shape(body["resultDesc"][0]["callList"][0], CALL_LIST)


def test_querycalltracedetail(api: Api) -> None:
    body = api.cms("/v1/openapi/vdn/querycalltracedetail",
                   {"ccId": 1, "vdn": 1, "callId": api.done, "logDate": str(api.t)}).json()  # fmt: skip
    assert set(body) == {"resultCode", "resultDesc"}
    assert_shape(body["resultDesc"][0], TRACK_ROW)


def test_ping(api: Api) -> None:
    assert api.cms("/v1/ping", {"say": "Hello world!"}).json() == {"request": {"say": "Hello world!"}, "status": "UP"}


def test_gateway_callinfo(api: Api) -> None:
    body = api.call_info(1001)
    assert set(body) == {"message", "retcode", "result"} and body["retcode"] == "0"
    assert_shape(body["result"], CALL_INFO, nullable=frozenset(NOT_YET))


def test_dataprocess_query(api: Api) -> None:
    body = api.results({"subCcNo": "1", "vdn": "1", "beginDate": str(api.t - 1000), "endDate": str(api.t + 1000)})
    payload = body.json()
    assert set(payload) == {"total", "results"} and payload["total"] == 1
    assert_shape(payload["results"][0], DP_RESULT)
    table = {"logDate", "callerNo", "calleeNo", "callId", "callType", "mediatype", "waitBegin", "ackBegin",
             "callBegin", "callEnd", "vdn", "leaveReason", "evaluationValue"}  # fmt: skip
    assert set(payload["results"][0]) == table


def test_token_by_ak_sk(api: Api) -> None:
    body = api.token(expire="600").json()
    assert set(body) == {"AccessToken", "ApplyType", "CreateTime", "Expires", "Scope", "AppKey", "UserID"}
    assert all(isinstance(v, str) for v in body.values())
    assert (body["ApplyType"], body["Expires"], body["UserID"]) == ("Bearer", "600", "Anonymous")


def test_openapi_document_and_docs(api: Api) -> None:
    spec = api.http.get("/openapi.json").json()
    assert "/rest/cmsapp/v1/openapi/calldata/querydetailcallinfo" in spec["paths"]
    assert "/rest/cmsapp/v2/openapi/vdn/querycalls" in spec["paths"]
    assert api.http.get("/docs").status_code == 200
    assert api.http.get("/docs/static/swagger-ui-bundle.js").status_code == 200
