"""The simulator obeys the workbench (issue 14, point 4): for an interactive agent the simulator is the platform and
the other parties, never the agent. The workbench's actions are emitted here as the gateway emits them, and the
simulation follows them as `LiveSimulator` does (every committed event that is not its own)."""

from __future__ import annotations

import random
from typing import Any

import msgspec
import pytest

from ccdata import config as configuration
from ccdata.domain.codes import CtiAgentState
from ccdata.service import Service
from ccdata.sim.contact_center import ContactCenter
from ccdata.sim.workbench import RingRefused
from ccdata.store.sqlite import SqliteStore

pytestmark = pytest.mark.embedded_only(
    "the simulator's logic over an in-memory store (beside a server of either mode: test_simulator_ring)"
)

START = 1_767_225_600_000  # 2026-01-01T00:00:00Z
A, B, SIMULATED = 1901, 1902, 1001  # two workbenches' agents, one simulated colleague (skill 2)

CONFIG = """
[[vdns]]
id = 1
skills = [{ id = 1, name = "one" }, { id = 2, name = "two" }]

[[agents]]
id = 1901
vdn = 1
password = "x"
skills = [1]
interactive = true

[[agents]]
id = 1902
vdn = 1
password = "x"
skills = [1, 2]
interactive = true

[[agents]]
id = 1001
vdn = 1
password = "x"
skills = [2]

[simulator]
seed = 3

[simulator.workbench]
no_answer_timeout_s = 20
callout_ring_time = { kind = "fixed", mean = 6 }
callout_answer_rate = {answer}
callout_busy_rate = {busy}
callout_talk_time = { kind = "fixed", mean = 40 }
consulted_patience = { kind = "fixed", mean = 300 }

[[simulator.access_codes]]
called = "650550"
vdn = 1
skills = [{ skill = 1 }]
calls_per_hour = [{rate}, {rate}, {rate}, {rate}, {rate}, {rate}, {rate}, {rate}, {rate}, {rate}, {rate}, {rate},
                  {rate}, {rate}, {rate}, {rate}, {rate}, {rate}, {rate}, {rate}, {rate}, {rate}, {rate}, {rate}]

[[simulator.access_codes]]
called = "650560"
vdn = 1
skills = [{ skill = 2 }]
calls_per_hour = [{consults_rate}, {consults_rate}, {consults_rate}, {consults_rate}, {consults_rate},
                  {consults_rate}, {consults_rate}, {consults_rate}, {consults_rate}, {consults_rate},
                  {consults_rate}, {consults_rate}, {consults_rate}, {consults_rate}, {consults_rate},
                  {consults_rate}, {consults_rate}, {consults_rate}, {consults_rate}, {consults_rate},
                  {consults_rate}, {consults_rate}, {consults_rate}, {consults_rate}]

[[simulator.skills]]
skill = 1
handle_time = { kind = "fixed", mean = 30 }
survey_rate = 1.0
conference_time = { kind = "fixed", mean = 10 }
helper_leaves = 1.0

[[simulator.skills]]
skill = 2
handle_time = { kind = "fixed", mean = 20 }
wrap_up = { kind = "fixed", mean = 3 }
consult_time = { kind = "fixed", mean = 15 }
consult_rate = {consults}
consult_skill = 1
conference_time = { kind = "fixed", mean = 20 }
"""


