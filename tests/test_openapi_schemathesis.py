"""schemathesis over the whole OpenAPI document, against a real server fed by the live simulator: every
operation's generated requests (CC-CMS ones signed with auth-v2, gateway ones with a fresh Guid of the agent in
the path, DataProcess ones with a Bearer token) get no 5xx and no answer that contradicts the document."""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterator

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from ccdata.api import openapi
from openapi_support import AGENTS, Live, live_server

pytestmark = pytest.mark.modes

#: Examples per operation: 12 keep the run near 30 s; CCDATA_SCHEMATHESIS_EXAMPLES=200 hunts deeper.
EXAMPLES = int(os.environ.get("CCDATA_SCHEMATHESIS_EXAMPLES", "12"))
CHECKS = [not_a_server_error, response_schema_conformance, status_code_conformance, content_type_conformance]
#: What each operation answered, by status and business code: the checks below see that the requests got past
#: the facades' authentication to their handlers.
OUTCOMES: dict[str, Counter[str]] = {}
#: The stream never ends (tests/test_stream.py covers it).
schema = schemathesis.openapi.from_dict(openapi.document()).exclude(path="/ccdata/v1/stream")


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory, mode: str) -> Iterator[Live]:
    with live_server(tmp_path_factory.mktemp("schemathesis")) as server:
        yield server


def _steer(case: schemathesis.Case) -> None:
    """Gateway cases mostly about configured agents (a random ID is simply not signed in)."""
    if case.path_parameters and "agentid" in case.path_parameters:
        number = str(case.path_parameters["agentid"])
        if number.isdigit() and int(number) % 4 != 0:
            case.path_parameters["agentid"] = AGENTS[int(number) % len(AGENTS)]


@schema.parametrize()
@settings(
    max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None, derandomize=True
)
def test_every_operation_answers_as_documented(case: schemathesis.Case, live: Live) -> None:
    _steer(case)
    response = live.send(case)
    OUTCOMES.setdefault(case.operation.label, Counter())[_outcome(response)] += 1
    case.validate_response(response, checks=CHECKS)


def _outcome(response: httpx.Response) -> str:
    """The HTTP status and, for a JSON envelope, its business code."""
    try:
        body = response.json()
    except ValueError:
        return str(response.status_code)
    code = next((body[k] for k in ("resultCode", "retcode", "returnCode") if isinstance(body, dict) and k in body), "")
    return f"{response.status_code} {code}".strip()


def test_the_generated_requests_reached_the_handlers() -> None:
    """The run above proved something: every operation was tried, no CC-CMS request was refused for its signature,
    and most operations answered a success (the rest need a live call's ID, a time window of the last day or a
    password, which generated data rarely holds: tests/test_openapi.py sends each operation's example instead)."""
    operations = [f"{op.method.upper()} {op.path}" for op in openapi.OPS if op.path != "/ccdata/v1/stream"]
    assert sorted(OUTCOMES) == sorted(operations)
    refused = {op: seen for op, seen in OUTCOMES.items() if op.startswith("POST /rest/cmsapp/") and seen["401"]}
    assert refused == {}
    answered = [op for op, seen in OUTCOMES.items() if seen.keys() & {"200", "200 0", "200 0100000"}]
    assert len(answered) >= 0.6 * len(OUTCOMES), {op: dict(OUTCOMES[op]) for op in set(OUTCOMES) - set(answered)}
