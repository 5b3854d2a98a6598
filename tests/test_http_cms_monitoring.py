"""CC-CMS real-time monitoring over real sockets and real SQLite: reference shapes, and figures that agree with SQL
over the stored call results and with the live state, before and after a restart."""

from __future__ import annotations

import random
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from server import Api, Running, running_server
from test_http_golden import assert_shape, shape

NOW = time.time_ns() // 1_000_000
OPEN = "/v1/openapi"
SKILL_INDEXES = [
    "IDX_COUNT_REAL_SKILL_QUEUE", "IDX_COUNT_REAL_SKILL_HANDLE", "IDX_DURATION_SKILL_MAX_QUEUE_ACK",
    "IDX_COUNT_20S_CALL_FOR_5MIN", "IDX_COUNT_REAL_AGENT_SIGN_IN", "IDX_COUNT_REAL_AGENT_CONNECT",
    "IDX_COUNT_REAL_AGENT_SET_IDLE", "IDX_COUNT_REAL_AGENT_USABLE", "IDX_COUNT_REAL_AGENT_SET_BUSY",
    "IDX_COUNT_REAL_AGENT_ACW", "IDX_COUNT_REAL_AGENT_REST", "IDX_COUNT_REAL_AGENT_STUDY",
]  # fmt: skip
LONG_FIELDS = [
    "agentLoginNums", "agentTalkingNums", "agentIdleNums", "agentAvailableNums", "agentSetBusyNums", "agentRestNums",
    "agentMaxIdleTimeIn5", "agentWorkNums", "agentStudyNums", "agentOccupyNums", "agentPreOccupyNums",
    "totalCallNums", "processingCallNums", "maxCallWaitTimesIn5", "callWaitNums", "evenCallTimeIn5",
    "evenWaitTimeIn5",
]  # fmt: skip
STATE_INFO = {"skillId": 1, **dict.fromkeys(LONG_FIELDS, 0), "allCallCount": 0, "cnnedIn20sCallCount": 0}
LEGACY_STATE_INFO = {
    "skillId": 1, **{("agentSetbusyNums" if k == "agentSetBusyNums" else k): 0 for k in LONG_FIELDS}
}  # fmt: skip
QUALITY = {
    "in15sCallNum": 0, "skillId": 1, "wait15sLostNum": 0, "callLostNum": 0, "in20sCallNum": 0,
    "statStartTime": 1611714900000, "wait20sLostNum": 0, "inCallNum": 0, "connectedNum": 0,
}  # fmt: skip
TOTAL_STATUS = {
    "skillId": 1, "queueSize": 0, "queueTime": 0, "loggedOnAgents": 0, "availAgents": 0, "skillDescrip": "s",
    "callId": "4294967295-4294967295", "maxQueueSize": 0,
}  # fmt: skip
CURRENT_STATE = {
    "id": 1, "startTime": 1611714900000, "allCallCount": 0, "cnnedCallCount": 0, "abanCallCount": 0, "callEndCount": 0,
    "talkTimeOnIvr": 0, "cnnedIn20sCallCount": 0, "clearUpCallCount": 0, "clearUpTime": 0,
}  # fmt: skip
AGENT_STATUS = {
    "agentId": 1001, "locationId": 65535, "currentStateReason": 65535, "prevState": 0, "prevStateTime": 0,
    "currentState": 1, "currentStateTime": 10, "logonTime": 4294967295000, "agentRelease": 0,
    "currentPrivateCallNum": 0,
}  # fmt: skip


def event(n: int, type_: str, at: int, **fields: Any) -> dict[str, Any]:
    return {"id": f"m{n}", "type": type_, "at": at, "ccId": 1, "vdn": 1, **fields}


