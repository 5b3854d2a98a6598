"""Hostile input against every interface over a real socket: no answer is ever >= 500, each gets its facade's
documented error, and a bad line or event never keeps the valid ones around it out.

Raw sockets (`rawhttp`) carry what httpx would refuse to send: invalid UTF-8 in headers and paths, oversized
headers, lying Content-Length, HTTP/1.0, hand-made chunked bodies.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator
from pathlib import Path

import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rawhttp import Answer, chunked, exchange, request, signed_cms
from server import Api, running_server

AGENT_CALLS = "/rest/cmsapp/v1/openapi/agent/queryagentcalls"
PING = "/rest/cmsapp/v1/ping"
SIGN_IN = "/agentgateway/resource/onlineagent/1002"
TOKEN = "/apigovernance/api/oauth/tokenByAkSk"
RESULTS = "/apiaccess/rest/dataprocess/v1/openapp/queryCallManualDetailInfo"
EVENTS = "/ccdata/v1/events"

# Locks and rate limits answer < 500 too, but they would hide what comes after them: this server has none.
NO_LOCKS = """
[limits]
cms_auth_failures_per_address = 0
sign_in_failures_per_agent = 0
sign_in_failures_per_address = 0
token_failures_per_address = 0
token_burst = 100000
incomplete_request_timeout_s = 1.0
"""

DEEP = b"[" * 966 + b"]" * 966
DEEPER = b"[" * 100_000 + b"]" * 100_000

#: Bodies no client should send; each goes to every interface that reads a body.
NASTY_BODIES: dict[str, bytes] = {
    "utf8-invalid-in-string": b'{"ccId":1,"vdn":1,"agentId":"\xff\xfe","password":"\xff","app_key":"\xc3\x28"}',
    "utf8-invalid-bare": b"\xff\xfe\xfd",
    "utf8-overlong": b'{"ccId":1,"vdn":1,"agentId":1001,"x":"\xc0\xaf"}',
    "lone-surrogate-escape": b'{"ccId":1,"vdn":1,"agentId":"\\ud800","password":"\\udfff"}',
    "deep-966": b'{"ccId":1,"vdn":1,"agentId":' + DEEP + b',"password":' + DEEP + b"}",
    "deep-100000": DEEPER,
    "nul-raw": b'{"ccId":1,"vdn":1,"agentId":1001,"password":"a\x00b"}',
    "nul-escaped": b'{"ccId":1,"vdn":1,"agentId":"1001\\u0000","password":"\\u0000"}',
    "huge-int-8k": b'{"ccId":1,"vdn":1,"agentId":' + b"9" * 8192 + b"}",
    "huge-int-string-8k": b'{"ccId":1,"vdn":1,"agentId":"' + b"9" * 8192 + b'","beginDate":"' + b"1" * 8192 + b'"}',
    "huge-negative": b'{"ccId":-99999999999999999999,"vdn":1,"agentId":1001}',
    "float-overflow": b'{"ccId":1e999,"vdn":1,"agentId":1001,"limit":1e999}',
    "nan-literal": b'{"ccId":NaN,"vdn":Infinity,"agentId":-Infinity}',
    "arabic-indic-digits": '{"ccId":"\u0661","vdn":"\u0661","agentId":"\u0661\u0660\u0660\u0661"}'.encode(),
    "superscript-digit": '{"ccId":"²","vdn":1,"agentId":"²"}'.encode(),
    "fullwidth-digits": '{"ccId":1,"vdn":1,"agentId":"\uff11\uff10\uff10\uff11"}'.encode(),
    "underscore-digits": b'{"ccId":1,"vdn":1,"agentId":"1_001","limit":"1_0"}',
    "empty": b"",
    "whitespace": b" \t\r\n ",
    "json-null": b"null",
    "json-string": b'"hello"',
    "json-array": b"[]",
    "duplicate-keys": b'{"ccId":1,"ccId":"x","vdn":1,"agentId":1001,"agentId":[1]}',
    "utf8-bom": b'\xef\xbb\xbf{"ccId":1,"vdn":1,"agentId":1001}',
    "utf16": '{"ccId":1,"vdn":1,"agentId":1001}'.encode("utf-16"),
    "trailing-garbage": b'{"ccId":1,"vdn":1,"agentId":1001} x',
    "many-keys": b"{" + b",".join(b'"k%d":%d' % (i, i) for i in range(5000)) + b"}",
    "control-chars-unescaped": b'{"ccId":1,"vdn":1,"agentId":1001,"password":"a\x01\x1fb"}',
}


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory, mode: str) -> Iterator[Api]:
    with running_server(tmp_path_factory.mktemp("hostile"), extra=NO_LOCKS) as running:
        yield Api(running)


@pytest.fixture(scope="module")
def bearer(api: Api) -> str:
    return api.token().json()["AccessToken"]


def unparsable(answer: Answer) -> bool:
    """The server's own 400 for bytes that are not an HTTP request (before any facade sees them)."""
    return answer.status == 400 and answer.body == b"Invalid HTTP request received."