class Workbench:
    """A simulation with workbenches standing in for the gateway: their events are dated on the simulation's clock
    and followed by the simulation as the live simulator follows them."""

    def __init__(self, rate: float = 0, answer: float = 0.7, busy: float = 0.1, consults: float = 0) -> None:
        # With consults, the simulated colleague gets calls of its own and consults skill 1 (the workbenches).
        settings = {"{rate}": rate, "{answer}": answer, "{busy}": busy, "{consults}": consults,
                    "{consults_rate}": 40 if consults else 0}  # fmt: skip
        text = CONFIG
        for key, value in settings.items():
            text = text.replace(key, str(value))
        self.config = configuration.parse(text)
        self.service = Service(self.config, SqliteStore(":memory:"))
        self.sim = ContactCenter(self.config, self.config.simulator, START)
        self.service.clock = lambda: self.sim.now
        self.service.subscribe(self.committed)
        self.run(0)

    def committed(self, item: Any) -> None:
        """As `LiveSimulator` does."""
        if not self.sim.made(item.event.id):
            self.sim.follow(item.event)
        self.sim.settle(self.service.engine)

    def run(self, seconds: float) -> None:
        report = self.service.ingest(self.sim.run_until(self.sim.now + int(seconds * 1000)))
        assert report.rejected == 0, report.notes

    def run_to(self, at: int) -> None:
        self.run((at - self.sim.now) / 1000)

    def run_until(self, found: Any, limit_s: float = 600) -> dict[str, Any]:
        """Run a second at a time until an event matches `found`; that event."""
        for _ in range(int(limit_s)):
            match = next((e for e in self.events() if found(e)), None)
            if match is not None:
                return match
            self.run(1)
        raise AssertionError("no such event within the limit")

    def act(self, type_: str, **fields: Any) -> None:
        """The workbench (through the gateway) does something; it must be accepted."""
        assert self.service.emit(type_, 1, **fields) is None

    def sign_in(self, agent_id: int = A, skills: tuple[int, ...] = (1,)) -> None:
        self.act("agent.login", agentId=agent_id, skills=list(skills))

    def events(self, type_: str | None = None, **fields: Any) -> list[dict[str, Any]]:
        bodies = (msgspec.json.decode(body) for _, body in self.service.store.events_after(0))
        return [e for e in bodies if (type_ is None or e["type"] == type_)
                and all(e.get(k) == v for k, v in fields.items())]  # fmt: skip

    def since(self, event: dict[str, Any]) -> float:
        return (self.sim.now - event["at"]) / 1000

    def mode(self, agent_id: int = A) -> CtiAgentState:
        return self.service.engine.agent(1, agent_id).mode

    def answered_ring(self, agent_id: int = A) -> str:
        """Ring the agent now and answer; the call's ID."""
        call_id = self.sim.ring(agent_id)
        self.run(1)
        self.act("call.answer", callId=call_id, agentId=agent_id)
        return call_id


def never_acted_for(bench: Workbench, *agents: int) -> None:
    """No event the simulation made is an action of an interactive agent: the one state it sets is the platform's
    forced busy after a no-answer (reason 2)."""
    own = [e for e in bench.events() if e["id"].startswith("sim")]  # any simulation's (one before a restart too)
    assert own
    for e in own:
        actor = e.get("agentId")
        party = (e.get("party") or {}).get("agentId") if isinstance(e.get("party"), dict) else None
        if e["type"] in ("call.alert", "call.noanswer", "call.queue"):
            continue  # the platform offering, or taking back, a call
        if e["type"] == "agent.state" and e.get("reasonCode") == 2 and e["state"] == "busy":
            continue
        if e["type"] == "call.release" and e["by"] != "agent":
            continue
        assert actor not in agents and party not in agents, e


# --- routing: a call rings and waits --------------------------------------------------------------------------


def test_a_routed_call_rings_and_waits_then_goes_back_to_its_queue_after_the_no_answer_timeout() -> None:
    bench = Workbench(rate=60)
    bench.run(120)
    assert not bench.events("call.alert", agentId=A)  # not signed in: nothing offered
    bench.sign_in()
    alert = bench.run_until(lambda e: e["type"] == "call.alert" and e["agentId"] == A)
    bench.run_to(alert["at"] + 19_900)
    assert not bench.events("call.noanswer") and not bench.events("call.answer")  # it waits for the workbench
    noanswer = bench.run_until(lambda e: e["type"] == "call.noanswer")
    assert (noanswer["callId"], noanswer["agentId"], noanswer["at"] - alert["at"]) == (alert["callId"], A, 20_000)
    (busy,) = bench.events("agent.state", agentId=A)
    assert (busy["state"], busy["reasonCode"], busy["at"]) == ("busy", 2, noanswer["at"])  # as CEC: forced busy
    bench.run(60)
    assert bench.mode() == CtiAgentState.BUSY and len(bench.events("call.alert", agentId=A)) == 1  # stays busy
    assert bench.service.engine.call(1, alert["callId"]).phase.value == "queued"  # back in its queue, waiting
    bench.act("agent.state", agentId=A, state="idle")  # the workbench says free: the oldest call rings at once
    bench.run(0)
    again = bench.events("call.alert", agentId=A)[-1]
    assert again["callId"] == alert["callId"] and again["at"] == bench.sim.now
    never_acted_for(bench, A)


