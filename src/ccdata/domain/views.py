"""Read models: live state and records shaped as the CEC interfaces send them. Pure functions of state + `now`.

Key names, order and JSON types follow the reference examples; `docs/compatibility.md` gives the field-by-field
decisions. Durations the engine keeps in ms are reported in whole seconds where the reference says seconds.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from ccdata.domain import codes
from ccdata.domain.codes import NO_SUB_MEDIA_TYPE, US_NO_USE, CallStatus, DeviceType
from ccdata.domain.engine import Engine
from ccdata.domain.model import Agent, Call, LastCall, Leg, Phase
from ccdata.domain.records import AgentOperation, CallResult, TrackRow

SkillNames = Callable[[int, int], str]  # (vdn, skill id) -> the skill queue's description

#: The gateway's callfeature follows its "Call Type" appendix: the track call type maps onto it like this.
_GATEWAY_CALL_TYPE = {0: 0, 6: 6, 7: 7, 43: 43, 44: 44, 51: 51, 52: 52}


def gateway_call_type(call_type: int, call_feature: int) -> int:
    """The CC-Gateway "Call Type" of a call (its callinfo `callfeature`, its events' `feature`)."""
    return _GATEWAY_CALL_TYPE.get(call_type, call_feature)


def current_device(call: Call) -> Leg | None:
    """The device handling the call now: its agent if one is on it, else its latest open leg."""
    agent_legs = [leg for leg in call.legs if leg.device_type == DeviceType.AGENT and not leg.directed]
    if agent_legs:
        return agent_legs[0]
    return call.legs[-1] if call.legs else None


def _device_no(leg: Leg | None) -> int:
    if leg is None or leg.transient:
        return 0
    return int(leg.device_no) if leg.device_no.isdigit() else 0


def _logon_seconds(engine: Engine, call: Call, leg: Leg | None, now: int) -> int:
    if leg is None or leg.device_type != DeviceType.AGENT or leg.directed:
        return 0
    agent = engine.agent(call.cc_id, leg.agent_id)
    return max(0, (now - agent.login_at) // 1000) if agent and agent.signed_in else 0


def detail_call_info(engine: Engine, call: Call, skill_name: SkillNames, now: int) -> dict[str, Any]:
    """`querydetailcallinfo`'s resultDesc: the call control block, in the order of the reference example."""
    leg = current_device(call)
    return {
        "trunkNo": call.trunk_no,
        "deviceType": int(leg.device_type) if leg else 0,
        "deviceNo": _device_no(leg),
        "dsn": call.dsn,
        "callData": call.call_data,
        "totalTalkingTimes": call.talk_time_ms(now) // 1000,
        "cb": call.cb,
        "keyId": call.key_id,
        "callingNum": call.caller,
        "calledNum": call.called,
        "orgiCalledNum": call.orgi_called,
        "callDataLen": len(call.call_data.encode()),
        "callSkill": skill_name(call.vdn, call.skill_id),
        "partyNum": call.party_num,
        "callFeature": call.call_feature,
        "place": call.place,
        "waitTime": call.queue_time_ms(now) // 1000,
        "logonTimes": _logon_seconds(engine, call, leg, now),
        "handle": call.handle,
        "time": call.arrived_at // 1000,  # seconds, as this interface's example shows
        "mediaType": codes.MEDIA_TYPE_NAMES.get(call.media_type, str(call.media_type)),
        "submediaType": call.sub_media_type,
        "server": call.server,
        "mid": call.mid,
        "priority": call.priority,
    }


def basic_call_info(engine: Engine, call: Call, skill_name: SkillNames, now: int) -> dict[str, Any]:
    """`querybasiccallinfo`'s resultDesc, in the order of the reference example."""
    leg = current_device(call)
    return {
        "time": call.arrived_at,  # milliseconds, as this interface's table and example say
        "dsn": call.dsn,
        "handle": call.handle,
        "server": call.server,
        "keyId": call.key_id,
        "callingNum": call.caller,
        "calledNum": call.called,
        "mid": call.mid,
        "trunkNo": call.trunk_no,
        "priority": call.priority,
        "deviceType": int(leg.device_type) if leg else 0,
        "deviceNo": _device_no(leg),
        "callSkill": skill_name(call.vdn, call.skill_id),
        "partyNum": call.party_num,
        "callFeature": call.call_feature,
        "orgiCalledNum": call.orgi_called,
        "mediaType": call.media_type,
        "place": call.place,
        "waitTime": call.queue_time_ms(now) // 1000,
        "totalTalkingTimes": call.talk_time_ms(now) // 1000,
        "logonTimes": _logon_seconds(engine, call, leg, now),
        "serviceType": 0,  # no business types are configured in ccdata
        "callInCause": 65535,  # "no cause", the value of the reference example
        "enterReason": int(leg.enter_reason) if leg else 0,
        "submediaType": call.sub_media_type,
        "mediaBillType": 0,
    }


def call_status(call: Call, agent_id: int) -> CallStatus:
    """The batch query's callStatus of a call as one agent sees it."""
    leg = call.agent_leg(agent_id)
    if leg is None:
        return CallStatus.PRIVATE_QUEUE if call.phase is Phase.QUEUED else CallStatus.OCCUPY
    if leg.held:
        return CallStatus.HOLD
    if not leg.call_begin:
        return CallStatus.ALERTING
    return CallStatus.TRITALK if call.conference else CallStatus.TALK


def agent_call_list(engine: Engine, agent: Agent) -> list[dict[str, Any]]:
    """`agentgroup/queryagentcalls`' callList of one agent: its current calls, then those in its private queue
    (status 3 PRIVATE_QUEUE, which the reference defines for exactly these)."""
    calls = []
    for call_id in agent.calls + agent.private:
        call = engine.calls[(agent.cc_id, call_id)]
        calls.append(
            {
                "callId": call.call_id,
                "callStatus": int(call_status(call, agent.agent_id)),
                "callInOut": 0 if call.inbound else 1,
                "submediaType": str(call.sub_media_type),
                "mediaType": call.media_type,
            }
        )
    return calls


def gateway_call_info(
    engine: Engine, agent: Agent, call: Call | LastCall, skill_name: SkillNames, now: int
) -> dict[str, Any]:
    """The CC-Gateway `callinfo` result for a current call (a `Call`) or the agent's last call (a `LastCall`)."""
    if isinstance(call, LastCall):
        leg, last, queue_ms, ended = call.leg, True, call.queue_ms, call.ended_at
    else:
        leg, last, queue_ms, ended = call.agent_leg(agent.agent_id), False, call.queue_time_ms(now), None
    media_type = call.media_type
    return {
        "callfeature": gateway_call_type(call.call_type, call.call_feature),
        "callid": call.call_id,
        "caller": call.caller,
        "called": call.called,
        "callskill": skill_name(call.vdn, call.skill_id),
        "callskillid": call.skill_id,
        "orgicallednum": call.orgi_called,
        "calldata": call.call_data,
        "begintime": (leg.handling_times()[1] or None) if leg else None,  # a hold does not restart it
        "endtime": ended,
        "userPriority": call.priority,
        "trunkNo": call.trunk_no,
        "logontimes": max(0, (now - agent.login_at) // 1000) if agent.signed_in else 0,
        "mediaType": media_type,
        "mediaAbility": codes.MEDIA_ABILITY.get(media_type, 1),
        "waitTime": queue_ms // 1000,
        "trace": _trace(leg, call.vdn, last),
    }


def _trace(leg: Leg | None, vdn: int, last: bool) -> dict[str, Any] | None:
    if leg is None:
        return None

    def when(ms: int) -> int | None:
        return ms or None

    # The reference: the end times and the leave reason "cannot be queried" for the last call.
    hidden = last
    # The agent's handling of the call, not the leg since the last retrieval: a workbench's timers run on.
    wait_begin, ack_begin, call_begin = leg.handling_times()
    return {
        "waitBeginTime": wait_begin,
        "waitEndTime": None if hidden else when(ack_begin),
        "answerBeginTime": when(ack_begin),
        "answerEndTime": None if hidden else when(call_begin),
        "talkBeginTime": when(call_begin),
        "talkEndTime": None if hidden else when(leg.call_end),
        "deviceNo": int(leg.device_no) if leg.device_no.isdigit() else 0,
        "deviceType": int(leg.device_type),
        "callDirectMode": "NORMAL_DIRECT",
        "enterReason": int(leg.enter_reason),
        "enterReasonDesc": codes.GATEWAY_REASONS.get(leg.enter_reason, codes.reason_description(leg.enter_reason)),
        "leaveReason": None if hidden or not leg.call_end else int(leg.leave_reason),
        "leaveReasonDesc": None
        if hidden or not leg.call_end
        else codes.GATEWAY_REASONS.get(leg.leave_reason, codes.reason_description(leg.leave_reason)),
        "vdnId": vdn,
    }


def track_row(row: TrackRow) -> dict[str, Any]:
    """One `querycalltracedetail` row, typed as the reference example: strings, but for the media types."""
    return {
        "callId": row.call_id,
        "mediaType": row.media_type,  # the example sends it twice, "1" then 53: the number is what parsers keep
        "subMediaType": row.sub_media_type,
        "callIdNum": str(row.call_id_num),
        "callerNo": row.caller_no,
        "calleeNo": row.callee_no,
        "waitBegin": str(row.wait_begin),
        "ackBegin": str(row.ack_begin),
        "callBegin": str(row.call_begin),
        "callEnd": str(row.call_end),
        "subCcNo": str(row.sub_cc_no),
        "deviceType": str(row.device_type),
        "deviceNo": row.device_no,
        "deviceIn": row.device_in,
        "callType": str(row.call_type),
        # Only the -1 row has a cause (the reference); the others send "0", a numeric string like the example's
        # (the table says Integer), never "" which is neither.
        "releaseCause": "0" if row.release_cause is None else str(row.release_cause),
        "EnterReason": str(row.enter_reason),
        "LeaveReason": str(row.leave_reason),
        "CurrentSkillID": str(row.current_skill_id),
    }


def call_result(result: CallResult) -> dict[str, Any]:
    """One DataProcess `queryCallManualDetailInfo` result: strings, except `vdn`, as the example sends them."""
    return {
        "logDate": str(result.log_date),
        "callerNo": result.caller_no,
        "calleeNo": result.callee_no,
        "callId": result.call_id,
        "callType": str(result.call_type),
        "mediatype": str(result.media_type),
        "waitBegin": str(result.wait_begin),
        "ackBegin": str(result.ack_begin),
        "callBegin": str(result.call_begin),
        "callEnd": str(result.call_end),
        "vdn": result.vdn,
        "leaveReason": str(result.leave_reason),
        "evaluationValue": result.evaluation_value or "",
    }


#: The CMS call type (table 5.6) of a call result when its call track is gone: inbound is a normal call, the rest
#: outbound calls of the DataProcess list (predicted, previewed, preempted) map to their SP_CALL codes.
_SP_CALL_OF_DP_TYPE = {
    codes.DP_INBOUND: codes.SP_CALL_NORMAL,
    codes.DP_OUTBOUND: codes.SP_CALL_OUT,
    codes.DP_PREVIEWED: codes.ICD_SP_OUTBOUND_PREVIEW,
}
#: DataProcess call types whose CDR carries `beginTime`/`endTime` (querycalldetailbyid: predicted and preempted).
_TIMED_OUTBOUND = frozenset({codes.DP_PREDICTED, 4})  # 4: preempted outbound call


def cms_call_type(result: CallResult, track: list[TrackRow]) -> int:
    """The call type of CMS table 5.6 (`SP_CALL_*`): the call track's (its -1 row), else from the result's."""
    if track:
        return track[-1].call_type
    return _SP_CALL_OF_DP_TYPE.get(result.call_type, codes.SP_CALL_OUT)


def vdn_call(result: CallResult, call_type: int) -> dict[str, Any]:
    """One `vdn/querycalls` row, typed as the reference example: numeric strings, but `vdn` and the media types."""
    return {
        "logDate": str(result.log_date),
        "callerNo": result.caller_no,
        "calleeNo": result.callee_no,
        "callId": result.call_id,
        "callType": str(call_type),
        "waitBegin": str(result.wait_begin),
        "ackBegin": str(result.ack_begin),
        "callBegin": str(result.call_begin),
        "callEnd": str(result.call_end),
        "vdn": result.vdn,
        "leaveReason": str(result.leave_reason),
        "mediaType": result.media_type,
        "subMediaType": result.sub_media_type,
    }


def _seconds(begin: int, end: int) -> int:
    return max(0, (end - begin) // 1000) if begin else 0


def _utc_text(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%d %H:%M:%S")


def call_detail(result: CallResult, call_type: int) -> dict[str, Any]:
    """The `calldata/querycalldetailbyid` CDR: numbers as the table and example; durations in whole seconds."""
    end = result.call_end
    detail: dict[str, Any] = {
        "vdn": result.vdn,
        "callId": result.call_id,
        "callerNo": result.caller_no,
        "calleeNo": result.callee_no,
        "callType": call_type,
        "agentId": result.agent_id,
        "skillId": result.skill_id,
        "anonyCall": 0,
        "queueWaitTime": _seconds(result.wait_begin, result.ack_begin or end),
        "ivrCallTime": _seconds(result.arrived_at, result.wait_begin or result.ack_begin or end),
        "ackTime": _seconds(result.ack_begin, result.call_begin or end),
        "callTime": _seconds(result.call_begin, end),
        "releaseCause": result.release_cause,
    }
    if result.call_type in _TIMED_OUTBOUND:
        detail["beginTime"] = _utc_text(result.arrived_at)
        detail["endTime"] = _utc_text(end)
    return detail


#: `agentType` of an operation record: a PC+phone agent (the sign-in's default agent type, CMS reference 5.7).
AGENT_TYPE_PC_PHONE = 4


def agent_operation(op: AgentOperation) -> dict[str, Any]:
    """An `agent/agentoprinfo` row: the table's keys and types; the reference's "meaningless" `serviceNo` 0."""
    return {
        "id": op.operation_id,
        "callId": op.call_id,
        "phoneNo": op.phone_no,
        "subCcNo": 0,
        "currentAgentId": op.agent_id,
        "currentSkillId": op.skill_id,
        "mediaType": op.media_type,
        "submediaType": str(NO_SUB_MEDIA_TYPE),
        "beginTime": _utc_text(op.begin_at),
        "endTime": _utc_text(op.end_at),
        "vdn": op.vdn,
        "callType": op.call_type,
        "serviceNo": 0,
        "operateType": op.operate_type,
        "operateObject": op.operate_object,
        "operateCause": op.operate_cause,
        "agentType": AGENT_TYPE_PC_PHONE,
        "locationId": US_NO_USE,
        "logonSn": str(op.logon_at),
        "skillInfoSn": str(op.logon_at),
    }
