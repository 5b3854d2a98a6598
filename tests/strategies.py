"""Hypothesis strategies: random but valid call scripts, interleaved across calls, with noise.

A small model of each call's phase chooses only steps the contract allows from there; every such step must be
accepted by the engine. Contract v2 flows are generated too: ringing several agents, pickup, intercept, a
conference party leaving, internal calls, and consult calls (a macro: consult, answer, then transfer, conference
or cancel; the consult call is a model of its own, released by its completion). Noise events (impossible
transitions, unknown calls) and exact duplicates are mixed in; they must be rejected or ignored without
changing anything.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from hypothesis import strategies as st

T0 = 1_700_000_000_000
AGENTS = (1001, 1002, 1003, 1004)
SKILLS = (7, 8)


@dataclass
class Step:
    body: dict[str, Any]
    valid: bool  # the model says the engine must accept it (when applied in stream order, once)


@dataclass
class CallModel:
    call_id: str
    phase: str = "routing"
    inbound: bool = True
    agent: int = 0  # the ringing, connected, held or dialling agent
    waiting_for: int = 0  # a private-queue wait for this agent
    came_from: str = "direct"  # where a ringing call returns on no-answer: skill, private or direct
    skill: int = 0
    on_call: set[int] = field(default_factory=set)
    conference: bool = False
    customer_connected: bool = False
    outside_answered: bool = False
    manual: bool = False
    ringing: list[int] = field(default_factory=list)  # agents whose phones ring for the call
    party: dict[str, Any] = field(default_factory=dict)  # the joined conference party (agentId or number)
    internal: bool = False  # an internal call: only answer, no-answer and release
    consults: int = 0


def _options(m: CallModel) -> list[tuple[str, dict[str, Any]]]:
    """The (type, fields) steps the contract allows from the call's phase."""
    others = [a for a in AGENTS if a != m.agent and a not in m.on_call]
    p = m.phase
    if p == "released":
        return []
    if m.internal:
        return _internal_options(m)
    free = [a for a in AGENTS if a not in m.on_call]
    several = [("call.alert", {"agentIds": free[:2]}), ("call.alert", {"agentIds": free[1:]})] if len(free) > 2 else []
    if p == "routing":
        if not m.inbound and not m.customer_connected:
            return [("call.answer", {"party": "customer"}), ("call.release", {"by": "system", "cause": 8})]
        return [
            ("call.ivr", {"flowId": "100"}),
            *[("call.queue", {"skillId": s}) for s in SKILLS],
            *[("call.queue", {"agentId": a}) for a in AGENTS],
            *[("call.alert", {"agentId": a}) for a in AGENTS],
            *several,
            ("call.release", {"by": "customer"}),
        ]
    if p == "ivr":
        return [
            ("call.ivr", {"flowId": "200"}),
            *[("call.queue", {"skillId": s}) for s in SKILLS],
            ("call.queue", {"agentId": AGENTS[0]}),
            ("call.release", {"by": "system"}),
            ("call.release", {"by": "customer"}),
        ]
    if p == "queued":
        if m.waiting_for:
            return [("call.alert", {"agentId": m.waiting_for}), ("call.release", {"by": "customer"}),
                    ("call.queue", {"skillId": SKILLS[0], "reason": 2})]  # fmt: skip
        return [
            *[("call.queue", {"skillId": s, "reason": r}) for s in SKILLS for r in (1, 2)],
            ("call.ivr", {"flowId": "300", "reason": 2}),
            *[("call.alert", {"agentId": a}) for a in AGENTS],
            *several,
            ("call.release", {"by": "customer"}),
        ]
    if p == "alerting":
        pickers = [a for a in AGENTS if a not in m.ringing]
        return [
            *[("call.answer", {"agentId": a}) for a in m.ringing],
            *[("call.noanswer", {"agentId": a}) for a in m.ringing],
            ("call.noanswer", {"agentId": m.ringing[-1], "reason": 50}),
            ("call.pickup", {"agentId": pickers[0]}),
            ("call.release", {"by": "customer"}),
        ]
    if p == "talking":
        if m.conference:
            return [("call.release", {"by": "customer"}), ("call.release", {"by": "agent", "agentId": m.agent}),
                    ("call.leave", {"party": m.party})]  # fmt: skip
        consults = [
            ("macro.consult", {"target": target, "completion": completion})
            for target in ({"agentId": others[0]}, {"skillId": SKILLS[1]}, {"number": "13900003333"})
            for completion in ("transfer", "conference", "cancel")
        ]
        return [
            *consults,
            ("call.intercept", {"agentId": others[0]}),
            ("call.hold", {"agentId": m.agent}),
            ("call.transfer", {"agentId": m.agent, "target": {"skillId": SKILLS[1]}}),
            ("call.transfer", {"agentId": m.agent, "target": {"agentId": others[0]}}),
            ("call.transfer", {"agentId": m.agent, "target": {"flowId": "900"}}),
            ("call.transfer", {"agentId": m.agent, "target": {"number": "13900001111"}}),
            ("call.conference", {"agentId": m.agent, "party": {"agentId": others[-1]}}),
            ("call.conference", {"agentId": m.agent, "party": {"number": "13900002222"}}),
            ("call.release", {"by": "customer"}),
            ("call.release", {"by": "agent"}),
        ]
    if p == "held":
        return [("call.unhold", {"agentId": m.agent}), ("call.release", {"by": "customer"})]
    if p == "dialing":
        return [("call.answer", {"party": "customer"}), ("call.release", {"by": "agent"}),
                ("call.release", {"by": "system", "cause": 8})]  # fmt: skip
    if p == "outside":
        steps = [("call.release", {"by": "customer"}), ("call.release", {"by": "system"})]
        return steps if m.outside_answered else [("call.answer", {"party": "outside"}), *steps]
    return []