def send(api: Api, data: bytes) -> Answer:
    answer = exchange(api.running.host, data)
    assert 0 < answer.status < 500, (answer.status, answer.body[:300])
    return answer


def json_post(api: Api, path: str, body: bytes, *headers: tuple[str, str], method: str = "POST") -> bytes:
    return request(method, path, api.running.host, body, [("Content-Type", "application/json"), *headers])


def body_requests(api: Api, bearer: str, body: bytes) -> dict[str, bytes]:
    host = api.running.host
    return {
        "cms": signed_cms(AGENT_CALLS, host, body),
        "cms-ping": signed_cms(PING, host, body),
        "sign-in": json_post(api, SIGN_IN, body, method="PUT"),
        "token": json_post(api, TOKEN, body),
        "dataprocess": json_post(api, RESULTS, body, ("Authorization", f"Bearer {bearer}")),
        "ingest": json_post(api, EVENTS, body, ("Authorization", "Bearer ingest-token")),
    }


# --- bodies against every interface --------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(NASTY_BODIES))
def test_nasty_bodies_get_documented_errors_everywhere(api: Api, bearer: str, name: str) -> None:
    body = NASTY_BODIES[name]
    answers = {where: send(api, data) for where, data in body_requests(api, bearer, body).items()}
    cms = answers["cms"]
    assert cms.status in (200, 413), cms.body[:200]
    if cms.status == 200:  # not a query: the CMS envelope's invalid parameter
        assert cms.json()["resultCode"] in ("0100002", "0100000"), cms.body[:200]
    ping = answers["cms-ping"]  # the echo may be as deep as the request: not decoded here
    assert ping.body.endswith(b'"status":"UP"}') or (ping.status == 413 and ping.json()["resultCode"] == "0100002")
    assert answers["sign-in"].json()["retcode"] in ("100-001", "100-004", "100-011", "100-013")
    assert answers["token"].status in (400, 401, 413)
    assert answers["dataprocess"].status in (400, 401, 413)
    assert answers["ingest"].status in (200, 400, 413)


@pytest.mark.parametrize("name", list(NASTY_BODIES))
def test_a_nasty_line_never_keeps_the_valid_lines_out(api: Api, name: str) -> None:
    ids = _valid_lines(2)
    body = ids[0] + b"\n" + NASTY_BODIES[name].replace(b"\n", b" ").replace(b"\r", b" ") + b"\n" + ids[1]
    answer = send(api, json_post(api, EVENTS, body, ("Authorization", "Bearer ingest-token")))
    assert answer.status == 200
    report = answer.json()
    assert report["accepted"] == 2, report
    for rejection in report["rejections"]:
        assert rejection["position"] == 2 and rejection["code"] == "invalid_event" and rejection["reason"]


def test_a_json_array_that_is_not_json_is_one_400(api: Api) -> None:
    for body in (b'[{"id":"\xff"}]', b"[" + DEEPER, b"[" * 966 + b"]" * 966, b'[{"at":' + b"9" * 8192 + b"}]"):
        answer = send(api, json_post(api, EVENTS, body, ("Authorization", "Bearer ingest-token")))
        assert answer.status in (200, 400), answer.body[:200]


def test_the_same_rejection_is_stored_once(api: Api) -> None:
    store = api.running.service.store
    body = b'{"id":"dup-bad","type":"call.nothing"}\n' + _valid_lines(1)[0]
    before = store.count("rejected")
    for _ in range(3):
        assert send(api, json_post(api, EVENTS, body, ("Authorization", "Bearer ingest-token"))).json()["rejected"] == 1
    assert store.count("rejected") == before + 1


# --- headers, paths, methods, framing ------------------------------------------------------------------------


