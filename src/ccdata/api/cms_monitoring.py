"""CC-CMS real-time monitoring (`/rest/cmsapp/v1/openapi/...`): skill queues, agents, VDN, 5-minute quality.

Signed, answered and refused as the rest of the CC-CMS facade (`cms.py`'s envelopes and scope check). Counters
come from the service's `Monitor` (fed by the committed call results), live figures from the engine's state: no
request scans the day's records. Definitions: docs/compatibility.md, "CC-CMS real-time monitoring".
"""

from __future__ import annotations

import functools
import json
from collections import Counter
from collections.abc import Callable
from typing import Any

from starlette.responses import Response
from starlette.routing import Route

from ccdata.api import http
from ccdata.api.cms import PREFIX, Endpoint, Forbidden, Handler, _scope, endpoint_factory, success
from ccdata.api.inputs import InvalidParameter, check_agent_id, integer
from ccdata.config import CmsCredential
from ccdata.domain import codes
from ccdata.domain import monitoring as mon
from ccdata.domain.codes import CtiAgentState as S
from ccdata.domain.model import Agent
from ccdata.service import Service

FRESH_MS = 100  # how old a reused wallboard answer may be (docs/compatibility.md)
MAX_SKILLS = 1000
MAX_SKILL_INDEXES = 12
MAX_AGENTS = 6000
MAX_AGENT_INDEXES = 4
MAX_VDNS = 100
NOT_SIGNED_IN_LOGON_MS = 4_294_967_295_000  # the reference's logonTime of an agent not signed in
NONE = 65535
NO_QUEUE_LIMIT = 0  # ccdata configures no queue size limit
OPEN = f"{PREFIX}/v1/openapi"


def routes(service: Service, endpoint: Endpoint | None = None) -> list[Route]:
    """`endpoint`: the CC-CMS request path shared with cms.py's interfaces (one set of limits and lockouts)."""
    endpoint = endpoint or endpoint_factory(service)
    answers = FreshAnswers()
    paths: dict[str, Handler] = {
        "skill/rindex": functools.partial(skill_rindex, answers=answers),
        "skill/stateinfo": skill_state_info,
        "realindex/skill/stateinfo": legacy_skill_state_info,
        "skill/queuedevicestatus": queue_device_status,
        "skill/totalskillstatusex3": total_skill_status,
        "skill/currentcallstateinfo": current_call_state_info,
        "skill/batchskilloverload": batch_skill_overload,
        "skill/servicequality": service_quality,
        "realindex/agent/agentsinskill": agents_in_skill,
        "agentgroup/agentstatusinfobyagentids": agent_status_info,
        "agentgroup/rindex": agent_rindex,
        "rindex/vdn": vdn_rindex,
    }
    return [
        Route(f"{OPEN}/{path}", endpoint(_accepting_query_param(handler)), methods=["POST"])
        for path, handler in paths.items()
    ]


def _accepting_query_param(handler: Handler) -> Handler:
    def run(service: Service, credential: CmsCredential, body: dict[str, Any]) -> Response:
        return handler(service, credential, _unwrapped(body))

    return run


# --- request parsing ---


def _unwrapped(body: dict[str, Any]) -> dict[str, Any]:
    """Many reference examples wrap the (flat) table's fields in `queryParam`: both shapes are accepted."""
    inner = body.get("queryParam")
    return inner if isinstance(inner, dict) else body


def _id_list(body: dict[str, Any], name: str, low: int, high: int, most: int) -> list[int]:
    """A non-empty array of IDs; an array sent as a string (`"[1]"`) and numeric strings are accepted."""
    values = body.get(name)
    if isinstance(values, str):
        try:
            values = json.loads(values)
        except ValueError:
            raise InvalidParameter(f"{name} must be an array") from None
    if not isinstance(values, list) or not values:
        raise InvalidParameter(f"{name} must be a non-empty array")
    if len(values) > most:
        raise InvalidParameter(f"{name} holds at most {most} items")
    found = []
    for index, value in enumerate(values):
        number = integer({name: value}, name, low, high)
        assert number is not None
        found.append(number)
        if name == "agentIds":
            check_agent_id(number, f"agentIds[{index}]")
    return list(dict.fromkeys(found))