def scenario(t: int) -> list[dict[str, Any]]:
    """Agents in every state, a call talking, one waiting, one answered in 5 s, one abandoned, one answered from
    queue 8 by an agent of skill 7."""
    events = [
        event(i, "agent.login", t, agentId=a, skills=[7, 8], phone=f"6{a}") for i, a in enumerate(range(1001, 1006))
    ]
    events += [event(10, "agent.state", t + 1000, agentId=1004, state="busy"),
               event(11, "agent.state", t + 1000, agentId=1005, state="rest", reasonCode=3)]  # fmt: skip
    n = 100

    def call(call_id: str, s: float, skill: int, steps: list[tuple[str, float, dict[str, Any]]]) -> None:
        nonlocal n
        at = t + int(s * 1000)
        events.append(event(n, "call.arrive", at, callId=call_id, caller="88881363", called="650550"))
        events.append(event(n + 1, "call.queue", at, callId=call_id, skillId=skill))
        for i, (type_, after, fields) in enumerate(steps):
            events.append(event(n + 2 + i, type_, at + int(after * 1000), callId=call_id, **fields))
        n += 10

    call("1700000000-1", 10, 7, [("call.alert", 4, {"agentId": 1002}), ("call.answer", 5, {"agentId": 1002}),
                                 ("call.release", 60, {"by": "customer"})])  # fmt: skip
    call("1700000000-2", 20, 7, [("call.release", 30, {"by": "customer"})])
    call("1700000000-3", 30, 8, [("call.alert", 1, {"agentId": 1003}), ("call.answer", 2, {"agentId": 1003}),
                                 ("call.release", 40, {"by": "customer"})])  # fmt: skip
    call("1700000000-4", 100, 7, [("call.alert", 1, {"agentId": 1001}), ("call.answer", 2, {"agentId": 1001})])
    call("1700000000-5", 110, 7, [])
    events.append(event(n, "agent.state", t + 199_000, agentId=1003, state="idle"))  # the feed's clock: now
    return events


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory, mode: str) -> Iterator[Api]:
    with running_server(tmp_path_factory.mktemp("monitoring")) as running:
        client = Api(running)
        client.ingest_ok(scenario(NOW - 200_000))
        yield client


def test_skill_rindex_every_indicator(api: Api) -> None:
    body = api.cms(f"{OPEN}/skill/rindex", {"ccId": 1, "vdn": 1, "skillIds": [7], "indexIds": SKILL_INDEXES}).json()
    assert set(body) == {"result", "resultCode", "resultDatas", "resultDesc"}
    assert body["resultDatas"] == body["resultDesc"]
    [skill] = body["resultDesc"]
    assert skill["id"] == 7
    values = {i["id"]: i["val"] for i in skill["idxs"]}
    assert list(values) == SKILL_INDEXES and all(isinstance(v, str) for v in values.values())
    assert values["IDX_COUNT_REAL_SKILL_QUEUE"] == "1"
    assert values["IDX_COUNT_REAL_SKILL_HANDLE"] == "1"
    assert int(values["IDX_DURATION_SKILL_MAX_QUEUE_ACK"]) >= 89
    assert values["IDX_COUNT_REAL_AGENT_SIGN_IN"] == "5"
    assert values["IDX_COUNT_REAL_AGENT_CONNECT"] == "1"
    assert values["IDX_COUNT_REAL_AGENT_SET_IDLE"] == "1"  # 1003; 1002 wraps up its call
    assert values["IDX_COUNT_REAL_AGENT_ACW"] == "1"
    assert values["IDX_COUNT_REAL_AGENT_SET_BUSY"] == "1"
    assert values["IDX_COUNT_REAL_AGENT_REST"] == "1"


def test_skill_rindex_refuses_unknown_indicators(api: Api) -> None:
    body = api.cms(f"{OPEN}/skill/rindex", {"ccId": 1, "vdn": 1, "skillIds": [7], "indexIds": ["IDX_NOPE"]}).json()
    assert body["resultCode"] == "0100002"
    too_many = {"ccId": 1, "vdn": 1, "skillIds": [7], "indexIds": [*SKILL_INDEXES, "IDX_SKILL_RESERVED_COL(1)"]}
    assert api.cms(f"{OPEN}/skill/rindex", too_many).json()["resultCode"] == "0100002"


def test_skill_stateinfo_shapes(api: Api) -> None:
    [info] = api.cms_ok(f"{OPEN}/skill/stateinfo", {"queryParam": {"ccId": "1", "vdn": "1", "skillIds": "[7]"}})
    assert_shape(info, STATE_INFO)
    assert (info["skillId"], info["callWaitNums"], info["processingCallNums"]) == (7, 1, 1)
    [legacy] = api.cms_ok(f"{OPEN}/realindex/skill/stateinfo", {"queryParam": {"ccId": 1, "vdn": 1, "skillIds": [7]}})
    assert_shape(legacy, LEGACY_STATE_INFO)
    assert set(legacy) == set(LEGACY_STATE_INFO)


