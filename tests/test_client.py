"""The client SDK against a real server: async variants, token caching, GUID rotation, typed errors, and every
`ccdata query` command against a server fed by the live simulator."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import msgspec
import pytest

from ccdata.client import (
    AsyncCmsClient,
    AsyncDataProcessClient,
    AsyncGatewayClient,
    AuthError,
    CmsClient,
    CmsError,
    DataProcessClient,
    GatewayClient,
    GatewayError,
)
from ccdata.client.types import (
    AgentStatus,
    CallRecord,
    IndicatorRow,
    QueuedCall,
    QueueLoad,
    ServiceQuality,
    SkillAgents,
    SkillOverload,
    SkillStateInfo,
    VdnCallPage,
)
from server import TEST_CONFIG, Api, running_server
from test_http_cms_monitoring import SKILL_INDEXES  # the reference's list, written once in the tests

SIMULATED = """
[[agents]]
id = 1901
vdn = 1
password = "secret-live"
skills = [8]
interactive = true

[simulator]
ring_time = { kind = "fixed", mean = 2 }

[[simulator.access_codes]]
called = "650550"
vdn = 1
skills = [{ skill = 7 }]
calls_per_hour = [600, 600, 600, 600, 600, 600, 600, 600, 600, 600, 600, 600,
                  600, 600, 600, 600, 600, 600, 600, 600, 600, 600, 600, 600]

