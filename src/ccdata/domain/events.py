"""The event contract, versions 1 and 2: the only way anything enters ccdata.

One JSON object per event. Every event carries the envelope `id`, `type`, `at` (ms since the epoch, UTC),
`ccId` and `vdn`, and may carry `v` (the contract version, 1 or 2). Version 2 is additive: new event types and
optional fields only, so every v1 event is a valid v2 event with the same meaning; `v` is informative. The
fields of each type are below; the contract is documented, with a complete call written out, in `docs/events.md`.

Decoding is strict: wrong JSON types, out-of-range values and unknown fields are rejected with a message
naming the field (our own contract has no reason to be lenient; the CEC facades are, where CEC is).
"""

from __future__ import annotations

from typing import Annotated, Final, Literal

import msgspec
from msgspec import Meta

from ccdata.domain.codes import CALL_FEATURES, REASONS, MediaType

CONTRACT_VERSION: Final = 2

#: 2000-01-01 and 2100-01-01 in ms: a timestamp outside is almost always seconds sent as milliseconds.
MIN_AT: Final = 946_684_800_000
MAX_AT: Final = 4_102_444_800_000

#: Identifiers are printable: no control character (NUL, newline, ...) can reach a log, a path or a query.
_PRINTABLE: Final = r"^[^\x00-\x1f\x7f]*$"
EventId = Annotated[str, Meta(min_length=1, max_length=64, pattern=_PRINTABLE)]
Millis = Annotated[int, Meta(ge=MIN_AT, lt=MAX_AT, description="ms since the epoch, UTC")]
CcId = Annotated[int, Meta(ge=1, le=65535)]
Vdn = Annotated[int, Meta(ge=1, le=5000)]
CallId = Annotated[
    str, Meta(min_length=1, max_length=20, pattern=_PRINTABLE, description="the CEC call ID, at most 20 chars")
]
AgentId = Annotated[int, Meta(ge=101, le=999_999)]
SkillId = Annotated[int, Meta(ge=1, le=2_147_483_647)]
Number = Annotated[str, Meta(max_length=32)]
FlowId = Annotated[str, Meta(min_length=1, max_length=32)]
CallData = Annotated[str, Meta(max_length=4096)]
ReasonCode = Annotated[int, Meta(ge=0, le=255)]

AgentMode = Literal["idle", "busy", "rest", "study", "wrapup"]
ReleasedBy = Literal["customer", "agent", "system"]
Campaign = Literal["manual", "preview", "predictive"]
TransferMode = Literal["release"]
RecordingRef = Annotated[str, Meta(min_length=1, max_length=256, description="an external recording's reference")]

_MEDIA_TYPES: Final = frozenset(int(m) for m in MediaType)


def _check_agent_id(agent_id: int | None, field: str = "agentId") -> None:
    # The CMS reference allows 101-59999 and 70000-999999; the gap is reserved.
    if agent_id is not None and 60000 <= agent_id <= 69999:
        raise ValueError(f"`{field}` {agent_id} is in the reserved range 60000-69999")


def _check_reason(code: int, field: str = "reason") -> None:
    if code not in REASONS:
        raise ValueError(f"`{field}` {code} is not an enter/leave reason of the reference table")


class _Event(
    msgspec.Struct,
    kw_only=True,
    forbid_unknown_fields=True,
    rename="camel",
    tag_field="type",
    omit_defaults=True,
    gc=False,
):
    """The envelope every event shares."""

    id: EventId
    at: Millis
    cc_id: CcId
    vdn: Vdn
    v: Literal[1, 2] = 1


class _CallEvent(_Event, kw_only=True, gc=False):
    call_id: CallId


# --- agent events ---------------------------------------------------------------------------------------


class AgentLogin(_Event, tag="agent.login", kw_only=True, gc=False):
    """An agent signs in (through the gateway, the simulator or a feed). `force` replaces a live session."""

    agent_id: AgentId
    skills: Annotated[list[SkillId], Meta(max_length=256)] = []
    phone: Number = ""
    state: Literal["idle", "busy", "wrapup"] = "idle"  # v2: busy
    force: bool = False
    auto_answer: bool | None = None  # v2: the platform answers the agent's calls (CC-Gateway `autoanswer`)
    auto_enter_idle: bool | None = None  # v2: idle, not wrap-up, after a call (CC-Gateway `autoenteridle`)
    # v2: signed in through the CC-Gateway: every node queues the agent's events for its workbench to poll.
    workbench: bool = False

    def __post_init__(self) -> None:
        _check_agent_id(self.agent_id)