def test_an_answered_call_is_released_by_the_customer_after_its_talk_and_the_agent_stays_in_wrap_up() -> None:
    bench = Workbench(rate=120)
    bench.sign_in()
    alert = bench.run_until(lambda e: e["type"] == "call.alert" and e["agentId"] == A)
    bench.run_to(alert["at"] + 4000)
    bench.act("call.answer", callId=alert["callId"], agentId=A)
    answered_at = bench.sim.now
    release = bench.run_until(lambda e: e["type"] == "call.release")
    assert (release["callId"], release["by"], release["at"] - answered_at) == (alert["callId"], "customer", 30_000)
    (result,) = bench.service.store.call_results(1, alert["callId"])
    assert (result.agent_id, result.call_begin - result.ack_begin) == (A, 4000)
    evaluation = bench.run_until(lambda e: e["type"] == "call.evaluate")  # surveys as for any call (rate 1 here)
    assert evaluation["callId"] == alert["callId"]
    bench.run(120)  # calls keep arriving; the agent is in wrap-up until its workbench says otherwise
    assert bench.mode() == CtiAgentState.WORKING
    assert len(bench.events("call.alert", agentId=A)) == 1
    never_acted_for(bench, A)


def test_a_held_customer_waits_and_hangs_up_after_the_rest_of_its_talk() -> None:
    bench = Workbench()
    bench.sign_in()
    call_id = bench.answered_ring()
    bench.run(10)
    bench.act("call.hold", callId=call_id, agentId=A)
    bench.run(120)  # far past the 30 s talk: a held customer does not hang up
    assert not bench.events("call.release")
    bench.act("call.unhold", callId=call_id, agentId=A)
    retrieved = bench.sim.now
    release = bench.run_until(lambda e: e["type"] == "call.release")
    assert release["by"] == "customer" and release["at"] - retrieved == 20_000  # 30 s of talk, 10 before the hold
    never_acted_for(bench, A)


def test_the_workbench_releases_first() -> None:
    bench = Workbench()
    bench.sign_in()
    call_id = bench.answered_ring()
    bench.run(5)
    bench.act("call.release", callId=call_id, by="agent", agentId=A)
    bench.run(120)
    assert len(bench.events("call.release")) == 1 and bench.mode() == CtiAgentState.WORKING
    bench.act("agent.state", agentId=A, state="idle")
    bench.run(1)
    assert bench.sim.ring(A)  # idle again: it can be rung


# --- transfers and consults -----------------------------------------------------------------------------------


def test_a_blind_transfer_to_a_skill_is_answered_by_a_simulated_agent() -> None:
    bench = Workbench()
    bench.sign_in()
    call_id = bench.answered_ring()
    bench.run(5)
    bench.act("call.transfer", callId=call_id, agentId=A, target={"skillId": 2})
    alert = bench.run_until(lambda e: e["type"] == "call.alert" and e["agentId"] == SIMULATED)
    answer = bench.run_until(lambda e: e["type"] == "call.answer" and e.get("agentId") == SIMULATED)
    release = bench.run_until(lambda e: e["type"] == "call.release")
    assert alert["callId"] == answer["callId"] == release["callId"] == call_id
    rows = bench.service.store.find_track_rows(1, call_id)
    assert [(r.device_no, r.leave_reason) for r in rows if r.device_type == 2] == [(str(A), 28), (str(SIMULATED), 15)]
    assert bench.mode() == CtiAgentState.WORKING
    never_acted_for(bench, A)


def test_a_blind_transfer_to_an_interactive_colleague_rings_there_and_waits() -> None:
    bench = Workbench()
    bench.sign_in()
    bench.sign_in(B, skills=(1, 2))
    call_id = bench.answered_ring()
    bench.act("call.transfer", callId=call_id, agentId=A, target={"agentId": B})
    alert = bench.run_until(lambda e: e["type"] == "call.alert" and e["agentId"] == B)
    assert alert["callId"] == call_id
    bench.run(10)
    bench.act("call.answer", callId=call_id, agentId=B)
    release = bench.run_until(lambda e: e["type"] == "call.release")
    assert release["by"] == "customer"
    never_acted_for(bench, A, B)