[[simulator.skills]]
skill = 7
handle_time = { kind = "fixed", mean = 240 }
wrap_up = { kind = "fixed", mean = 5 }
survey_rate = 1.0
"""


def test_typed_errors(tmp_path: Path) -> None:
    with running_server(tmp_path) as running:
        with pytest.raises(AuthError) as refused:
            CmsClient(running.url, "ak-all", "wrong").agent_calls(1, 1001)
        assert refused.value.status == 401
        with pytest.raises(CmsError) as scope:
            CmsClient(running.url, "ak-vdn2", "sk-vdn2").agent_calls(1, 1001)
        assert scope.value.code == "0101003"
        with pytest.raises(CmsError) as invalid:
            CmsClient(running.url, "ak-all", "sk-all").call_detail(1, "x" * 21)
        assert invalid.value.code == "0100002"
        agent = GatewayClient(running.url, 1001, "wrong")
        with pytest.raises(GatewayError) as wrong:
            agent.sign_in()
        assert wrong.value.code == "100-004"
        with pytest.raises(AuthError) as signed_out:
            GatewayClient(running.url, 1002, "secret-1").call_info()
        assert signed_out.value.code == "100-006"
        with pytest.raises(AuthError):
            DataProcessClient(running.url, "app-1", "bad").search(1, call_id="x")


def test_the_gateway_client_follows_guid_rotation(tmp_path: Path) -> None:
    with running_server(tmp_path) as running:
        agent = GatewayClient(running.url, 1001, "secret-1")
        agent.sign_in()
        first = agent.guid
        deadline = time.monotonic() + 6  # guid_interval_ms = 1500, guid_timeout_ms = 3000 in the test config
        while time.monotonic() < deadline:
            agent.poll()
            time.sleep(0.5)
        assert agent.guid != first  # rotated through Set-GUID, and the client kept up
        assert agent.call_info() is None  # the current GUID works; the first one has expired by now
        agent.sign_out()
        assert agent.guid is None


def test_the_token_is_cached_and_refreshed_before_it_expires(tmp_path: Path) -> None:
    with running_server(tmp_path) as running:
        dp = DataProcessClient(running.url, "app-1", "secret-app-1", token_expire_s=3)
        first = dp.token()
        assert dp.token() is first  # cached
        dp.search(1, call_id="x")
        assert dp.ops.token is first
        time.sleep(2.2)  # past Expires (3 s) minus the refresh margin (1 s for so short a token), not yet expired
        second = dp.token()
        assert second.AccessToken != first.AccessToken
        assert dp.search(1, call_id="x").total == 0


def test_async_clients(tmp_path: Path) -> None:
    with running_server(tmp_path) as running:

        async def scenario() -> None:
            async with AsyncGatewayClient(running.url, 1001, "secret-1") as agent:
                await agent.sign_in()
                seen = []
                async for event in agent.events():
                    seen.append(event.eventType)
                    if len(seen) == 2:
                        break
                assert seen == ["AgentOther_InService", "AgentState_Ready"]
                async with AsyncCmsClient(running.url, "ak-all", "sk-all") as cms:
                    assert await cms.agent_calls(1, 1001) == []
                    assert (await cms.ping("hi"))["status"] == "UP"
                async with AsyncDataProcessClient(running.url, "app-1", "secret-app-1") as dp:
                    assert (await dp.search(1, call_id="none")).total == 0
                    assert [r async for r in dp.search_all(1, begin=0)] == []
                await agent.sign_out()

        asyncio.run(scenario())


# --- ccdata query and ccdata sign, as processes, against a server fed by the simulator -----------------------


def ccdata(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "ccdata", *args], capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory, mode: str) -> Iterator[tuple[str, Path]]:
    tmp = tmp_path_factory.mktemp("live")
    with running_server(tmp, extra=SIMULATED, live_speed=30) as running:
        config = tmp / "client.toml"
        config.write_text(TEST_CONFIG.replace("{auth_mode}", "2").replace("{heartbeat}", "60000"))
        deadline = time.monotonic() + 30
        while not any(a.calls for a in running.service.engine.agents.values()):
            assert time.monotonic() < deadline, "the simulator routed no call"
            time.sleep(0.2)
        yield running.url, config


def creds(url: str) -> list[str]:
    return ["--url", url, "--ak", "ak-all", "--sk", "sk-all", "--app-key", "app-1", "--app-secret", "secret-app-1"]


def busy_agent(url: str) -> tuple[int, str]:
    cms = CmsClient(url, "ak-all", "sk-all")
    for row in cms.agent_group_calls(1, [1001, 1002, 1003]):
        if row.callList:
            return row.agentId, row.callList[0].callId
    raise AssertionError("no agent has a call")


def test_every_query_command(live: tuple[str, Path]) -> None:
    url, config = live
    agent, call_id = busy_agent(url)
    calls = json.loads(
        ccdata("query", "agent-calls", "--vdn", "1", "--agent", str(agent), "--json", *creds(url)).stdout
    )
    assert call_id in calls
    group = json.loads(ccdata("query", "agent-group-calls", "--vdn", "1", "--agents", "1001,1002,1003", "--json",
                              *creds(url)).stdout)  # fmt: skip
    assert {row["agentId"] for row in group} == {1001, 1002, 1003}
    private = ccdata("query", "private-calls", "--vdn", "1", "--agent", str(agent), "--json", *creds(url))
    assert private.returncode == 0 and isinstance(json.loads(private.stdout), list)
    detail = ccdata("query", "call-detail", "--vdn", "1", "--call", call_id, "--config", str(config), "--url", url)
    assert detail.returncode == 0 and "callingNum" in detail.stdout and call_id in detail.stdout
    basic = json.loads(ccdata("query", "basic-call-info", "--vdn", "1", "--call", call_id, "--json",
                              *creds(url)).stdout)  # fmt: skip
    assert basic["deviceNo"] == agent
    now = str(time.time_ns() // 1_000_000)
    track = ccdata("query", "call-track", "--vdn", "1", "--call", call_id, "--log-date", now, "--json", *creds(url))
    assert track.returncode == 0 and isinstance(json.loads(track.stdout), list)
    # An interactive agent: the command signs it in, reads its call (it has none: no traffic on its skill), signs out.
    info = ccdata(
        "query", "call-info", "--agent", "1901", "--password", "secret-live", "--last", "--json", "--url", url
    )
    assert info.returncode == 0 and json.loads(info.stdout) is None
    taken = ccdata("query", "call-info", "--agent", str(agent), "--password", "secret-1", "--url", url)
    assert taken.returncode == 1 and "100-002" in taken.stderr  # a simulated agent is signed in already
    found = json.loads(ccdata("query", "results", "--vdn", "1", "--begin", "2000-01-01T00:00:00", "--limit", "5",
                              "--json", *creds(url)).stdout)  # fmt: skip
    assert len(found["results"]) <= 5 and found["total"] >= len(found["results"])
    table = ccdata("query", "results", "--vdn", "1", "--begin", "2000-01-01", "--all", *creds(url))
    assert table.returncode == 0 and "call results" in table.stdout
    missing = ccdata("query", "call-detail", "--vdn", "1", "--call", "nope-1", *creds(url))
    assert missing.returncode == 1 and "0100001" in missing.stderr
    no_creds = ccdata("query", "agent-calls", "--vdn", "1", "--agent", "1001", "--url", url)
    assert no_creds.returncode == 2 and "--ak" in no_creds.stderr
    down = ccdata("query", "agent-calls", "--vdn", "1", "--agent", "1001", *creds("http://127.0.0.1:9"))
    assert down.returncode == 1 and "cannot reach" in down.stderr


def test_sign_prints_a_header_the_server_accepts(live: tuple[str, Path]) -> None:
    url, _ = live
    body = '{"ccId":1,"vdn":1,"agentId":1001}'
    path = "/rest/cmsapp/v1/openapi/agent/queryagentcalls"
    header = ccdata("sign", "POST", path, "--body", body, "--url", url, "--ak", "ak-all", "--sk", "sk-all").stdout
    assert header.startswith("Authorization: auth-v2/ak-all/")
    response = httpx.post(url + path, content=body, headers={"Authorization": header.split(": ", 1)[1].strip()})
    assert response.json()["resultCode"] == "0100000"
    curl = ccdata("sign", "POST", path, "--body", body, "--url", url, "--ak", "ak-all", "--sk", "sk-all", "--curl")
    assert curl.stdout.startswith("curl -s -X POST") and "--data-binary" in curl.stdout


# --- CC-CMS call data (issue 13) -----------------------------------------------------------------------------

DAY_MS = 86_400_000


def _calldata_server(api: Api) -> int:
    """Three finished calls (two inbound at 1002, one outbound by 1003) and one at 1001 now; their base time."""
    t = time.time_ns() // 1_000_000 - 600_000

    def e(n: int, type_: str, s: int, call: str | None, **f: Any) -> dict[str, Any]:
        event = {"id": f"k{n}", "type": type_, "at": t + s * 1000, "ccId": 1, "vdn": 1, **f}
        return event | ({"callId": call} if call else {})

    api.ingest_ok([
        *(e(n, "agent.login", 0, None, agentId=a, skills=[7]) for n, a in ((1, 1001), (2, 1002), (3, 1003))),
        *(event for i, call in enumerate(("1700000000-1", "1700000000-2")) for event in (
            e(10 + 5 * i, "call.arrive", 1 + i, call, caller="12345", called="650550"),
            e(11 + 5 * i, "call.alert", 2 + 50 * i, call, agentId=1002),
            e(12 + 5 * i, "call.answer", 3 + 50 * i, call, agentId=1002),
            e(13 + 5 * i, "call.release", 30 + 50 * i, call, by="customer"),
        )),
        e(30, "call.originate", 5, "1700000000-3", caller="650550", called="555000", agentId=1003, campaign="manual"),
        e(31, "call.answer", 7, "1700000000-3", party="customer"),
        e(32, "call.release", 20, "1700000000-3", by="agent", agentId=1003),
        e(40, "call.arrive", 200, "1700000000-4", caller="777", called="650550"),
        e(41, "call.alert", 201, "1700000000-4", agentId=1001),
    ])  # fmt: skip
    return t


def test_cms_call_data_methods(tmp_path: Path) -> None:
    with running_server(tmp_path) as running:
        t = _calldata_server(Api(running))
        now = time.time_ns() // 1_000_000
        cms = CmsClient(running.url, "ak-all", "sk-all")
        page = cms.vdn_calls(1, t, now, limit=1)
        assert isinstance(page, VdnCallPage) and page.count == 2 and len(page.data) == 1
        first = page.data[0]
        assert (first.callId, first.callType, first.vdn, first.mediaType) == ("1700000000-1", 0, 1, 5)
        assert isinstance(first.callEnd, int) and first.callEnd == t + 30_000
        assert [c.callId for c in cms.vdn_calls_all(1, t, now, limit=1)] == ["1700000000-1", "1700000000-2"]
        assert [c.callId for c in cms.vdn_calls(1, t, now, inbound=False).data] == ["1700000000-3"]
        v1 = cms.vdn_calls(1, t, now, v1=True, inbound=False).data  # v1: inbound calls only
        assert [c.callId for c in v1] == ["1700000000-1", "1700000000-2"]
        assert cms.vdn_calls(1, t, now, caller="999").count == 0
        record = cms.call_record("1700000000-1")
        assert isinstance(record, CallRecord)
        assert (record.agentId, record.ackTime, record.callTime, record.beginTime) == (1002, 1, 27, None)
        assert cms.call_record("1700000000-3", inbound=False).callType == 7
        assert cms.is_processing_call(1, 1001) is True and cms.is_processing_call(1, 1002) is False
        with pytest.raises(CmsError) as early:
            cms.vdn_calls(1, now - now % DAY_MS - DAY_MS - 1, now)
        assert early.value.code == "0100002"
        with pytest.raises(CmsError) as gone:
            cms.call_record("1700000000-4")
        assert gone.value.code == "0100001"
        with pytest.raises(CmsError) as scope:
            CmsClient(running.url, "ak-vdn2", "sk-vdn2").vdn_calls(1, t, now)
        assert scope.value.code == "0101003"

        async def scenario() -> None:
            async with AsyncCmsClient(running.url, "ak-all", "sk-all") as acms:
                assert (await acms.vdn_calls(1, t, now)).count == 2
                assert [c.callId async for c in acms.vdn_calls_all(1, t, now, limit=1)] == [
                    "1700000000-1", "1700000000-2"]  # fmt: skip
                assert (await acms.call_record("1700000000-2")).callTime == 27
                assert await acms.is_processing_call(1, 1001) is True

        asyncio.run(scenario())


def test_call_data_commands(live: tuple[str, Path]) -> None:
    url, _ = live
    now = time.time_ns() // 1_000_000
    begin, end = str(now - now % DAY_MS - DAY_MS), str(now - now % DAY_MS + DAY_MS - 1)
    deadline = time.monotonic() + 30
    while not (found := CmsClient(url, "ak-all", "sk-all").vdn_calls(1, int(begin), int(end))).count:
        assert time.monotonic() < deadline, "no simulated call ended"
        time.sleep(0.5)
    listed = json.loads(ccdata("query", "vdn-calls", "--vdn", "1", "--begin", begin, "--end", end, "--limit", "2",
                               "--json", *creds(url)).stdout)  # fmt: skip
    assert listed["count"] >= found.count and len(listed["data"]) <= 2
    every = json.loads(ccdata("query", "vdn-calls", "--vdn", "1", "--begin", begin, "--end", end, "--all", "--v1",
                              "--json", *creds(url)).stdout)  # fmt: skip
    assert every["count"] == len(every["data"]) >= found.count
    table = ccdata("query", "vdn-calls", "--vdn", "1", "--begin", begin, "--end", end, *creds(url))
    assert table.returncode == 0 and " calls" in table.stdout
    call_id = found.data[0].callId
    record = json.loads(ccdata("query", "call-record", "--call", call_id, "--json", *creds(url)).stdout)
    assert record["callId"] == call_id and record["vdn"] == 1
    missing = ccdata("query", "call-record", "--call", call_id, "--outbound", *creds(url))
    assert missing.returncode == 1 and "0100001" in missing.stderr
    agent, _ = busy_agent(url)
    busy = ccdata("query", "is-processing", "--vdn", "1", "--agent", str(agent), "--json", *creds(url))
    assert busy.returncode == 0 and json.loads(busy.stdout) in (True, False)  # the call may end meanwhile
    early = ccdata("query", "vdn-calls", "--vdn", "1", "--begin", "2000-01-01", "--end", end, *creds(url))
    assert early.returncode == 1 and "0100002" in early.stderr


# --- CC-CMS real-time monitoring (issue 13) ------------------------------------------------------------------

TICKING = {"IDX_DURATION_SKILL_MAX_QUEUE_ACK"}  # seconds: may change between two requests
MONITOR = "/v1/openapi"


@pytest.fixture(scope="module")
def monitored(tmp_path_factory: pytest.TempPathFactory, mode: str) -> Iterator[Api]:
    """test_http_cms_monitoring's scenario: skill 7 has agents 1001-1005 (1001 talking, 1002 wrapping up, 1003 idle,
    1004 busy, 1005 resting), call -4 talking, call -5 waiting, call -1 answered in 5 s, call -2 abandoned."""
    from test_http_cms_monitoring import scenario

    with running_server(tmp_path_factory.mktemp("monitored")) as running:
        api = Api(running)
        api.ingest_ok(scenario(time.time_ns() // 1_000_000 - 200_000))
        yield api


def _quality_and_current(cms: CmsClient, skill: int) -> tuple[Any, Any]:
    """skill/servicequality and skill/currentcallstateinfo of one 5-minute interval pair (retried over a
    boundary)."""
    for _ in range(3):
        before = time.time_ns() // 1_000_000 // 300_000
        [quality] = cms.service_quality(1, [skill])
        [current] = cms.current_call_state(1, [skill])
        if time.time_ns() // 1_000_000 // 300_000 == before:
            break
    return quality, current


def test_cms_monitoring_methods(monitored: Api) -> None:
    url = monitored.running.url
    cms = CmsClient(url, "ak-all", "sk-all")
    [row] = cms.skill_indexes(1, [7], SKILL_INDEXES)
    [wire] = monitored.cms_ok(f"{MONITOR}/skill/rindex", {"ccId": 1, "vdn": 1, "skillIds": [7],
                                                          "indexIds": SKILL_INDEXES})  # fmt: skip
    assert isinstance(row, IndicatorRow) and row.id == 7
    assert list(row.values()) == SKILL_INDEXES
    assert {k: v for k, v in row.values().items() if k not in TICKING} == {
        i["id"]: i["val"] for i in wire["idxs"] if i["id"] not in TICKING
    }
    live = {"IDX_COUNT_REAL_AGENT_CONNECT": 1, "IDX_COUNT_REAL_AGENT_SET_IDLE": 1, "IDX_COUNT_REAL_AGENT_SET_BUSY": 1,
            "IDX_COUNT_REAL_AGENT_ACW": 1, "IDX_COUNT_REAL_AGENT_REST": 1, "IDX_COUNT_REAL_AGENT_STUDY": 0}  # fmt: skip
    assert {name: row.number(name) for name in live} == live
    assert (row.number("IDX_COUNT_REAL_SKILL_QUEUE"), row.number("IDX_COUNT_REAL_SKILL_HANDLE")) == (1, 1)
    assert row.number("IDX_COUNT_REAL_AGENT_SIGN_IN") == 5 and row.number("IDX_DURATION_SKILL_MAX_QUEUE_ACK") >= 89

    [state] = cms.skill_state_info(1, [7])
    assert isinstance(state, SkillStateInfo) and state.skillId == 7
    assert (state.callWaitNums, state.processingCallNums, state.agentLoginNums) == (1, 1, 5)
    assert (state.agentTalkingNums, state.agentIdleNums, state.agentSetBusyNums, state.agentRestNums) == (1, 1, 1, 1)
    assert state.totalCallNums == 2 + 1 + 1  # the day's two finished calls, one waiting, one handled
    [legacy] = cms.skill_state_info(1, [7], legacy=True)
    assert (legacy.agentSetbusyNums, legacy.callWaitNums) == (1, 1)

    assert cms.queued_calls(1, 7) == [QueuedCall("1700000000-5", 1, 0)]
    assert cms.queued_calls(1, 8) == []

    # Calls -1 (answered in 5 s) and -2 (abandoned after 30 s) of skill 7 ended 125 s and 150 s ago (their log
    # date): each is in servicequality's interval (the one holding now - 5 min) or in the current one, never both.
    quality, current = _quality_and_current(cms, 7)
    assert isinstance(quality, ServiceQuality) and quality.statStartTime % 300_000 == 0
    assert current.startTime == quality.statStartTime + 300_000
    assert quality.inCallNum + current.allCallCount == 2
    assert quality.connectedNum + current.cnnedCallCount == 1
    assert quality.callLostNum + current.abanCallCount == 1
    assert quality.in15sCallNum + current.cnnedIn20sCallCount == 1
    assert quality.inCallNum == quality.connectedNum + quality.callLostNum
    [wire_quality] = monitored.cms_ok(f"{MONITOR}/skill/servicequality", {"ccId": 1, "vdn": 1, "skillIds": [7]})
    if wire_quality["statStartTime"] == quality.statStartTime:
        assert msgspec.to_builtins(quality) == wire_quality

    statuses = cms.agent_status([1001, 1005, 1099])
    assert all(isinstance(s, AgentStatus) for s in statuses)
    assert [(s.agentId, s.currentState) for s in statuses] == [(1001, 5), (1005, 8), (1099, 0)]
    assert statuses[1].currentStateReason == 3 and statuses[2].logonTime == 4_294_967_295_000
    assert statuses[0].logonTime > 0 and statuses[0].currentStateTime >= 90

    [agent] = cms.agent_indexes(1, [1004], ["IDX_AGENT_PHONE", "IDX_AGENT_CURRENT_STATE", "IDX_AGENT_LOGIN_SKILLS"])
    assert agent.id == 1004
    assert agent.values() == {
        "IDX_AGENT_PHONE": "61004",
        "IDX_AGENT_CURRENT_STATE": 7,
        "IDX_AGENT_LOGIN_SKILLS": [7, 8],
    }

    indexes = ["IDX_COUNT_REAL_VDN_CALL", "IDX_COUNT_REAL_VDN_CONNECT", "IDX_COUNT_REAL_SKILL_QUEUE",
               "IDX_COUNT_REAL_AGENT_SIGN_IN", "IDX_COUNT_REAL_AGENT_REST"]  # fmt: skip
    [vdn] = cms.vdn_indexes([1], indexes)
    assert vdn.id == 1 and vdn.values() == dict(zip(indexes, [2, 1, 1, 5, 1], strict=True))

    [total] = cms.total_skill_status(1, [7])
    assert (total.queueSize, total.callId, total.loggedOnAgents, total.availAgents) == (1, "1700000000-5", 5, 1)
    assert cms.skill_overload(1, [7, 8]) == [
        SkillOverload(7, [QueueLoad(8, 1)]), SkillOverload(8, [QueueLoad(7, 1)])
    ]  # fmt: skip
    assert cms.agents_in_skill(1, [7]) == [SkillAgents(7, [1001, 1002, 1003, 1004, 1005])]

    with pytest.raises(CmsError) as scope:
        CmsClient(url, "ak-vdn2", "sk-vdn2").skill_state_info(1, [7])
    assert scope.value.code == "0101003"
    with pytest.raises(CmsError) as unknown:
        cms.skill_indexes(1, [7], ["IDX_NOPE"])
    assert unknown.value.code == "0100002"

    async def scenario() -> None:
        async with AsyncCmsClient(url, "ak-all", "sk-all") as acms:
            [arow] = await acms.skill_indexes(1, [7], ["IDX_COUNT_REAL_SKILL_QUEUE", "IDX_COUNT_REAL_AGENT_SIGN_IN"])
            assert arow.values() == {"IDX_COUNT_REAL_SKILL_QUEUE": "1", "IDX_COUNT_REAL_AGENT_SIGN_IN": "5"}
            [astate] = await acms.skill_state_info(1, [7])
            assert astate.callWaitNums == 1 and astate.totalCallNums == 4
            assert await acms.queued_calls(1, 7) == [QueuedCall("1700000000-5", 1, 0)]
            [aquality] = await acms.service_quality(1, [7])
            assert aquality.skillId == 7 and aquality.inCallNum <= 2
            assert [s.currentState for s in await acms.agent_status([1001, 1004])] == [5, 7]
            [aagent] = await acms.agent_indexes(1, [1005], ["IDX_AGENT_CURRENT_STATE"])
            assert aagent.values() == {"IDX_AGENT_CURRENT_STATE": 8}
            [avdn] = await acms.vdn_indexes([1], ["IDX_COUNT_REAL_SKILL_QUEUE"])
            assert avdn.number("IDX_COUNT_REAL_SKILL_QUEUE") == 1
            assert (await acms.total_skill_status(1, [8]))[0].queueSize == 0
            assert (await acms.current_call_state(1, [7]))[0].id == 7
            assert len(await acms.skill_overload(1, [7])) == 1
            assert (await acms.agents_in_skill(1, [8]))[0].agentIds == [1001, 1002, 1003, 1004, 1005]

    asyncio.run(scenario())


def test_monitoring_commands(monitored: Api) -> None:
    url = monitored.running.url
    rows = json.loads(ccdata("query", "skill-indexes", "--vdn", "1", "--skills", "7", "--json", *creds(url)).stdout)
    [row] = rows
    values = {i["id"]: i["val"] for i in row["idxs"]}
    assert row["id"] == 7 and list(values) == SKILL_INDEXES
    assert (values["IDX_COUNT_REAL_SKILL_QUEUE"], values["IDX_COUNT_REAL_AGENT_SIGN_IN"]) == ("1", "5")
    table = ccdata("query", "skill-indexes", "--vdn", "1", "--skills", "7,8", "--indexes",
                   "IDX_COUNT_REAL_SKILL_QUEUE,IDX_COUNT_REAL_AGENT_REST", *creds(url))  # fmt: skip
    assert table.returncode == 0 and "IDX_COUNT_REAL_AGENT_REST" in table.stdout
    assert "IDX_COUNT_REAL_AGENT_SIGN" not in table.stdout
    [state] = json.loads(ccdata("query", "skill-state", "--vdn", "1", "--skills", "7", "--json", *creds(url)).stdout)
    assert (state["skillId"], state["callWaitNums"], state["agentLoginNums"], state["totalCallNums"]) == (7, 1, 5, 4)
    shown = ccdata("query", "skill-state", "--vdn", "1", "--skills", "7", "--legacy", *creds(url))
    assert shown.returncode == 0 and "agentSetbusyNums" in shown.stdout
    queued = json.loads(ccdata("query", "queued-calls", "--vdn", "1", "--skill", "7", "--json", *creds(url)).stdout)
    assert queued == [{"callId": "1700000000-5", "customerLevel": 1, "requestType": 0}]
    empty = ccdata("query", "queued-calls", "--vdn", "1", "--skill", "8", *creds(url))
    assert empty.returncode == 0 and "none" in empty.stdout
    [quality] = json.loads(ccdata("query", "service-quality", "--vdn", "1", "--skills", "7", "--json",
                                  *creds(url)).stdout)  # fmt: skip
    assert quality["skillId"] == 7 and quality["statStartTime"] % 300_000 == 0
    assert quality["inCallNum"] == quality["connectedNum"] + quality["callLostNum"] <= 2
    table = ccdata("query", "service-quality", "--vdn", "1", "--skills", "7,8", *creds(url))
    assert table.returncode == 0 and "inCallNum" in table.stdout
    statuses = json.loads(ccdata("query", "agent-status", "--agents", "1001,1005", "--json", *creds(url)).stdout)
    assert [(s["agentId"], s["currentState"]) for s in statuses] == [(1001, 5), (1005, 8)]
    [agent] = json.loads(ccdata("query", "agent-indexes", "--vdn", "1", "--agents", "1004", "--json",
                                *creds(url)).stdout)  # fmt: skip
    assert {i["id"]: i["val"] for i in agent["idxs"]}["IDX_AGENT_PHONE"] == "61004"
    vdn = ccdata("query", "vdn-indexes", "--vdns", "1", "--indexes", "IDX_COUNT_REAL_SKILL_QUEUE", *creds(url))
    assert vdn.returncode == 0 and "IDX_COUNT_REAL_SKILL_QUEUE" in vdn.stdout
    refused = ccdata("query", "skill-state", "--vdn", "1", "--skills", "7", "--url", url, "--ak", "ak-vdn2",
                     "--sk", "sk-vdn2")  # fmt: skip
    assert refused.returncode == 1 and "0101003" in refused.stderr