def _skills(body: dict[str, Any]) -> list[int]:
    return _id_list(body, "skillIds", 1, 10_000, MAX_SKILLS)


def _index_ids(body: dict[str, Any], known: frozenset[str], reserved: str, most: int) -> list[str]:
    values = body.get("indexIds")
    if not isinstance(values, list) or not values or not all(isinstance(v, str) for v in values):
        raise InvalidParameter("indexIds must be a non-empty array of strings")
    if len(values) > most:
        raise InvalidParameter(f"indexIds holds at most {most} indicators")
    for value in values:
        if value not in known and not _is_reserved(value, reserved):
            raise InvalidParameter(f"unknown indicator {value[:64]!r}")
    return list(dict.fromkeys(values))


def _is_reserved(value: str, prefix: str) -> bool:
    """`IDX_..._RESERVED_COL(N)`, N 1-20: custom indicators; ccdata configures none, so their value is 0."""
    inner = value.removeprefix(prefix + "(").removesuffix(")")
    return value.startswith(prefix + "(") and inner.isascii() and inner.isdigit() and 1 <= int(inner) <= 20


def _now(service: Service) -> int:
    return service.feed_time(service.cc_id)


def _seconds(ms: int) -> int:
    return max(0, ms) // 1000


# --- skill queue ---


class _VdnLive:
    """The live figures of a VDN that every skill of a request reads: taken once per request, not once per skill
    (a wallboard asks for every skill of the VDN at once)."""

    def __init__(self, service: Service, vdn: int) -> None:
        engine, cc_id = service.engine, service.cc_id
        self.agents = [a for a in mon.agents_of(engine, cc_id, vdn) if a.signed_in]
        self.states = {a.agent_id: engine.agent_state(a) for a in self.agents}
        self.waiting = mon.waiting_calls(engine, cc_id, vdn)
        self.handled = mon.handled_by_skill(engine, cc_id, vdn)


