"""The OpenAPI table rows of the CC-Gateway agent interfaces (the workbench); `openapi.py` holds the rest."""

from __future__ import annotations

from typing import Annotated, Any

from msgspec import Meta

from ccdata.api import schemas as s
from ccdata.api.openapi_table import GATEWAY, GATEWAY_SIGN_IN, Family, Gateway, Op, Param, Text
from ccdata.client import types as t

_R = "/agentgateway/resource"
_EMPTY = dict[str, Any]  # the reference's `{}` of an action's answer
_NEW_CALL = Annotated[str, Meta(description="the new call's ID")]
_SIGN_IN = {"password": "ccdata-agent", "status": 4}


def _q(name: str, kind: Any = str, description: str = "") -> Param:
    return Param(name, "query", kind, description=description)


def _p(name: str, kind: Any = str) -> Param:
    return Param(name, "path", kind)


def _op(method: str, path: str, summary: str, result: Any, request: Any = None, example: Any = None,
        params: tuple[Param, ...] = (), family: Family = GATEWAY) -> Op:  # fmt: skip
    return Op(method, f"{_R}/{path}", summary, family, request, Gateway(result), example, params=params)


_FLAG = Annotated[bool, Meta(description="true or false")]

GATEWAY_OPS: list[Op] = [
    _op("put", "onlineagent/{agentid}", "Sign in (Set-GUID: JSESSIONID=<guid>)", t.SignIn, s.SignInRequest,
        _SIGN_IN, family=GATEWAY_SIGN_IN),
    _op("put", "onlineagent/{agentid}/forcelogin", "Sign in, replacing a live session", t.SignIn, s.SignInRequest,
        _SIGN_IN, family=GATEWAY_SIGN_IN),
    _op("put", "onlineagent/{agentid}/loginex", "Sign in to the CTI platform only", t.SignIn, s.SignInRequest,
        _SIGN_IN, family=GATEWAY_SIGN_IN),
    _op("delete", "onlineagent/{agentid}/logout", "Sign out", _EMPTY),
    Op("get", f"{_R}/agentevent/{{agentid}}", "Poll the agent's next event (also the heartbeat; may rotate the GUID)",
       GATEWAY, None, Text.json(s.GatewayEventAnswer)),
    _op("delete", "onlineagent/{agentid}/forcelogout", "Sign out even during a call (its calls are released)",
        None),
    _op("delete", "onlineagent/{agentid}/forcelogoutwithreason/{reason}", "Forced sign-out with a reason (1-255)",
        None, params=(_p("reason", Annotated[int, Meta(ge=1, le=255)]),)),
    _op("post", "onlineagent/{agentid}/sayfree", "Idle (from busy, rest or wrap-up)", _EMPTY),
    _op("post", "onlineagent/{agentid}/saybusy", "Busy", _EMPTY,
        params=(_q("reason", Annotated[int, Meta(ge=0, le=250)], "200-250: a busy reason"),
                _q("prolong", bool, "renew a busy state"))),
    _op("post", "onlineagent/{agentid}/cancelbusy", "Leave busy", _EMPTY),
    _op("post", "onlineagent/{agentid}/rest/{time}/{restcause}", "Rest for time s (1-86399), cause 0-255", _EMPTY,
        params=(_p("time", Annotated[int, Meta(ge=1, le=86399)]), _p("restcause", Annotated[int, Meta(ge=0, le=255)]),
                _q("prolong", bool))),
    _op("post", "onlineagent/{agentid}/cancelrest", "Leave rest", _EMPTY),
    _op("post", "onlineagent/{agentid}/work", "Enter wrap-up", _EMPTY),
    _op("post", "onlineagent/{agentid}/cancelwork", "Leave wrap-up", _EMPTY),
    _op("post", "onlineagent/{agentid}/autoanswer/{flag}", "Auto-answer on (true) or off (false)", _EMPTY,
        params=(_p("flag", _FLAG),)),
    _op("post", "onlineagent/{agentid}/autoenteridle/{flag}", "Idle (true) or wrap-up after a call", _EMPTY,
        params=(_p("flag", _FLAG),)),
    _op("get", "onlineagent/{agentid}/agentstatus", "The agent's state (3 busy, 4 idle, 5 wrap-up, 7 talking, 8 rest)",
        list[t.GatewayAgentStatus]),
    _op("post", "onlineagent/{agentid}/handshake", "Heartbeat (push mode; may rotate the GUID)", None),
    _op("put", "onlineagent/{agentid}/heartbeat", "Heartbeat (the older path)", None),
    _op("put", "onlineagent/{agentid}/updateGuid", "A new GUID after a page refresh", s.GuidAnswer),
    _op("post", "onlineagent/{agentid}/syncagentinfo", "State and call after a refresh (drops queued events)",
        s.SyncAgentInfo),
    _op("put", "voicecall/{agentid}/answer", "Answer the ringing call", _EMPTY, params=(_q("callid"),)),
    _op("delete", "voicecall/{agentid}/release", "Release the current call", _EMPTY),
    _op("delete", "voicecall/{agentid}", "Release the current call (releaseEx, the older path)", _EMPTY),
    _op("post", "voicecall/{agentid}/dropcall/{callid}", "Release one of the agent's calls", _EMPTY,
        params=(_p("callid"),)),
    _op("post", "voicecall/{agentid}/hold", "Hold the call", _EMPTY),
    _op("post", "voicecall/{agentid}/gethold", "Retrieve the held call", _EMPTY, params=(_q("callid"),)),
    _op("post", "voicecall/{agentid}/beginmute", "Mute", _EMPTY),
    _op("post", "voicecall/{agentid}/endmute", "Unmute", _EMPTY),
    _op("put", "voicecall/{agentid}/callout", "Call a number; the new call ID", _NEW_CALL, s.CalloutRequest,
        {"caller": "650550", "called": "13900139000"}),
    _op("put", "voicecall/{agentid}/callinner", "Call another agent; the new call ID", _NEW_CALL, s.CallInnerRequest,
        {"called": "1002"}),
    _op("post", "voicecall/{agentid}/transfer", "Transfer (devicetype 1 skill, 2 agent, 3 IVR, 5 number)", _EMPTY,
        s.TransferRequest, {"devicetype": 2, "mode": 0, "address": "1002"}),
    _op("post", "voicecall/{agentid}/innerhelp", "Consult an agent or skill; the help call's ID", _NEW_CALL,
        s.InnerHelpRequest, {"dstaddress": "1002", "devicetype": 2, "mode": 1}),
    _op("post", "voicecall/{agentid}/confjoin", "Three-party: join the held call and the consulted party", _EMPTY,
        s.ConfJoinRequest, {"callid": "1767258001-17"}),
    _op("get", "calldata/{agentid}/callinfo", "The agent's current call, or its last call", t.GatewayCallInfo,
        params=(_q("isNoContainLastCall", bool),)),
    _op("get", "calldata/{agentid}/callinfobycallid/{callid}", "One call of the agent (current or last)",
        t.GatewayCallInfo, params=(_p("callid"),)),
    _op("get", "calldata/{agentid}/allcallinfoEx/{workno}", "Every call of an agent of the VDN",
        list[t.GatewayCallInfo], params=(_p("workno", s.AgentId),)),
    _op("get", "calldata/{agentid}/holdlist", "The agent's held calls", list[t.GatewayCallInfo]),
    _op("get", "calldata/{agentid}/appdata", "A call's data", str,
        params=(_q("callId"), _q("isEncodeResult", bool))),
    _op("put", "calldata/{agentid}/setcalldataex", "Set a call's data", _EMPTY, s.CallDataRequest,
        {"callid": "1767258001-17", "calldata": "ticket=42"}),
]  # fmt: skip