class AgentSettings(_Event, tag="agent.settings", kw_only=True, gc=False):
    """v2: a signed-in agent changes how the platform treats it (CC-Gateway `autoanswer/{flag}`,
    `autoenteridle/{flag}`); a field left out keeps its value."""

    agent_id: AgentId
    auto_answer: bool | None = None
    auto_enter_idle: bool | None = None

    def __post_init__(self) -> None:
        _check_agent_id(self.agent_id)
        if self.auto_answer is None and self.auto_enter_idle is None:
            raise ValueError("`agent.settings` needs `autoAnswer` or `autoEnterIdle`")


class AgentLogout(_Event, tag="agent.logout", kw_only=True, gc=False):
    agent_id: AgentId

    def __post_init__(self) -> None:
        _check_agent_id(self.agent_id)


class AgentState(_Event, tag="agent.state", kw_only=True, gc=False):
    """An agent-set or system-set state (idle, busy, rest, study, wrapup)."""

    agent_id: AgentId
    state: AgentMode
    reason_code: Annotated[int, Meta(ge=0, le=255)] | None = None  # v2: why busy or rest (the rest cause)
    wrapup_code: Annotated[str, Meta(min_length=1, max_length=32)] | None = None  # v2: the last call's code

    def __post_init__(self) -> None:
        _check_agent_id(self.agent_id)
        if self.reason_code is not None and self.state not in ("busy", "rest"):
            raise ValueError("`reasonCode` says why an agent is busy or resting: it needs `state` busy or rest")


# --- call events ----------------------------------------------------------------------------------------


class CallArrive(_CallEvent, tag="call.arrive", kw_only=True, gc=False):
    """An inbound call reaches the platform. The control-block fields server/mid/place/keyId are optional."""

    caller: Number
    called: Number
    orgi_called: Number = ""
    media_type: int = 5
    sub_media_type: int = -1
    call_feature: int = 0
    trunk_no: Annotated[int, Meta(ge=0, le=65535)] = 0
    priority: Annotated[int, Meta(ge=0, le=255)] = 0
    call_data: CallData = ""
    server: Annotated[int, Meta(ge=0, le=65535)] = 0
    mid: Annotated[int, Meta(ge=0, le=65535)] = 0
    place: Annotated[int, Meta(ge=0, le=65535)] = 0
    key_id: Annotated[str, Meta(max_length=64)] = ""

    def __post_init__(self) -> None:
        _check_media(self.media_type, self.sub_media_type)
        if self.call_feature not in CALL_FEATURES:
            raise ValueError(f"`callFeature` {self.call_feature} is not a call feature of the reference")


class CallOriginate(_CallEvent, tag="call.originate", kw_only=True, gc=False):
    """An outbound call starts: by an agent (`manual`, `preview`) or by a campaign (`predictive`, no agent)."""

    agent_id: AgentId | None = None
    caller: Number
    called: Number
    media_type: int = 5
    campaign: Campaign = "manual"
    call_feature: int | None = None
    trunk_no: Annotated[int, Meta(ge=0, le=65535)] = 0
    priority: Annotated[int, Meta(ge=0, le=255)] = 0
    call_data: CallData = ""

    def __post_init__(self) -> None:
        _check_agent_id(self.agent_id)
        _check_media(self.media_type, -1)
        if self.campaign == "predictive" and self.agent_id is not None:
            raise ValueError("a `predictive` call is dialled by the campaign: it takes no `agentId`")
        if self.campaign != "predictive" and self.agent_id is None:
            raise ValueError(f"a `{self.campaign}` outbound call needs the dialling `agentId`")
        if self.call_feature is not None and self.call_feature not in CALL_FEATURES:
            raise ValueError(f"`callFeature` {self.call_feature} is not a call feature of the reference")


class CallIvr(_CallEvent, tag="call.ivr", kw_only=True, gc=False):
    """The call enters an IVR flow. `reason` is the leave reason of the device it comes from."""

    flow_id: FlowId
    reason: ReasonCode = 0

    def __post_init__(self) -> None:
        _check_reason(self.reason)


class CallQueue(_CallEvent, tag="call.queue", kw_only=True, gc=False):
    """The call starts waiting in a skill queue (`skillId`) or for one agent (`agentId`: its private queue).

    `reason` is both the enter reason of the wait and the leave reason of the device the call comes from
    (1 overflow, 2 timeout, 3 no agent, 4 queue cancelled, ...).
    """

    skill_id: SkillId | None = None
    agent_id: AgentId | None = None
    reason: ReasonCode = 0

    def __post_init__(self) -> None:
        if (self.skill_id is None) == (self.agent_id is None):
            raise ValueError("`call.queue` takes exactly one of `skillId` and `agentId`")
        _check_agent_id(self.agent_id)
        _check_reason(self.reason)


