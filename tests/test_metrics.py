"""`GET /metrics` over a real socket: every figure equals the events fed and the requests made."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from server import Api, running_server

CMS_AGENT_CALLS = "/v1/openapi/agent/queryagentcalls"  # under /rest/cmsapp


def scrape(api: Api, **headers: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of the exposition, parsed by the Prometheus client's own parser: (name, labels) -> value."""
    response = api.http.get("/metrics", headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain; version=")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def value(samples: dict, name: str, **labels: str) -> float | None:
    return samples.get((name, tuple(sorted(labels.items()))))


class Feed:
    def __init__(self) -> None:
        self.t0 = time.time_ns() // 1_000_000 - 60_000
        self.n = 0

    def __call__(self, type_: str, offset_s: float, vdn: int = 1, **fields: Any) -> dict[str, Any]:
        self.n += 1
        at = self.t0 + int(offset_s * 1000)
        return {"id": f"m-{self.n}", "type": type_, "at": at, "ccId": 1, "vdn": vdn, **fields}


@pytest.fixture
def api(tmp_path: Path) -> Iterator[Api]:
    with running_server(tmp_path) as running:
        yield Api(running)


def test_event_counts_log_position_lag_and_live_state_equal_what_was_fed(api: Api) -> None:
    feed = Feed()
    login = [feed("agent.login", 0, agentId=a, skills=[7], phone=f"6{a}") for a in (1001, 1002, 1003)]
    calls = [
        feed("call.arrive", 1, callId="c-1", caller="1380", called="650550"),
        feed("call.queue", 2, callId="c-1", skillId=7),
        feed("call.alert", 3, callId="c-1", agentId=1001),
        feed("call.answer", 4, callId="c-1", agentId=1001),
        feed("call.arrive", 5, callId="c-2", caller="1381", called="650550"),
        feed("agent.state", 6, agentId=1003, state="busy"),
        feed("agent.login", 7, vdn=2, agentId=2001, skills=[11], phone="62001"),
    ]
    api.ingest_ok(login + calls)
    api.ingest_ok(login)  # sent again: three duplicates
    bad = [{"id": "bad-1", "type": "call.arrive"}, feed("call.answer", 8, callId="nowhere", agentId=1002)]
    report = api.ingest(bad).json()
    assert report["rejected"] == 2
    samples = scrape(api)
    assert value(samples, "ccdata_events_total", outcome="accepted") == 10
    assert value(samples, "ccdata_events_total", outcome="duplicate") == 3
    assert value(samples, "ccdata_events_total", outcome="rejected") == 2
    for reason, count in report["reasons"].items():
        assert value(samples, "ccdata_events_rejected_total", reason=reason) == count
    # The embedded log holds the accepted events; the shared log every valid one, the engine deciding on each in
    # log order on every node: the answer to an unknown call is at position 11 there.
    assert value(samples, "ccdata_event_log_position") == (11 if api.running.mode == "distributed" else 10)
    assert value(samples, "ccdata_failed_commits_total") == 0
    assert value(samples, "ccdata_store_writable") == 1
    lag = value(samples, "ccdata_ingest_lag_seconds", cc_id="1")
    assert lag is not None and 53 <= lag <= 53 + 30  # the latest event is 7 s after t0, a minute ago
    silence = value(samples, "ccdata_seconds_since_last_event", cc_id="1")
    assert silence is not None and 0 <= silence < 30
    assert value(samples, "ccdata_live_calls", cc_id="1", vdn="1") == 2
    agents = {
        dict(labels)["state"]: v
        for (name, labels), v in samples.items()
        if name == "ccdata_agents" and ("vdn", "1") in labels
    }
    assert {state: n for state, n in agents.items() if n} == {"talking": 1, "idle": 1, "busy": 1}
    assert value(samples, "ccdata_agents", cc_id="1", vdn="2", state="idle") == 1
    assert value(samples, "ccdata_task_restarts_total", task="stale-calls") == 0


def test_requests_are_counted_per_interface_template_status_and_business_code(api: Api) -> None:
    before = scrape(api)
    for _ in range(3):
        api.cms_ok(CMS_AGENT_CALLS, {"ccId": 1, "vdn": 1, "agentId": 1001})
    api.cms(CMS_AGENT_CALLS, {"ccId": 1, "vdn": 9, "agentId": 1001})  # 0101003: VDN out of scope, HTTP 200
    api.cms(CMS_AGENT_CALLS, {"ccId": 1, "vdn": 1, "agentId": 1001}, sk="wrong")  # 401, no business code
    for agent in (1001, 1002):  # one route template, two raw paths
        assert api.sign_in(agent).json()["retcode"] == "0"
    api.sign_in(1003, password="wrong")
    api.http.get("/no/such/path")
    after = scrape(api)

    def counted(name: str, interface: str, method: str, status: str, code: str) -> float:
        labels = {"interface": interface, "method": method, "status": status, "code": code}
        return (value(after, name, **labels) or 0) - (value(before, name, **labels) or 0)

    agent_calls = "/rest/cmsapp" + CMS_AGENT_CALLS
    sign_in = "/agentgateway/resource/onlineagent/{agentid}"
    wrong_password = api.sign_in(1003, password="wrong").json()["retcode"]
    expected = {
        (agent_calls, "POST", "200", "0100000"): 3,
        (agent_calls, "POST", "200", "0101003"): 1,
        (agent_calls, "POST", "401", ""): 1,
        (sign_in, "PUT", "200", "0"): 2,
        (sign_in, "PUT", "200", wrong_password): 1,
        ("unmatched", "GET", "404", ""): 1,
        ("/metrics", "GET", "200", ""): 1,  # the first scrape
    }
    for labels, count in expected.items():
        assert counted("ccdata_http_requests_total", *labels) == count, labels
        assert counted("ccdata_http_request_duration_seconds_count", *labels) == count, labels
        sum_ = counted("ccdata_http_request_duration_seconds_sum", *labels)
        assert 0 < sum_ < 10 * count, labels
    interfaces = {dict(labels)["interface"] for name, labels in after if name == "ccdata_http_requests_total"}
    assert not any("1001" in i or "/no/such" in i for i in interfaces), interfaces  # templates only


def test_a_token_is_required_when_configured(tmp_path: Path) -> None:
    with running_server(tmp_path, extra='\n[metrics]\ntoken = "scrape-me"\n') as running:
        api = Api(running)
        for headers in ({}, {"Authorization": "Bearer nope"}, {"Authorization": "Basic scrape-me"}):
            refused = api.http.get("/metrics", headers=headers)
            assert refused.status_code == 401
            assert refused.json()["message"] == "the metrics Bearer token is missing or wrong"
        assert value(scrape(api, Authorization="bearer scrape-me"), "ccdata_events_total", outcome="accepted") == 0


def _non_loopback_address() -> str:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.connect(("192.0.2.1", 9))  # no packet is sent: this only picks the interface a route would use
        address = probe.getsockname()[0]
    assert not address.startswith("127."), "this test needs a non-loopback IPv4 interface"
    return address


def test_without_a_token_only_loopback_peers_may_scrape(tmp_path: Path) -> None:
    address = _non_loopback_address()
    with running_server(tmp_path, bind="0.0.0.0") as running:
        port = running.url.rsplit(":", 1)[1]
        refused = httpx.get(f"http://{address}:{port}/metrics", timeout=10)
        assert refused.status_code == 403
        assert "loopback clients only" in refused.json()["message"]
        assert httpx.get(f"{running.url}/metrics", timeout=10).status_code == 200


def test_metrics_can_be_switched_off(tmp_path: Path) -> None:
    with running_server(tmp_path, extra="\n[metrics]\nenabled = false\n") as running:
        api = Api(running)
        assert api.http.get("/metrics").status_code == 404
        api.cms_ok(CMS_AGENT_CALLS, {"ccId": 1, "vdn": 1, "agentId": 1001})


def test_requests_are_counted_with_the_access_log_off(tmp_path: Path) -> None:
    with running_server(tmp_path, extra='\n[server]\naccess_log = "off"\n') as running:
        api = Api(running)
        api.cms_ok(CMS_AGENT_CALLS, {"ccId": 1, "vdn": 1, "agentId": 1001})
        labels = {"interface": "/rest/cmsapp" + CMS_AGENT_CALLS, "method": "POST", "status": "200", "code": "0100000"}
        assert value(scrape(api), "ccdata_http_requests_total", **labels) == 1