def test_numbers_in_paths_are_ascii_digits_in_range(api: Api) -> None:
    for agent in ("9" * 8192, "%D9%A1%D9%A0%D9%A0%D9%A1", "%EF%BC%91%EF%BC%90%EF%BC%90%EF%BC%91", "%C2%B2", "1_001",
                  "-1001", "+1001", "0x3e9", "%00", "%FF", "1001%00", " 1001"):  # fmt: skip
        answer = send(api, json_post(api, f"/agentgateway/resource/onlineagent/{agent}", b"{}", method="PUT"))
        if answer.status == 200:  # else the server's 400 (a path it cannot parse) or 404 (not a route)
            assert answer.json()["retcode"] == "000-002", (agent, answer.body)
        else:
            assert answer.status in (400, 404, 431), (agent, answer.status)
        polled = send(api, request("GET", f"/agentgateway/resource/agentevent/{agent}", api.running.host))
        assert polled.status in (200, 400, 404, 431)


def test_x_token_expire_must_be_ascii_digits_in_range(api: Api) -> None:
    body = b'{"app_key":"app-1","app_secret":"secret-app-1"}'
    for value in ("²", "\u0661\u0660", "\uff11\uff10", "9" * 8192, "-1", "0", "3601", "1e3", "10 0", "\xff", "10\x00"):
        answer = send(api, json_post(api, TOKEN, body, ("X-Token-Expire", value)))
        if not unparsable(answer):
            assert answer.status == 400 and "X-Token-Expire" in answer.json()["message"], (value, answer.body)


@pytest.mark.parametrize(
    "headers",
    [
        [("Authorization", b"auth-v2/\xff\xfe/2024-01-01T00:00:00Z/host/abc")],
        [("Authorization", "auth-v2/ak-all/" + "\uff12\uff10\uff12\uff14-01-01T00:00:00Z/host/abc")],
        [("Authorization", "auth-v2/ak-all/2024-01-01T00:00:00Z/" + ";".join(f"h{i}" for i in range(2000)) + "/x")],
        [("Authorization", "auth-v2/ak-all/2024-01-01T00:00:00.000Z/host/abc")],
        [("Authorization", "auth-v2//////")],
        [("Authorization", "\x00")],
        [("Content-Type", "text/plain")],
        [("Content-Type", "application/json; charset=\xff")],
    ],
    ids=[
        "auth-utf8",
        "auth-fullwidth",
        "auth-2000-headers",
        "auth-millis",
        "auth-slashes",
        "auth-nul",
        "ctype",
        "charset",
    ],
)
def test_cms_hostile_headers_get_401(api: Api, headers: list) -> None:
    answer = send(api, request("POST", AGENT_CALLS, api.running.host, b'{"ccId":1,"vdn":1,"agentId":1001}', headers))
    if not unparsable(answer):  # NUL in a header: the HTTP parser's 400
        assert answer.status == 401 and set(answer.json()) == {"timestamp", "status", "error", "message", "path"}


def test_hostile_guid_headers(api: Api) -> None:
    api.sign_in(1003)
    for guid in (b"\xff\xfe", b"x" * 8192, b"\x00", "é".encode(), api.guids[1003].encode() + b"\xff"):
        answer = send(api, request("GET", "/agentgateway/resource/calldata/1003/callinfo", api.running.host,
                                   headers=[("Guid", guid)]))  # fmt: skip
        assert unparsable(answer) or answer.json()["retcode"] == "000-003", answer.body


def test_cms_refuses_a_query_key_given_twice(api: Api) -> None:
    body = b'{"ccId":1,"vdn":1,"agentId":1001}'
    answer = send(api, signed_cms(AGENT_CALLS, api.running.host, body, {"a": "2"}, raw_query="a=1&a=2"))
    assert answer.status == 401 and "more than once" in answer.json()["message"]
    assert send(api, signed_cms(AGENT_CALLS, api.running.host, body, {"a": "2"}, raw_query="a=2")).status == 200


@pytest.mark.parametrize("scheme", ["bearer", "BEARER", "Bearer", "bEaReR"])
def test_bearer_is_matched_case_insensitively(api: Api, bearer: str, scheme: str) -> None:
    query = b'{"subCcNo":"1","vdn":"1","callId":"x"}'
    assert send(api, json_post(api, RESULTS, query, ("Authorization", f"{scheme} {bearer}"))).status == 200
    events = _valid_lines(1)[0]
    assert send(api, json_post(api, EVENTS, events, ("Authorization", f"{scheme} ingest-token"))).status == 200


