"""DataProcess: `POST /apiaccess/rest/dataprocess/v1/openapp/queryCallManualDetailInfo`, the call-result search.

Bearer token from `tokenByAkSk`. Every documented filter; the rule "callId, or at least one of beginDate and
endDate". Paging is a ccdata extension: `offset` (default 0) and `limit` (default and maximum from the
configuration, 100 and 1000), results ordered by arrival time then call ID; `total` counts every match.
Errors: 400 (bad request), 401 (no, expired or out-of-scope token), with a JSON body. `Accept: text/csv` gets the
same page as CSV, with `total` in `X-Total-Count` (api/csv_answer.py).
"""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ccdata.api import http
from ccdata.api.auth.apifabric import Tokens
from ccdata.api.csv_answer import csv_response, wants_csv
from ccdata.api.inputs import InvalidParameter, integer, json_object, string
from ccdata.domain import codes, tables, views
from ccdata.service import Service
from ccdata.store.ports import CallResultQuery

PATH = "/apiaccess/rest/dataprocess/v1/openapp/queryCallManualDetailInfo"
MAX_MS = 4_102_444_800_000


class OutOfScope(Exception):
    pass


def routes(service: Service, tokens: Tokens) -> list[Route]:
    settings = service.config.dataprocess

    async def query_call_manual_detail_info(request: Request) -> Response:
        token = tokens.check(request.headers.get("authorization"))
        if token is None:
            return http.spring_error(request, 401, "Unauthorized", "a valid Bearer token from tokenByAkSk is required")
        try:
            body = json_object(await http.read_body(request, service.config.server.max_body_bytes))
            query = _query(body, service.cc_id, token.app.vdns, settings.default_limit, settings.max_limit)
        except http.BodyTooLarge as exc:
            return http.spring_error(request, 413, "Payload Too Large", str(exc))
        except InvalidParameter as exc:
            return http.spring_error(request, 400, "Bad Request", str(exc))
        except OutOfScope as exc:
            return http.spring_error(request, 401, "Unauthorized", str(exc))
        # SQLite work runs in a worker thread on its own read connection: the event loop never waits on it.
        await service.records_current()
        total, results = await run_in_threadpool(service.store.search_call_results, query)
        if wants_csv(request.headers.get("accept")):  # the same page; `total` travels in a header
            return csv_response(tables.CALL_RESULTS, results, {"X-Total-Count": str(total)})
        return http.json({"total": total, "results": [views.call_result(r) for r in results]})

    return [Route(PATH, query_call_manual_detail_info, methods=["POST"])]


def _query(body: dict, cc_id: int, vdns: list[int], default_limit: int, max_limit: int) -> CallResultQuery:
    sub_cc = integer(body, "subCcNo", 0, 65535)
    vdn = integer(body, "vdn", 0, 5000)
    assert vdn is not None
    if sub_cc != cc_id:
        raise OutOfScope(f"call center {sub_cc} is not served to this app")
    if vdn not in vdns:
        raise OutOfScope(f"VDN {vdn} is not in this app's scope")
    call_id = string(body, "callId", 20, required=False)
    begin = integer(body, "beginDate", 0, MAX_MS, required=False)
    end = integer(body, "endDate", 0, MAX_MS, required=False)
    if call_id is None and begin is None and end is None:
        raise InvalidParameter("callId, or at least one of beginDate and endDate, is required")
    if begin is not None and end is not None and begin > end:
        raise InvalidParameter("beginDate is after endDate")
    call_type = integer(body, "callType", 0, 99, required=False)
    if call_type is not None and call_type not in codes.DATAPROCESS_CALL_TYPES:
        raise InvalidParameter(f"callType {call_type} is not one of {sorted(codes.DATAPROCESS_CALL_TYPES)}")
    media_type = integer(body, "mediaType", 0, 99, required=False)
    if media_type is not None and media_type not in codes.DATAPROCESS_MEDIA_TYPES:
        raise InvalidParameter(f"mediaType {media_type} is not one of {sorted(codes.DATAPROCESS_MEDIA_TYPES)}")
    limit = integer(body, "limit", 1, max_limit, required=False)
    return CallResultQuery(
        cc_id=cc_id,
        vdn=vdn,
        call_id=call_id,
        caller_no=string(body, "callerNo", 32, required=False),
        callee_no=string(body, "calleeNo", 32, required=False),
        begin=begin,
        end=end,
        call_type=call_type,
        media_type=media_type,
        evaluation_value=string(body, "evaluationValue", 32, required=False),
        offset=integer(body, "offset", 0, 10**9, required=False) or 0,
        limit=limit or default_limit,
    )