class CallAlert(_CallEvent, tag="call.alert", kw_only=True, gc=False):
    """The call is offered to an agent (`agentId`), or to several at once (v2 `agentIds`: first answer wins)."""

    agent_id: AgentId | None = None
    agent_ids: Annotated[list[AgentId], Meta(min_length=2, max_length=32)] | None = None

    def __post_init__(self) -> None:
        if (self.agent_id is None) == (self.agent_ids is None):
            raise ValueError("`call.alert` takes exactly one of `agentId` and `agentIds`")
        for agent_id in self.agent_ids or [self.agent_id]:
            _check_agent_id(agent_id)
        if self.agent_ids is not None and len(set(self.agent_ids)) != len(self.agent_ids):
            raise ValueError("`agentIds` names an agent twice")

    @property
    def alerted(self) -> list[int]:
        """The agents whose phones ring, in the order given."""
        return self.agent_ids if self.agent_ids is not None else [self.agent_id or 0]


class CallAnswer(_CallEvent, tag="call.answer", kw_only=True, gc=False):
    """The call connects: the ringing agent (`agentId`), the dialled customer or the outside party (`party`)."""

    agent_id: AgentId | None = None
    party: Literal["customer", "outside"] | None = None
    recording_ref: RecordingRef | None = None  # v2: where the recording of this connection is kept

    def __post_init__(self) -> None:
        _check_agent_id(self.agent_id)
        if (self.agent_id is None) == (self.party is None):
            raise ValueError("`call.answer` takes exactly one of `agentId` and `party`")


class CallNoAnswer(_CallEvent, tag="call.noanswer", kw_only=True, gc=False):
    """The ringing agent did not answer (reason 5) or rejected the call (reason 50)."""

    agent_id: AgentId
    reason: ReasonCode = 5

    def __post_init__(self) -> None:
        _check_agent_id(self.agent_id)
        _check_reason(self.reason)


class CallHold(_CallEvent, tag="call.hold", kw_only=True, gc=False):
    agent_id: AgentId

    def __post_init__(self) -> None:
        _check_agent_id(self.agent_id)


class CallUnhold(_CallEvent, tag="call.unhold", kw_only=True, gc=False):
    agent_id: AgentId

    def __post_init__(self) -> None:
        _check_agent_id(self.agent_id)


class CallMute(_CallEvent, tag="call.mute", kw_only=True, gc=False):
    """v2: a connected agent mutes its side of the call (CC-Gateway `beginmute`)."""

    agent_id: AgentId

    def __post_init__(self) -> None:
        _check_agent_id(self.agent_id)


class CallUnmute(_CallEvent, tag="call.unmute", kw_only=True, gc=False):
    """v2: the agent speaks again (CC-Gateway `endmute`)."""

    agent_id: AgentId

    def __post_init__(self) -> None:
        _check_agent_id(self.agent_id)


class TransferTarget(msgspec.Struct, forbid_unknown_fields=True, rename="camel", omit_defaults=True, gc=False):
    """Where a transfer sends the call: exactly one of a skill queue, an agent, an IVR flow, an outside number."""

    skill_id: SkillId | None = None
    agent_id: AgentId | None = None
    flow_id: FlowId | None = None
    number: Annotated[str, Meta(min_length=1, max_length=32)] | None = None

    def __post_init__(self) -> None:
        given = [f for f in ("skill_id", "agent_id", "flow_id", "number") if getattr(self, f) is not None]
        if len(given) != 1:
            raise ValueError("a transfer `target` takes exactly one of `skillId`, `agentId`, `flowId`, `number`")
        _check_agent_id(self.agent_id, "target.agentId")


class CallTransfer(_CallEvent, tag="call.transfer", kw_only=True, gc=False):
    """A connected agent transfers the call (blind transfer: the agent leaves at once)."""

    agent_id: AgentId
    target: TransferTarget
    mode: TransferMode = "release"

    def __post_init__(self) -> None:
        _check_agent_id(self.agent_id)


class ConferenceParty(msgspec.Struct, forbid_unknown_fields=True, rename="camel", omit_defaults=True, gc=False):
    agent_id: AgentId | None = None
    number: Annotated[str, Meta(min_length=1, max_length=32)] | None = None

    def __post_init__(self) -> None:
        if (self.agent_id is None) == (self.number is None):
            raise ValueError("a conference `party` takes exactly one of `agentId` and `number`")
        _check_agent_id(self.agent_id, "party.agentId")