def _internal_options(m: CallModel) -> list[tuple[str, dict[str, Any]]]:
    if m.phase == "alerting":
        return [("call.answer", {"agentId": m.ringing[0]}), ("call.noanswer", {"agentId": m.ringing[0]}),
                ("call.release", {"by": "agent", "agentId": m.agent})]  # fmt: skip
    return [("call.release", {"by": "agent"}), ("call.release", {"by": "customer"})]


def _consult_flow(m: CallModel, target: dict[str, Any], completion: str) -> tuple[str, list[tuple[str, dict]]]:
    """The steps of a consult macro (each with its callId) and the consult call's ID; moves the model."""
    consult_id = f"{m.call_id}c{m.consults}"
    m.consults += 1
    helper = next(a for a in AGENTS if a != m.agent and a not in m.on_call)
    steps: list[tuple[str, dict[str, Any]]] = [
        ("call.consult", {"callId": consult_id, "originalCallId": m.call_id, "agentId": m.agent, "target": target})
    ]
    if "skillId" in target:
        steps.append(("call.alert", {"callId": consult_id, "agentId": helper}))
    answer = {"party": "outside"} if "number" in target else {"agentId": target.get("agentId", helper)}
    steps.append(("call.answer", {"callId": consult_id, **answer}))
    steps.append((f"call.consult.{completion}", {"callId": consult_id, "agentId": m.agent}))
    joined = {"number": target["number"]} if "number" in target else {"agentId": target.get("agentId", helper)}
    if completion == "transfer":
        m.on_call.discard(m.agent)
        if "number" in target:
            m.phase, m.outside_answered = "outside", True
        else:
            m.agent = joined["agentId"]
            m.on_call.add(m.agent)
    elif completion == "conference":
        m.conference, m.party = True, joined
        if "agentId" in joined:
            m.on_call.add(joined["agentId"])
    return consult_id, steps


def _advance(m: CallModel, type_: str, f: dict[str, Any]) -> None:
    """Move the model as the engine should move the call."""
    if type_ == "call.ivr":
        m.phase, m.waiting_for = "ivr", 0
    elif type_ == "call.queue":
        m.phase, m.manual = "queued", True
        m.waiting_for = f.get("agentId", 0)
        m.skill = f.get("skillId", 0)
    elif type_ == "call.alert":
        m.came_from = "private" if m.waiting_for else "skill" if m.phase == "queued" else "direct"
        m.ringing = list(f.get("agentIds", [f.get("agentId")]))
        m.phase, m.agent, m.waiting_for, m.manual = "alerting", m.ringing[0], 0, True
        m.on_call.update(m.ringing)
    elif type_ == "call.answer":
        if "agentId" in f:
            m.phase, m.agent = "talking", f["agentId"]
            m.on_call.difference_update(a for a in m.ringing if a != m.agent)
            m.ringing = []
        elif f["party"] == "customer":
            m.customer_connected = True
            if m.phase == "dialing":
                m.phase = "talking"
        else:
            m.outside_answered = True
    elif type_ == "call.noanswer":
        m.on_call.discard(f["agentId"])
        m.ringing.remove(f["agentId"])
        if m.ringing:
            m.agent = m.ringing[0]
        elif m.internal:
            m.phase = "waiting"
        elif m.came_from == "skill":
            m.phase = "queued"
        elif m.came_from == "private":
            m.phase, m.waiting_for = "queued", m.agent
        else:
            m.phase = "routing"
    elif type_ in ("call.pickup", "call.intercept"):
        m.on_call.difference_update(m.ringing if type_ == "call.pickup" else [m.agent])
        m.phase, m.agent, m.ringing = "talking", f["agentId"], []
        m.on_call.add(m.agent)
    elif type_ == "call.leave":
        m.conference = False
        m.on_call.discard(f["party"].get("agentId", 0))
    elif type_ == "call.hold":
        m.phase = "held"
    elif type_ == "call.unhold":
        m.phase = "talking"
    elif type_ == "call.transfer":
        m.on_call.discard(m.agent)
        target = f["target"]
        if "skillId" in target:
            m.phase, m.waiting_for, m.manual = "queued", 0, True
        elif "agentId" in target:
            m.phase, m.waiting_for = "queued", target["agentId"]
        elif "flowId" in target:
            m.phase = "ivr"
        else:
            m.phase = "outside"
    elif type_ == "call.conference":
        m.conference, m.party = True, f["party"]
        if "agentId" in f["party"]:
            m.on_call.add(f["party"]["agentId"])
    elif type_ == "call.release":
        m.phase = "released"


