"""The typed definitions of the wire's bodies that the SDK's result types (`ccdata.client.types`) do not give: request
bodies, envelopes, error bodies and the few answers the SDK reads leniently (`tokenByAkSk` sends its times as
strings). The OpenAPI document (`api/openapi.py`) is generated from these and from the SDK's types, so the
document, the SDK and the facades' tests (`tests/test_openapi.py`) check one another.

Request fields are typed as the reference types them, with the ranges the facades enforce; the facades also take
numbers spelled as strings (as CEC's own clients send them), which the document does not list."""

from __future__ import annotations

from typing import Annotated, Any

from msgspec import Meta, Struct

from ccdata.client.types import AgentAbstract, AgentEvent, Indicator

# --- request fields (the ranges of api/inputs.py and the facades) ---

CcId = Annotated[int, Meta(ge=1, le=65535, description="call center ID", examples=[1])]
VdnId = Annotated[int, Meta(ge=1, le=5000, description="VDN ID", examples=[1])]
AgentId = Annotated[int, Meta(ge=101, le=999_999, description="agent (work) number", examples=[1001])]
SkillId = Annotated[int, Meta(ge=1, le=2_000_000_000, examples=[7])]
CallId = Annotated[str, Meta(min_length=1, max_length=20, examples=["1767258001-17"])]
EpochMs = Annotated[int, Meta(ge=0, le=4_102_444_800_000, description="UTC milliseconds")]
EpochMsText = Annotated[str, Meta(pattern=r"^[0-9]{1,13}$", description="UTC milliseconds, as a string")]
Flag = Annotated[str, Meta(pattern=r"^(true|false)$", description='"true" or "false"')]
Digits = Annotated[str, Meta(pattern=r"^[0-9]{1,32}$")]
IndexId = Annotated[str, Meta(pattern=r"^IDX_[A-Z0-9_]+$", max_length=64)]
Agents = Annotated[list[AgentId], Meta(min_length=1, max_length=3000)]
Skills = Annotated[list[SkillId], Meta(min_length=1, max_length=100)]
Timestamp = Annotated[
    str, Meta(pattern=r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$", description="yyyy-MM-dd HH:mm:ss UTC")
]


class VdnScope(Struct, kw_only=True):
    """The call center and VDN of a CC-CMS query; the access key must be scoped to the VDN."""

    ccId: CcId
    vdn: VdnId


class AgentQuery(VdnScope, kw_only=True):
    agentId: AgentId


class AgentsQuery(VdnScope, kw_only=True):
    agentIds: Agents


class CallQuery(VdnScope, kw_only=True):
    callId: CallId


class TraceQuery(CallQuery, kw_only=True):
    logDate: Annotated[EpochMs, Meta(description="any moment of the month whose records are searched")]


class CallsWindow(VdnScope, kw_only=True):
    """`vdn/querycalls`: calls that arrived from yesterday 00:00 to today 23:59:59 (UTC) at most."""

    beginDate: EpochMsText
    endDate: EpochMsText
    callerNo: Digits | None = None
    calleeNo: Digits | None = None
    limit: Annotated[int, Meta(ge=1, le=100)] = 100
    offset: Annotated[int, Meta(ge=0, le=10**9)] = 0


class CallsWindowV2(CallsWindow, kw_only=True):
    isCallIn: Flag


class CallById(Struct, kw_only=True):
    ccId: CcId
    isCallin: Flag
    callId: CallId


class CallByIdRequest(Struct):
    queryParam: CallById


class AgentQueryRequest(Struct):
    queryParam: AgentQuery


class SkillsQuery(VdnScope, kw_only=True):
    skillIds: Skills


class SkillsQueryRequest(Struct):
    queryParam: SkillsQuery


class SkillIndexQuery(SkillsQuery, kw_only=True):
    indexIds: Annotated[list[IndexId], Meta(min_length=1, max_length=12)]


class SkillQuery(VdnScope, kw_only=True):
    skillId: SkillId


class SkillQueryRequest(Struct):
    queryParam: SkillQuery


class AgentIdsQuery(Struct, kw_only=True):
    """The agents of the access key's VDNs (no `vdn`: each agent's own)."""

    agentIds: Annotated[list[AgentId], Meta(min_length=1, max_length=6000)]


class AgentIndexQuery(AgentsQuery, kw_only=True):
    indexIds: Annotated[list[IndexId], Meta(min_length=1, max_length=4)]


class VdnIndexQuery(Struct, kw_only=True):
    ccId: CcId
    vdnIds: Annotated[list[VdnId], Meta(min_length=1, max_length=100)]
    indexIds: Annotated[list[IndexId], Meta(min_length=1, max_length=12)]


class AgentOperationsQuery(Struct, kw_only=True):
    currentAgentId: AgentId
    beginTime: Timestamp
    endTime: Timestamp


class SkillMatchQuery(SkillsQuery, kw_only=True):
    isSkillAllMatch: Flag = "false"


class OneAgent(Struct, kw_only=True):
    agentId: AgentId


class OneAgentRequest(Struct):
    queryParam: OneAgent


class VdnRequest(Struct):
    queryParam: VdnScope


class VdnPage(VdnScope, kw_only=True):
    offset: Annotated[int, Meta(ge=0, le=10**9)] = 0
    limit: Annotated[int, Meta(ge=1, le=1000)] = 100


class VdnPageRequest(Struct):
    queryParam: VdnPage


class IvrQuery(VdnScope, kw_only=True):
    flowId: Annotated[int, Meta(ge=0, le=2_000_000_000)]


class AgentsByStatusQuery(Struct, kw_only=True):
    """`vdn/queryAgentByStatus` (its fields are strings in the reference)."""

    ccId: Annotated[str, Meta(pattern=r"^[0-9]{1,5}$")]
    vdn: Annotated[str, Meta(pattern=r"^[0-9]{1,4}$")]
    status: Annotated[str, Meta(pattern=r"^[0-9]{1,2}$", description="CTI state")]
    offset: Annotated[int, Meta(ge=0, le=10**9)] = 0
    limit: Annotated[int, Meta(ge=1, le=1000)] = 100


class Ping(Struct):
    say: str = "Hello world!"


# --- CC-CMS answers ---


class VdnCallRow(Struct):
    """One call of `vdn/querycalls` as the wire has it: numeric strings but `vdn` and the media types, as the
    reference's example types them (`views.vdn_call`; the SDK's `VdnCall` reads them as numbers)."""

    callId: str
    logDate: str
    callerNo: str
    calleeNo: str
    callType: Annotated[str, Meta(description="CMS call type (table 5.6)")]
    waitBegin: str
    ackBegin: str
    callBegin: str
    callEnd: str
    vdn: int
    leaveReason: str
    mediaType: int
    subMediaType: int


class VdnCallPage(Struct):
    """A page of `vdn/querycalls`; `count` counts every call of the window."""

    data: list[VdnCallRow]
    count: int


class CmsFailure(Struct):
    """A CC-CMS refusal: a business error with HTTP 200 (`0100001` failure, `0100002` invalid parameter, `0101003`
    insufficient permission), 413 (`0100002`, body too large) or 500 (`0100999`)."""

    resultCode: str
    resultDesc: str


class PingAnswer(Struct):
    request: Any
    status: str


class AgentsByStatusAnswer(Struct):
    """`vdn/queryAgentByStatus`'s own envelope (`returnCode` "0" on success)."""

    returnCode: str
    description: str
    data: list[AgentAbstract] | None = None
    count: int | None = None


class SpringError(Struct):
    """The error body of CEC's Spring-based services: 401, 403, 404, 405, 413, 429 of every facade but the CC-CMS
    business errors and the CC-Gateway's (HTTP 200 with a `retcode`)."""

    timestamp: int
    status: int
    error: str
    message: str
    path: str
    code: Annotated[str, Meta(description="ccdata's own endpoints: a machine-readable reason")] | None = None


# --- CC-Gateway ---


class SignInRequest(Struct, kw_only=True):
    password: Annotated[str, Meta(max_length=256)]
    status: Annotated[int, Meta(ge=3, le=8, description="the state after sign-in (4 idle)")] | None = None
    phonenum: Annotated[str, Meta(pattern=r"^[0-9*#]{0,24}$")] | None = None
    autoanswer: bool | None = None
    autoenteridle: bool | None = None
    releasephone: bool | None = None


class PasswordOnly(Struct):
    password: Annotated[str, Meta(max_length=256)]


class CalloutRequest(Struct, kw_only=True):
    called: Annotated[str, Meta(pattern=r"^[0-9*#]{1,24}$")]
    caller: Annotated[str, Meta(pattern=r"^[0-9*#]{0,24}$")] | None = None


class CallInnerRequest(Struct):
    called: Annotated[str, Meta(pattern=r"^[0-9]{1,24}$")]


class TransferRequest(Struct, kw_only=True):
    devicetype: Annotated[int, Meta(description="1 skill, 2 agent, 3 IVR, 5 number")]
    address: Annotated[str, Meta(max_length=24)]
    mode: int = 0


class InnerHelpRequest(Struct, kw_only=True):
    dstaddress: Annotated[str, Meta(max_length=24)]
    devicetype: int
    mode: int = 1


class ConfJoinRequest(Struct):
    callid: CallId


class CallDataRequest(Struct):
    callid: CallId
    calldata: Annotated[str, Meta(max_length=16384)]


class GatewayEventAnswer(Struct):
    """`agentevent`: the next event of the agent, or null when none came within the poll's wait."""

    message: str
    retcode: str
    event: AgentEvent | None = None


class GuidAnswer(Struct):
    guid: str


class SyncAgentState(Struct):
    callFeature: int = 0
    callData: str = ""
    lastState: int = 0
    preBusy: bool = False
    firsttalkingFlag: bool = False


class SyncAgentInfo(Struct):
    callinfo: Any = ""
    agentStateInfo: SyncAgentState | None = None


# --- API Fabric, DataProcess, ingest, health ---


class TokenRequest(Struct):
    app_key: Annotated[str, Meta(max_length=128)]
    app_secret: Annotated[str, Meta(max_length=256)]


class TokenAnswer(Struct):
    """tokenByAkSk's answer: `CreateTime` (s) and `Expires` (s after it) are strings on the wire."""

    AccessToken: str
    ApplyType: str
    CreateTime: str
    Expires: str
    Scope: str
    AppKey: str
    UserID: str


class ResultSearch(Struct, kw_only=True):
    """The DataProcess search: `callId`, or at least one of `beginDate` and `endDate`. `offset`/`limit`: a ccdata
    extension (defaults 0 and the configured page size)."""

    subCcNo: Annotated[str, Meta(pattern=r"^[0-9]{1,5}$", description="the call center ID")]
    vdn: Annotated[str, Meta(pattern=r"^[0-9]{1,4}$")]
    callId: CallId | None = None
    callerNo: Annotated[str, Meta(max_length=32)] | None = None
    calleeNo: Annotated[str, Meta(max_length=32)] | None = None
    beginDate: EpochMsText | None = None
    endDate: EpochMsText | None = None
    callType: Annotated[int, Meta(ge=0, le=99)] | None = None
    mediaType: Annotated[int, Meta(ge=0, le=99)] | None = None
    evaluationValue: Annotated[str, Meta(max_length=32)] | None = None
    offset: Annotated[int, Meta(ge=0, le=10**9)] = 0
    limit: Annotated[int, Meta(ge=1)] | None = None


class CallResultRow(Struct):
    """One DataProcess result as the wire has it: strings, except `vdn`, as the reference's example sends them
    (`views.call_result`; the SDK's `CallResult` reads them as numbers)."""

    callId: str
    logDate: str
    callerNo: str
    calleeNo: str
    callType: str
    mediatype: str
    waitBegin: str
    ackBegin: str
    callBegin: str
    callEnd: str
    vdn: int
    leaveReason: str
    evaluationValue: str


class ResultPage(Struct):
    """`total` counts every match; `results` is the page."""

    total: int
    results: list[CallResultRow]


class Rejection(Struct):
    position: int
    eventId: str | None
    code: str
    reason: str


class IngestReport(Struct):
    accepted: int
    duplicates: int
    rejected: int
    reasons: dict[str, int]
    rejections: list[Rejection]


class RingAnswer(Struct):
    """`simulator/ring` (202): the call now ringing at the agent."""

    callId: str
    agentId: int


class StateDigest(Struct):
    seq: int
    digest: str


class Health(Struct):
    status: str


class Readiness(Struct):
    status: str
    reasons: list[str]
    logSeq: int
    recordWriter: bool
    snapshotSeq: int
    replayedAtStart: int
    failedCommits: int
    staleCallsReleased: int
    taskRestarts: dict[str, int]


class GatewayFailure(Struct):
    """A CC-Gateway answer to an unexpected error (HTTP 500, retcode 100-007)."""

    message: str
    retcode: str
    result: None = None


class VdnIndicatorRow(Struct):
    """One VDN of `rindex/vdn`: its `id` a string, as the reference's example has it (docs/compatibility.md)."""

    id: str
    idxs: list[Indicator] = []
