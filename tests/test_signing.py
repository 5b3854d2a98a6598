"""auth-v2 signing against the vectors produced by Huawei's reference signer (cec-api-notes H.1 and A.6)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from ccdata import signing

AK, SK = "globalaktest", "test-secret-key"
MOMENT = datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC)


def test_vector_1_querydetailcallinfo() -> None:
    path = "/rest/cmsapp/v1/openapi/calldata/querydetailcallinfo"
    body = '{"ccId":1,"vdn":1,"callId":"1453723531-574"}'
    headers = {"host": "127.0.0.1:28443"}
    assert signing.canonical_request("POST", path, {}, headers, body) == (
        "POST\n/rest/cmsapp/v1/openapi/calldata/querydetailcallinfo\nhost\nhost:127.0.0.1%3A28443\n"
        "%7B%22ccId%22%3A1%2C%22vdn%22%3A1%2C%22callId%22%3A%221453723531-574%22%7D"
    )
    assert signing.authorization(AK, SK, MOMENT, "POST", path, {}, headers, body) == (
        "auth-v2/globalaktest/2023-11-14T22:13:20Z/host/"
        "861399fe73c2fe50f2b1bc008efe23eff99dba142903783de3f56c49de742b65"
    )


def test_vector_2_three_signed_headers() -> None:
    path = "/rest/cmsapp/v1/openapi/agent/queryagentcalls"
    body = '{"ccId":1,"vdn":170,"agentId":1099}'
    headers = {"host": "127.0.0.1:28443", "content-type": "application/json;charset=UTF-8", "content-length": "36"}
    canonical = signing.canonical_request("POST", path, {}, headers, body)
    assert "content-length:36\ncontent-type:application%2Fjson%3Bcharset%3DUTF-8\nhost:127.0.0.1%3A28443\n" in canonical
    assert signing.authorization(AK, SK, MOMENT, "POST", path, {}, headers, body) == (
        "auth-v2/globalaktest/2023-11-14T22:13:20Z/content-length;content-type;host/"
        "637d730cd5790e43a9953689584d8d7a9cb6fd55390f7b6e905f66a7913a728f"
    )


def test_vector_3_query_and_no_body() -> None:
    query = {"b": "x y", "a": "1/2"}
    headers = {"Host": "10.22.26.181:28080"}
    assert signing.canonical_request("GET", "/rest/cmsapp/v1/ping", query, headers, b"") == (
        "GET\n/rest/cmsapp/v1/ping\na=1%2F2&b=x%20y\nhost\nhost:10.22.26.181%3A28080\n"
    )
    assert signing.authorization(AK, SK, MOMENT, "GET", "/rest/cmsapp/v1/ping", query, headers, b"") == (
        "auth-v2/globalaktest/2023-11-14T22:13:20Z/host/"
        "57091d19f2b82bfe03217d5de4b7cbd410b9443a09abc3257a84b3103933f724"
    )


def test_worked_example_of_the_notes() -> None:
    value = signing.authorization(
        "demo-ak", "demo-sk", datetime(2024, 1, 1, tzinfo=UTC), "POST",
        "/rest/cmsapp/v1/openapi/calldata/querydetailcallinfo", {}, {"host": "10.22.26.181:28080"},
        '{"ccId":1,"vdn":170,"callId":"1659513159000-546750"}',
    )  # fmt: skip
    assert value.endswith("/134adfb012d12570a2b71538722fc514aadf20ed263cba4b6fb0e3df1ee8d100")


def test_verify_accepts_the_right_signature_only() -> None:
    headers = {"host": "127.0.0.1:28443"}
    body = '{"ccId":1,"vdn":1,"callId":"1453723531-574"}'
    path = "/rest/cmsapp/v1/openapi/calldata/querydetailcallinfo"
    parsed = signing.parse_authorization(signing.authorization(AK, SK, MOMENT, "POST", path, {}, headers, body))
    assert signing.verify(SK, parsed, signing.canonical_request("POST", path, {}, headers, body))
    assert not signing.verify("other", parsed, signing.canonical_request("POST", path, {}, headers, body))
    assert not signing.verify(SK, parsed, signing.canonical_request("POST", path, {}, headers, body + " "))


@pytest.mark.parametrize(
    "header", ["Bearer x", "auth-v2/ak/ts/host", "auth-v3/ak/2023-11-14T22:13:20Z/host/ab", "auth-v2//ts/host/ab"]
)
def test_malformed_authorization_headers(header: str) -> None:
    with pytest.raises(ValueError):
        signing.parse_authorization(header)


def test_timestamp_format_is_strict() -> None:
    assert signing.parse_timestamp("2023-11-14T22:13:20Z") == MOMENT
    with pytest.raises(ValueError):
        signing.parse_timestamp("2023-11-14T22:13:20.000Z")


def _request(method: str, path: str, query: bytes, headers: dict[str, str], body: bytes):
    from starlette.requests import Request

    scope = {
        "type": "http",
        "method": method,
        "path": path,
        "raw_path": path.encode(),
        "query_string": query,
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
    }
    return Request(scope)


def test_the_server_verifier_accepts_the_reference_signers_requests() -> None:
    """The verifier, on requests as they arrive, accepts vectors 1 and 3 at the vectors' own time."""
    from ccdata.api.auth.cms import AuthError, CmsAuth
    from ccdata.config import CmsCredential

    auth = CmsAuth([CmsCredential(AK, SK, [1])], clock_skew_ms=1000, clock=lambda: 1_700_000_000_000)
    body = b'{"ccId":1,"vdn":1,"callId":"1453723531-574"}'
    one = _request(
        "POST", "/rest/cmsapp/v1/openapi/calldata/querydetailcallinfo", b"",
        {"Host": "127.0.0.1:28443", "Authorization": "auth-v2/globalaktest/2023-11-14T22:13:20Z/host/"
         "861399fe73c2fe50f2b1bc008efe23eff99dba142903783de3f56c49de742b65"}, body,
    )  # fmt: skip
    assert auth.verify(one, body).ak == AK
    three = _request(
        "GET", "/rest/cmsapp/v1/ping", b"a=1%2F2&b=x+y",  # a form-encoded query: '+' is a space
        {"Host": "10.22.26.181:28080", "Authorization": "auth-v2/globalaktest/2023-11-14T22:13:20Z/host/"
         "57091d19f2b82bfe03217d5de4b7cbd410b9443a09abc3257a84b3103933f724"}, b"",
    )  # fmt: skip
    assert auth.verify(three, b"").ak == AK
    with pytest.raises(AuthError, match="does not match"):
        auth.verify(one, body.replace(b"574", b"575"))
    late = CmsAuth([CmsCredential(AK, SK, [1])], clock_skew_ms=1000, clock=lambda: 1_700_000_002_000)
    with pytest.raises(AuthError, match="away from the server's clock"):
        late.verify(one, body)