def test_queue_device_status(api: Api) -> None:
    calls = api.cms_ok(f"{OPEN}/skill/queuedevicestatus", {"ccId": 1, "vdn": 1, "skillId": 7})
    assert calls == [{"callId": "1700000000-5", "customerLevel": 1, "requestType": 0}]
    assert api.cms_ok(f"{OPEN}/skill/queuedevicestatus", {"ccId": 1, "vdn": 1, "skillId": 8}) == []


def test_total_skill_status_and_current_call_state(api: Api) -> None:
    [total] = api.cms_ok(f"{OPEN}/skill/totalskillstatusex3", {"ccId": 1, "vdn": 1, "skillIds": [7]})
    assert_shape(total, TOTAL_STATUS)
    assert (total["queueSize"], total["callId"], total["skillDescrip"]) == (1, "1700000000-5", "defaultAudioSkill")
    [idle] = api.cms_ok(f"{OPEN}/skill/totalskillstatusex3", {"ccId": 1, "vdn": 1, "skillIds": [8]})
    assert (idle["queueSize"], idle["callId"]) == (0, "4294967295-4294967295")
    [current] = api.cms_ok(f"{OPEN}/skill/currentcallstateinfo", {"ccId": 1, "vdn": 1, "skillIds": [7]})
    assert_shape(current, CURRENT_STATE)
    assert current["startTime"] % 300_000 == 0


def test_batch_skill_overload(api: Api) -> None:
    answer = api.cms_ok(f"{OPEN}/skill/batchskilloverload", {"ccId": 1, "vdn": 1, "skillIds": [7, 8]})
    assert answer == [
        {"skillId": 7, "overloadDetails": [{"queueId": 8, "callNum": 1}]},
        {"skillId": 8, "overloadDetails": [{"queueId": 7, "callNum": 1}]},
    ]


def test_service_quality_shape(api: Api) -> None:
    body = api.cms(f"{OPEN}/skill/servicequality", {"ccId": 1, "vdn": 1, "skillIds": [7]}).json()
    assert set(body) == {"resultCode", "resultDesc"}
    [quality] = body["resultDesc"]
    assert set(quality) == set(QUALITY)
    assert shape(quality) == shape(QUALITY)
    assert quality["statStartTime"] % 300_000 == 0


def test_agent_interfaces(api: Api) -> None:
    [skill] = api.cms_ok(f"{OPEN}/realindex/agent/agentsinskill", {"ccId": 1, "vdn": 1, "skillIds": [7]})
    assert skill == {"skillId": 7, "agentIds": [1001, 1002, 1003, 1004, 1005]}
    statuses = api.cms_ok(f"{OPEN}/agentgroup/agentstatusinfobyagentids", {"agentIds": [1001, 1005, 1099]})
    for status in statuses:
        assert_shape(status, AGENT_STATUS)
    assert [s["currentState"] for s in statuses] == [5, 8, 0]
    assert statuses[1]["currentStateReason"] == 3
    assert statuses[2]["logonTime"] == 4294967295000
    indexes = [
        "IDX_AGENT_PHONE",
        "IDX_AGENT_CURRENT_STATE",
        "IDX_DURATION_AGENT_CURRENT_STATE",
        "IDX_AGENT_LOGIN_SKILLS",
    ]
    [agent] = api.cms_ok(f"{OPEN}/agentgroup/rindex", {"ccId": 1, "vdn": 1, "agentIds": [1004], "indexIds": indexes})
    values = {i["id"]: i["val"] for i in agent["idxs"]}
    assert agent["id"] == 1004
    assert values["IDX_AGENT_PHONE"] == "61004" and values["IDX_AGENT_CURRENT_STATE"] == 7
    assert values["IDX_AGENT_LOGIN_SKILLS"] == [7, 8] and values["IDX_DURATION_AGENT_CURRENT_STATE"] >= 190