@pytest.mark.parametrize(
    "data",
    [
        b"GET /ccdata/v1/health HTTP/1.0\r\n\r\n",
        b"BREW /ccdata/v1/health HTTP/1.1\r\nHost: x\r\n\r\n",
        b"GET /ccdata/v1/health HTTP/9.9\r\nHost: x\r\n\r\n",
        b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03",  # a TLS ClientHello on the plain port
        b"GET /\xff\xfe HTTP/1.1\r\nHost: x\r\n\r\n",
        b"GET /docs/static/../../../../etc/passwd HTTP/1.1\r\nHost: x\r\n\r\n",
        b"GET /docs/static/%2e%2e/%2e%2e/etc/passwd HTTP/1.1\r\nHost: x\r\n\r\n",
        b"POST http://evil.example/ccdata/v1/health HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n",
        b"POST /ccdata/v1/events HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 7\r\n\r\nabcdefg",
        b"POST /ccdata/v1/events HTTP/1.1\r\nHost: x\r\nContent-Length: \xc2\xb2\r\n\r\nab",
        b"POST /ccdata/v1/events HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n",
        b"POST /ccdata/v1/events HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999999\r\n\r\n",
        b"POST /ccdata/v1/events HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nab\r\n0\r\n\r\n",
        b"POST /ccdata/v1/events HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n"
        b"0\r\n\r\n",
        b"GET /ccdata/v1/health HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
        b"GET /ccdata/v1/health HTTP/1.1\r\nHost: \xff\x00\r\n\r\n",
        b"GET /ccdata/v1/health HTTP/1.1\r\n\xff: x\r\n\r\n",
        b"GET /ccdata/v1/health HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n\r\n",
        b"OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n",
        b"TRACE /rest/cmsapp/v1/ping HTTP/1.1\r\nHost: x\r\n\r\n",
        b"GET /ccdata/v1/health?" + b"a=1&" * 3000 + b" HTTP/1.1\r\nHost: x\r\n\r\n",
        b"GET /agentgateway/resource/calldata/1003/callinfo?isNoContainLastCall=%ZZ%ff HTTP/1.1\r\nHost: x\r\n\r\n",
    ],
)
def test_hostile_framing_never_gets_500(api: Api, data: bytes) -> None:
    answer = exchange(api.running.host, data)
    assert answer.status < 500, (answer.status, answer.body[:200])


def test_oversized_request_line_and_headers_get_431(api: Api) -> None:
    host = api.running.host
    assert send(api, request("GET", "/ccdata/v1/health?" + "a" * 20_000, host)).status == 431
    assert send(api, request("GET", "/ccdata/v1/health", host, headers=[("X-Pad", "a" * 20_000)])).status == 431
    many = [(f"X-{i}", "a" * 100) for i in range(200)]
    assert send(api, request("GET", "/ccdata/v1/health", host, headers=many)).status == 431
    big = request("GET", "/ccdata/v1/health", host, headers=[("X-Pad", "a" * (64 << 20))])
    assert exchange(host, big).status in (0, 431)  # refused after a few KiB; the rest of the 64 MiB is never read


def test_chunked_and_http10_requests_work(api: Api, bearer: str) -> None:
    host = api.running.host
    ping = signed_cms(PING, host, b'{"say":"chunked"}').replace(b"Content-Length: 17", b"Transfer-Encoding: chunked")
    head, _, _ = ping.partition(b"\r\n\r\n")
    assert send(api, head + b"\r\n\r\n" + chunked(b'{"say":"chunked"}')).json()["request"] == {"say": "chunked"}
    lines = _valid_lines(3)
    data = request("POST", EVENTS, host, chunked(b"\n".join(lines)),
                   [("Authorization", "Bearer ingest-token"), ("Transfer-Encoding", "chunked")])  # fmt: skip
    assert send(api, data).json()["accepted"] == 3
    too_big = request("POST", AGENT_CALLS, host, chunked(b" " * 70_000, 4096), [("Transfer-Encoding", "chunked")])
    assert send(api, too_big).status in (401, 413)
    old = b"POST %s HTTP/1.0\r\nContent-Type: application/json\r\nContent-Length: 39\r\n\r\n" % RESULTS.encode()
    answer = send(api, old.replace(b"\r\n\r\n", f"\r\nAuthorization: Bearer {bearer}\r\n\r\n".encode())
                  + b'{"subCcNo":"1","vdn":"1","callId":"x1"}')  # fmt: skip
    assert answer.status == 200 and answer.json()["total"] == 0


