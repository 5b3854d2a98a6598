"""The calls a workbench places, and the parties they reach: consults, internal calls and calls out.

Part of the simulation's side of interactive agents (sim/workbench.py): a consulted skill or colleague answers (a
simulated one after its ring time, a workbench when it says so) and waits for the workbench's transfer, conference
or cancel, hanging up after its patience; a consulted or called number answers or not; a called customer answers,
refuses or does not answer, then hangs up after a drawn talk. Nothing here acts for an interactive agent.
"""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING, Any

from ccdata.domain import events as ev
from ccdata.domain.codes import CAUSE_CALLED_BUSY, CAUSE_CALLED_NO_ANSWER

if TYPE_CHECKING:
    from ccdata.sim.adoption import CallView
    from ccdata.sim.contact_center import SimAgent, SimCall
    from ccdata.sim.workbench import Workbench


class PlacedCalls:
    """The other ends of the calls interactive agents place, inside one `ContactCenter`."""

    def __init__(self, bench: Workbench) -> None:
        self.bench = bench
        self.center = bench.center
        self.settings = bench.settings

    def consult_answered(self, consult: SimCall) -> None:
        """A workbench's consult (or internal call) is answered: a simulated party or a number waits for the
        transfer, conference or cancel, and hangs up if none comes within its patience."""
        if self._hanger(consult) is None and consult.agent is not None:
            return  # workbenches on both ends: nobody simulated hangs up
        center = self.center
        wait = self.settings.consulted_patience.draw_ms(center.rng)
        center._at(center.now + max(1, wait), self._consulted_hangs_up, consult, consult.version)

    def colleague_rings(self, call: SimCall, agent: SimAgent) -> None:
        """A simulated colleague called by a workbench (an internal call) answers after its ring time, then
        hangs up after its `consulted_patience` unless the workbench first."""
        center = self.center
        center._at(center.now + center.scenario.ring_time.draw_ms(center.rng), self._colleague_answers, call, agent)

    def consult(self, e: ev.CallConsult) -> None:
        agent = self.bench.agent_of(e.agent_id)
        original = self.bench.call_at(e.original_call_id, agent)
        if original is None or agent is None:
            return
        center = self.center
        self.bench.suspend(original)
        original.state, original.consulted = "consulting", True
        consult = self.bench.new_call(original.vdn, original.media_type, e.call_id)
        consult.consult_of, consult.by, original.consult = original, agent, consult
        center.stats.consults += 1
        self._reach(consult, e.target)

    def internal(self, e: ev.CallInternal) -> None:
        agent = self.bench.agent_of(e.agent_id)
        if agent is None or agent.call is not None:
            return
        call = self.bench.new_call(e.vdn, 5, e.call_id)
        call.internal, call.by = True, agent
        agent.state, agent.call = "talking", call
        self._reach(call, e.target)

    def _reach(self, call: SimCall, target: ev.ConsultTarget) -> None:
        """A consult or internal call reaches its target: a skill queue, a named agent, or a number."""
        center = self.center
        center.in_progress[call.call_id] = call
        if target.skill_id is not None:  # the engine opens the wait itself; it queues with the customers
            call.state, call.skill, call.first_queued = "queued", target.skill_id, center.now
            center.queues.setdefault(target.skill_id, deque()).append(call)
            center._dispatch(target.skill_id)
        elif target.agent_id is not None:
            self._ring_named(call, center.agents.get(target.agent_id))
        else:
            self._dial_consulted_number(call)

    def _ring_named(self, call: SimCall, colleague: SimAgent | None) -> None:
        """The engine rings a named agent at once. A free one answers: a workbench (or its no-answer timeout), a
        simulated one after its ring time. One that is not free rings unanswered until the timeout (its
        workbench may still answer); the call then waits for its caller to end it."""
        center = self.center
        call.state, call.agent = "unanswered", colleague
        if colleague is None:
            return
        if colleague.state != "idle":
            interactive = colleague.interactive
            timeout = self.settings.no_answer_timeout_s if interactive else center.scenario.no_answer_timeout_s
            center._at(center.now + int(timeout * 1000), self._unreached, call, colleague, call.version)
            return
        call.state = "ringing"
        colleague.state, colleague.call = "ringing", call
        if colleague.interactive:
            self.bench.ringing(call, colleague)
        elif call.internal:
            self.colleague_rings(call, colleague)
        else:
            ring = center.scenario.ring_time.draw_ms(center.rng)
            center._at(center.now + ring, center._consult_answer, call, colleague)

    def _unreached(self, call: SimCall, colleague: SimAgent, version: int) -> None:
        if call.version == version and call.state == "unanswered":
            self.center._call_event("call.noanswer", call, agentId=colleague.agent_id)
            call.agent = None
            call.version += 1

    def _dial_consulted_number(self, consult: SimCall) -> None:
        center = self.center
        consult.state = "outside"
        ring = self.settings.callout_ring_time.draw_ms(center.rng)
        if center.rng.random() < self.settings.outside_answer_rate:
            center._at(center.now + ring, self._number_answers, consult)
        else:
            center._at(center.now + ring, self._number_gives_up, consult, consult.version)

    def _number_answers(self, consult: SimCall) -> None:
        if consult.state == "outside":
            self.center._call_event("call.answer", consult, party="outside")
            consult.state = "talking"
            consult.version += 1
            self.consult_answered(consult)

    def _number_gives_up(self, consult: SimCall, version: int) -> None:
        if consult.version == version and consult.state == "outside":
            self._end_consult(consult, "system", cause=CAUSE_CALLED_NO_ANSWER)

    @staticmethod
    def _hanger(call: SimCall) -> SimAgent | None:
        """The simulated agent on a consult or internal call (None: none, only workbenches or a number)."""
        return next((a for a in (call.agent, call.by) if a is not None and not a.interactive), None)

    def _consulted_hangs_up(self, consult: SimCall, version: int) -> None:
        """The consulted party gave up waiting for the workbench: it hangs up the consult (or internal) call."""
        if consult.version != version or consult.state != "talking" or consult.call_id not in self.center.in_progress:
            return
        hanger = self._hanger(consult)
        if hanger is not None:
            self._end_consult(consult, "agent", agentId=hanger.agent_id)
        else:  # the number
            self._end_consult(consult, "customer")

    def _end_consult(self, consult: SimCall, by: str, **fields: Any) -> None:
        center = self.center
        center._call_event("call.release", consult, by=by, **fields)
        consult.state = "done"
        consult.version += 1
        for party in (consult.agent, consult.by):
            if party is not None and party.call is consult:
                center._wrap_up(party, center._behaviour(consult.skill))
        original = consult.consult_of
        if original is not None and original.consult is consult:
            original.consult = None
            self.bench.consult_gone(original)

    def _completed(self, call_id: str, agent_id: int) -> SimCall | None:
        consult = self.center.in_progress.get(call_id)
        agent = self.bench.agent_of(agent_id)
        if consult is None or agent is None or consult.by is not agent or consult.consult_of is None:
            return None
        return consult

    def consult_transfer(self, e: ev.CallConsultTransfer) -> None:
        consult = self._completed(e.call_id, e.agent_id)
        if consult is None:
            return
        center, original = self.center, consult.consult_of
        assert original is not None
        self.bench.forget(original)
        if consult.agent is not None:
            center._consult_transfer(consult, emit=False)
            return
        _, agent = center._finish_consult(consult, "", emit=False)  # a number takes the customer
        center._wrap_up(agent, center._behaviour(original.skill))
        original.transferred = True
        self.bench.outside_talks(original)

    def consult_conference(self, e: ev.CallConsultConference) -> None:
        consult = self._completed(e.call_id, e.agent_id)
        if consult is None:
            return
        center, original = self.center, consult.consult_of
        assert original is not None
        if consult.agent is not None:
            center._consult_conference(consult, emit=False)
            return
        center._finish_consult(consult, "", emit=False)  # a number joins: the customer may end it all
        original.state = "conference"
        self.bench.resume(original)

    def consult_cancel(self, e: ev.CallConsultCancel) -> None:
        consult = self._completed(e.call_id, e.agent_id)
        if consult is not None:
            self.center._consult_cancel(consult, emit=False)

    def originate(self, e: ev.CallOriginate) -> None:
        """The workbench calls a customer out: it answers, refuses (busy) or does not answer after its ring."""
        agent = self.bench.agent_of(e.agent_id)
        if agent is None or agent.call is not None:
            return
        center = self.center
        call = self.bench.new_call(e.vdn, e.media_type, e.call_id)
        call.agent, call.state = agent, "dialing"
        agent.state, agent.call = "dialing", call
        center.in_progress[call.call_id] = call
        center.stats.outbound += 1
        self._dial(call, self.settings.callout_ring_time.draw_ms(center.rng))

    def _dial(self, call: SimCall, ring_ms: int) -> None:
        center, settings = self.center, self.settings
        draw = center.rng.random()
        if draw < settings.callout_answer_rate:
            center._at(center.now + ring_ms, self._customer_answers, call, call.version)
        elif draw < settings.callout_answer_rate + settings.callout_busy_rate:
            center._at(center.now + ring_ms, self._not_reached, call, call.version, CAUSE_CALLED_BUSY)
        else:
            center._at(center.now + ring_ms, self._not_reached, call, call.version, CAUSE_CALLED_NO_ANSWER)

    def _customer_answers(self, call: SimCall, version: int) -> None:
        agent = call.agent
        if call.version != version or call.state != "dialing" or agent is None:
            return
        self.center._call_event("call.answer", call, party="customer")
        call.state, agent.state = "talking", "talking"
        call.version += 1
        self.bench.hang_up_in(call, self.settings.callout_talk_time.draw_ms(self.center.rng))

    def _not_reached(self, call: SimCall, version: int, cause: int) -> None:
        """Busy or no answer: the platform releases the call (the agent's state is as before: never connected)."""
        if call.version != version or call.state != "dialing":
            return
        agent = call.agent
        self.center._release(call, "system", cause=cause)  # the cause says why; the leave reason follows it
        if agent is not None and agent.call is call:
            self.center._wrap_up(agent, self.center._behaviour(call.skill))

    def _colleague_answers(self, call: SimCall, colleague: SimAgent) -> None:
        if colleague.call is call and call.state == "ringing":
            self.center._call_event("call.answer", call, agentId=colleague.agent_id)
            call.state, colleague.state = "talking", "talking"
            call.version += 1
            self.consult_answered(call)

    def adopt_call_out(self, call: SimCall, agent: SimAgent, view: CallView) -> None:
        center = self.center
        if view.stage == "outbound":
            call.state = "talking"
            self.bench.hang_up_in(call, max(1, self.settings.callout_talk_time.residual_ms(view.talked_ms, center.rng)))
            return
        call.state, agent.state = "dialing", "dialing"
        self._dial(call, self.settings.callout_ring_time.residual_ms(center.now - view.since, center.rng))

    def adopt_consult(self, consult: SimCall, agent: SimAgent, original: SimCall | None, view: CallView) -> None:
        """An internal call, or a consult of a number, a workbench placed: the far end goes on or hangs up."""
        consult.by = agent
        if original is not None and original.agent is agent:
            consult.consult_of, original.consult = original, consult
        else:
            consult.internal = True
        if agent.call is None:
            agent.state, agent.call = "talking", consult
        consult.state = "talking"
        self.consult_answered(consult)  # the far party (if any) waits for the workbench, then hangs up