class CallConference(_CallEvent, tag="call.conference", kw_only=True, gc=False):
    """A third party joins the connected agent and the customer (three-party conference)."""

    agent_id: AgentId
    party: ConferenceParty

    def __post_init__(self) -> None:
        _check_agent_id(self.agent_id)


class CallDataChange(_CallEvent, tag="call.data", kw_only=True, gc=False):
    """The call-associated data changes."""

    call_data: CallData


class CallRelease(_CallEvent, tag="call.release", kw_only=True, gc=False):
    """The call ends. `leaveReason` overrides the leave reason `by` implies (15 customer, 16 agent; a system
    release's reason follows its `cause`)."""

    by: ReleasedBy
    # None: derived (49 for a customer leaving before an answer, else 0). Not defaulted to 0, so that an
    # explicit 0 survives the log's encoding (defaults are left out) and a replay derives nothing.
    cause: Annotated[int, Meta(ge=0, le=2_147_483_647)] | None = None
    agent_id: AgentId | None = None
    leave_reason: ReasonCode | None = None

    def __post_init__(self) -> None:
        _check_agent_id(self.agent_id)
        if self.leave_reason is not None:
            _check_reason(self.leave_reason, "leaveReason")
        if self.agent_id is not None and self.by != "agent":
            raise ValueError("`agentId` on `call.release` names the releasing agent: it needs `by` = `agent`")


class CallEvaluate(_CallEvent, tag="call.evaluate", kw_only=True, gc=False):
    """A satisfaction result; it may arrive after the release."""

    evaluation_value: Annotated[str, Meta(min_length=1, max_length=32)]


# --- version 2: consult calls, conference parties leaving, pickup, intercept, internal calls --------------


class ConsultTarget(msgspec.Struct, forbid_unknown_fields=True, rename="camel", omit_defaults=True, gc=False):
    """Whom a consult or internal call reaches: exactly one of a skill queue, an agent, an outside number."""

    skill_id: SkillId | None = None
    agent_id: AgentId | None = None
    number: Annotated[str, Meta(min_length=1, max_length=32)] | None = None

    def __post_init__(self) -> None:
        given = [f for f in ("skill_id", "agent_id", "number") if getattr(self, f) is not None]
        if len(given) != 1:
            raise ValueError("a consult `target` takes exactly one of `skillId`, `agentId`, `number`")
        _check_agent_id(self.agent_id, "target.agentId")


class CallConsult(_CallEvent, tag="call.consult", kw_only=True, gc=False):
    """A connected agent holds its call (`originalCallId`) and places a consult call (`callId`, new) to a
    skill, an agent (internal help) or a number. The consult ends by `call.consult.transfer`,
    `call.consult.conference`, `call.consult.cancel` or its own `call.release`."""

    original_call_id: CallId
    agent_id: AgentId
    target: ConsultTarget
    call_data: CallData = ""

    def __post_init__(self) -> None:
        _check_agent_id(self.agent_id)
        if self.original_call_id == self.call_id:
            raise ValueError("a consult call needs its own `callId`, not the `originalCallId`")


class CallConsultTransfer(_CallEvent, tag="call.consult.transfer", kw_only=True, gc=False):
    """Attended transfer: the consulted party takes the original call; the consulting agent leaves both."""

    agent_id: AgentId

    def __post_init__(self) -> None:
        _check_agent_id(self.agent_id)


class CallConsultConference(_CallEvent, tag="call.consult.conference", kw_only=True, gc=False):
    """The consulted party joins the original call, which is retrieved: a three-party conference."""

    agent_id: AgentId

    def __post_init__(self) -> None:
        _check_agent_id(self.agent_id)


class CallConsultCancel(_CallEvent, tag="call.consult.cancel", kw_only=True, gc=False):
    """The consulting agent abandons the consult and retrieves the original call."""

    agent_id: AgentId

    def __post_init__(self) -> None:
        _check_agent_id(self.agent_id)


class CallLeave(_CallEvent, tag="call.leave", kw_only=True, gc=False):
    """One party leaves a conference while the others stay. `reason` defaults to 16 (an agent), 15 (a number)."""

    party: ConferenceParty
    reason: ReasonCode | None = None

    def __post_init__(self) -> None:
        if self.reason is not None:
            _check_reason(self.reason)


