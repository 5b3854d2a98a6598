"""Typed results of the client. Decoding is lenient on numbers (CEC sends "5" and 5 alike), strict on names."""

from __future__ import annotations

from typing import Any, Generic, TypeVar

import msgspec

T = TypeVar("T")


def convert(value: Any, kind: type[T]) -> T:
    return msgspec.convert(value, kind, strict=False)


class _CallBlock(msgspec.Struct, frozen=True):
    """The fields the two call-detail queries share."""

    time: int = 0
    dsn: int = 0
    handle: int = 0
    server: int = 0
    keyId: str = ""
    callingNum: str = ""
    calledNum: str = ""
    mid: int = 0
    trunkNo: int = 0
    priority: int = 0
    deviceType: int = 0
    deviceNo: int = 0
    callSkill: str = ""
    partyNum: int = 0
    callFeature: int = 0
    orgiCalledNum: str = ""
    submediaType: int = -1
    place: int = 0
    waitTime: int = 0
    totalTalkingTimes: int = 0
    logonTimes: int = 0


class CallDetail(_CallBlock, frozen=True):
    """`querydetailcallinfo`: the call control block of a call in progress (`time` in seconds)."""

    cb: int = 0
    callData: str = ""
    callDataLen: int = 0
    mediaType: str = ""


class BasicCallInfo(_CallBlock, frozen=True):
    """`querybasiccallinfo` (`time` in milliseconds)."""

    mediaType: int = 0
    serviceType: int = 0
    callInCause: int = 0
    enterReason: int = 0
    mediaBillType: int = 0


class AgentCall(msgspec.Struct, frozen=True):
    callId: str
    callStatus: int
    callInOut: int
    mediaType: int
    submediaType: str = "-1"


class AgentCalls(msgspec.Struct, frozen=True):
    """One agent of `agentgroup/queryagentcalls`."""

    agentId: int
    callList: list[AgentCall] = []


class TrackRow(msgspec.Struct, frozen=True):
    """One row of `querycalltracedetail` (the reference's PascalCase keys kept)."""

    callId: str
    callIdNum: int
    mediaType: int = 0
    subMediaType: int = -1
    callerNo: str = ""
    calleeNo: str = ""
    waitBegin: int = 0
    ackBegin: int = 0
    callBegin: int = 0
    callEnd: int = 0
    subCcNo: int = 0
    deviceType: int = 0
    deviceNo: str = ""
    deviceIn: str = ""
    callType: int = 0
    releaseCause: str = ""
    EnterReason: int = 0
    LeaveReason: int = 0
    CurrentSkillID: str = ""


class DeviceTrace(msgspec.Struct, frozen=True):
    waitBeginTime: int | None = None
    waitEndTime: int | None = None
    answerBeginTime: int | None = None
    answerEndTime: int | None = None
    talkBeginTime: int | None = None
    talkEndTime: int | None = None
    deviceNo: int = 0
    deviceType: int = 0
    callDirectMode: str = ""
    enterReason: int = 0
    enterReasonDesc: str = ""
    leaveReason: int | None = None
    leaveReasonDesc: str | None = None
    vdnId: int = 0


class GatewayCallInfo(msgspec.Struct, frozen=True):
    """The CC-Gateway `callinfo` of an agent's current (or last) call."""

    callid: str
    callfeature: int = 0
    caller: str = ""
    called: str = ""
    callskill: str = ""
    callskillid: int = 0
    orgicallednum: str = ""
    calldata: str = ""
    begintime: int | None = None
    endtime: int | None = None
    userPriority: int = 0
    trunkNo: int = 0
    logontimes: int = 0
    mediaType: int = 0
    mediaAbility: int = 0
    waitTime: int = 0
    trace: DeviceTrace | None = None


class AgentEvent(msgspec.Struct, frozen=True):
    """One event of the CC-Gateway's polling interface."""

    eventType: str
    workNo: str = ""
    content: dict[str, Any] | str | None = None  # null, a bare call ID, or an object, as the reference has it

    @property
    def call_id(self) -> str | None:
        """The call the event is about: a bare-string content, or the content's `callid`/`callId`."""
        if isinstance(self.content, str):
            return self.content
        if isinstance(self.content, dict):
            value = self.content.get("callid", self.content.get("callId"))
            return value if isinstance(value, str) else None
        return None


