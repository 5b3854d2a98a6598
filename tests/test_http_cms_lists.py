"""CC-CMS interfaces derived from configuration and live state (skill, agent and VDN lists) over real sockets:
the keys and JSON types of each reference table/example, and figures that agree with the live state fed."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import pytest
from click.testing import CliRunner

from ccdata.api import cms, cms_agents, cms_monitoring, cms_skills, cms_vdn
from ccdata.cli import main as _registered  # noqa: F401  (registers every query command)
from ccdata.cli_query import query
from ccdata.client import AsyncCmsClient, CmsClient, CmsError
from server import Api, running_server
from test_http_cms_monitoring import NOW, event, scenario
from test_http_golden import assert_shape

OPEN = "/v1/openapi"
VDN1 = {"ccId": 1, "vdn": 1}
STATE_COUNTS = dict.fromkeys(
    ["workSubStateBegin", "lateAdjust", "usable", "rest", "studying", "setBusy", "occupy", "idle", "preoccupy",
     "answering", "talking", "loginEd"], 0,
)  # fmt: skip
BY_SKILL = {**STATE_COUNTS, "notlogined": 0, "callOut": 0}
CONFIGURED_AGENT = {
    "workNo": 1001, "name": "n", "status": 4, "ctiStatus": 1, "groupId": -1, "mediaType": 5, "vdnId": 1,
    "phoneNumber": "61001", "currentStateTime": 0, "loginDate": 1611714900000,
}  # fmt: skip
SKILL_CONFIG = dict.fromkeys(
    ["skillId", "maxCallNum", "maxHoldCallNum", "maxWaitTime", "maxAnswerWaitTime", "maxTalkTime", "maxRestAgentNum",
     "maxAgentWrapupTime"], 0,
)  # fmt: skip
QUEUED = {
    "callId": "1-1", "customerLevel": 1, "requestType": 0, "calling": "1", "called": "1",
    "mediaType": "MEDIA_TYPE_PHONE", "orgiCalled": "", "callInTime": 1611714900000, "callPriority": 0,
    "waitTime": 0, "callQueueFlag": 1,
}  # fmt: skip
# `phoneNumber` is a String, null in the example (an agent with no phone).
BY_WORK_NO = {
    "workNo": 1001, "vdnId": 1, "citStatus": 5, "name": "n", "phoneNumber": "1", "loginDate": 1611714900000,
    "currentStateTime": 0, "mediaType": 5, "status": 7,
}  # fmt: skip
ABSTRACT = {"agentId": 1001, "currentState": 1, "currentStateTime": 0, "locationId": 65535}


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory, mode: str) -> Iterator[Api]:
    t = NOW - 200_000
    ivr = [event(900, "call.arrive", t + 150_000, callId="1700000000-9", caller="88880000", called="650550"),
           event(901, "call.ivr", t + 150_000, callId="1700000000-9", flowId="3")]  # fmt: skip
    with running_server(tmp_path_factory.mktemp("lists")) as running:
        client = Api(running)
        client.ingest_ok(sorted(scenario(t) + ivr, key=lambda e: e["at"]))
        yield client


def ok(api: Api, path: str, body: dict[str, Any]) -> Any:
    return api.cms_ok(f"{OPEN}/{path}", body)


# --- skills ---


def test_agent_status_by_skill(api: Api) -> None:
    counts = ok(api, "skill/agentstatusbyskill", {**VDN1, "skillIds": [7]})
    assert_shape(counts, BY_SKILL)
    assert set(counts) == set(BY_SKILL)
    assert counts == {**BY_SKILL, "loginEd": 5, "talking": 1, "workSubStateBegin": 1, "idle": 1, "usable": 1,
                      "setBusy": 1, "rest": 1}  # fmt: skip
    exact = ok(api, "skill/agentstatusbyskill", {"queryParam": {**VDN1, "skillIds": "[7]", "isSkillAllMatch": "true"}})
    assert exact["loginEd"] == 0  # every agent has skills 7 and 8
    assert ok(api, "skill/agentstatusbyskill", {**VDN1, "skillIds": [7, 8], "isSkillAllMatch": "true"})["loginEd"] == 5
    bad = api.cms(f"{OPEN}/skill/agentstatusbyskill", {**VDN1, "skillIds": [7], "isSkillAllMatch": "yes"})
    assert bad.json()["resultCode"] == "0100002"


def test_agents_by_configured_skill(api: Api) -> None:
    agents = ok(api, "skill/agentbyconfigedskill", {"queryParam": {**VDN1, "skillId": 7}})
    for agent in agents:
        assert set(agent) == set(CONFIGURED_AGENT)
        assert_shape(agent, CONFIGURED_AGENT)
    # The configured agents of skill 7 (1001-1003): talking, wrapping up, idle.
    assert [(a["workNo"], a["ctiStatus"], a["status"]) for a in agents] == [(1001, 5, 7), (1002, 6, 5), (1003, 1, 4)]
    assert agents[0]["phoneNumber"] == "61001" and agents[0]["loginDate"] == NOW - 200_000


def test_skill_config_info(api: Api) -> None:
    rows = ok(api, "skill/skillcfginfo", {**VDN1, "skillIds": [7, 8, 99]})
    assert [r["skillId"] for r in rows] == [7, 8]  # 99 is not a skill of the VDN
    for row in rows:
        assert row == {**SKILL_CONFIG, "skillId": row["skillId"]}


def test_batch_multi_skill(api: Api) -> None:
    rows = ok(api, "skill/batchmultiskill", {**VDN1, "skillIds": [7, 8]})
    assert [(r["skillId"], len(r["callPropertyExs"])) for r in rows] == [(7, 1), (8, 0)]
    [queued] = rows[0]["callPropertyExs"]
    assert set(queued) == set(QUEUED)
    assert_shape(queued, QUEUED)
    assert (queued["callId"], queued["calling"], queued["called"]) == ("1700000000-5", "88881363", "650550")
    assert queued["callInTime"] == NOW - 200_000 + 110_000 and queued["waitTime"] >= 89


# --- agents ---


def test_team_agent_status(api: Api) -> None:
    counts = ok(api, "agentgroup/teamagentstatusinfo", {"agentIds": [1001, 1004, 1005, 1099]})
    assert set(counts) == set(STATE_COUNTS)
    assert counts == {**STATE_COUNTS, "loginEd": 3, "talking": 1, "setBusy": 1, "rest": 1}


def test_agent_by_work_no(api: Api) -> None:
    agent = ok(api, "agent/agentbyworkno", {"queryParam": {"agentId": 1001}})
    assert set(agent) == set(BY_WORK_NO)
    assert_shape(agent, BY_WORK_NO, nullable=frozenset({"phoneNumber"}))
    assert (agent["citStatus"], agent["status"], agent["phoneNumber"]) == (5, 7, "61001")
    configured_only = ok(api, "agent/agentbyworkno", {"agentId": 2001})  # configured in VDN 2, never signed in
    assert (configured_only["citStatus"], configured_only["phoneNumber"], configured_only["loginDate"]) == (0, None, 0)
    assert api.cms(f"{OPEN}/agent/agentbyworkno", {"agentId": 1777}).json()["resultCode"] == "0100001"
    other = api.cms(f"{OPEN}/agent/agentbyworkno", {"agentId": 1001}, ak="ak-vdn2", sk="sk-vdn2")
    assert other.json()["resultCode"] == "0100001"  # not in that key's VDNs


def test_system_state(api: Api) -> None:
    whole = ok(api, "agentgroup/systemstate", {**VDN1, "offset": 0, "limit": 100})
    assert whole == {"busyAgent": 1, "talkingNum": 1, "idleAgent": 1, "totalLoginAgent": 5}
    first = ok(api, "agentgroup/systemstate", {"queryParam": {**VDN1, "offset": 0, "limit": 2}})  # 1001, 1002
    assert first == {"busyAgent": 0, "talkingNum": 1, "idleAgent": 0, "totalLoginAgent": 2}
    assert api.cms(f"{OPEN}/agentgroup/systemstate", VDN1).json()["resultCode"] == "0100002"  # paging required


def test_agent_skills(api: Api) -> None:
    rows = ok(api, "agentgroup/siteagentcallandskillinfobyagentids", {**VDN1, "agentIds": [1001, 1099]})
    assert rows == [
        {"agentId": 1001, "skills": [{"skillId": 7, "isLogin": 1}, {"skillId": 8, "isLogin": 1}]},
        {"agentId": 1099, "skills": []},
    ]


# --- VDN ---


def test_vdn_agent_lists(api: Api) -> None:
    body = api.cms(f"{OPEN}/vdn/totalagentabstractex3", {**VDN1, "offset": 1, "limit": 2}).json()
    assert set(body) == {"result", "resultCode", "resultDatas", "resultDesc", "count"}
    assert body["count"] == 5 and [r["agentId"] for r in body["resultDesc"]] == [1002, 1003]
    for row in body["resultDesc"]:
        assert set(row) == set(ABSTRACT)
        assert_shape(row, ABSTRACT)
    every = ok(api, "vdn/querytotalagentinfo", VDN1)
    assert [(r["agentId"], r["currentState"]) for r in every] == [(1001, 5), (1002, 6), (1003, 1), (1004, 7), (1005, 8)]
    states = ok(api, "vdn/totalagentstate", VDN1)
    assert states == [{"agentId": r["agentId"], "state": r["currentState"]} for r in every]
    dynamic = api.cms(f"{OPEN}/vdn/totalagentdynamicinfo", {**VDN1, "limit": 100}).json()
    assert (dynamic["count"], dynamic["resultDesc"]) == (5, states)
    too_many = api.cms(f"{OPEN}/vdn/totalagentdynamicinfo", {**VDN1, "limit": 101}).json()
    assert too_many["resultCode"] == "0100002"


def test_all_agent_phones(api: Api) -> None:
    body = api.cms(f"{OPEN}/vdn/allagentphones", VDN1).json()
    assert body["count"] == 5
    assert body["resultDesc"][0] == {"agentId": 1001, "phone": "61001"}
    assert all(isinstance(r["phone"], str) for r in body["resultDesc"])


def test_configured_skills(api: Api) -> None:
    skills = ok(api, "configures/skills", {"queryParam": VDN1})
    assert skills == [
        {"id": 7, "mediaType": 5, "submediaType": "-1", "name": "defaultAudioSkill"},
        {"id": 8, "mediaType": 5, "submediaType": "-1", "name": "billingVoice"},
    ]


def test_ivr_status(api: Api) -> None:
    assert ok(api, "vdn/queryivrstatusinfo", {**VDN1, "flowId": 3}) == [
        {"callId": "1700000000-9", "customerLevel": 1, "requestType": 0}
    ]
    assert ok(api, "vdn/queryivrstatusinfo", {**VDN1, "flowId": 4}) == []
    assert api.cms(f"{OPEN}/vdn/queryivrstatusinfo", {**VDN1, "flowId": 1501}).json()["resultCode"] == "0100002"


def test_agents_by_status(api: Api) -> None:
    body = api.cms(f"{OPEN}/vdn/queryAgentByStatus", {"ccId": "1", "vdn": "1", "offset": 0, "limit": 10}).json()
    assert set(body) == {"returnCode", "data", "description"}
    assert (body["returnCode"], body["description"]) == ("0", "success")
    assert [a["agentId"] for a in body["data"]] == [1001, 1002, 1003, 1004, 1005]
    for row in body["data"]:
        assert_shape(row, ABSTRACT)
    resting = api.cms(f"{OPEN}/vdn/queryAgentByStatus", {**VDN1, "status": "8", "offset": 0, "limit": 10}).json()
    assert [a["agentId"] for a in resting["data"]] == [1005]
    bad = api.cms(f"{OPEN}/vdn/queryAgentByStatus", {**VDN1, "offset": 0, "limit": 1001}).json()
    assert set(bad) == {"returnCode", "data", "description"} and bad["returnCode"] == "0100002"
    foreign = api.cms(f"{OPEN}/vdn/queryAgentByStatus", {**VDN1, "offset": 0, "limit": 1}, ak="ak-vdn2", sk="sk-vdn2")
    assert foreign.json()["returnCode"] == "0101003"


# --- the SDK, sync and async, against the same server ---


def test_sdk_typed_results(api: Api) -> None:
    cms = CmsClient(api.running.url, "ak-all", "sk-all")
    t = NOW - 200_000
    assert cms.agent_counts_by_skill(1, [7]).loginEd == 5
    assert cms.agent_counts_by_skill(1, [7], exact=True).loginEd == 0
    assert [a.workNo for a in cms.skill_agents(1, 7)] == [1001, 1002, 1003]
    assert [c.skillId for c in cms.skill_config(1, [7, 99])] == [7]
    assert cms.skill_queues(1, [7])[0].callPropertyExs[0].callId == "1700000000-5"
    assert cms.team_counts([1001, 1004]).setBusy == 1
    assert cms.agent_info(1001).citStatus == 5
    assert cms.system_state(1, 0, 100).totalLoginAgent == 5
    assert cms.agent_skills(1, [1001])[0].skills[0].isLogin == 1
    page = cms.agent_states(1, offset=1, limit=2)
    assert (page.count, [r.agentId for r in page.rows]) == (5, [1002, 1003])
    assert len(cms.all_agent_states(1)) == 5 and len(cms.all_agent_state_rows(1)) == 5
    assert cms.agent_state_page(1, limit=1).count == 5
    assert cms.agent_phones(1).rows[0].phone == "61001"
    assert [s.name for s in cms.configured_skills(1)] == ["defaultAudioSkill", "billingVoice"]
    assert [c.callId for c in cms.ivr_calls(1, 3)] == ["1700000000-9"]
    assert [a.agentId for a in cms.agents_by_status(1, status=8, limit=10)] == [1005]
    with pytest.raises(CmsError) as refused:
        cms.agents_by_status(1, limit=1001)
    assert refused.value.code == "0100002"
    quarter = 15 * 60_000
    begin = t - t % quarter
    assert isinstance(cms.agent_operations(1001, begin, begin + 4 * quarter), list)

    async def twin() -> None:
        async with AsyncCmsClient(api.running.url, "ak-all", "sk-all") as acms:
            assert (await acms.agent_states(1)).count == 5
            assert (await acms.agent_counts_by_skill(1, [7])).talking == 1
            assert [a.agentId for a in await acms.agents_by_status(1, status=8)] == [1005]

    asyncio.run(twin())


# --- ccdata query (in process: the same click commands the console script runs) ---

COMMANDS = [
    (["total-skill-status", "--vdn", "1", "--skills", "7"], lambda r: r[0]["queueSize"] == 1),
    (["current-call-state", "--vdn", "1", "--skills", "7"], lambda r: r[0]["id"] == 7),
    (["skill-overload", "--vdn", "1", "--skills", "7"], lambda r: r[0]["overloadDetails"][0]["queueId"] == 8),
    (["skill-config", "--vdn", "1", "--skills", "7,8"], lambda r: [c["skillId"] for c in r] == [7, 8]),
    (["skill-queues", "--vdn", "1", "--skills", "7"], lambda r: len(r[0]["callPropertyExs"]) == 1),
    (["agent-counts", "--vdn", "1", "--skills", "7"], lambda r: r["loginEd"] == 5),
    (["agent-counts", "--agents", "1001,1004"], lambda r: (r["talking"], r["setBusy"]) == (1, 1)),
    (["skill-agents", "--vdn", "1", "--skill", "7"], lambda r: len(r) == 3),
    (["agent-info", "--agent", "1005"], lambda r: r["citStatus"] == 8),
    (["system-state", "--vdn", "1"], lambda r: r["totalLoginAgent"] == 5),
    (["agent-skills", "--vdn", "1", "--agents", "1001"], lambda r: len(r[0]["skills"]) == 2),
    (["agent-states", "--vdn", "1", "--limit", "2"], lambda r: r["count"] == 5 and len(r["rows"]) == 2),
    (["agent-states", "--vdn", "1", "--all"], lambda r: len(r) == 5),
    (["agent-state-codes", "--vdn", "1"], lambda r: r["count"] == 5),
    (["agent-state-codes", "--vdn", "1", "--all"], lambda r: r[4] == {"agentId": 1005, "state": 8}),
    (["agent-phones", "--vdn", "1"], lambda r: r["rows"][0] == {"agentId": 1001, "phone": "61001"}),
    (["skills", "--vdn", "1"], lambda r: [s["id"] for s in r] == [7, 8]),
    (["ivr-calls", "--vdn", "1", "--flow", "3"], lambda r: r[0]["callId"] == "1700000000-9"),
    (["agents-by-status", "--vdn", "1", "--status", "7"], lambda r: [a["agentId"] for a in r] == [1004]),
]


@pytest.mark.parametrize(("args", "check"), COMMANDS, ids=[" ".join(c[0][:2]) for c in COMMANDS])
def test_query_commands(api: Api, args: list[str], check: Any) -> None:
    creds = ["--url", api.running.url, "--ak", "ak-all", "--sk", "sk-all"]
    shown = CliRunner().invoke(query, [*args, *creds])
    assert shown.exit_code == 0, shown.output
    result = CliRunner().invoke(query, [*args, "--json", *creds])
    assert result.exit_code == 0, result.output
    assert check(json.loads(result.output)), result.output


def test_agent_operations_command(api: Api) -> None:
    t = NOW - 200_000
    begin = t - t % 900_000
    args = ["agent-operations", "--agent", "1004", "--begin", str(begin), "--end", str(begin + 4 * 900_000)]
    result = CliRunner().invoke(query, [*args, "--json", "--url", api.running.url, "--ak", "ak-all", "--sk", "sk-all"])
    assert result.exit_code == 0, result.output
    kinds = [r["operateType"] for r in json.loads(result.output)]
    assert kinds[:2] == [1, 2]  # signed in, then idle until busy
    refused = CliRunner().invoke(query, ["agent-counts", "--skills", "7", "--url", api.running.url])
    assert refused.exit_code == 2 and "--vdn" in refused.output


def test_every_cms_route_is_in_the_openapi_document(api: Api) -> None:
    spec = api.http.get("/openapi.json").json()["paths"]
    service = api.running.service
    routes = [
        r.path for module in (cms, cms_monitoring, cms_agents, cms_skills, cms_vdn) for r in module.routes(service)
    ]
    assert len(routes) == 40  # 11 call data, 12 wallboard, 17 lists (this issue)
    assert [path for path in routes if path not in spec] == []
