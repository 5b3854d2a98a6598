"""`ccdata query …` and `ccdata sign`: the client SDK on the command line, for CEC and ccdata alike.

Credentials come from flags, else the environment (CCDATA_URL, CCDATA_AK, CCDATA_SK, CCDATA_APP_KEY,
CCDATA_APP_SECRET), else the configuration file given with --config (its first AK/SK and app, its server address).
"""

from __future__ import annotations

import shlex
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import click
import httpx
import msgspec
from rich.console import Console
from rich.table import Table

from ccdata import signing
from ccdata.client import CecError, CmsClient, DataProcessClient, GatewayClient
from ccdata.domain import codes

out = Console(width=None if sys.stdout.isatty() else 160)
err = Console(stderr=True)
DEFAULT_URL = "http://127.0.0.1:8043"


class Credentials:
    def __init__(self, options: dict[str, Any]) -> None:
        self.options = options
        self._config = None
        if options.get("config"):
            from ccdata import config as configuration

            self._config = configuration.load(options["config"])

    def url(self) -> str:
        if self.options.get("url"):
            return self.options["url"]
        if self._config is not None:
            return f"http://{self._config.server.host}:{self._config.server.port}"
        return DEFAULT_URL

    def cms(self) -> tuple[str, str]:
        ak, sk = self.options.get("ak"), self.options.get("sk")
        if (not ak or not sk) and self._config is not None and self._config.cms.credentials:
            first = self._config.cms.credentials[0]
            ak, sk = ak or first.ak, sk or first.sk
        if not ak or not sk:
            raise click.UsageError("CC-CMS needs --ak and --sk (or CCDATA_AK/CCDATA_SK, or --config)")
        return ak, sk

    def app(self) -> tuple[str, str]:
        key, secret = self.options.get("app_key"), self.options.get("app_secret")
        if (not key or not secret) and self._config is not None and self._config.dataprocess.apps:
            first = self._config.dataprocess.apps[0]
            key, secret = key or first.app_key, secret or first.app_secret
        if not key or not secret:
            raise click.UsageError("DataProcess needs --app-key and --app-secret (or CCDATA_APP_KEY/…, or --config)")
        return key, secret


def _common(function: Callable[..., Any]) -> Callable[..., Any]:
    options = [
        click.option("--url", envvar="CCDATA_URL", help=f"Service address [default: {DEFAULT_URL}]."),
        click.option("--ak", envvar="CCDATA_AK", help="CC-CMS access key."),
        click.option("--sk", envvar="CCDATA_SK", help="CC-CMS secret key."),
        click.option("--app-key", envvar="CCDATA_APP_KEY", help="DataProcess app key."),
        click.option("--app-secret", envvar="CCDATA_APP_SECRET", help="DataProcess app secret."),
        click.option("--config", type=click.Path(exists=True, dir_okay=False), help="Take credentials from here."),
        click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table."),
    ]
    for option in reversed(options):
        function = option(function)
    return function


@click.group()
def query() -> None:
    """Query CC-CMS, CC-Gateway and DataProcess (ccdata or a real CEC)."""


def _run(as_json: bool, action: Callable[[], Any], render: Callable[[Any], Any]) -> None:
    try:
        result = action()
    except CecError as exc:
        err.print(f"error {exc.code}: {exc.message}")
        sys.exit(1)
    except (OSError, httpx.HTTPError) as exc:
        err.print(f"cannot reach the service: {exc}")
        sys.exit(1)
    if as_json:
        click.echo(msgspec.json.encode(result))
    else:
        out.print(render(result))


def _table(title: str, rows: list[Any], columns: list[str] | None = None) -> Table | str:
    if not rows:
        return f"{title}: none"
    data = [msgspec.to_builtins(r) if not isinstance(r, dict | str) else r for r in rows]
    if isinstance(data[0], str):
        data = [{"callId": r} for r in data]
    columns = columns or list(data[0])
    table = Table(title=title)
    for column in columns:
        table.add_column(column)
    for row in data:
        table.add_row(*(_cell(row.get(c)) for c in columns))
    return table


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, dict | list):
        return msgspec.json.encode(value).decode()
    return str(value)


def _fields(title: str, item: Any) -> Table | str:
    if item is None:
        return f"{title}: none"
    table = Table(title=title, show_header=False)
    for key, value in msgspec.to_builtins(item).items():
        table.add_row(key, _cell(value))
    return table