class _SkillView:
    """Everything the skill interfaces read about one skill of a VDN, computed once per request."""

    def __init__(self, service: Service, vdn: int, skill_id: int, now: int, live: _VdnLive) -> None:
        self.skill_id = skill_id
        self.now = now
        self.agents = [a for a in live.agents if skill_id in a.skills]
        states = [live.states[a.agent_id] for a in self.agents]
        self.states = Counter(states)
        self.waiting = [w for w in live.waiting if w.skill_id == skill_id]
        self.handled = live.handled[skill_id]
        key = mon.Key(service.cc_id, vdn, skill_id)
        self.interval = service.monitor.interval(key, now)
        self.day = service.monitor.day(key, now)
        # An idle agent's state began with its own mode (state_since): no call is at it.
        self.idle_since = [a.mode_since for a, state in zip(self.agents, states, strict=True) if state == S.IDLE]

    @property
    def longest_wait_ms(self) -> int:
        return max(0, self.now - self.waiting[0].since) if self.waiting else 0

    def count(self, *states: S) -> int:
        return sum(self.states[state] for state in states)

    @property
    def max_idle_in_5_s(self) -> int:
        longest = max((self.now - since for since in self.idle_since), default=0)
        return min(_seconds(longest), mon.INTERVAL_MS // 1000)


def skill_view(service: Service, vdn: int, skill_id: int) -> _SkillView:
    """One skill's figures now, as the skill interfaces compute them (the wallboard shows the same)."""
    return _SkillView(service, vdn, skill_id, _now(service), _VdnLive(service, vdn))


SKILL_INDEXES: dict[str, Callable[[_SkillView], int]] = {
    "IDX_COUNT_REAL_SKILL_QUEUE": lambda v: len(v.waiting),
    "IDX_COUNT_REAL_SKILL_HANDLE": lambda v: v.handled,
    "IDX_DURATION_SKILL_MAX_QUEUE_ACK": lambda v: _seconds(v.longest_wait_ms),
    "IDX_COUNT_20S_CALL_FOR_5MIN": lambda v: v.interval.within(20),
    "IDX_COUNT_REAL_AGENT_SIGN_IN": lambda v: len(v.agents),
    "IDX_COUNT_REAL_AGENT_CONNECT": lambda v: v.count(S.TALKING),
    "IDX_COUNT_REAL_AGENT_SET_IDLE": lambda v: v.count(S.IDLE),
    "IDX_COUNT_REAL_AGENT_USABLE": lambda v: v.count(S.IDLE),
    "IDX_COUNT_REAL_AGENT_SET_BUSY": lambda v: v.count(S.BUSY),
    "IDX_COUNT_REAL_AGENT_ACW": lambda v: v.count(S.WORKING),
    "IDX_COUNT_REAL_AGENT_REST": lambda v: v.count(S.REST),
    "IDX_COUNT_REAL_AGENT_STUDY": lambda v: v.count(S.STUDY),
}
assert tuple(SKILL_INDEXES) == codes.SKILL_INDICATOR_IDS  # every indicator of the reference has its figure


def _views(service: Service, credential: CmsCredential, body: dict[str, Any]) -> list[_SkillView]:
    vdn = _scope(service, credential, body)
    now = _now(service)
    live = _VdnLive(service, vdn)
    return [_SkillView(service, vdn, skill_id, now, live) for skill_id in _skills(body)]


class FreshAnswers:
    """Encoded answers reused while nothing they read has changed: the engine's state (its count of applied
    events), the monitor's counters (its count of results) and the feed clock, to the FRESH_MS step. Wallboards
    poll the same question many times a second across screens; each asks it after its own access check."""

    def __init__(self, most: int = 1024) -> None:
        self.most = most
        self.version: tuple[int, ...] = ()
        self.bodies: dict[tuple[Any, ...], bytes] = {}

    def answer(self, service: Service, key: tuple[Any, ...], compute: Callable[[], Response]) -> Response:
        version = (id(service.engine), service.engine.accepted, service.monitor.fed, _now(service) // FRESH_MS)
        if version != self.version:
            self.version, self.bodies = version, {}
        body = self.bodies.get(key)
        if body is None:
            if len(self.bodies) >= self.most:
                self.bodies.clear()
            body = self.bodies[key] = compute().body
        return Response(body, media_type=http.JSON_TYPE)


def skill_rindex(service: Service, credential: CmsCredential, body: dict[str, Any], answers: FreshAnswers) -> Response:
    vdn = _scope(service, credential, body)
    skills = tuple(_skills(body))
    indexes = _index_ids(body, frozenset(SKILL_INDEXES), "IDX_SKILL_RESERVED_COL", MAX_SKILL_INDEXES)

    def compute() -> Response:
        views = _views(service, credential, body)
        return success([{"id": v.skill_id, "idxs": [_skill_index(v, i) for i in indexes]} for v in views])

    return answers.answer(service, (vdn, skills, tuple(indexes)), compute)


def _skill_index(view: _SkillView, index: str) -> dict[str, Any]:
    value = SKILL_INDEXES[index](view) if index in SKILL_INDEXES else 0
    return {"id": index, "val": str(value)}  # the example's values are strings


def _state_info(view: _SkillView, busy_key: str) -> dict[str, int]:
    waits = [view.interval.max_wait_ms, view.longest_wait_ms]
    return {
        "skillId": view.skill_id,
        "agentLoginNums": len(view.agents),
        "agentTalkingNums": view.count(S.TALKING),
        "agentIdleNums": view.count(S.IDLE),
        "agentAvailableNums": view.count(S.IDLE),
        busy_key: view.count(S.BUSY),
        "agentRestNums": view.count(S.REST),
        "agentMaxIdleTimeIn5": view.max_idle_in_5_s,
        "agentWorkNums": view.count(S.WORKING, S.ADJUSTING),
        "agentStudyNums": view.count(S.STUDY),
        "agentOccupyNums": view.count(S.OCCUPIED),
        "agentPreOccupyNums": view.count(S.PRE_OCCUPIED),
        "totalCallNums": view.day.offered + len(view.waiting) + view.handled,
        "processingCallNums": view.handled,
        "maxCallWaitTimesIn5": _seconds(max(waits)),
        "callWaitNums": len(view.waiting),
        "evenCallTimeIn5": _seconds(view.interval.average_talk_ms),
        "evenWaitTimeIn5": _seconds(view.interval.average_wait_ms),
    }


def skill_state_info(service: Service, credential: CmsCredential, body: dict[str, Any]) -> Response:
    answer = []
    for view in _views(service, credential, body):
        info = _state_info(view, "agentSetBusyNums")
        info["allCallCount"] = view.interval.offered
        info["cnnedIn20sCallCount"] = view.interval.within(20)
        answer.append(info)
    return success(answer)


def legacy_skill_state_info(service: Service, credential: CmsCredential, body: dict[str, Any]) -> Response:
    return success([_state_info(view, "agentSetbusyNums") for view in _views(service, credential, body)])


def total_skill_status(service: Service, credential: CmsCredential, body: dict[str, Any]) -> Response:
    vdn = _scope(service, credential, body)
    answer = []
    for view in _views(service, credential, body):
        answer.append({
            "skillId": view.skill_id, "queueSize": len(view.waiting), "queueTime": _seconds(view.longest_wait_ms),
            "loggedOnAgents": len(view.agents), "availAgents": view.count(S.IDLE),
            "skillDescrip": service.config.skill_name(vdn, view.skill_id),
            "callId": view.waiting[0].call_id if view.waiting else mon.NO_CALL, "maxQueueSize": NO_QUEUE_LIMIT,
        })  # fmt: skip
    return success(answer)


def current_call_state_info(service: Service, credential: CmsCredential, body: dict[str, Any]) -> Response:
    """The current 5-minute interval's counters per skill; ccdata has no IVR time or clear-up data (0)."""
    answer = []
    for view in _views(service, credential, body):
        c = view.interval
        answer.append({
            "id": view.skill_id, "startTime": mon.interval_of(view.now), "allCallCount": c.offered,
            "cnnedCallCount": c.answered, "abanCallCount": c.abandoned, "callEndCount": c.offered,
            "talkTimeOnIvr": 0, "cnnedIn20sCallCount": c.within(20), "clearUpCallCount": 0, "clearUpTime": 0,
        })  # fmt: skip
    return success(answer)


def queue_device_status(service: Service, credential: CmsCredential, body: dict[str, Any]) -> Response:
    vdn = _scope(service, credential, body)
    skill_id = integer(body, "skillId", 1, 10_000)
    waiting = [w for w in mon.waiting_calls(service.engine, service.cc_id, vdn) if w.skill_id == skill_id]
    return success(
        [{"callId": w.call_id, "customerLevel": min(254, max(1, w.priority)), "requestType": w.call_feature}
         for w in waiting]
    )  # fmt: skip


def batch_skill_overload(service: Service, credential: CmsCredential, body: dict[str, Any]) -> Response:
    answer = []
    for view in _views(service, credential, body):
        agents = [agent.agent_id for agent in view.agents]
        others = service.monitor.answered_from_other_queues(service.cc_id, agents, view.skill_id, view.now)
        details = [{"queueId": queue, "callNum": calls} for queue, calls in others.items()]
        answer.append({"skillId": view.skill_id, "overloadDetails": details})
    return success(answer)


def service_quality(service: Service, credential: CmsCredential, body: dict[str, Any]) -> Response:
    """The 5-minute interval holding the start of the last 5 minutes (the reference), per skill."""
    vdn = _scope(service, credential, body)
    start = mon.interval_of(_now(service) - mon.INTERVAL_MS)
    answer = []
    for skill_id in _skills(body):
        c = service.monitor.interval(mon.Key(service.cc_id, vdn, skill_id), start)
        answer.append({
            "skillId": skill_id, "statStartTime": start, "inCallNum": c.offered, "connectedNum": c.answered,
            "callLostNum": c.abandoned, "in15sCallNum": c.within(15), "wait15sLostNum": c.lost(15),
            "in20sCallNum": c.within(20), "wait20sLostNum": c.lost(20),
        })  # fmt: skip
    return success(answer, legacy=False)


# --- agents ---


def agents_in_skill(service: Service, credential: CmsCredential, body: dict[str, Any]) -> Response:
    vdn = _scope(service, credential, body)
    engine, cc_id = service.engine, service.cc_id
    return success([
        {"skillId": skill_id, "agentIds": [a.agent_id for a in mon.agents_of(engine, cc_id, vdn, skill_id)]}
        for skill_id in _skills(body)
    ])  # fmt: skip


def _visible_agent(service: Service, credential: CmsCredential, agent_id: int) -> Agent | None:
    agent = service.engine.agent(service.cc_id, agent_id)
    return agent if agent is not None and agent.vdn in credential.vdns else None


def agent_status_info(service: Service, credential: CmsCredential, body: dict[str, Any]) -> Response:
    now = _now(service)
    answer = []
    for agent_id in _id_list(body, "agentIds", 101, 999_999, MAX_AGENTS):
        agent = _visible_agent(service, credential, agent_id)
        answer.append(_agent_status(service, agent_id, agent, now))
    return success(answer)


def _agent_status(service: Service, agent_id: int, agent: Agent | None, now: int) -> dict[str, Any]:
    state = service.engine.agent_state(agent) if agent else S.NOT_SIGNED_IN
    since = mon.state_since(service.engine, agent) if agent else now
    signed_in = agent is not None and agent.signed_in
    reason = agent.mode_reason if agent and state == S.REST and agent.mode_reason is not None else NONE
    return {
        "agentId": agent_id,
        "locationId": NONE,
        "currentStateReason": reason,
        "prevState": int(S.NOT_SIGNED_IN),
        "prevStateTime": 0,
        "currentState": int(state),
        "currentStateTime": _seconds(now - since),
        "logonTime": agent.login_at if signed_in and agent else NOT_SIGNED_IN_LOGON_MS,
        "agentRelease": 0,
        "currentPrivateCallNum": len(agent.private) if agent else 0,
    }


AGENT_INDEXES = frozenset(codes.AGENT_INDICATOR_IDS)


def agent_rindex(service: Service, credential: CmsCredential, body: dict[str, Any]) -> Response:
    _scope(service, credential, body)
    agent_ids = _id_list(body, "agentIds", 101, 999_999, 100)
    indexes = _index_ids(body, AGENT_INDEXES, "IDX_AGENT_RESERVED_COL", MAX_AGENT_INDEXES)
    now = _now(service)
    answer = []
    for agent_id in agent_ids:
        agent = _visible_agent(service, credential, agent_id)
        answer.append({"id": agent_id, "idxs": [_agent_index(service, agent, i, now) for i in indexes]})
    return success(answer)


def _agent_index(service: Service, agent: Agent | None, index: str, now: int) -> dict[str, Any]:
    signed_in = agent is not None and agent.signed_in
    value: Any = 0
    if index == "IDX_AGENT_PHONE":
        value = agent.phone if signed_in and agent else ""
    elif index == "IDX_AGENT_CURRENT_STATE":
        value = int(service.engine.agent_state(agent)) if agent else 0
    elif index == "IDX_DURATION_AGENT_CURRENT_STATE":
        value = _seconds(now - mon.state_since(service.engine, agent)) if agent else 0
    elif index == "IDX_AGENT_LOGIN_SKILLS":
        value = list(agent.skills) if signed_in and agent else []
    return {"id": index, "val": value}


# --- VDN ---

VDN_AGENT_INDEXES: dict[str, tuple[S, ...]] = {
    "IDX_COUNT_REAL_AGENT_SET_IDLE": (S.IDLE,),
    "IDX_COUNT_REAL_AGENT_SET_BUSY": (S.BUSY,),
    "IDX_COUNT_REAL_AGENT_CONNECT": (S.TALKING,),
    "IDX_COUNT_REAL_AGENT_STUDY": (S.STUDY,),
    "IDX_COUNT_REAL_AGENT_ACW": (S.WORKING, S.ADJUSTING),
    "IDX_COUNT_REAL_AGENT_ANSWER": (S.ANSWERING,),
    "IDX_COUNT_REAL_AGENT_PREOCCUPY": (S.PRE_OCCUPIED,),
    "IDX_COUNT_REAL_AGENT_OCCUPY": (S.OCCUPIED,),
    "IDX_COUNT_REAL_AGENT_REST": (S.REST,),
}
VDN_INDEXES = frozenset(
    {*VDN_AGENT_INDEXES, "IDX_COUNT_REAL_AGENT_SIGN_IN", "IDX_COUNT_REAL_AGENT_NOT_SIGN_IN",
     "IDX_COUNT_REAL_VDN_CONNECT", "IDX_COUNT_REAL_VDN_CALL", "IDX_COUNT_REAL_IVR_HANDLE", "IDX_COUNT_REAL_SKILL_QUEUE"}
)  # fmt: skip


def vdn_rindex(service: Service, credential: CmsCredential, body: dict[str, Any]) -> Response:
    cc_id = integer(body, "ccId", 1, 65535, required=False)
    if cc_id is not None and cc_id != service.cc_id:
        raise Forbidden(f"call center {cc_id} is not served to this access key")
    vdns = _id_list(body, "vdnIds", 1, 5000, MAX_VDNS)
    for vdn in vdns:
        if vdn not in credential.vdns:
            raise Forbidden(f"VDN {vdn} is not in this access key's scope")
    indexes = _index_ids(body, VDN_INDEXES, "IDX_VDN_RESERVED_COL", 100)
    answer = []
    for vdn in vdns:
        figures = vdn_figures(service, vdn)
        answer.append({"id": str(vdn), "idxs": [{"id": i, "val": figures.get(i, 0)} for i in indexes]})
    return success(answer)


def vdn_figures(service: Service, vdn: int) -> dict[str, int]:
    """Every VDN real-time indicator of a VDN, from the engine's live state."""
    engine, cc_id = service.engine, service.cc_id
    agents = mon.agents_of(engine, cc_id, vdn)
    states = mon.agents_by_state(engine, agents)
    calls = [c for (cc, _), c in engine.calls.items() if cc == cc_id and c.vdn == vdn and not c.internal]
    figures = {name: sum(states[s] for s in wanted) for name, wanted in VDN_AGENT_INDEXES.items()}
    figures["IDX_COUNT_REAL_AGENT_SIGN_IN"] = len(agents) - states[S.NOT_SIGNED_IN]
    figures["IDX_COUNT_REAL_AGENT_NOT_SIGN_IN"] = states[S.NOT_SIGNED_IN]
    figures["IDX_COUNT_REAL_VDN_CALL"] = len(calls)
    figures["IDX_COUNT_REAL_VDN_CONNECT"] = sum(1 for c in calls if c.phase.value in ("talking", "held"))
    figures["IDX_COUNT_REAL_IVR_HANDLE"] = sum(1 for c in calls if c.phase.value == "ivr")
    figures["IDX_COUNT_REAL_SKILL_QUEUE"] = len(mon.waiting_calls(engine, cc_id, vdn))
    return figures
