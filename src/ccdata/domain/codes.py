"""Code tables of the Huawei CEC reference, as the wire protocol uses them.

Every table here is copied from `shared/reference/cms-interface-reference.txt` (CC-CMS Interface Reference,
chapter 5) or from the CC-Gateway appendix quoted in `shared/reference/cec-api-notes.md` (sections C and E).
Nothing is invented: where ccdata needs a code, it picks one from these tables and `docs/events.md` says which.
"""

from __future__ import annotations

from enum import IntEnum
from typing import Final


class DeviceType(IntEnum):
    """Device types of a call track (CMS reference 5.11)."""

    SKILL_QUEUE = 1
    AGENT = 2
    IVR = 3
    CALL = 5  # two parties joined inside the platform, e.g. a transfer to an outside number
    TEMP_ROUTING = 7
    VIRTUAL = 8
    CDN = 10
    MELCAS = 11
    PGR = 14
    CONFERENCE = 15


class MediaType(IntEnum):
    """Call media types (CMS reference 5.4)."""

    CHAT = 1
    WEBPHONE = 2
    ESCORT = 3
    CALLBACK = 4
    PHONE = 5
    EMAIL = 6
    FAX = 7
    VIDEO = 8
    WB = 9
    APP_SHARE = 10
    FILE_TRANSFER = 11
    VIDEO_2B1D = 12
    VIDEO_6B1D = 13
    OPS = 14
    PREDICT_OUTBOUND = 15
    PREVIEW_OUTBOUND = 16
    MSG = 17
    WEBPHONE_VIDEO = 18
    PHONE_VIDEO = 19
    WEB_LEAVE_MESSAGE = 20
    DESKTOP_SHARE = 21
    VC_CALL = 22
    CLASSIC_MEDIA_TYPE_NUM = 23
    MULTI_MEDIA_EMAILCHAT = 50
    MULTI_MEDIA_WEBCHAT = 51
    MULTI_MEDIA_SMSCHAT = 52
    MULTI_MEDIA_SOCIALCHAT = 53
    MULTI_MEDIA_FAXCHAT = 54
    MULTI_MEDIA_H5CHAT = 55


#: The names the reference prints for media types (`MEDIA_TYPE_PHONE` in the querydetailcallinfo example).
MEDIA_TYPE_NAMES: Final[dict[int, str]] = {
    1: "MEDIA_TYPE_CHAT",
    2: "MEDIA_TYPE_WEBPHONE",
    3: "MEDIA_TYPE_ESCORT",
    4: "MEDIA_TYPE_CALLBACK",
    5: "MEDIA_TYPE_PHONE",
    6: "MEDIA_TYPE_EMAIL",
    7: "MEDIA_TYPE_FAX",
    8: "MEDIA_TYPE_VIDEO",
    9: "MEDIA_TYPE_WB",
    10: "MEDIA_TYPE_APP_SHARE",
    11: "MEDIA_TYPE_FILE_TRANSFER",
    12: "MEDIA_TYPE_VIDEO_2B1D",
    13: "MEDIA_TYPE_VIDEO_6B1D",
    14: "MEDIA_TYPE_OPS",
    15: "MEDIA_TYPE_PREDICT_OUTBOUND",
    16: "MEDIA_TYPE_PREVIEW_OUTBOUND",
    17: "MEDIA_TYPE_MSG",
    18: "MEDIA_TYPE_WEBPHONE_VIDEO",
    19: "MEDIA_TYPE_PHONE_VIDEO",
    20: "MEDIA_TYPE_WEB_LEAVE_MESSAGE",
    21: "MEDIA_TYPE_DESKTOP_SHARE",
    22: "MEDIA_TYPE_VC_CALL",
    23: "CLASSIC_MEDIA_TYPE_NUM",
    50: "MEDIA_TYPE_MULTI_MEDIA_EMAILCHAT",
    51: "MEDIA_TYPE_MULTI_MEDIA_WEBCHAT",
    52: "MEDIA_TYPE_MULTI_MEDIA_SMSCHAT",
    53: "MEDIA_TYPE_MULTI_MEDIA_SOCIALCHAT",
    54: "MEDIA_TYPE_MULTI_MEDIA_FAXCHAT",
    55: "MEDIA_TYPE_MULTI_MEDIA_H5CHAT",
}