def test_a_transfer_to_a_number_is_answered_outside_and_ends_there() -> None:
    bench = Workbench()
    bench.sign_in()
    call_id = bench.answered_ring()
    bench.act("call.transfer", callId=call_id, agentId=A, target={"number": "88881234"})
    release = bench.run_until(lambda e: e["type"] == "call.release")
    assert release["callId"] == call_id and release["by"] == "customer"
    assert bench.mode() == CtiAgentState.WORKING
    never_acted_for(bench, A)


def test_a_consult_of_a_skill_is_answered_and_waits_for_the_workbench_to_transfer() -> None:
    bench = Workbench()
    bench.sign_in()
    call_id = bench.answered_ring()
    bench.run(5)
    bench.act("call.consult", callId="c-1", originalCallId=call_id, agentId=A, target={"skillId": 2}, v=2)
    answer = bench.run_until(lambda e: e["type"] == "call.answer" and e["callId"] == "c-1")
    assert answer["agentId"] == SIMULATED
    bench.run(100)  # the customer waits while held for the consult; the colleague waits for the workbench
    assert not bench.events("call.release") and not bench.events("call.consult.transfer")
    bench.act("call.consult.transfer", callId="c-1", agentId=A, v=2)
    release = bench.run_until(lambda e: e["type"] == "call.release" and e["callId"] == call_id)
    rows = bench.service.store.find_track_rows(1, call_id)
    assert rows[-1].device_no == str(SIMULATED) and release["at"] > bench.events("call.consult.transfer")[0]["at"]
    assert bench.mode() == CtiAgentState.WORKING
    never_acted_for(bench, A)


def test_a_consulted_colleague_hangs_up_a_consult_left_waiting_and_a_cancel_retrieves_the_customer() -> None:
    bench = Workbench()
    bench.sign_in()
    call_id = bench.answered_ring()
    bench.act("call.consult", callId="c-2", originalCallId=call_id, agentId=A, target={"agentId": SIMULATED}, v=2)
    answered = bench.run_until(lambda e: e["type"] == "call.answer" and e["callId"] == "c-2")
    hang_up = bench.run_until(lambda e: e["type"] == "call.release" and e["callId"] == "c-2")
    assert (hang_up["by"], hang_up["agentId"], hang_up["at"] - answered["at"]) == ("agent", SIMULATED, 300_000)
    assert not bench.events("call.release", callId=call_id)  # the customer is still held, for the workbench
    bench.act("call.unhold", callId=call_id, agentId=A)
    release = bench.run_until(lambda e: e["type"] == "call.release" and e["callId"] == call_id)
    assert release["by"] == "customer"
    never_acted_for(bench, A)


# --- calling out ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("answer", "busy", "ending"), [(1.0, 0.0, "customer"), (0.0, 1.0, 47), (0.0, 0.0, 8)])
def test_a_call_out_is_answered_refused_or_unanswered(answer: float, busy: float, ending: Any) -> None:
    bench = Workbench(answer=answer, busy=busy)
    bench.sign_in()
    bench.act("call.originate", callId="out-1", agentId=A, caller="650550", called="13800138000", campaign="manual")
    release = bench.run_until(lambda e: e["type"] == "call.release")
    (dialled,) = bench.events("call.originate")
    if ending == "customer":
        (answered,) = bench.events("call.answer", callId="out-1")
        assert (answered["party"], answered["at"] - dialled["at"]) == ("customer", 6000)
        assert (release["by"], release["at"] - answered["at"]) == ("customer", 40_000)
        assert bench.mode() == CtiAgentState.WORKING
    else:
        assert (release["by"], release["cause"], release["at"] - dialled["at"]) == ("system", ending, 6000)
        assert bench.mode() == CtiAgentState.IDLE  # never connected: its state is as before
    (result,) = bench.service.store.call_results(1, "out-1")
    assert result.call_type == 1 and result.agent_id == (A if ending == "customer" else 0)  # 0: never connected
    never_acted_for(bench, A)


# --- ringing an agent now -------------------------------------------------------------------------------------


