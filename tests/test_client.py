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

import httpx
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
from server import TEST_CONFIG, running_server

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
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
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