#: Media types the DataProcess `mediaType` filter accepts (DataProcess seed, request table row 9).
DATAPROCESS_MEDIA_TYPES: Final[frozenset[int]] = frozenset({2, 5, 18, 19, 53})

#: `-1` means "no submedia type" (CMS reference 4.1.3.4, Table 5).
NO_SUB_MEDIA_TYPE: Final = -1

#: Submedia types, meaningful only with media type 53 (CMS reference 5.5; the reference's own spelling kept).
SUB_MEDIA_TYPE_NAMES: Final[dict[int, str]] = {
    1: "SUB_MEDIA_TYPE_WEB",
    2: "SUB_MEDIA_TYPE_WHATSAPP",
    3: "SUB_MEDIA_TYPE_LINE",
    4: "SUB_MEDIA_TYPE_WECHAT",
    5: "SUB_MEDIA_TYPE_FACEBOOK",
    6: "SUB_MEDIA_TYPE_TWITTER",
    7: "SUB_MEDIA_TYPE_EAMIL",
    8: "SUB_MEDIA_TYPE_SMS",
    9: "SUB_MEDIA_TYPE_TELEGRAM",
    10: "SUB_MEDIA_TYPE_INSTAGRAM",
}


class CallFeature(IntEnum):
    """Call features (CMS reference 5.8)."""

    NORMAL = 0
    FROM_AGENT = 1
    TOLL = 2
    NETWORK_ROUTED = 3
    INTERNATIONAL_TOLL = 4
    RESERVED_OUTBOUND = 40
    PRE_OCCUPIED_OUTBOUND = 41
    PRE_CONNECTED_OUTBOUND = 42
    VIRTUAL_CALL = 43
    PREVIEW_OUTBOUND = 44
    CALLBACK_REQUEST = 45
    INTERNAL_HELP = 51


CALL_FEATURES: Final[frozenset[int]] = frozenset(int(f) for f in CallFeature)

#: Call types of the call track (`tbilllog.callType`, CMS reference 5.6 "Description of Call Types").
TRACK_CALL_TYPES: Final[dict[int, str]] = {
    0: "SP_CALL_NORMAL",
    1: "SP_CALL_SPECIAL",
    2: "KE11_CALL",
    3: "KE15_CALL",
    4: "BP_CALL",
    5: "SP_CALL_LONG",
    6: "INTER_CALL",
    7: "SP_CALL_OUT",
    8: "OP_CALL_OUT",
    9: "OP_PRI_OUT",
    10: "IVR_CALL_OUT",
    11: "SELF_CALLOUT",
    12: "IVR_PRI_CALL",
    13: "NIRC_CALL_IN",
    14: "NIRC_CALL_OUT",
    15: "NIRC_SPY_CALL_IN",
    16: "NIRC_SPY_CALL_OUT",
    17: "NIRC_INTER_CALL_IN",
    18: "NIRC_INTER_CALL_OUT",
    20: "ICD_SP_OPS_AIDERCALL",
    21: "ICD_SP_OPS_INCALL",
    22: "ICD_SP_OPS_PASSCALL",
    23: "ICD_SP_OPS_GIVECALL",
    30: "ICD_SP_VCP_ISDNCALL_IN",
    31: "ICD_SP_VCP_ISDNCALL_OUT",
    32: "ICD_SP_VCP_VIRTUALCALL_IN_2BD",
    33: "ICD_SP_VCP_VIRTUALCALL_IN_6BD",
    34: "ICD_SP_VCP_VIRTUALCALL_OUT_2BD",
    35: "ICD_SP_VCP_VIRTUALCALL_OUT_6BD",
    40: "OUTBOUND_CALL_OUT",
    41: "ICD_SP_OUTBOUND_PRE_OCCUPY",
    42: "ICD_SP_OUTBOUND_PRE_CONNECT",
    43: "ICD_SP_OUTBOUND_VIRTUAL_CALLIN",
    44: "ICD_SP_OUTBOUND_PREVIEW",
    45: "ICD_SP_OUTBOUND_CALLBACK",
    46: "ICD_SP_IDD",
    50: "ICD_SP_CBRT_CALL",
    51: "ICD_SP_INTERNAL_TWO_HELP",
    52: "ICD_SP_INTERNAL_THREE_HELP",
    60: "ICD_SP_OUTBOUND_PRE_OCCUPY_PRI_CALL",
    61: "ICD_SP_OUTBOUND_PRE_CONNECT_PRI_CALL",
    62: "ICD_SP_OUTBOUND_VIRTUAL_CALLIN_PRI_CALL",
    63: "ICD_SP_OUTBOUND_PREVIEW_PRI_CALL",
    64: "ICD_SP_OUTBOUND_CALLBACK_PRI_CALL",
    80: "SP_SUBSCRIBE_CALLIN",
    81: "SP_SUBSCRIBE_CALLOUT",
    82: "SP_VOICE_OPEN_CALLIN",
    83: "SP_VOICE_OPEN_CALLOUT",
    90: "SP_ROUTEOUT_CALLOUT",
    92: "BRIDGE_PHONE_CALL_IN",
    93: "BRIDGE_PHONE_CALL_OUT",
    94: "AGENT_CONF_CALL",
    95: "OFFLINE_OUT",
    96: "SMC_PROXY_CALL",
}