class GatewayAgentStatus(msgspec.Struct, frozen=True):
    """`agentstatus`: the CC-Gateway agent state (3 busy, 4 idle, 5 wrap-up, 7 talking, 8 rest) and whether the
    agent is on a call."""

    agentState: int
    isWorking: bool


class SignIn(msgspec.Struct, frozen=True):
    workno: str = ""
    mediatype: str = ""
    vdnid: int = 0
    loginTime: str = ""
    isForceChange: str = ""  # "false": no password change is demanded
    serverName: str = ""


class CallResult(msgspec.Struct, frozen=True):
    """One DataProcess call result (CDR + satisfaction)."""

    callId: str
    logDate: int = 0
    callerNo: str = ""
    calleeNo: str = ""
    callType: int = 0
    mediatype: int = 0
    waitBegin: int = 0
    ackBegin: int = 0
    callBegin: int = 0
    callEnd: int = 0
    vdn: int = 0
    leaveReason: int = 0
    evaluationValue: str = ""


class ResultPage(msgspec.Struct, frozen=True):
    total: int
    results: list[CallResult]


class Token(msgspec.Struct, frozen=True):
    """tokenByAkSk's answer; `Expires` seconds after `CreateTime`."""

    AccessToken: str
    ApplyType: str = "Bearer"
    CreateTime: int = 0
    Expires: int = 0
    Scope: str = ""
    AppKey: str = ""
    UserID: str = ""


class VdnCall(msgspec.Struct, frozen=True):
    """One call of `vdn/querycalls` (times in ms; `callType` of CMS table 5.6)."""

    callId: str
    logDate: int = 0
    callerNo: str = ""
    calleeNo: str = ""
    callType: int = 0
    waitBegin: int = 0
    ackBegin: int = 0
    callBegin: int = 0
    callEnd: int = 0
    vdn: int = 0
    leaveReason: int = 0
    mediaType: int = 0
    subMediaType: int = -1


class VdnCallPage(msgspec.Struct, frozen=True):
    """A page of `vdn/querycalls`; `count` counts every call of the window."""

    data: list[VdnCall]
    count: int = 0


class CallRecord(msgspec.Struct, frozen=True):
    """`calldata/querycalldetailbyid`: the CDR of a finished call (durations in seconds)."""

    callId: str
    vdn: int = 0
    callerNo: str = ""
    calleeNo: str = ""
    callType: int = 0
    agentId: int = 0
    skillId: int = 0
    anonyCall: int = 0
    queueWaitTime: int = 0
    ivrCallTime: int = 0
    ackTime: int = 0
    callTime: int = 0
    releaseCause: int = 0
    beginTime: str | None = None  # predicted and preempted outbound calls only
    endTime: str | None = None


# --- CC-CMS real-time monitoring ---


class Indicator(msgspec.Struct, frozen=True):
    """One indicator of an `…/rindex` answer: `val` as the wire has it (skill: a string; agent: a number, a
    string or a list; VDN: a number)."""

    id: str
    val: Any = None


class IndicatorRow(msgspec.Struct, frozen=True):
    """One object (skill, agent or VDN) of an `…/rindex` answer."""

    id: int
    idxs: list[Indicator] = []

    def values(self) -> dict[str, Any]:
        """The indicators by name."""
        return {index.id: index.val for index in self.idxs}

    def number(self, index: str) -> int:
        """An indicator as an integer (skill indicators come as strings)."""
        return int(self.values()[index])