def test_405_carries_allow(api: Api) -> None:
    answer = send(api, request("GET", AGENT_CALLS, api.running.host))
    assert answer.status == 405 and answer.headers["allow"] == "POST"
    assert answer.json()["status"] == 405


def test_half_sent_requests_are_cut_off(api: Api) -> None:
    host = api.running.host
    started = time.monotonic()
    assert exchange(host, b"GET /ccdata/v1/health HTTP/1.1\r\nHost: x\r\n").status == 408  # headers never end
    assert exchange(host, b"").status in (0, 408)  # a connection that never says anything
    body = request("POST", EVENTS, host, b"", [("Authorization", "Bearer ingest-token"), ("Content-Length", "100")])
    assert exchange(host, body + b"[").status in (0, 408)  # a body that never ends: closed
    assert time.monotonic() - started < 3 * 1.0 + 3  # incomplete_request_timeout_s = 1.0 each
    assert send(api, request("GET", "/ccdata/v1/health", host)).status == 200


# --- Hypothesis: raw bytes into the ingest endpoint and `ccdata ingest` -------------------------------------

_counter = itertools.count()
_garbage = st.binary(max_size=300).map(lambda b: b.replace(b"\n", b" ").replace(b"\r", b" "))


def _valid_lines(count: int) -> list[bytes]:
    at = time.time_ns() // 1_000_000 - 3_600_000
    lines = []
    for _ in range(count):
        n = next(_counter)
        event = {"id": f"hostile-{n}-{at}", "type": "call.arrive", "at": at, "ccId": 1, "vdn": 1,
                 "callId": f"h{at % 10**9}-{n}", "caller": "1", "called": "2"}  # fmt: skip
        lines.append(msgspec.json.encode(event))
    return lines


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(garbage=st.lists(_garbage, min_size=1, max_size=4))
def test_hypothesis_raw_bytes_into_the_ingest_endpoint(api: Api, garbage: list[bytes]) -> None:
    valid = _valid_lines(len(garbage) + 1)
    lines = [line for pair in zip(valid, garbage, strict=False) for line in pair] + [valid[-1]]
    body = b"\n".join(lines)
    if body.lstrip().startswith(b"["):
        return  # an array: judged whole (the other test)
    answer = send(api, json_post(api, EVENTS, body, ("Authorization", "Bearer ingest-token")))
    assert answer.status == 200, answer.body[:300]
    assert answer.json()["accepted"] == len(valid)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(garbage=st.lists(_garbage, min_size=1, max_size=4))
def test_hypothesis_raw_bytes_into_ccdata_ingest(tmp_path: Path, garbage: list[bytes]) -> None:
    from click.testing import CliRunner

    from ccdata.cli import main

    valid = _valid_lines(len(garbage) + 1)
    lines = [line for pair in zip(valid, garbage, strict=False) for line in pair] + [valid[-1]]
    source = tmp_path / f"in-{next(_counter)}.jsonl"
    source.write_bytes(b"\n".join(lines) + b"\n")
    db = tmp_path / f"store-{next(_counter)}.db"
    result = CliRunner().invoke(main, ["ingest", str(source), "--db", str(db), "--json"])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    report = msgspec.json.decode(result.output.strip().splitlines()[-1])
    assert report["accepted"] == len(valid), report
    assert result.exit_code == (1 if report["rejected"] else 0)


def test_ccdata_ingest_survives_the_issue_file(tmp_path: Path) -> None:
    """The issue's file: 6,000 valid events with bad lines (invalid UTF-8, deep nesting) among them."""
    from click.testing import CliRunner

    from ccdata.cli import main

    valid = _valid_lines(6000)
    bad = [b'{"id":"x\xff","type":"agent.login"}', b'{"id":"d","v":' + DEEP + b"}", DEEPER, b"\x00" * 10]
    lines = valid[:2000] + bad + valid[2000:]
    source = tmp_path / "issue.jsonl"
    source.write_bytes(b"\n".join(lines) + b"\n")
    for _ in range(2):  # the re-run does not die at the same line either
        result = CliRunner().invoke(main, ["ingest", str(source), "--db", str(tmp_path / "s.db"), "--json"])
        report = msgspec.json.decode(result.output.strip().splitlines()[-1])
        assert report["accepted"] + report["duplicates"] == 6000 and report["rejected"] == len(bad), report
        assert result.exit_code == 1