SP_CALL_NORMAL: Final = 0
INTER_CALL: Final = 6
ICD_SP_INTERNAL_TWO_HELP: Final = 51
ICD_SP_INTERNAL_THREE_HELP: Final = 52
SP_CALL_OUT: Final = 7
ICD_SP_OUTBOUND_VIRTUAL_CALLIN: Final = 43
ICD_SP_OUTBOUND_PREVIEW: Final = 44

#: Call types of the DataProcess call-result search (`callType` of queryCallManualDetailInfo).
DATAPROCESS_CALL_TYPES: Final[dict[int, str]] = {
    0: "inbound call",
    1: "outbound call",
    2: "predicted outbound call",
    3: "previewed outbound call",
    4: "preempted outbound call",
    10: "bidirectional call",
    11: "collaborative call",
    12: "click-to-dial call",
}

DP_INBOUND: Final = 0
DP_OUTBOUND: Final = 1
DP_PREDICTED: Final = 2
DP_PREVIEWED: Final = 3

#: CC-Gateway "Call Type" appendix (the `callfeature` of the gateway's callinfo uses this table).
GATEWAY_CALL_TYPES: Final[dict[int, str]] = {
    0: "normal inbound call",
    6: "internal call",
    7: "normal outbound call",
    40: "reserved outbound call",
    41: "pre-occupied outbound call",
    43: "predictive outbound call",
    44: "preview outbound call",
    45: "reserved callback",
    51: "internal two-party consultation",
    52: "internal three-party consultation",
    53: "multi-party call",
}

#: Reasons for entering or leaving a device (CMS reference 5.9; the CC-Gateway callinfo table 6 matches it).
REASONS: Final[dict[int, str]] = {
    0: "Normal access/transfer.",
    1: "Overflow transfer.",
    2: "Timeout transfer.",
    3: "Transfer on no agent.",
    4: "Transfer on queue cancellation.",
    5: "Transfer because the agent does not answer the call.",
    6: "Resume a suspended call.",
    7: "Connecting a held call.",
    8: "Three-party help.",
    9: "Picking a held call.",
    10: "Three-party conversation.",
    11: "The party requesting internal help releases the call.",
    12: "The call is intercepted.",
    13: "The call is picked up.",
    14: "The analysis of the called is not configured.",
    15: "The user releases the call.",
    16: "The agent releases the call.",
    17: "The call is transferred out.",
    18: "The call is held.",
    19: "An internal processing error occurs.",
    20: "The called party is busy.",
    22: "The mobile phone is switched off.",
    23: "The mobile phone is out of the service area.",
    24: "The called number does not exist.",
    25: "The ACD cannot distribute any resources for the call.",
    26: "The user does not answer the call.",
    27: "The called party rejects the call.",
    28: "The call is successfully transferred to a skill queue.",
    29: "The three-party conversation is transferred to a skill queue.",
    30: "Transferring the call in the success transfer mode times out.",
    31: "Transferring the three-party conversation to a skill queue times out.",
    34: "If call timeout or queuing on busy or overflow occurs, the network call fails.",
    35: "The network call is directed to its original call center for queuing.",
    36: "The queued call is re-routed.",
    37: "The call accesses the CDN through call routing.",
    38: "The call accesses the CDN through agent consultation.",
    39: "The CDN properly returns a routing result.",
    40: "CDN routing times out.",
    41: "An agent cancels the consultation call, or the routing fails.",
    42: "The call accesses the PGR because CDN routing times out.",
    43: "The call is properly returned by the CDN and is routed to the PGR.",
    44: "The call accesses the PGR through inbound routing.",
    45: "The call accesses the PGR through agent consultation.",
    46: "The agent is unreachable. The CDN reroutes the call.",
    47: "The call is waiting in multiple queues.",
    48: "The primary-queue call is answered by numbers in the secondary queue.",
    50: "The agent rejects the call.",
    51: "A user call joins in a conference call.",
    52: "A conference chairperson proactively releases a conference, or the conference is released due to a "
    "CCS exception.",
    53: "The participant is removed from the conference.",
    54: "The call is transferred when the call completion rate is less than the threshold.",
    88: "After the agent answers the call, the user hangs up.",
    89: "After the agent answers the call, the user hangs up.",
}


