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
from ccdata.api.csv_answer import csv_response, negotiated
from ccdata.api.inputs import InvalidParameter, agent_id, check_agent_id, integer, json_object, string
from ccdata.config import CmsCredential
from ccdata.domain import codes, tables, views
from ccdata.domain.model import Call
from ccdata.domain.records import CallResult, TrackRow, month_of
from ccdata.service import Service, wall_clock_ms
from ccdata.store.ports import CallResultQuery

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


Endpoint = Callable[..., Callable[[Request], Awaitable[Response]]]


def endpoint_factory(service: Service) -> Endpoint:
    """The CC-CMS request path (rate limit, address lockout, auth-v2, body limit, envelopes) around a handler.
    Made once per application, so that every CC-CMS interface shares the same limits and lockouts."""
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
                    await service.records_current()
                    return await run_in_threadpool(handler, service, credential, arguments)
                return handler(service, credential, arguments)
            except InvalidParameter as exc:
                return failure(codes.CMS_INVALID_PARAMETER, f"Invalid parameter: {exc}")
            except Forbidden as exc:
                return failure(codes.CMS_NO_PERMISSION, f"Insufficient permission: {exc}")
            except NotInProgress as exc:
                return failure(codes.CMS_FAILED, str(exc))

        return run

    return endpoint