class SkillStateInfo(msgspec.Struct, frozen=True):
    """`skill/stateinfo` (and `realindex/skill/stateinfo`, whose busy count is `agentSetbusyNums`)."""

    skillId: int
    agentLoginNums: int = 0
    agentTalkingNums: int = 0
    agentIdleNums: int = 0
    agentAvailableNums: int = 0
    agentSetBusyNums: int = 0
    agentRestNums: int = 0
    agentMaxIdleTimeIn5: int = 0
    agentWorkNums: int = 0
    agentStudyNums: int = 0
    agentOccupyNums: int = 0
    agentPreOccupyNums: int = 0
    totalCallNums: int = 0
    processingCallNums: int = 0
    maxCallWaitTimesIn5: int = 0
    callWaitNums: int = 0
    evenCallTimeIn5: int = 0
    evenWaitTimeIn5: int = 0
    allCallCount: int = 0  # skill/stateinfo only
    cnnedIn20sCallCount: int = 0  # skill/stateinfo only
    agentSetbusyNums: int = 0  # realindex/skill/stateinfo only


class QueuedCall(msgspec.Struct, frozen=True):
    """One call waiting in a skill queue (`skill/queuedevicestatus`)."""

    callId: str
    customerLevel: int = 0
    requestType: int = 0


class ServiceQuality(msgspec.Struct, frozen=True):
    """`skill/servicequality`: one skill's counters of a 5-minute interval starting at `statStartTime` (ms)."""

    skillId: int
    statStartTime: int = 0
    inCallNum: int = 0
    connectedNum: int = 0
    callLostNum: int = 0
    in15sCallNum: int = 0
    wait15sLostNum: int = 0
    in20sCallNum: int = 0
    wait20sLostNum: int = 0


class AgentStatus(msgspec.Struct, frozen=True):
    """`agentgroup/agentstatusinfobyagentids`: an agent's CTI state (`currentStateTime` in seconds)."""

    agentId: int
    locationId: int = 0
    currentStateReason: int = 0
    prevState: int = 0
    prevStateTime: int = 0
    currentState: int = 0
    currentStateTime: int = 0
    logonTime: int = 0
    agentRelease: int = 0
    currentPrivateCallNum: int = 0


class TotalSkillStatus(msgspec.Struct, frozen=True):
    """`skill/totalskillstatusex3`."""

    skillId: int
    queueSize: int = 0
    queueTime: int = 0
    loggedOnAgents: int = 0
    availAgents: int = 0
    skillDescrip: str = ""
    callId: str = ""
    maxQueueSize: int = 0


class CurrentCallState(msgspec.Struct, frozen=True):
    """`skill/currentcallstateinfo`: the current 5-minute interval's counters of a skill."""

    id: int
    startTime: int = 0
    allCallCount: int = 0
    cnnedCallCount: int = 0
    abanCallCount: int = 0
    callEndCount: int = 0
    talkTimeOnIvr: int = 0
    cnnedIn20sCallCount: int = 0
    clearUpCallCount: int = 0
    clearUpTime: int = 0


class QueueLoad(msgspec.Struct, frozen=True):
    queueId: int
    callNum: int = 0


class SkillOverload(msgspec.Struct, frozen=True):
    """`skill/batchskilloverload`: calls of other queues the skill's agents answered."""

    skillId: int
    overloadDetails: list[QueueLoad] = []


class SkillAgents(msgspec.Struct, frozen=True):
    """`realindex/agent/agentsinskill`."""

    skillId: int
    agentIds: list[int] = []


# --- agents, VDN lists and configuration (docs/compatibility.md, "CC-CMS agents, VDN lists and configuration") ---


class AgentOperation(msgspec.Struct, frozen=True):
    """`agent/agentoprinfo`: one operation of an agent (types: CMS reference 5.12); times `yyyy-MM-dd HH:mm:ss` UTC."""

    id: str
    operateType: int
    beginTime: str
    endTime: str
    currentAgentId: int = 0
    callId: str = ""
    phoneNo: str = ""
    subCcNo: int = 0
    currentSkillId: int = 0
    mediaType: int = 0
    submediaType: str = "-1"
    vdn: int = 0
    callType: int = 0
    serviceNo: int = 0
    operateObject: int = 0
    operateCause: int = 0
    agentType: int = 0
    locationId: int = 0
    logonSn: str = ""
    skillInfoSn: str = ""