# Always impossible: agent 4242 never signs in, so each of these is rejected whatever the call's phase.
NOISE = [
    ("call.hold", {"agentId": 4242}),
    ("call.answer", {"agentId": 4242}),
    ("call.unhold", {"agentId": 4242}),
    ("call.alert", {"agentId": 4242}),
    ("call.transfer", {"agentId": 4242, "target": {"skillId": 9}}),
    ("call.noanswer", {"agentId": 4242}),
]


@st.composite
def call_scripts(draw: st.DrawFn, max_calls: int = 5, max_steps: int = 9) -> tuple[list[Step], list[CallModel]]:
    """A stream of steps: sign-ins, then several calls interleaved in time, with noise and duplicates."""
    steps: list[tuple[int, int, Step]] = []
    counter = 0

    def add(at: int, body: dict[str, Any], valid: bool) -> None:
        nonlocal counter
        counter += 1
        body = {"id": f"e{counter}", "at": T0 + at, "ccId": 1, "vdn": 1, **body}
        steps.append((at, counter, Step(body, valid)))

    for agent in AGENTS:
        add(0, {"type": "agent.login", "agentId": agent, "skills": list(SKILLS)}, True)
    models = []
    for n in range(draw(st.integers(1, max_calls))):
        model = CallModel(call_id=f"{1700000000 + n}-{n}")
        models.append(model)
        at = draw(st.integers(1, 20_000))
        kind = draw(st.sampled_from(["inbound", "inbound", "inbound", "manual", "predictive", "internal"]))
        if kind == "internal":
            caller, called = draw(st.permutations(AGENTS))[:2]
            body = {"type": "call.internal", "callId": model.call_id, "agentId": caller, "target": {"agentId": called}}
            model.inbound, model.internal, model.phase, model.agent = False, True, "alerting", caller
            model.ringing, model.on_call = [called], {caller, called}
            add(at, body, True)
        elif kind == "inbound":
            add(at, {"type": "call.arrive", "callId": model.call_id, "caller": "8888", "called": "650550"}, True)
        else:
            agent = draw(st.sampled_from(AGENTS))
            body = {"type": "call.originate", "callId": model.call_id, "caller": "650550", "called": "139",
                    "campaign": kind}  # fmt: skip
            if kind == "manual":
                body["agentId"] = agent
                model.phase, model.agent, model.manual = "dialing", agent, True
                model.on_call.add(agent)
            model.inbound = False
            add(at, body, True)
        for _ in range(draw(st.integers(0, max_steps))):
            options = _options(model)
            if not options:
                break
            at += draw(st.integers(1, 60_000))
            if draw(st.integers(0, 9)) == 0:
                type_, fields = draw(st.sampled_from(NOISE))
                add(at, {"type": type_, "callId": model.call_id, **fields}, False)
                continue
            if draw(st.integers(0, 12)) == 0:
                add(at, {"type": "call.data", "callId": model.call_id, "callData": "order=42"}, True)
                continue
            type_, fields = draw(st.sampled_from(options))
            if type_ == "macro.consult":
                consult_id, flow = _consult_flow(model, fields["target"], fields["completion"])
                for step_type, step_fields in flow:
                    at += 1000
                    add(at, {"type": step_type, **step_fields}, True)
                models.append(CallModel(call_id=consult_id, phase="released", inbound=False))
                continue
            add(at, {"type": type_, "callId": model.call_id, **fields}, True)
            _advance(model, type_, fields)
        if model.phase != "released" and draw(st.booleans()):
            at += 1000
            releases = [o for o in _options(model) if o[0] == "call.release"]
            type_, fields = releases[0]
            add(at, {"type": type_, "callId": model.call_id, **fields}, True)
            _advance(model, type_, fields)
        if model.phase == "released" and model.manual and draw(st.booleans()):
            add(at + 5000, {"type": "call.evaluate", "callId": model.call_id, "evaluationValue": "5"}, True)
    steps.sort(key=lambda s: (s[0], s[1]))
    ordered = [s[2] for s in steps]
    for index in draw(st.lists(st.integers(0, len(ordered) - 1), max_size=4)):
        copy = Step(dict(ordered[index].body), valid=False)  # an exact duplicate, later in the stream
        ordered.insert(min(len(ordered), index + draw(st.integers(1, 5))), copy)
    return ordered, models