def routes(service: Service, endpoint: Endpoint | None = None) -> list[Route]:
    endpoint = endpoint or endpoint_factory(service)
    trace = negotiated(endpoint(query_call_trace_detail, store=True), endpoint(call_trace_csv, store=True))
    detail_by_id = endpoint(query_call_detail_by_id, store=True)
    return [
        Route(f"{PREFIX}/v1/openapi/agent/queryagentcalls", endpoint(query_agent_calls), methods=["POST"]),
        Route(f"{PREFIX}/v1/openapi/agentgroup/queryagentcalls", endpoint(query_agent_group_calls), methods=["POST"]),
        Route(f"{PREFIX}/v1/openapi/agent/agentprivatecall", endpoint(agent_private_calls), methods=["POST"]),
        Route(f"{PREFIX}/v1/openapi/calldata/querydetailcallinfo", endpoint(query_detail_call_info), methods=["POST"]),
        Route(f"{PREFIX}/v1/openapi/calldata/querybasiccallinfo", endpoint(query_basic_call_info), methods=["POST"]),
        Route(f"{PREFIX}/v1/openapi/vdn/querycalltracedetail", trace, methods=["POST"]),
        Route(f"{PREFIX}/v1/ping", endpoint(ping, parse=False), methods=["POST"]),
        # CC-CMS call data (issue 13): the VDN call list, a call's CDR, whether an agent is on a call.
        Route(f"{PREFIX}/v1/openapi/vdn/querycalls", endpoint(query_calls_v1, store=True), methods=["POST"]),
        Route(f"{PREFIX}/v2/openapi/vdn/querycalls", endpoint(query_calls_v2, store=True), methods=["POST"]),
        Route(f"{PREFIX}/v1/openapi/calldata/querycalldetailbyid", detail_by_id, methods=["POST"]),
        Route(f"{PREFIX}/v1/openapi/calldata/isprocesscall", endpoint(is_process_call), methods=["POST"]),
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


def _call_trace(service: Service, credential: CmsCredential, body: dict[str, Any]) -> list[TrackRow]:
    vdn = _scope(service, credential, body)
    call_id = string(body, "callId", 20)
    log_date = integer(body, "logDate", 0, 4_102_444_800_000)
    assert call_id is not None and log_date is not None
    return service.store.track_rows(service.cc_id, vdn, call_id, month_of(log_date))


def query_call_trace_detail(service: Service, credential: CmsCredential, body: dict[str, Any]) -> Response:
    return success([views.track_row(row) for row in _call_trace(service, credential, body)], legacy=False)


def call_trace_csv(service: Service, credential: CmsCredential, body: dict[str, Any]) -> Response:
    """`querycalltracedetail` for `Accept: text/csv`: the same rows; errors in the same JSON envelope."""
    return csv_response(tables.TRACK_ROWS, _call_trace(service, credential, body))


def ping(service: Service, credential: CmsCredential, body: dict[str, Any]) -> Response:
    raw = body["raw"]
    try:
        request = json_object(raw)
    except InvalidParameter:
        request = raw.decode("utf-8", "replace")
    return http.json({"request": request, "status": "UP"})


# --- call data (issue 13): vdn/querycalls v1 and v2, calldata/querycalldetailbyid, calldata/isprocesscall ---

DAY_MS = 86_400_000
MAX_MS = 4_102_444_800_000
MAX_CALLS_PAGE = 100  # the reference: "The maximum value is 100"; also the default (docs/compatibility.md)
MAX_NUMBER_DIGITS = 32


def _query_param(body: dict[str, Any]) -> dict[str, Any]:
    """The fields, flat as the tables list them or inside `queryParam` as the examples send them."""
    inner = body.get("queryParam")
    if inner is None:
        return body
    if not isinstance(inner, dict):
        raise InvalidParameter("queryParam must be a JSON object")
    return inner


def _flag(body: dict[str, Any], name: str) -> bool:
    """A String "true"/"false" (a JSON boolean is taken too)."""
    value = body.get(name)
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    if value is None or value == "":
        raise InvalidParameter(f"{name} is required")
    raise InvalidParameter(f'{name} must be "true" or "false"')


def _number(body: dict[str, Any], name: str) -> str | None:
    """An optional calling/called number: digits only (the reference's number rules)."""
    value = string(body, name, MAX_NUMBER_DIGITS, required=False)
    if value is not None and not (value.isascii() and value.isdigit()):
        raise InvalidParameter(f"{name} must consist of digits")
    return value


def query_window(body: dict[str, Any], now: int) -> tuple[int, int]:
    """beginDate..endDate (UTC ms): not before 00:00:00 of the previous day, not after 23:59:59 of today."""
    begin = integer(body, "beginDate", 0, MAX_MS)
    end = integer(body, "endDate", 0, MAX_MS)
    assert begin is not None and end is not None
    today = now - now % DAY_MS
    if begin < today - DAY_MS:
        raise InvalidParameter("beginDate cannot be earlier than 00:00:00 (UTC) of the previous day")
    if end >= today + DAY_MS:
        raise InvalidParameter("endDate cannot be later than 23:59:59 (UTC) of the current day")
    if begin > end:
        raise InvalidParameter("beginDate is after endDate")
    return begin, end


def calls_query(service: Service, credential: CmsCredential, body: dict[str, Any], inbound: bool) -> CallResultQuery:
    vdn = _scope(service, credential, body)
    begin, end = query_window(body, service.now())
    limit = integer(body, "limit", 1, MAX_CALLS_PAGE, required=False)
    offset = integer(body, "offset", 0, 10**9, required=False)
    return CallResultQuery(
        cc_id=service.cc_id,
        vdn=vdn,
        caller_no=_number(body, "callerNo"),
        callee_no=_number(body, "calleeNo"),
        begin=begin,
        end=end,
        inbound=inbound,
        offset=offset or 0,
        limit=limit or MAX_CALLS_PAGE,
    )


def _cms_call_type(service: Service, result: CallResult) -> int:
    track = service.store.track_rows(result.cc_id, result.vdn, result.call_id, month_of(result.arrived_at))
    return views.cms_call_type(result, track)


def _calls(service: Service, query: CallResultQuery) -> Response:
    count, results = service.store.search_call_results(query)
    data = [views.vdn_call(result, _cms_call_type(service, result)) for result in results]
    return success({"data": data, "count": count}, legacy=False)


def query_calls_v1(service: Service, credential: CmsCredential, body: dict[str, Any]) -> Response:
    """V1: inbound calls only."""
    return _calls(service, calls_query(service, credential, body, inbound=True))


def query_calls_v2(service: Service, credential: CmsCredential, body: dict[str, Any]) -> Response:
    """V2: `isCallIn` "true" inbound calls, "false" outbound calls."""
    inbound = _flag(body, "isCallIn")
    return _calls(service, calls_query(service, credential, body, inbound=inbound))


def query_call_detail_by_id(service: Service, credential: CmsCredential, body: dict[str, Any]) -> Response:
    """The CDR of a call of the last day in one of the credential's VDNs (no `vdn` in the request)."""
    body = _query_param(body)
    cc_id = integer(body, "ccId", 1, 65535)
    if cc_id != service.cc_id:
        raise Forbidden(f"call center {cc_id} is not served to this access key")
    inbound = _flag(body, "isCallin")
    call_id = string(body, "callId", 20)
    assert call_id is not None
    now = service.now()
    oldest = now - now % DAY_MS - DAY_MS
    found = [
        result
        for result in service.store.call_results(service.cc_id, call_id)
        if result.vdn in credential.vdns
        and result.arrived_at >= oldest
        and (result.call_type == codes.DP_INBOUND) == inbound
    ]
    if not found:
        raise NotInProgress(f"no CDR of call {call_id} in this access key's VDNs for the last day")
    latest = found[-1]
    detail = views.call_detail(latest, _cms_call_type(service, latest))
    return success(detail)


def is_process_call(service: Service, credential: CmsCredential, body: dict[str, Any]) -> Response:
    """true while the agent has a call at it (alerting, talking, held, in a conference)."""
    body = _query_param(body)
    vdn = _scope(service, credential, body)
    agent = _agent_in(service, vdn, agent_id(body))
    return success(bool(agent and agent.calls))