def _ms(text: str | None) -> int | None:
    """Milliseconds since the epoch, or an ISO 8601 time (UTC unless it says otherwise)."""
    if text is None:
        return None
    if text.isdigit():
        return int(text)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise click.BadParameter(f"{text!r} is neither milliseconds nor an ISO 8601 time") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp() * 1000)


# --- CC-CMS -------------------------------------------------------------------------------------------------


def _cms(options: dict[str, Any]) -> CmsClient:
    credentials = Credentials(options)
    ak, sk = credentials.cms()
    return CmsClient(credentials.url(), ak, sk)


@query.command("agent-calls")
@click.option("--vdn", type=int, required=True)
@click.option("--agent", "agent_id", type=int, required=True)
@_common
def agent_calls(vdn: int, agent_id: int, as_json: bool, **options: Any) -> None:
    """The calls an agent is handling now (queryagentcalls)."""
    with _cms(options) as cms:
        _run(as_json, lambda: cms.agent_calls(vdn, agent_id), lambda r: _table(f"calls of agent {agent_id}", r))


@query.command("agent-group-calls")
@click.option("--vdn", type=int, required=True)
@click.option("--agents", required=True, help="Agent IDs, comma-separated (at most 3000).")
@_common
def agent_group_calls(vdn: int, agents: str, as_json: bool, **options: Any) -> None:
    """The calls of several agents, with their status (agentgroup/queryagentcalls)."""
    ids = [int(a) for a in agents.split(",") if a.strip()]

    def render(result: list[Any]) -> Table | str:
        rows = [{"agentId": a.agentId, **msgspec.to_builtins(c)} for a in result for c in a.callList]
        return _table("calls by agent", rows)

    with _cms(options) as cms:
        _run(as_json, lambda: cms.agent_group_calls(vdn, ids), render)


@query.command("private-calls")
@click.option("--vdn", type=int, required=True)
@click.option("--agent", "agent_id", type=int, required=True)
@_common
def private_calls(vdn: int, agent_id: int, as_json: bool, **options: Any) -> None:
    """The calls waiting in an agent's private queue (agentprivatecall)."""
    with _cms(options) as cms:
        _run(as_json, lambda: cms.private_calls(vdn, agent_id),
             lambda r: _table(f"private calls of agent {agent_id}", r))  # fmt: skip


@query.command("call-detail")
@click.option("--vdn", type=int, required=True)
@click.option("--call", "call_id", required=True)
@_common
def call_detail(vdn: int, call_id: str, as_json: bool, **options: Any) -> None:
    """The control block of a call in progress (querydetailcallinfo)."""
    with _cms(options) as cms:
        _run(as_json, lambda: cms.call_detail(vdn, call_id), lambda r: _fields(f"call {call_id}", r))


@query.command("basic-call-info")
@click.option("--vdn", type=int, required=True)
@click.option("--call", "call_id", required=True)
@_common
def basic_call_info(vdn: int, call_id: str, as_json: bool, **options: Any) -> None:
    """Basic information of a call in progress (querybasiccallinfo)."""
    with _cms(options) as cms:
        _run(as_json, lambda: cms.basic_call_info(vdn, call_id), lambda r: _fields(f"call {call_id}", r))


@query.command("call-track")
@click.option("--vdn", type=int, required=True)
@click.option("--call", "call_id", required=True)
@click.option("--log-date", required=True, help="A time in the call's month: ms or ISO 8601.")
@_common
def call_track(vdn: int, call_id: str, log_date: str, as_json: bool, **options: Any) -> None:
    """The call-track rows of a call (querycalltracedetail)."""
    columns = ["callIdNum", "deviceType", "deviceNo", "EnterReason", "LeaveReason", "waitBegin", "ackBegin",
               "callBegin", "callEnd", "CurrentSkillID", "releaseCause"]  # fmt: skip
    with _cms(options) as cms:
        _run(as_json, lambda: cms.call_track(vdn, call_id, _ms(log_date) or 0),
             lambda r: _table(f"track of call {call_id}", r, columns))  # fmt: skip