def test_ring_offers_a_normal_call_now_and_refuses_clearly() -> None:
    bench = Workbench()
    refusals = {}
    for agent_id, kw in [(A, {}), (SIMULATED, {}), (4242, {}), (A, {"media": "fax"})]:
        with pytest.raises(RingRefused) as refused:
            bench.sim.ring(agent_id, **kw)
        refusals[(agent_id, kw.get("media"))] = refused.value.code
    assert refusals == {(A, None): "not_signed_in", (SIMULATED, None): "not_interactive",
                        (4242, None): "unknown_agent", (A, "fax"): "bad_field"}  # fmt: skip
    bench.sign_in()
    with pytest.raises(RingRefused, match="no skill 2"):
        bench.sim.ring(A, skill=2)
    call_id = bench.sim.ring(A, media="chat", caller="8613800000000")
    with pytest.raises(RingRefused) as refused:
        bench.sim.ring(A)
    assert refused.value.code == "not_idle"
    bench.run(0)
    made = [e["type"] for e in bench.events() if e.get("callId") == call_id]
    assert made == ["call.arrive", "call.queue", "call.alert"]
    (arrive,) = bench.events("call.arrive")
    assert (arrive["caller"], arrive["mediaType"], arrive["called"]) == ("8613800000000", 53, "650550")
    assert bench.service.engine.call(1, call_id).skill_id == 1


# --- any sequence of a workbench's actions ----------------------------------------------------------------------


class Monkey:
    """Workbenches that do, at random, whatever the engine allows them: answer or not, hold, transfer, consult and
    complete, release, call out, go idle, busy or rest. It stands in for any real client."""

    def __init__(self, bench: Workbench, seed: int) -> None:
        self.bench = bench
        self.rng = random.Random(seed)
        self.n = 0
        self.refused = 0  # actions the engine rejected (the monkey guesses; a gateway would check first)
        self.calling_out = True

    def act(self, type_: str, **fields: Any) -> None:
        if self.bench.service.emit(type_, 1, v=2, **fields) is not None:
            self.refused += 1
        self.bench.run(0)  # what the simulation does at once goes in before the next action, as within a tick

    def step(self, agent_id: int) -> None:
        engine = self.bench.service.engine
        agent = engine.agent(1, agent_id)
        if agent is None or not agent.signed_in:
            return
        calls = [c for c in (engine.call(1, call_id) for call_id in list(agent.calls)) if c is not None]
        if not calls:
            self.free(agent_id, agent.mode)
        for call in calls:
            self.on_call(agent_id, call, calls)

    def free(self, agent_id: int, mode: CtiAgentState) -> None:
        draw = self.rng.random()
        if mode != CtiAgentState.IDLE and draw < 0.1:
            self.act("agent.state", agentId=agent_id, state="idle")
        elif mode == CtiAgentState.IDLE and draw < 0.01 and self.calling_out:
            self.n += 1
            self.act("call.originate", callId=f"out-{self.n}", agentId=agent_id, caller="650550",
                     called="13800138000", campaign="manual")  # fmt: skip
        elif mode == CtiAgentState.IDLE and draw < 0.015:
            self.act("agent.state", agentId=agent_id, state=self.rng.choice(["busy", "rest"]))

    def on_call(self, agent_id: int, call: Any, calls: list[Any]) -> None:
        """One call of the agent's; like a real workbench it answers no second call while connected to one."""
        leg = call.agent_leg(agent_id)
        draw = self.rng.random()
        connected = any(c.agent_leg(agent_id) and c.agent_leg(agent_id).call_begin for c in calls)
        if call.consult_of and call.legs and call.legs[0].agent_id == agent_id:  # its own consult
            self.complete(agent_id, call, draw)
        elif call.phase.value == "alerting" and leg is not None and not connected and draw < 0.12:
            self.act("call.answer", callId=call.call_id, agentId=agent_id)
        elif call.phase.value == "held" and not call.consult and draw < 0.1:
            self.act("call.unhold", callId=call.call_id, agentId=agent_id)
        elif call.phase.value == "talking" and leg is not None and leg.call_begin and not call.consult:
            self.talking(agent_id, call, draw)
        elif call.phase.value == "dialing" and draw < 0.01:
            self.act("call.release", callId=call.call_id, by="agent", agentId=agent_id)

    def talking(self, agent_id: int, call: Any, draw: float) -> None:
        other = B if agent_id == A else A
        if call.internal and draw < 0.02:
            self.act("call.release", callId=call.call_id, by="agent", agentId=agent_id)
        elif call.internal:
            return
        elif call.conference and draw < 0.03:
            self.act("call.leave", callId=call.call_id, party={"agentId": agent_id})
        elif call.conference:
            return
        elif draw < 0.02:
            self.act("call.hold", callId=call.call_id, agentId=agent_id)
        elif draw < 0.035:
            target = self.rng.choice([{"skillId": 2}, {"agentId": other}, {"number": "88881234"}, {"skillId": 1}])
            self.act("call.transfer", callId=call.call_id, agentId=agent_id, target=target)
        elif draw < 0.05:
            self.n += 1
            target = self.rng.choice([{"skillId": 2}, {"number": "8888"}, {"agentId": SIMULATED}, {"agentId": other}])
            self.act("call.consult", callId=f"c-{self.n}", originalCallId=call.call_id, agentId=agent_id,
                     target=target)  # fmt: skip
        elif draw < 0.06:
            self.act("call.release", callId=call.call_id, by="agent", agentId=agent_id)

    def complete(self, agent_id: int, consult: Any, draw: float) -> None:
        answered = consult.phase.value == "talking" and len(consult.legs) > 1 and consult.legs[-1].call_begin
        if answered and draw < 0.05:
            self.act("call.consult.transfer", callId=consult.call_id, agentId=agent_id)
        elif answered and draw < 0.1:
            self.act("call.consult.conference", callId=consult.call_id, agentId=agent_id)
        elif draw < 0.12 or (not answered and draw < 0.2):
            self.act("call.consult.cancel", callId=consult.call_id, agentId=agent_id)