def test_vdn_rindex(api: Api) -> None:
    indexes = ["IDX_COUNT_REAL_VDN_CALL", "IDX_COUNT_REAL_VDN_CONNECT", "IDX_COUNT_REAL_SKILL_QUEUE",
               "IDX_COUNT_REAL_AGENT_SIGN_IN", "IDX_COUNT_REAL_AGENT_REST"]  # fmt: skip
    [vdn] = api.cms_ok(f"{OPEN}/rindex/vdn", {"vdnIds": [1], "indexIds": indexes})
    assert vdn["id"] == "1"
    assert {i["id"]: i["val"] for i in vdn["idxs"]} == dict(zip(indexes, [2, 1, 1, 5, 1], strict=True))


def test_scope_and_signature(api: Api) -> None:
    body = {"ccId": 1, "vdn": 1, "skillIds": [7]}
    assert api.cms(f"{OPEN}/skill/stateinfo", body, ak="ak-vdn2", sk="sk-vdn2").json()["resultCode"] == "0101003"
    assert api.cms(f"{OPEN}/skill/stateinfo", body, sk="wrong").status_code == 401
    bad = api.cms(f"{OPEN}/skill/stateinfo", {"ccId": 1, "vdn": 1, "skillIds": []}).json()
    assert bad["resultCode"] == "0100002"


# --- consistency with SQL and live state, across a restart ---