@query.command("vdn-calls")
@click.option("--vdn", type=int, required=True)
@click.option("--begin", required=True, help="ms or ISO 8601 (not before yesterday 00:00 UTC)")
@click.option("--end", required=True, help="ms or ISO 8601 (not after today 23:59:59 UTC)")
@click.option("--outbound", is_flag=True, help="Outbound calls (isCallIn false) instead of inbound.")
@click.option("--v1", is_flag=True, help="Use the v1 interface (inbound calls only).")
@click.option("--caller")
@click.option("--callee")
@click.option("--offset", type=int, default=0, show_default=True)
@click.option("--limit", type=int, default=100, show_default=True, help="At most 100.")
@click.option("--all", "fetch_all", is_flag=True, help="Every page.")
@_common
def vdn_calls(vdn: int, begin: str, end: str, outbound: bool, v1: bool, caller: str | None, callee: str | None,
              offset: int, limit: int, fetch_all: bool, as_json: bool, **options: Any) -> None:  # fmt: skip
    """The finished calls of a VDN that arrived in a window (vdn/querycalls)."""
    filters = {"inbound": not outbound, "v1": v1, "caller": caller, "callee": callee, "limit": limit}
    window = (_ms(begin) or 0, _ms(end) or 0)
    columns = ["callId", "callerNo", "calleeNo", "callType", "waitBegin", "ackBegin", "callBegin", "callEnd",
               "leaveReason", "mediaType"]  # fmt: skip

    with _cms(options) as cms:

        def action() -> Any:
            if fetch_all:
                found = list(cms.vdn_calls_all(vdn, *window, **filters))
                return {"count": len(found), "data": found}
            page = cms.vdn_calls(vdn, *window, offset=offset, **filters)
            return {"count": page.count, "data": page.data}

        _run(as_json, action, lambda r: _table(f"{r['count']} calls", r["data"], columns))


@query.command("call-record")
@click.option("--call", "call_id", required=True)
@click.option("--outbound", is_flag=True, help="The call is outbound (isCallin false).")
@_common
def call_record(call_id: str, outbound: bool, as_json: bool, **options: Any) -> None:
    """The CDR of a call that ended since yesterday (querycalldetailbyid)."""
    with _cms(options) as cms:
        _run(as_json, lambda: cms.call_record(call_id, not outbound), lambda r: _fields(f"CDR of {call_id}", r))


@query.command("is-processing")
@click.option("--vdn", type=int, required=True)
@click.option("--agent", "agent_id", type=int, required=True)
@_common
def is_processing(vdn: int, agent_id: int, as_json: bool, **options: Any) -> None:
    """Whether an agent is handling a call now (isprocesscall)."""
    with _cms(options) as cms:
        _run(as_json, lambda: cms.is_processing_call(vdn, agent_id),
             lambda r: f"agent {agent_id} is {'' if r else 'not '}handling a call")  # fmt: skip


# --- CC-CMS real-time monitoring ------------------------------------------------------------------------------

SKILL_INDEXES = list(codes.SKILL_INDICATOR_IDS)
AGENT_INDEXES = list(codes.AGENT_INDICATOR_IDS)


def _ids(text: str) -> list[int]:
    try:
        return [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise click.BadParameter(f"{text!r} is not a comma-separated list of IDs") from None


def _names(text: str | None, default: list[str]) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()] if text else default


def _indicators(title: str, rows: list[Any]) -> Table | str:
    """One line an indicator, one column an object (skill, agent, VDN)."""
    if not rows:
        return f"{title}: none"
    table = Table(title=title)
    table.add_column("indicator")
    for row in rows:
        table.add_column(str(row.id))
    values = [row.values() for row in rows]
    for name in dict.fromkeys(index.id for row in rows for index in row.idxs):
        table.add_row(name, *(_cell(v.get(name)) for v in values))
    return table


@query.command("skill-indexes")
@click.option("--vdn", type=int, required=True)
@click.option("--skills", required=True, help="Skill IDs, comma-separated.")
@click.option("--indexes", help="IDX_... indicators, comma-separated (at most 12) [default: every one].")
@_common
def skill_indexes(vdn: int, skills: str, indexes: str | None, as_json: bool, **options: Any) -> None:
    """Real-time indicators of skill queues (skill/rindex)."""
    ids, names = _ids(skills), _names(indexes, SKILL_INDEXES)
    with _cms(options) as cms:
        _run(as_json, lambda: cms.skill_indexes(vdn, ids, names), lambda r: _indicators("skill indicators", r))