class AgentStateCounts(msgspec.Struct, frozen=True):
    """Agents by state: `skill/agentstatusbyskill` (all fields) and `agentgroup/teamagentstatusinfo`."""

    loginEd: int = 0
    idle: int = 0
    usable: int = 0
    talking: int = 0
    answering: int = 0
    setBusy: int = 0
    rest: int = 0
    studying: int = 0
    workSubStateBegin: int = 0
    lateAdjust: int = 0
    occupy: int = 0
    preoccupy: int = 0
    notlogined: int = 0
    callOut: int = 0


class ConfiguredAgent(msgspec.Struct, frozen=True):
    """`skill/agentbyconfigedskill`: an agent configured with the skill (`status` gateway table, `ctiStatus` CTI)."""

    workNo: int
    name: str = ""
    status: int = 0
    ctiStatus: int = 0
    groupId: int = -1
    mediaType: int = 0
    vdnId: int = 0
    phoneNumber: str = ""
    currentStateTime: int = 0
    loginDate: int = 0


class SkillConfig(msgspec.Struct, frozen=True):
    """`skill/skillcfginfo`: a skill's limits (0: none configured)."""

    skillId: int
    maxCallNum: int = 0
    maxHoldCallNum: int = 0
    maxWaitTime: int = 0
    maxAnswerWaitTime: int = 0
    maxTalkTime: int = 0
    maxRestAgentNum: int = 0
    maxAgentWrapupTime: int = 0


class QueuedCallDetail(msgspec.Struct, frozen=True):
    """One voice call queued in a skill (`skill/batchmultiskill`); `waitTime` in seconds."""

    callId: str
    customerLevel: int = 0
    requestType: int = 0
    calling: str = ""
    called: str = ""
    mediaType: str = ""
    orgiCalled: str = ""
    callInTime: int = 0
    callPriority: int = 0
    waitTime: int = 0
    callQueueFlag: int = 0


class SkillQueue(msgspec.Struct, frozen=True):
    skillId: int
    callPropertyExs: list[QueuedCallDetail] = []


class AgentInfo(msgspec.Struct, frozen=True):
    """`agent/agentbyworkno` (`citStatus` the CTI state, spelled as the reference spells it)."""

    workNo: int
    vdnId: int = 0
    citStatus: int = 0
    name: str = ""
    phoneNumber: str | None = None
    loginDate: int = 0
    currentStateTime: int = 0
    mediaType: int = 0
    status: int = 0


class SystemState(msgspec.Struct, frozen=True):
    """`agentgroup/systemstate`: counts over one page of the VDN's agents."""

    busyAgent: int = 0
    talkingNum: int = 0
    idleAgent: int = 0
    totalLoginAgent: int = 0


class AgentSkill(msgspec.Struct, frozen=True):
    skillId: int
    isLogin: int = 0


class AgentSkills(msgspec.Struct, frozen=True):
    """`agentgroup/siteagentcallandskillinfobyagentids`."""

    agentId: int
    skills: list[AgentSkill] = []


class AgentAbstract(msgspec.Struct, frozen=True):
    """An agent's CTI state and its duration in seconds (`vdn/totalagentabstractex3`, `querytotalagentinfo`,
    `queryAgentByStatus`)."""

    agentId: int
    currentState: int = 0
    currentStateTime: int = 0
    locationId: int = 0


class AgentStateRow(msgspec.Struct, frozen=True):
    """`vdn/totalagentdynamicinfo`, `vdn/totalagentstate`: an agent's CTI state."""

    agentId: int
    state: int = 0


class AgentPhone(msgspec.Struct, frozen=True):
    agentId: int
    phone: str = ""


class ConfiguredSkill(msgspec.Struct, frozen=True):
    """`configures/skills`."""

    id: int
    mediaType: int = 0
    submediaType: str = "-1"
    name: str = ""


class Page(msgspec.Struct, Generic[T], frozen=True):
    """A page of a paged VDN list, and `count`: how many the whole list holds."""

    rows: list[T]
    count: int