class CallPickup(_CallEvent, tag="call.pickup", kw_only=True, gc=False):
    """An agent answers, from its own phone, a call ringing at another agent (or at several)."""

    agent_id: AgentId

    def __post_init__(self) -> None:
        _check_agent_id(self.agent_id)


class CallIntercept(_CallEvent, tag="call.intercept", kw_only=True, gc=False):
    """An agent (typically an inspector) takes a connected call over; the connected agent leaves it."""

    agent_id: AgentId

    def __post_init__(self) -> None:
        _check_agent_id(self.agent_id)


class CallInternal(_CallEvent, tag="call.internal", kw_only=True, gc=False):
    """An agent calls another agent or a skill inside the call center (an internal call, no customer)."""

    agent_id: AgentId
    target: ConsultTarget
    call_data: CallData = ""

    def __post_init__(self) -> None:
        _check_agent_id(self.agent_id)
        if self.target.number is not None:
            raise ValueError("an internal call reaches an agent or a skill: `target.number` is an outbound call")


Event = (
    AgentLogin
    | AgentLogout
    | AgentState
    | CallArrive
    | CallOriginate
    | CallIvr
    | CallQueue
    | CallAlert
    | CallAnswer
    | CallNoAnswer
    | CallHold
    | CallUnhold
    | CallMute
    | CallUnmute
    | CallTransfer
    | CallConference
    | CallDataChange
    | CallRelease
    | CallEvaluate
    | CallConsult
    | CallConsultTransfer
    | CallConsultConference
    | CallConsultCancel
    | CallLeave
    | CallPickup
    | CallIntercept
    | CallInternal
)

EVENT_TYPES: Final[dict[str, type]] = {
    cls.__struct_config__.tag: cls  # type: ignore[attr-defined]
    for cls in Event.__args__  # type: ignore[attr-defined]
}
_TYPE_OF: Final[dict[type, str]] = {cls: tag for tag, cls in EVENT_TYPES.items()}


def type_of(event: Event) -> str:
    """The `type` of an event, e.g. `call.arrive`."""
    return _TYPE_OF[type(event)]


def _check_media(media_type: int, sub_media_type: int) -> None:
    if media_type not in _MEDIA_TYPES:
        raise ValueError(f"`mediaType` {media_type} is not a media type of the reference")
    if sub_media_type != -1 and not 1 <= sub_media_type <= 10:
        raise ValueError(f"`subMediaType` {sub_media_type} is not a submedia type of the reference (or -1)")


class InvalidEvent(ValueError):
    """An input that is not an event of the contract; `reason` says why, naming the field."""

    def __init__(self, reason: str, event_id: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.event_id = event_id


_decoder: Final = msgspec.json.Decoder(Event)
_any_decoder: Final = msgspec.json.Decoder()
_encoder: Final = msgspec.json.Encoder()


def decode(raw: bytes | str) -> Event:
    """Decode one JSON event; raise `InvalidEvent` with a precise reason if it is not one.

    Any input at all ends as an event or an `InvalidEvent`: malformed JSON, invalid UTF-8 (in bytes) or lone
    surrogates (in text), nesting deeper than the decoder's stack, numbers out of range.
    """
    try:
        return _decoder.decode(raw)
    except msgspec.ValidationError as exc:
        raise InvalidEvent(str(exc), _peek_id(raw)) from None
    except msgspec.DecodeError as exc:
        raise InvalidEvent(f"malformed JSON: {exc}") from None
    except UnicodeError as exc:
        raise InvalidEvent(f"malformed JSON: not UTF-8 ({exc.reason})") from None
    except RecursionError:
        raise InvalidEvent("malformed JSON: nested too deeply") from None


def from_builtins(obj: object) -> Event:
    """Validate an already-parsed JSON value (e.g. one element of an HTTP array) as an event."""
    try:
        return msgspec.convert(obj, Event)
    except msgspec.ValidationError as exc:
        event_id = obj.get("id") if isinstance(obj, dict) and isinstance(obj.get("id"), str) else None
        raise InvalidEvent(str(exc), event_id) from None
    except RecursionError:
        raise InvalidEvent("the event is nested too deeply") from None


def encode(event: Event) -> bytes:
    """The JSON of an event (compact, defaults left out): how parsed input is logged."""
    return _encoder.encode(event)


def _peek_id(raw: bytes | str) -> str | None:
    try:
        obj = _any_decoder.decode(raw)
    except (msgspec.MsgspecError, UnicodeError, RecursionError):
        return None
    value = obj.get("id") if isinstance(obj, dict) else None
    return value if isinstance(value, str) else None