@query.command("skill-state")
@click.option("--vdn", type=int, required=True)
@click.option("--skills", required=True, help="Skill IDs, comma-separated.")
@click.option("--legacy", is_flag=True, help="Use realindex/skill/stateinfo.")
@_common
def skill_state(vdn: int, skills: str, legacy: bool, as_json: bool, **options: Any) -> None:
    """Agents by state and queue figures of skills (skill/stateinfo)."""
    ids = _ids(skills)

    def render(rows: list[Any]) -> Table | str:
        return _indicators("skill state", [_as_row(msgspec.to_builtins(r), "skillId") for r in rows])

    with _cms(options) as cms:
        _run(as_json, lambda: cms.skill_state_info(vdn, ids, legacy), render)


def _as_row(item: dict[str, Any], key: str) -> Any:
    from ccdata.client.types import Indicator, IndicatorRow

    return IndicatorRow(item[key], [Indicator(k, v) for k, v in item.items() if k != key])


@query.command("queued-calls")
@click.option("--vdn", type=int, required=True)
@click.option("--skill", "skill_id", type=int, required=True)
@_common
def queued_calls(vdn: int, skill_id: int, as_json: bool, **options: Any) -> None:
    """The calls waiting in a skill queue (skill/queuedevicestatus)."""
    with _cms(options) as cms:
        _run(as_json, lambda: cms.queued_calls(vdn, skill_id), lambda r: _table(f"calls queued for {skill_id}", r))


@query.command("service-quality")
@click.option("--vdn", type=int, required=True)
@click.option("--skills", required=True, help="Skill IDs, comma-separated.")
@_common
def service_quality(vdn: int, skills: str, as_json: bool, **options: Any) -> None:
    """The last 5-minute interval's service quality of skills (skill/servicequality)."""
    ids = _ids(skills)
    with _cms(options) as cms:
        _run(as_json, lambda: cms.service_quality(vdn, ids), lambda r: _table("service quality", r))


@query.command("agent-status")
@click.option("--agents", required=True, help="Agent IDs, comma-separated.")
@_common
def agent_status(agents: str, as_json: bool, **options: Any) -> None:
    """The CTI state of agents (agentgroup/agentstatusinfobyagentids)."""
    ids = _ids(agents)
    with _cms(options) as cms:
        _run(as_json, lambda: cms.agent_status(ids), lambda r: _table("agent status", r))


@query.command("agent-indexes")
@click.option("--vdn", type=int, required=True)
@click.option("--agents", required=True, help="Agent IDs, comma-separated (at most 100).")
@click.option("--indexes", help="IDX_AGENT_... indicators, comma-separated [default: every one].")
@_common
def agent_indexes(vdn: int, agents: str, indexes: str | None, as_json: bool, **options: Any) -> None:
    """Real-time indicators of agents (agentgroup/rindex)."""
    ids, names = _ids(agents), _names(indexes, AGENT_INDEXES)
    with _cms(options) as cms:
        _run(as_json, lambda: cms.agent_indexes(vdn, ids, names), lambda r: _indicators("agent indicators", r))


@query.command("vdn-indexes")
@click.option("--vdns", required=True, help="VDN IDs, comma-separated.")
@click.option("--indexes", required=True, help="IDX_... indicators, comma-separated.")
@_common
def vdn_indexes(vdns: str, indexes: str, as_json: bool, **options: Any) -> None:
    """Real-time indicators of VDNs (rindex/vdn)."""
    ids, names = _ids(vdns), _names(indexes, [])
    with _cms(options) as cms:
        _run(as_json, lambda: cms.vdn_indexes(ids, names), lambda r: _indicators("VDN indicators", r))


# --- CC-Gateway ---------------------------------------------------------------------------------------------


@query.command("call-info")
@click.option("--agent", "agent_id", type=int, required=True)
@click.option("--guid", help="Use this live session's Guid.")
@click.option("--password", help="Sign in for the query and out after it (changes the agent's state!).")
@click.option("--last", is_flag=True, help="The last call when the agent has none now (isNoContainLastCall).")
@_common
def call_info(agent_id: int, guid: str | None, password: str | None, last: bool, as_json: bool, **options: Any) -> None:
    """An agent's current (or last) call with its device trace (CC-Gateway callinfo)."""
    if (guid is None) == (password is None):
        raise click.UsageError("give exactly one of --guid (a live session) and --password (sign in for the query)")
    agent = GatewayClient(Credentials(options).url(), agent_id, password or "")

    def action() -> Any:
        if guid is not None:
            agent.ops.guid = guid
            return agent.call_info(include_last=last)
        agent.sign_in()
        try:
            return agent.call_info(include_last=last)
        finally:
            agent.sign_out()

    with agent:
        _run(as_json, action, lambda r: _fields(f"call of agent {agent_id}", r))


