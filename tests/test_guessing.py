"""Guessing is limited the way CEC does it: failed sign-ins lock the agent and the source address, bad signatures
lock the address (CC-FS's 403), tokenByAkSk is rate-limited and locks on wrong secrets; every lock is logged."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from server import Api, running_server

AGENT_CALLS = "/v1/openapi/agent/queryagentcalls"
BODY = {"ccId": 1, "vdn": 1, "agentId": 1001}
LIMITS = """
[limits]
sign_in_failures_per_agent = 5
sign_in_failures_per_address = 8
cms_auth_failures_per_address = 4
token_failures_per_address = 3
token_rate_per_s = 1
token_burst = 6
max_tokens_per_app = 2
failure_window_s = 60
lock_s = 2
"""


@pytest.fixture
def api(tmp_path: Path) -> Iterator[Api]:
    with running_server(tmp_path, extra=LIMITS) as running:
        yield Api(running)


def test_failed_sign_ins_lock_the_agent_until_the_lock_expires(api: Api, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, "ccdata.security")
    answers = [api.sign_in(1001, password=f"guess-{n}").json()["retcode"] for n in range(5)]
    assert answers == ["100-004"] * 5
    locked = api.sign_in(1001)  # the right password
    assert locked.json()["retcode"] == "000-007" and "set-guid" not in locked.headers
    assert "locked" in locked.json()["message"]
    assert api.sign_in(1001, force=True).json()["retcode"] == "000-007"
    assert api.sign_in(1002).json()["retcode"] == "0"  # another agent is not locked
    assert any("agent 1001 locked" in r.getMessage() for r in caplog.records), caplog.text
    time.sleep(2.1)
    assert api.sign_in(1001).json()["retcode"] == "0"


def test_failed_sign_ins_from_one_address_lock_the_address(api: Api, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, "ccdata.security")
    for n in range(8):  # spread over agents, so no agent reaches its own limit
        assert api.sign_in(1001 + n % 3, password="wrong").json()["retcode"] in ("100-004", "000-007")
    assert api.sign_in(2001, password="secret-2").json()["retcode"] == "100-016"
    assert any("address 127.0.0.1 locked" in r.getMessage() for r in caplog.records), caplog.text
    time.sleep(2.1)
    assert api.sign_in(2001, password="secret-2").json()["retcode"] == "0"


def test_a_successful_sign_in_clears_the_count(api: Api) -> None:
    for _ in range(4):
        api.sign_in(1003, password="wrong")
    assert api.sign_in(1003).json()["retcode"] == "0"
    api.gateway("DELETE", "/onlineagent/1003/logout", 1003)
    for _ in range(4):
        assert api.sign_in(1003, password="wrong").json()["retcode"] == "100-004"
    assert api.sign_in(1003).json()["retcode"] == "0"


def test_bad_signatures_lock_the_address_with_403(api: Api, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, "ccdata.security")
    unknown = api.cms(AGENT_CALLS, BODY, ak="nobody").json()["message"]
    wrong = api.cms(AGENT_CALLS, BODY, sk="wrong").json()["message"]
    assert unknown == wrong  # an access key cannot be told from a wrong signature
    for _ in range(2):
        assert api.cms(AGENT_CALLS, BODY, sk="wrong").status_code == 401
    refused = api.cms(AGENT_CALLS, BODY)  # correctly signed, but from a locked address
    assert refused.status_code == 403 and refused.json()["error"] == "Forbidden"
    assert int(refused.headers["retry-after"]) >= 1
    assert any("CC-CMS: address 127.0.0.1 locked" in r.getMessage() for r in caplog.records)
    time.sleep(2.1)
    assert api.cms(AGENT_CALLS, BODY).json()["resultCode"] == "0100000"


def test_token_by_ak_sk_locks_on_wrong_secrets_and_is_rate_limited(api: Api) -> None:
    for _ in range(3):
        assert api.token(secret="guess").status_code == 401
    locked = api.token()
    assert locked.status_code == 429 and int(locked.headers["retry-after"]) >= 1
    time.sleep(2.1)
    statuses = [api.token().status_code for _ in range(8)]
    assert statuses[:2] == [200, 200] and 429 in statuses  # burst 6, of which 4 went to the failures above
    limited = api.token()
    assert limited.status_code == 429 and limited.headers["retry-after"] == "1"


def test_live_tokens_per_app_are_capped(api: Api) -> None:
    first, second, third = (api.token().json()["AccessToken"] for _ in range(3))
    query = {"subCcNo": "1", "vdn": "1", "callId": "x"}
    assert api.results(query, token=first).status_code == 401  # revoked: max_tokens_per_app = 2
    assert api.results(query, token=second).status_code == 200
    assert api.results(query, token=third).status_code == 200


def test_a_stale_request_is_refused_before_the_key_is_looked_at(api: Api) -> None:
    stale = datetime(2020, 1, 1, tzinfo=UTC)
    assert "away from the server's clock" in api.cms(AGENT_CALLS, BODY, ak="nobody", moment=stale).json()["message"]
    assert "away from the server's clock" in api.cms(AGENT_CALLS, BODY, moment=stale).json()["message"]
