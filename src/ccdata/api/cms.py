"""The CC-CMS facade (`/rest/cmsapp/...`): agent calls, private calls, call details, call track, ping.

Every request is `auth-v2` signed (401 with a JSON body otherwise). Business errors come back with HTTP 200 in
the reference envelope: `resultCode` and `resultDesc` (`0100002` invalid parameter, `0101003` insufficient
permission, `0100001` failure). Successful answers carry the reference's keys: `result`/`resultCode`/
`resultDatas`/`resultDesc`, or `resultCode`/`resultDesc` alone for the call track.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ccdata.api import http
from ccdata.api.auth.cms import AuthError, CmsAuth
from ccdata.api.auth.throttle import FailureLock, RateLimiter, retry_after
from ccdata.api.inputs import InvalidParameter, agent_id, check_agent_id, integer, json_object, string
from ccdata.config import CmsCredential
from ccdata.domain import codes, views
from ccdata.domain.model import Call
from ccdata.domain.records import month_of
from ccdata.service import Service, wall_clock_ms

PREFIX = "/rest/cmsapp"
LOCKED = "too many failed authentications from this address; try again later"
log = logging.getLogger("ccdata.security")
MAX_BATCH_AGENTS = 3000


class Forbidden(Exception):
    pass


class NotInProgress(Exception):
    pass


def success(payload: Any, legacy: bool = True) -> Response:
    if legacy:
        return http.json(
            {"result": "0", "resultCode": codes.CMS_SUCCESS, "resultDatas": payload, "resultDesc": payload}
        )
    return http.json({"resultCode": codes.CMS_SUCCESS, "resultDesc": payload})


def failure(code: str, message: str, status: int = 200) -> Response:
    return http.json({"resultCode": code, "resultDesc": message}, status)


Handler = Callable[[Service, CmsCredential, dict[str, Any]], Response]


def routes(service: Service) -> list[Route]:
    # Signatures are checked against the wall clock, whatever clock the data follows (a sped-up simulator).
    auth = CmsAuth(service.config.cms.credentials, service.config.cms.clock_skew_ms, wall_clock_ms)
    limits = service.config.limits
    limit = min(service.config.server.max_body_bytes, limits.cms_max_body_bytes)
    rate = RateLimiter(limits.cms_rate_per_s, limits.cms_burst)
    lockout = FailureLock(limits.cms_auth_failures_per_address, limits.failure_window_s, limits.lock_s)

    async def authenticate(request: Request) -> tuple[CmsCredential | None, Response | bytes]:
        """The credential and the body, or the refusal: 429 (rate), 403 (address locked), 413, 401."""
        address = http.client_address(request)
        if wait := rate.take(("address", address)):
            return None, http.too_many_requests(request, wait)
        if locked := lockout.locked_for(address):
            return None, http.spring_error(request, 403, "Forbidden", LOCKED, {"Retry-After": retry_after(locked)})
        try:
            parsed = auth.precheck(request)
            body = await http.read_body(request, limit)
            credential = auth.verify(request, body, parsed)
        except http.BodyTooLarge as exc:
            return None, failure(codes.CMS_INVALID_PARAMETER, str(exc), 413)
        except AuthError as exc:
            if lockout.fail(address):
                log.warning("CC-CMS: address %s locked for %d s after failed signatures", address, limits.lock_s)
            return None, http.spring_error(request, 401, "Unauthorized", str(exc))
        lockout.succeed(address)
        if wait := rate.take(("ak", credential.ak)):
            return None, http.too_many_requests(request, wait)
        return credential, body

    def endpoint(handler: Handler, parse: bool = True, store: bool = False) -> Callable[[Request], Awaitable[Response]]:
        """`store`: the handler reads SQLite (not the engine), so it runs in a worker thread, off the event loop."""

        async def run(request: Request) -> Response:
            credential, body = await authenticate(request)
            if credential is None:
                assert isinstance(body, Response)
                return body
            assert isinstance(body, bytes)
            try:
                arguments = json_object(body) if parse else {"raw": body}
                if store:
                    return await run_in_threadpool(handler, service, credential, arguments)
                return handler(service, credential, arguments)
            except InvalidParameter as exc:
                return failure(codes.CMS_INVALID_PARAMETER, f"Invalid parameter: {exc}")
            except Forbidden as exc:
                return failure(codes.CMS_NO_PERMISSION, f"Insufficient permission: {exc}")
            except NotInProgress as exc:
                return failure(codes.CMS_FAILED, str(exc))

        return run

    trace = endpoint(query_call_trace_detail, store=True)
    return [
        Route(f"{PREFIX}/v1/openapi/agent/queryagentcalls", endpoint(query_agent_calls), methods=["POST"]),
        Route(f"{PREFIX}/v1/openapi/agentgroup/queryagentcalls", endpoint(query_agent_group_calls), methods=["POST"]),
        Route(f"{PREFIX}/v1/openapi/agent/agentprivatecall", endpoint(agent_private_calls), methods=["POST"]),
        Route(f"{PREFIX}/v1/openapi/calldata/querydetailcallinfo", endpoint(query_detail_call_info), methods=["POST"]),
        Route(f"{PREFIX}/v1/openapi/calldata/querybasiccallinfo", endpoint(query_basic_call_info), methods=["POST"]),
        Route(f"{PREFIX}/v1/openapi/vdn/querycalltracedetail", trace, methods=["POST"]),
        Route(f"{PREFIX}/v1/ping", endpoint(ping, parse=False), methods=["POST"]),
    ]


def _scope(service: Service, credential: CmsCredential, body: dict[str, Any]) -> int:
    """Check ccId and vdn, and that the credential may see that VDN; return the VDN."""
    cc_id = integer(body, "ccId", 1, 65535)
    vdn = integer(body, "vdn", 1, 5000)
    assert cc_id is not None and vdn is not None
    if cc_id != service.cc_id:
        raise Forbidden(f"call center {cc_id} is not served to this access key")
    if vdn not in credential.vdns:
        raise Forbidden(f"VDN {vdn} is not in this access key's scope")
    return vdn


def _agent_in(service: Service, vdn: int, agent: int):
    found = service.engine.agent(service.cc_id, agent)
    return found if found is not None and found.vdn == vdn else None


def query_agent_calls(service: Service, credential: CmsCredential, body: dict[str, Any]) -> Response:
    vdn = _scope(service, credential, body)
    agent = _agent_in(service, vdn, agent_id(body))
    return success(list(agent.calls) if agent else [])


def query_agent_group_calls(service: Service, credential: CmsCredential, body: dict[str, Any]) -> Response:
    vdn = _scope(service, credential, body)
    ids = body.get("agentIds")
    if not isinstance(ids, list) or not ids:
        raise InvalidParameter("agentIds must be a non-empty array")
    if len(ids) > MAX_BATCH_AGENTS:
        raise InvalidParameter(f"agentIds holds at most {MAX_BATCH_AGENTS} agents")
    agents = []
    for index in range(len(ids)):
        value = integer({"agentIds": ids[index]}, "agentIds", 101, 999_999)
        assert value is not None
        check_agent_id(value, f"agentIds[{index}]")
        agent = _agent_in(service, vdn, value)
        agents.append({"agentId": value, "callList": views.agent_call_list(service.engine, agent) if agent else []})
    return success(agents)


def agent_private_calls(service: Service, credential: CmsCredential, body: dict[str, Any]) -> Response:
    vdn = _scope(service, credential, body)
    agent = _agent_in(service, vdn, agent_id(body))
    return success(list(agent.private) if agent else [])


def _live_call(service: Service, credential: CmsCredential, body: dict[str, Any]) -> Call:
    vdn = _scope(service, credential, body)
    call_id = string(body, "callId", 20)
    call = service.engine.call(service.cc_id, call_id or "")
    if call is None or call.vdn != vdn:
        raise NotInProgress(f"call {call_id} is not in progress in this VDN")
    return call


def query_detail_call_info(service: Service, credential: CmsCredential, body: dict[str, Any]) -> Response:
    call = _live_call(service, credential, body)
    return success(views.detail_call_info(service.engine, call, service.config.skill_name, service.now()))


def query_basic_call_info(service: Service, credential: CmsCredential, body: dict[str, Any]) -> Response:
    call = _live_call(service, credential, body)
    return success(views.basic_call_info(service.engine, call, service.config.skill_name, service.now()))


def query_call_trace_detail(service: Service, credential: CmsCredential, body: dict[str, Any]) -> Response:
    vdn = _scope(service, credential, body)
    call_id = string(body, "callId", 20)
    log_date = integer(body, "logDate", 0, 4_102_444_800_000)
    assert call_id is not None and log_date is not None
    rows = service.store.track_rows(service.cc_id, vdn, call_id, month_of(log_date))
    return success([views.track_row(row) for row in rows], legacy=False)


def ping(service: Service, credential: CmsCredential, body: dict[str, Any]) -> Response:
    raw = body["raw"]
    try:
        request = json_object(raw)
    except InvalidParameter:
        request = raw.decode("utf-8", "replace")
    return http.json({"request": request, "status": "UP"})