# --- DataProcess --------------------------------------------------------------------------------------------


@query.command("results")
@click.option("--vdn", type=int, required=True)
@click.option("--sub-cc", "sub_cc_no", type=int, default=1, show_default=True)
@click.option("--call-id")
@click.option("--caller")
@click.option("--callee")
@click.option("--begin", help="ms or ISO 8601")
@click.option("--end", help="ms or ISO 8601")
@click.option("--call-type", type=int)
@click.option("--media-type", type=int)
@click.option("--evaluation")
@click.option("--offset", type=int)
@click.option("--limit", type=int)
@click.option("--all", "fetch_all", is_flag=True, help="Every page.")
@_common
def results(vdn: int, sub_cc_no: int, begin: str | None, end: str | None, fetch_all: bool, as_json: bool,
            **options: Any) -> None:  # fmt: skip
    """Call results with satisfaction (queryCallManualDetailInfo), with every documented filter."""
    filters = {k: options.pop(k) for k in ("call_id", "caller", "callee", "call_type", "media_type", "evaluation",
                                           "offset", "limit")}  # fmt: skip
    filters.update(begin=_ms(begin), end=_ms(end))
    filters = {k: v for k, v in filters.items() if v is not None}
    credentials = Credentials(options)
    key, secret = credentials.app()
    columns = ["callId", "callerNo", "calleeNo", "callType", "mediatype", "waitBegin", "callBegin", "callEnd",
               "leaveReason", "evaluationValue"]  # fmt: skip

    with DataProcessClient(credentials.url(), key, secret) as dp:
        if fetch_all:
            filters.pop("offset", None)
            page = filters.pop("limit", 500)

            def action() -> Any:
                found = list(dp.search_all(vdn, page=page, sub_cc_no=sub_cc_no, **filters))
                return {"total": len(found), "results": found}
        else:

            def action() -> Any:
                found = dp.search(vdn, sub_cc_no=sub_cc_no, **filters)
                return {"total": found.total, "results": found.results}

        _run(as_json, action, lambda r: _table(f"{r['total']} call results", r["results"], columns))


# --- sign ---------------------------------------------------------------------------------------------------


@click.command()
@click.argument("method", type=click.Choice(["GET", "POST", "PUT", "DELETE"], case_sensitive=False))
@click.argument("path")
@click.option("--body", default="", help="The exact body to send (JSON text, or @file).")
@click.option("--curl", "as_curl", is_flag=True, help="Print a complete curl command instead of the header.")
@click.option("--url", envvar="CCDATA_URL", default=DEFAULT_URL, show_default=True)
@click.option("--ak", envvar="CCDATA_AK")
@click.option("--sk", envvar="CCDATA_SK")
@click.option("--config", type=click.Path(exists=True, dir_okay=False))
def sign(method: str, path: str, body: str, as_curl: bool, url: str, ak: str | None, sk: str | None,
         config: str | None) -> None:  # fmt: skip
    """Print the auth-v2 Authorization header of a CC-CMS request (or a full curl command).

    PATH is the request path with its query, e.g. /rest/cmsapp/v1/openapi/agent/queryagentcalls.
    """
    from urllib.parse import parse_qsl, urlsplit

    access, secret = Credentials({"ak": ak, "sk": sk, "config": config}).cms()
    if body.startswith("@"):
        with open(body[1:], "rb") as handle:
            payload = handle.read()
    else:
        payload = body.encode()
    host = urlsplit(url).netloc
    parts = urlsplit(path)
    query_args = dict(parse_qsl(parts.query, keep_blank_values=True))
    header = signing.authorization(access, secret, datetime.now(UTC), method.upper(), parts.path, query_args,
                                   {"host": host}, payload)  # fmt: skip
    if not as_curl:
        click.echo(f"Authorization: {header}")
        return
    command = ["curl", "-s", "-X", method.upper(), url.rstrip("/") + path, "-H", f"Authorization: {header}",
               "-H", "Content-Type: application/json;charset=UTF-8"]  # fmt: skip
    if payload:
        command += ["--data-binary", payload.decode()]
    click.echo(shlex.join(command))