def traffic(t: int, calls: int, seed: int) -> list[dict[str, Any]]:
    """Agents 1001-1006 on skills 7 and 8, random calls released over 20 minutes before `t`."""
    rng = random.Random(seed)
    events = [event(i, "agent.login", t - 1_300_000, agentId=a, skills=[7, 8], phone=f"6{a}")
              for i, a in enumerate(range(1001, 1007))]  # fmt: skip
    n = 100
    for k in range(calls):
        at = t - 1_200_000 + k * (1_150_000 // calls)
        call_id, agent, skill = f"1700001000-{k}", 1001 + k % 6, rng.choice([7, 8])
        wait = rng.randint(1, 40) * 1000
        events.append(event(n, "call.arrive", at, callId=call_id, caller="88881363", called="650550"))
        events.append(event(n + 1, "call.queue", at, callId=call_id, skillId=skill))
        if rng.random() < 0.75:
            events.append(event(n + 2, "call.alert", at + wait - 500, callId=call_id, agentId=agent))
            events.append(event(n + 3, "call.answer", at + wait, callId=call_id, agentId=agent))
            events.append(event(n + 4, "call.release", at + wait + 5000, callId=call_id, by="agent"))
        else:
            events.append(event(n + 2, "call.release", at + wait, callId=call_id, by="customer"))
        n += 10
    events.append(event(n, "agent.state", t - 1000, agentId=1006, state="busy"))
    return events


def sql_figures(running: Running, vdn: int, skill: int, start: int, end: int) -> dict[str, int]:
    wait = "(CASE WHEN call_begin > 0 THEN call_begin ELSE call_end END) - wait_begin"
    ((offered, answered, in15, in20, lost15, lost20, waits),) = running.sql(
        f"""SELECT count(*), sum(CASE WHEN call_begin > 0 THEN 1 ELSE 0 END),
                   sum(CASE WHEN call_begin > 0 AND {wait} <= 15000 THEN 1 ELSE 0 END),
                   sum(CASE WHEN call_begin > 0 AND {wait} <= 20000 THEN 1 ELSE 0 END),
                   sum(CASE WHEN call_begin = 0 AND {wait} <= 15000 THEN 1 ELSE 0 END),
                   sum(CASE WHEN call_begin = 0 AND {wait} <= 20000 THEN 1 ELSE 0 END),
                   sum({wait})
            FROM call_result WHERE cc_id = 1 AND vdn = ? AND skill_id = ? AND log_date >= ? AND log_date < ?""",
        (vdn, skill, start, end),
    )
    offered, answered, in15, in20, lost15, lost20, waits = (
        int(figure or 0) for figure in (offered, answered, in15, in20, lost15, lost20, waits)
    )  # PostgreSQL's sums are numeric
    return {
        "inCallNum": offered, "connectedNum": answered or 0, "callLostNum": offered - (answered or 0),
        "in15sCallNum": in15 or 0, "in20sCallNum": in20 or 0, "wait15sLostNum": lost15 or 0,
        "wait20sLostNum": lost20 or 0, "averageWait": (waits or 0) // offered // 1000 if offered else 0,
    }  # fmt: skip


def live_states(api: Api) -> Counter[int]:
    """The CTI state of each signed-in agent, read from the engine's state."""
    engine = api.running.service.engine
    return Counter(int(engine.agent_state(a)) for a in engine.agents.values() if a.signed_in)


def check_consistency(api: Api) -> int:
    """Every skill's 5-minute quality and current-interval averages equal SQL over the stored results."""
    checked = 0
    for skill in (7, 8):
        for _ in range(3):  # a 5-minute boundary may pass during the requests: ask again
            before = time.time_ns() // 1_000_000 // 300_000
            [quality] = api.cms_ok(f"{OPEN}/skill/servicequality", {"ccId": 1, "vdn": 1, "skillIds": [skill]})
            [state] = api.cms_ok(f"{OPEN}/skill/stateinfo", {"ccId": 1, "vdn": 1, "skillIds": [skill]})
            if time.time_ns() // 1_000_000 // 300_000 == before:
                break
        start = quality["statStartTime"]
        expected = sql_figures(api.running, 1, skill, start, start + 300_000)
        assert {k: quality[k] for k in expected if k != "averageWait"} == {
            k: v for k, v in expected.items() if k != "averageWait"
        }
        current = sql_figures(api.running, 1, skill, start + 300_000, start + 600_000)
        assert state["allCallCount"] == current["inCallNum"]
        assert state["cnnedIn20sCallCount"] == current["in20sCallNum"]
        assert state["evenWaitTimeIn5"] == current["averageWait"]
        live = live_states(api)
        assert (state["agentLoginNums"], state["agentSetBusyNums"]) == (6, live[7]) == (6, 1)
        ours = (state["agentIdleNums"], state["agentTalkingNums"], state["agentWorkNums"])
        assert ours == (live[1], live[5], live[6])
        checked += quality["inCallNum"] + state["allCallCount"]
    return checked


def test_indicators_equal_sql_over_the_stored_results_and_survive_a_restart(tmp_path: Path) -> None:
    now = time.time_ns() // 1_000_000
    snapshots = "\n[store]\nsnapshot_every_events = 500\n"
    with running_server(tmp_path, extra=snapshots) as running:
        api = Api(running)
        events = traffic(now, 240, seed=5)
        cut = len(events) * 6 // 10
        api.ingest_ok(events[:cut])
        deadline = time.monotonic() + 5
        while running.service.pipeline.snapshot_seq < 500 and time.monotonic() < deadline:
            time.sleep(0.02)  # a snapshot in the middle: a cluster node's restart replays the log after it
        assert running.service.pipeline.snapshot_seq >= 500
        api.ingest_ok(events[cut:])
        checked = check_consistency(api)
        days = dict(running.service.monitor.days)
    assert checked > 0
    with running_server(tmp_path, extra=snapshots) as running:
        if running.mode == "distributed":  # from the central snapshot, the calls after it already stored
            assert running.service.pipeline.replayed > 0
        assert running.service.monitor.days == days  # rebuilt from the stored call results, each counted once
        check_consistency(Api(running))


def test_openapi_documents_every_monitoring_path_with_examples_the_server_accepts(api: Api) -> None:
    from ccdata.api.cms_monitoring import OPEN, routes

    document = api.http.get("/openapi.json").json()
    spec, spec_components = document["paths"], document["components"]["schemas"]
    served = [route.path for route in routes(api.running.service)]
    assert len(served) == 12
    for path in served:
        operation = spec[path]["post"]
        assert operation["security"] == [{"authV2": []}]
        request = operation["requestBody"]["content"]["application/json"]["example"]
        answer_schema = operation["responses"]["200"]["content"]["application/json"]["schema"]["anyOf"][0]
        body = api.cms(path.removeprefix("/rest/cmsapp"), request).json()
        assert body["resultCode"] == "0100000", (path, body)
        assert set(body) == set(answer_schema["properties"]), path
        answer, documented = body["resultDesc"], answer_schema["properties"]["resultDesc"]
        row = spec_components[documented["items"]["$ref"].rsplit("/", 1)[1]]
        assert answer and set(answer[0]) <= set(row["properties"]), path
    assert all(path.startswith(OPEN) for path in served)