class Reason(IntEnum):
    """The enter/leave reasons ccdata's engine writes itself (a subset of `REASONS`)."""

    NORMAL = 0
    OVERFLOW = 1
    TIMEOUT = 2
    NO_AGENT = 3
    QUEUE_CANCELLED = 4
    AGENT_NO_ANSWER = 5
    THREE_PARTY_HELP = 8
    RETRIEVE_HOLD = 9
    THREE_PARTY = 10
    HELP_RELEASED = 11  # the party requesting internal help releases the (help) call
    INTERCEPTED = 12
    PICKED_UP = 13
    USER_RELEASED = 15
    AGENT_RELEASED = 16
    TRANSFERRED_OUT = 17
    HELD = 18
    INTERNAL_ERROR = 19
    CALLED_BUSY = 20
    PHONE_OFF = 22
    NO_RESOURCES = 25
    USER_NO_ANSWER = 26
    CALLED_REJECTED = 27
    TRANSFERRED_TO_QUEUE = 28
    CONSULT_CANCELLED = 41  # an agent cancels the consultation call
    AGENT_REJECTED = 50
    CONFERENCE_RELEASED = 52  # the chairperson releases the conference


class CtiAgentState(IntEnum):
    """Agent states of the CTI platform (CMS reference 5.3)."""

    NOT_SIGNED_IN = 0
    IDLE = 1
    PRE_OCCUPIED = 2
    OCCUPIED = 3
    ANSWERING = 4
    TALKING = 5
    WORKING = 6  # wrap-up
    BUSY = 7
    REST = 8
    STUDY = 9
    ADJUSTING = 10


class GatewayAgentState(IntEnum):
    """Agent states of the CC-Gateway (cec-api-notes C.3, agent state values)."""

    UNKNOWN = 0
    SIGNED_IN = 1
    SIGNED_OUT = 2
    BUSY = 3
    IDLE = 4
    WRAP_UP = 5
    IDLE_UNUSED = 6
    TALKING = 7
    REST = 8
    PRE_REST = 9


#: CTI platform state -> CC-Gateway state, for the states an agent can be in.
CTI_TO_GATEWAY_STATE: Final[dict[CtiAgentState, GatewayAgentState]] = {
    CtiAgentState.NOT_SIGNED_IN: GatewayAgentState.SIGNED_OUT,
    CtiAgentState.IDLE: GatewayAgentState.IDLE,
    CtiAgentState.PRE_OCCUPIED: GatewayAgentState.BUSY,
    CtiAgentState.OCCUPIED: GatewayAgentState.BUSY,
    CtiAgentState.ANSWERING: GatewayAgentState.TALKING,
    CtiAgentState.TALKING: GatewayAgentState.TALKING,
    CtiAgentState.WORKING: GatewayAgentState.WRAP_UP,
    CtiAgentState.BUSY: GatewayAgentState.BUSY,
    CtiAgentState.REST: GatewayAgentState.REST,
    CtiAgentState.STUDY: GatewayAgentState.BUSY,
    CtiAgentState.ADJUSTING: GatewayAgentState.BUSY,
}


