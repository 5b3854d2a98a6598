"""A server on PostgreSQL and Redis answers as one on SQLite: the same events in, the same bytes out of the
DataProcess search and the CC-CMS call-data interfaces; its gateway sessions live in Redis."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import msgspec
import pytest

from backends import REDIS_URL, postgres_database, redis_prefix
from ccdata.sim.synthetic import synthetic_events
from ccdata.store.postgres import PostgresStore
from ccdata.store.redis_sessions import RedisSessionStore
from ccdata.store.sqlite import SqliteStore
from server import Api, running_server

HOUR = 3_600_000
START = time.time_ns() // 1_000_000 - 3 * HOUR  # CC-CMS answers about the last day only
EVENTS = [msgspec.to_builtins(e) for e in synthetic_events(4000, seed=5, agents=20, start=START)]


def answers(api: Api) -> dict[str, Any]:
    """What a CRM, a wallboard and a quality tool read after the feed: searches, pages, call tracks."""
    for start in range(0, len(EVENTS), 1000):
        api.ingest_ok(EVENTS[start : start + 1000])
    window = {"subCcNo": 1, "vdn": 1, "beginDate": START, "endDate": START + 3 * HOUR}
    token = api.token().json()["AccessToken"]
    first = api.results(window | {"limit": 1000}, token)
    assert first.status_code == 200, first.text
    results = first.json()["results"]
    assert len(results) > 100  # the feed made a day's worth of call results
    seen: dict[str, Any] = {"search": first.content}
    seen["page 2"] = api.results(window | {"limit": 50, "offset": 50}, token).content
    seen["by caller"] = api.results(window | {"callerNo": results[7]["callerNo"]}, token).content
    seen["by call"] = api.results({"subCcNo": 1, "vdn": 1, "callId": results[3]["callId"]}, token).content
    cms_window = {"ccId": 1, "vdn": 1, "beginDate": str(START), "endDate": str(START + 3 * HOUR)}
    page = cms_window | {"limit": 100, "offset": 10, "isCallIn": "true"}
    seen["querycalls v2"] = api.cms("/v2/openapi/vdn/querycalls", page).content
    for result in results[:: len(results) // 20]:
        call = {"ccId": 1, "vdn": 1, "callId": result["callId"]}
        seen[f"track {result['callId']}"] = api.cms(
            "/v1/openapi/vdn/querycalltracedetail", call | {"logDate": str(START)}
        ).content
        seen[f"detail {result['callId']}"] = api.cms(
            "/v1/openapi/calldata/querycalldetailbyid", {"ccId": 1, "isCallin": "true", "callId": result["callId"]}
        ).content
    return seen


@pytest.mark.own_modes  # it builds the two stores it compares
def test_a_server_on_postgresql_and_redis_answers_as_one_on_sqlite(tmp_path: Path) -> None:
    (tmp_path / "embedded").mkdir()
    (tmp_path / "distributed").mkdir()
    with running_server(tmp_path / "embedded", store=SqliteStore(tmp_path / "embedded" / "server.db")) as running:
        embedded = answers(Api(running))
    with postgres_database() as url, redis_prefix() as prefix:
        store = PostgresStore(url, writer="serve")
        sessions = RedisSessionStore(REDIS_URL, prefix)
        with running_server(tmp_path / "distributed", store=store, sessions=sessions) as running:
            api = Api(running)
            distributed = answers(api)
            assert api.sign_in(2001, "secret-2").json()["retcode"] == "0"  # an agent the feed left signed out
            guid = api.guids[2001]
        shared = RedisSessionStore(REDIS_URL, prefix)  # what another node would load
        (session,) = [s for s in shared.load_sessions() if s.agent_id == 2001]
        shared.close()
        assert session.guid == guid
    assert distributed.keys() == embedded.keys()
    for name, body in embedded.items():
        assert distributed[name] == body, name
    succeeded = [name for name, body in embedded.items() if b'"resultCode":"0100000"' in body]
    assert len(succeeded) == len(embedded) - 4  # every CC-CMS answer compared is a success, with data
