"""CC-CMS agent interfaces beyond the wallboard counters (`/rest/cmsapp/v1/openapi/...`): the agent operation log
(`agent/agentoprinfo`), one agent by work number, agent counts and skills of a list of agents, system state.

Signed, enveloped and refused as the rest of CC-CMS (`cms.py`); bodies flat or wrapped in `queryParam`.
Decisions: docs/compatibility.md, "CC-CMS agents, VDN lists and configuration".
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from starlette.responses import Response
from starlette.routing import Route

from ccdata.api.cms import Endpoint, Forbidden, endpoint_factory, success
from ccdata.api.cms_monitoring import OPEN, _accepting_query_param
from ccdata.api.inputs import InvalidParameter, integer, string
from ccdata.config import CmsCredential
from ccdata.domain import views
from ccdata.service import Service

QUARTER_MS = 15 * 60 * 1000
DAY_MS = 86_400_000
TIME_FORMAT = "%Y-%m-%d %H:%M:%S"


def routes(service: Service, endpoint: Endpoint | None = None) -> list[Route]:
    endpoint = endpoint or endpoint_factory(service)
    oprinfo = endpoint(_accepting_query_param(agent_operations), store=True)
    return [Route(f"{OPEN}/agent/agentoprinfo", oprinfo, methods=["POST"])]


# --- agent/agentoprinfo ---


def _utc_time(body: dict[str, Any], name: str) -> int:
    text = string(body, name, 19)
    assert text is not None
    try:
        return int(datetime.strptime(text, TIME_FORMAT).replace(tzinfo=UTC).timestamp() * 1000)
    except ValueError:
        raise InvalidParameter(f"{name} must be a UTC time yyyy-MM-dd HH:mm:ss") from None


def operation_window(body: dict[str, Any]) -> tuple[int, int]:
    """beginTime..endTime: a positive multiple of 15 minutes, at most 24 hours (the reference)."""
    begin, end = _utc_time(body, "beginTime"), _utc_time(body, "endTime")
    span = end - begin
    if span <= 0 or span % QUARTER_MS:
        raise InvalidParameter("endTime - beginTime must be a positive multiple of 15 minutes")
    if span > DAY_MS:
        raise InvalidParameter("endTime - beginTime must be at most 24 hours")
    return begin, end


def agent_operations(service: Service, credential: CmsCredential, body: dict[str, Any]) -> Response:
    """The agent's operation records overlapping the window, of the last day only (the reference's retention:
    the rows are kept, older ones are not answered), in the access key's VDNs."""
    cc_id = integer(body, "ccId", 1, 65535, required=False)
    if cc_id is not None and cc_id != service.cc_id:
        raise Forbidden(f"call center {cc_id} is not served to this access key")
    agent_id = integer(body, "currentAgentId", 0, 999_999)
    operate_type = integer(body, "operateType", 0, 65535, required=False)
    begin, end = operation_window(body)
    assert agent_id is not None
    oldest = service.feed_time(service.cc_id) - DAY_MS
    found = service.store.agent_operations(service.cc_id, agent_id, max(begin, oldest), end, operate_type)
    return success([views.agent_operation(op) for op in found if op.vdn in credential.vdns])