class CallStatus(IntEnum):
    """Call status of the batch agent-call query (CMS reference 4.1.3.4, Table 6)."""

    IDLE = 0
    OCCUPY = 1
    QUEUE = 2
    PRIVATE_QUEUE = 3
    ALERTING = 4
    TALK = 5
    HOLD = 6
    SUSPEND = 7
    MUTE = 8
    TRITALK = 9


#: CC-CMS result codes (CMS reference 5.2).
CMS_RESULT_CODES: Final[dict[str, str]] = {
    "0100000": "The interface is invoked successfully.",
    "0100001": "The interface fails to be invoked.",
    "0100002": "The parameter is invalid.",
    "0100003": "The current interface supports only CTI V300R008. The current CTI version is V300R006.",
    "0100999": "Unknown error.",
    "0101001": "The inspection relationship interface is abnormal.",
    "0101002": "The number to be queried does not exist on the UAP.",
    "0101003": "Insufficient permission.",
}

CMS_SUCCESS: Final = "0100000"
CMS_FAILED: Final = "0100001"
CMS_INVALID_PARAMETER: Final = "0100002"
CMS_UNKNOWN_ERROR: Final = "0100999"
CMS_NO_PERMISSION: Final = "0101003"

#: CC-Gateway retcodes of the agent interfaces (cec-api-notes C.3).
GATEWAY_RETCODES: Final[dict[str, str]] = {
    "0": "success",
    "000-001": "Wrong method used to get agent events.",
    "000-002": "Bad URL parameter or address, or an invalid interface parameter.",
    "000-003": "No permission to call the interface; the agent authentication may have expired.",
    "000-004": "The agent is being switched over.",
    "000-005": "The agent to be inspected is the inspector.",
    "000-006": "Message parameter error.",
    "000-007": "Interface called repeatedly.",
    "100-001": "Sign-in parameter empty or invalid.",
    "100-002": "The agent has already signed in.",
    "100-003": "ResourceUnavailable or ProviderUnavailable exception at sign-in.",
    "100-004": "Wrong username or password.",
    "100-005": "Invalid sign-out parameter.",
    "100-006": "The agent has not signed in.",
    "100-007": "Exception during the operation.",
    "100-008": "The agent has already signed out.",
    "100-009": "Failed to set the agent state.",
    "100-010": "State error at sign-out.",
    "100-011": "Invalid parameter at sign-in.",
    "100-012": "Wrong agent type at sign-in.",
    "100-013": "Invalid phone when binding.",
    "100-014": "Sign-in phone number outside the configured range.",
    "100-015": "The agent is signed in and cannot be forcibly signed out.",
    "100-016": "Invalid IP at sign-in.",
    "100-017": "uPortal authentication failed.",
}

#: Release causes ccdata writes (the CDR appendix "Cause Code", cec-api-notes E.7).
RELEASE_CAUSES: Final[dict[int, str]] = {
    0: "normal release",
    1: "resources fully occupied",
    3: "abnormal release",
    7: "connection failed",
    8: "called no answer",
    9: "called rejected",
    47: "called busy",
    48: "phone off",
    49: "user released before answer",
}

CAUSE_NORMAL: Final = 0
CAUSE_RESOURCES_OCCUPIED: Final = 1
CAUSE_ABNORMAL: Final = 3
CAUSE_CALLED_NO_ANSWER: Final = 8
CAUSE_CALLED_REJECTED: Final = 9
CAUSE_CALLED_BUSY: Final = 47
CAUSE_PHONE_OFF: Final = 48
CAUSE_RELEASED_BEFORE_ANSWER: Final = 49


def reason_description(code: int) -> str:
    """The reference's description of an enter/leave reason, or a plain marker for an unlisted code."""
    return REASONS.get(code, f"Reason {code}.")