MODES = {"idle": CtiAgentState.IDLE, "wrapup": CtiAgentState.WORKING, "busy": CtiAgentState.BUSY,
         "rest": CtiAgentState.REST}  # fmt: skip


def same_view(bench: Workbench) -> None:
    """The simulation's view of a free interactive agent is the engine's: it offers calls by what is true."""
    for agent_id in (A, B):
        agent = bench.service.engine.agent(1, agent_id)
        if not agent.calls and not bench.sim.agents[agent_id].call:
            assert MODES.get(bench.sim.agents[agent_id].state) == agent.mode, (agent_id, bench.sim.now)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_whatever_the_workbenches_do_across_restarts_the_simulation_never_acts_for_them(seed: int) -> None:
    bench = Workbench(rate=90, consults=0.5)  # the simulated colleague consults skill 1: the workbenches
    monkey = Monkey(bench, seed)
    bench.sign_in()
    bench.sign_in(B, skills=(1, 2))
    for second in range(3 * 3600):
        if second in (3000, 5400):  # restarts: a new simulation adopts whatever the workbenches are doing
            engine = bench.service.engine
            bench.sim = ContactCenter.adopting(bench.config, bench.config.simulator, engine, engine.clock_of(1) + 1)
            assert not bench.sim.adoption.strays
        if second == 2 * 3600:
            bench.sim.close_arrivals()  # the last hour: what is in progress ends
            monkey.calling_out = False
        bench.run(1)  # every event of the simulation accepted
        same_view(bench)
        monkey.step(A)
        monkey.step(B)
    never_acted_for(bench, A, B)
    assert not bench.service.engine.calls, list(bench.service.engine.calls)
    kinds = {e["type"] for e in bench.events() if not bench.sim.made(e["id"])}
    assert {"call.answer", "call.hold", "call.transfer", "call.consult", "call.originate"} <= kinds
    assert {"call.consult.transfer", "call.consult.conference", "call.consult.cancel", "call.leave"} & kinds
    assert bench.events("call.noanswer") and bench.events("call.release", by="customer")


# --- adoption after a restart -----------------------------------------------------------------------------------


def test_after_a_restart_calls_at_workbenches_go_on_without_the_simulation_acting_for_them() -> None:
    bench = Workbench()
    bench.sign_in()
    bench.sign_in(B, skills=(1, 2))
    ringing = bench.sim.ring(A)
    bench.run(3)
    held = bench.answered_ring(B)
    bench.run(10)
    bench.act("call.hold", callId=held, agentId=B)
    bench.run(5)
    alert = bench.events("call.alert", callId=ringing)[0]

    engine = bench.service.engine  # a restart: a new simulation adopts what the engine holds
    bench.sim = ContactCenter.adopting(bench.config, bench.config.simulator, engine, engine.clock_of(1) + 1)
    assert bench.sim.adoption.calls == 2 and not bench.sim.adoption.strays
    noanswer = bench.run_until(lambda e: e["type"] == "call.noanswer")
    assert (noanswer["callId"], noanswer["at"]) == (ringing, alert["at"] + 20_000)  # the timeout runs on
    bench.run(120)
    assert not bench.events("call.release", callId=held)  # held: the customer waits for the workbench
    bench.act("call.unhold", callId=held, agentId=B)
    retrieved = bench.sim.now
    release = bench.run_until(lambda e: e["type"] == "call.release" and e["callId"] == held)
    assert release["by"] == "customer" and release["at"] - retrieved == 20_000  # the rest of its 30 s talk
    bench.run(60)
    assert bench.mode(A) == CtiAgentState.BUSY and bench.mode(B) == CtiAgentState.WORKING  # until they say
    never_acted_for(bench, A, B)


# --- the agent's own state decides what it is offered -----------------------------------------------------------


@pytest.mark.parametrize(("state", "login"), [("busy", "idle"), ("rest", "idle"), (None, "wrapup")])
def test_an_agent_busy_resting_or_in_wrap_up_is_offered_nothing_until_it_says_idle(state: str | None,
                                                                                   login: str) -> None:  # fmt: skip
    bench = Workbench(rate=120)
    bench.act("agent.login", agentId=A, skills=[1], state=login)
    if state is not None:
        bench.act("agent.state", agentId=A, state=state, v=2, reasonCode=201)
    bench.run(600)  # twenty calls arrive; none rings at the agent, each waits in the queue
    assert not bench.events("call.alert", agentId=A) and len(bench.events("call.queue")) > 5
    with pytest.raises(RingRefused, match="not idle"):
        bench.sim.ring(A)
    bench.act("agent.state", agentId=A, state="idle")
    bench.run(0)
    (alert,) = bench.events("call.alert", agentId=A)
    assert alert["callId"] == bench.events("call.queue")[0]["callId"]  # the oldest waiting call, at once
    never_acted_for(bench, A)


def test_an_internal_call_to_a_simulated_colleague_is_answered_and_hung_up_by_it() -> None:
    bench = Workbench()
    bench.sign_in()
    bench.act("call.internal", callId="in-1", agentId=A, target={"agentId": SIMULATED}, v=2)
    answer = bench.run_until(lambda e: e["type"] == "call.answer" and e["callId"] == "in-1")
    release = bench.run_until(lambda e: e["type"] == "call.release" and e["callId"] == "in-1")
    assert answer["agentId"] == SIMULATED
    assert (release["by"], release["agentId"], release["at"] - answer["at"]) == ("agent", SIMULATED, 300_000)
    assert bench.mode() == CtiAgentState.WORKING
    never_acted_for(bench, A)


def test_a_colleague_joined_to_a_conference_by_the_workbench_leaves_again_and_the_customer_ends_the_call() -> None:
    bench = Workbench()
    bench.sign_in()
    call_id = bench.answered_ring()
    bench.act("call.conference", callId=call_id, agentId=A, party={"agentId": SIMULATED})
    leave = bench.run_until(lambda e: e["type"] in ("call.leave", "call.release"))
    assert leave["type"] == "call.leave" and leave["party"]["agentId"] == SIMULATED  # after conference_time
    release = bench.run_until(lambda e: e["type"] == "call.release")
    assert release["by"] == "customer" and bench.mode() == CtiAgentState.WORKING
    never_acted_for(bench, A)


def test_an_agent_signed_in_with_auto_enter_idle_gets_its_next_call_right_after_the_last() -> None:
    """The engine makes it idle when the call ends (no `agent.state` event): the router follows the engine."""
    bench = Workbench(rate=240)
    bench.act("agent.login", agentId=A, skills=[1], autoEnterIdle=True, v=2)
    first = bench.run_until(lambda e: e["type"] == "call.alert" and e["agentId"] == A)
    bench.act("call.answer", callId=first["callId"], agentId=A)
    release = bench.run_until(lambda e: e["type"] == "call.release")
    bench.run(0)
    after = [e for e in bench.events("call.alert", agentId=A) if e["callId"] != first["callId"]]
    assert bench.mode() == CtiAgentState.IDLE and after and after[0]["at"] == release["at"]  # calls waited: at once
    never_acted_for(bench, A)