#: Enter/leave reason descriptions of the CC-Gateway's callinfo (its own Table 6, worded differently from CMS 5.9).
GATEWAY_REASONS: Final[dict[int, str]] = {
    0: "Common access or transfer.",
    1: "The call is transferred due to overflow.",
    2: "The call is transferred due to timeout.",
    3: "The call is transferred when no one is on duty.",
    4: "The call is transferred when queuing is cancelled.",
    5: "The call is transferred when an agent does not answer for a long time.",
    6: "The suspended call is resumed.",
    7: "The held call is connected.",
    8: "Three-party help is initiated.",
    9: "The call is unheld.",
    10: "The three-party call is initiated.",
    11: "The call is released by the party who sends the internal help request.",
    12: "The call is intercepted.",
    13: "The call is picked up.",
    14: "Called number analysis is not configured for a call.",
    15: "The user releases the call.",
    16: "The agent releases the call.",
    17: "The call is transferred out.",
    18: "The call is held.",
    19: "Internal processing error.",
    20: "The called party is busy.",
    21: "The line is busy.",
    22: "The phone is powered off.",
    23: "The phone is out of service.",
    24: "The number is invalid.",
    25: "No resource is available on the ACD.",
    26: "The user does not answer the call.",
    27: "The called party rejects the call.",
    28: "The connected call is transferred to a queue.",
    29: "The three-party call is transferred to a queue.",
    30: "The connected call times out when being transferred to a queue.",
    31: "The three-party call times out when being transferred to a queue.",
    50: "The agent rejects the call.",
    51: "A user call joins a conference.",
    88: "The user hangs up after the agent answers the call.",
    89: "The user hooks on after the agent answers the call.",
}

#: Media capability of the CC-Gateway (agent events: 1 voice, 3 voice and video, 5 text, 6 H5 video).
MEDIA_ABILITY: Final[dict[int, int]] = {5: 1, 2: 1, 19: 3, 18: 3, 8: 3, 53: 5, 1: 5, 51: 5, 55: 6}


#: Real-time skill indicator ids of `skill/rindex` (CMS reference 5.1), in the reference's order.
SKILL_INDICATOR_IDS: Final[tuple[str, ...]] = (
    "IDX_COUNT_REAL_SKILL_QUEUE", "IDX_COUNT_REAL_SKILL_HANDLE", "IDX_DURATION_SKILL_MAX_QUEUE_ACK",
    "IDX_COUNT_20S_CALL_FOR_5MIN", "IDX_COUNT_REAL_AGENT_SIGN_IN", "IDX_COUNT_REAL_AGENT_CONNECT",
    "IDX_COUNT_REAL_AGENT_SET_IDLE", "IDX_COUNT_REAL_AGENT_USABLE", "IDX_COUNT_REAL_AGENT_SET_BUSY",
    "IDX_COUNT_REAL_AGENT_ACW", "IDX_COUNT_REAL_AGENT_REST", "IDX_COUNT_REAL_AGENT_STUDY",
)  # fmt: skip
#: Real-time agent indicator ids of `agentgroup/rindex` (CMS reference 5.1).
AGENT_INDICATOR_IDS: Final[tuple[str, ...]] = (
    "IDX_AGENT_PHONE", "IDX_AGENT_CURRENT_STATE", "IDX_DURATION_AGENT_CURRENT_STATE", "IDX_AGENT_LOGIN_SKILLS",
)  # fmt: skip


class AgentOperationType(IntEnum):
    """Agent operation types of `agent/agentoprinfo` (CMS reference 5.12, "Agent Operation Types"): those that
    write an operation record and that ccdata's contract events can tell."""

    SIGN_OUT = 0
    SIGN_IN = 1
    IDLE = 2
    BUSY = 3
    TALKING = 4
    THREE_PARTY = 10
    REST = 26
    WORK = 27  # wrap-up
    MUTE = 32  # the agent mutes the customer
    STUDY = 34
    HOLD = 38
    INTERNAL_HELP = 40
    INTERNAL_CALL = 41
    INTERCEPT = 43
    INTERNAL_TRANSFER = 45
    TRANSFER_OUT = 46
    TRANSFER_TO_DEVICE = 55


#: The reference's "not used" value of an operation's object or cause (US_NO_USE = 0xFFFF).
US_NO_USE: Final = 65535
#: Sign-out causes (5.12, type 0): the agent signed out; replaced by a forced sign-in of the same agent ID.
SIGN_OUT_BY_AGENT: Final = 258
SIGN_OUT_BY_NEW_SIGN_IN: Final = 264
#: Busy cause (5.12, type 3) when the source gives none: the agent indicated busy.
BUSY_BY_AGENT: Final = 1
