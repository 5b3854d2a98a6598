"""Interactive agents' calls: the simulator is the platform and the other parties, never the agent.

An agent marked `interactive` is driven by a real client (an agent workbench over CC-Gateway). Its actions reach
the simulation only as committed contract events (`ContactCenter.follow`), whatever their source; the simulation
answers with what the router, the customers, outside numbers and simulated colleagues do: it offers the agent
calls while the agent's own state is idle and waits for the answer (or the no-answer timeout), a connected
customer hangs up after a drawn talk (not while held), a called customer answers, refuses or does not answer, a
consulted colleague answers and waits for the workbench to complete the consult. It never emits an answer, a
hold, a transfer, a release by the agent or a state change in the agent's place; the one state it sets is the
platform's: busy with reason 2 after a no-answer. See docs/simulator.md, "Interactive agents".
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ccdata.domain import events as ev
from ccdata.domain.codes import CAUSE_CALLED_BUSY, CAUSE_CALLED_NO_ANSWER

if TYPE_CHECKING:
    from ccdata.sim.adoption import CallView
    from ccdata.sim.contact_center import ContactCenter, SimAgent, SimCall

MEDIA = {"voice": (5, -1), "chat": (53, 1)}  # `ccdata ring --media`: phone, or web chat (social chat, web)
IVR_STAY_MS = 10_000  # a call a workbench transfers to an IVR flow is ended there by the flow after this long


class RingRefused(Exception):
    """`ccdata ring` cannot offer the call: `code` says why (docs/simulator.md, "Ringing an agent now")."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


class Workbench:
    """The platform's side of the interactive agents' calls, inside one `ContactCenter`."""

    def __init__(self, center: ContactCenter) -> None:
        self.center = center
        self.settings = center.scenario.workbench
        self._modes: dict[int, str] = {}  # interactive agent -> its own state (idle, busy, rest, wrapup)
        self._hangups: dict[str, tuple[int, int]] = {}  # call -> (serial, when) of the customer's hang-up to come
        self._talk_left: dict[str, int] = {}  # a call on hold or consulting -> the customer's talk still to come
        self._serial = 0
        self._handlers: dict[type, Callable[[Any], None]] = {
            ev.AgentLogin: self._login, ev.AgentLogout: self._logout, ev.AgentState: self._state,
            ev.CallAnswer: self._answer, ev.CallNoAnswer: self._refused, ev.CallHold: self._hold,
            ev.CallUnhold: self._unhold, ev.CallRelease: self._release, ev.CallTransfer: self._transfer,
            ev.CallConsult: self._consult, ev.CallConsultTransfer: self._consult_transfer,
            ev.CallConsultConference: self._consult_conference, ev.CallConsultCancel: self._consult_cancel,
            ev.CallLeave: self._leave, ev.CallOriginate: self._originate, ev.CallInternal: self._internal,
        }  # fmt: skip

    # --- what the simulation calls ---

    def follow(self, event: ev.Event) -> None:
        handler = self._handlers.get(type(event))
        if handler is not None:
            self.center.now = max(self.center.now, event.at)  # the reaction never predates the action
            handler(event)

    def ringing(self, call: SimCall, agent: SimAgent, since: int | None = None) -> None:
        """The call rings at an interactive agent: it waits for the workbench, up to the no-answer timeout."""
        center = self.center
        timeout_at = (center.now if since is None else since) + int(self.settings.no_answer_timeout_s * 1000)
        center._at(max(center.now, timeout_at), self._ring_timeout, call, agent, call.version)

    def colleague_rings(self, call: SimCall, agent: SimAgent) -> None:
        """A simulated colleague called by a workbench (an internal call) answers after its ring time, then
        hangs up after a consult's talk unless the workbench first."""
        center = self.center
        center._at(center.now + center.scenario.ring_time.draw_ms(center.rng), self._colleague_answers, call, agent)

    def talking(self, call: SimCall) -> None:
        """A customer connected to an interactive agent hangs up after a drawn talk of the call's skill."""
        center = self.center
        self._hang_up_in(call, center._behaviour(call.skill).handle_time.draw_ms(center.rng))

    def resume(self, call: SimCall) -> None:
        """The customer is back (retrieved from hold or a consult): its talk goes on where it stopped."""
        left = self._talk_left.pop(call.call_id, None)
        if left is None:
            self.talking(call)
        else:
            self._hang_up_in(call, left)

    def customer_hangs_up(self, call: SimCall) -> None:
        self._hangups.pop(call.call_id, None)
        self._talk_left.pop(call.call_id, None)
        center, agent = self.center, call.agent
        behaviour = center._behaviour(call.skill)
        center._release(call, "customer")
        if agent is not None and agent.call is call:
            center._wrap_up(agent, behaviour)
        if call.consult_of is None and not call.internal:
            center._survey(call, behaviour)

    def left(self, agent: SimAgent) -> None:
        """A call left an interactive agent: wrap-up after a connection (as the engine sets it), else the
        state it had before the call rang; the workbench ends the wrap-up."""
        connected = agent.state == "talking"
        agent.call = None
        agent.state = "wrapup"  # until its own state is set again below
        self._set_mode(agent, "wrapup" if connected else self._modes.get(agent.agent_id, "idle"))

    def no_answer(self, agent: SimAgent) -> None:
        """The platform set the agent busy (reason 2) after its no-answer."""
        self._modes[agent.agent_id] = "busy"

    def consult_answered(self, consult: SimCall) -> None:
        """A workbench's consult (or internal call) is answered: a simulated party or a number waits for the
        transfer, conference or cancel, and hangs up if none comes within its patience."""
        if self._hanger(consult) is None and consult.agent is not None:
            return  # workbenches on both ends: nobody simulated hangs up
        center = self.center
        wait = self.settings.consulted_patience.draw_ms(center.rng)
        center._at(center.now + max(1, wait), self._consulted_hangs_up, consult, consult.version)

    # --- ringing an agent now (`ccdata ring`) ---

    def ring(self, agent_id: int, media: str, caller: str | None, skill: int | None) -> str:
        center = self.center
        agent = self._checked_for_ring(agent_id, media, skill)
        skill = skill if skill is not None else min(agent.levels, key=lambda s: (-agent.levels[s], s))
        media_type, sub_media = MEDIA[media]
        codes = [c for c in center.scenario.access_codes if c.vdn == agent.vdn and skill in {t.skill for t in c.skills}]
        code = next((c for c in codes if c.media_type == media_type), codes[0] if codes else None)
        call = self._new_call(agent.vdn, media_type)
        center.stats.calls += 1
        caller = caller or f"1{center.rng.randrange(3_000_000_000, 9_999_999_999)}"
        called = code.called if code else agent.phone or "ccdata-ring"  # a number of the skill, else the agent's
        center._call_event("call.arrive", call, caller=caller, called=called, mediaType=media_type,
                           subMediaType=sub_media)  # fmt: skip
        center.in_progress[call.call_id] = call
        center._call_event("call.queue", call, skillId=skill, reason=0)
        call.state, call.skill, call.first_queued = "queued", skill, center.now
        patience = center._behaviour(skill).patience
        call.patience_at = center.now + patience.draw_ms(center.rng) if patience is not None else 0
        center._offer(call, agent)
        return call.call_id

    def _checked_for_ring(self, agent_id: int, media: str, skill: int | None) -> SimAgent:
        agent = self.center.agents.get(agent_id)
        if media not in MEDIA:
            raise RingRefused("bad_field", f"media must be one of {', '.join(MEDIA)}, not {media!r}")
        if agent is None:
            raise RingRefused("unknown_agent", f"agent {agent_id} is not in the configuration")
        if not agent.interactive:
            raise RingRefused("not_interactive", f"agent {agent_id} is simulated: only interactive agents ring")
        if agent.state == "off":
            raise RingRefused("not_signed_in", f"agent {agent_id} is not signed in")
        if agent.state != "idle":
            raise RingRefused("not_idle", f"agent {agent_id} is not idle (it is {agent.state})")
        if skill is not None and skill not in agent.levels:
            raise RingRefused("bad_field", f"agent {agent_id} has no skill {skill} (it has {sorted(agent.levels)})")
        return agent

    # --- the workbench's actions ---

    def _agent(self, agent_id: int | None) -> SimAgent | None:
        agent = self.center.agents.get(agent_id or 0)
        return agent if agent is not None and agent.interactive else None

    def _call_at(self, call_id: str, agent: SimAgent | None) -> SimCall | None:
        call = self.center.in_progress.get(call_id)
        return call if call is not None and agent is not None and call.agent is agent else None

    def _login(self, e: ev.AgentLogin) -> None:
        agent = self._agent(e.agent_id)
        if agent is not None and agent.call is None:
            self._set_mode(agent, e.state)

    def _logout(self, e: ev.AgentLogout) -> None:
        agent = self._agent(e.agent_id)
        if agent is not None and agent.call is None:
            agent.state = "off"

    def _state(self, e: ev.AgentState) -> None:
        agent = self._agent(e.agent_id)
        if agent is None or agent.state == "off":
            return
        mode = "busy" if e.state == "study" else e.state
        self._modes[agent.agent_id] = mode  # on a call: the state it comes back to if the call never connects
        if agent.call is None:
            self._set_mode(agent, mode)

    def _set_mode(self, agent: SimAgent, mode: str) -> None:
        self._modes[agent.agent_id] = mode
        if mode != "idle":
            agent.state = mode
        elif agent.state != "idle":  # now the router may offer it calls, its private ones first
            self.center._idle(agent)

    def _answer(self, e: ev.CallAnswer) -> None:
        agent = self._agent(e.agent_id)
        call = self._call_at(e.call_id, agent)
        if call is None or agent is None or call.state not in ("ringing", "unanswered"):
            return
        if agent.call is None:  # it rang while the agent was not free (a named consult): it takes it now
            agent.call = call
        if agent.call is not call:  # a second call at once: the simulation follows one call per agent, and
            call.state = "talking"  # the other parties of this one just wait for the workbench
            call.version += 1
            return
        if call.consult_of is not None:
            self.center._consult_talk(call, agent)
        elif call.internal:
            call.state, agent.state = "talking", "talking"
            call.version += 1
            if call.by is not None and not call.by.interactive:
                self.consult_answered(call)  # the simulated caller hangs up after a while
        else:
            self.center._connect(call, agent)
            self.talking(call)

    def _refused(self, e: ev.CallNoAnswer) -> None:
        """The workbench rejected the call: it goes back where it waited, as after a ring timeout."""
        agent = self._agent(e.agent_id)
        call = self._call_at(e.call_id, agent)
        if call is not None and agent is not None and call.state == "ringing":
            self.center._back_to_queue(call, agent)
            self.left(agent)  # its state as before; the gateway sets another if CEC would

    def _hold(self, e: ev.CallHold) -> None:
        call = self._call_at(e.call_id, self._agent(e.agent_id))
        if call is not None and call.state == "talking":
            call.state = "held"
            self._suspend(call)

    def _unhold(self, e: ev.CallUnhold) -> None:
        call = self._call_at(e.call_id, self._agent(e.agent_id))
        if call is not None and call.state == "held":
            call.state = "talking"
            self.resume(call)

    def _release(self, e: ev.CallRelease) -> None:
        """The call ends, whoever released it (the workbench, a feed): everyone on it leaves."""
        center = self.center
        call = center.in_progress.pop(e.call_id, None)
        if call is None:
            return
        self._hangups.pop(call.call_id, None)
        self._talk_left.pop(call.call_id, None)
        center._remove_from_queue(call)
        was = call.state
        call.state = "done"
        call.version += 1
        behaviour = center._behaviour(call.skill)
        for party in (call.agent, *call.members, call.by):
            if party is not None and party.call is call:
                party.state = "talking" if was in ("talking", "held", "conference") else party.state
                center._wrap_up(party, behaviour)
        original = call.consult_of
        if original is not None and original.consult is call:  # the original stays held for its agent
            original.consult = None
            self._consult_gone(original)
        elif call.answered and not call.internal:
            center._survey(call, behaviour)

    def _consult_gone(self, original: SimCall) -> None:
        """A consult ended without completion: the customer stays held; a simulated agent retrieves it."""
        center, agent = self.center, original.agent
        if original.state == "done":
            return
        original.state = "held"
        if agent is not None and not agent.interactive and agent.call is original:
            center._later(center.now, "call.unhold", original, {"agentId": agent.agent_id})
            original.state = "talking"
            center._at(center.now + 1, center._talk_end, original, agent)

    def _transfer(self, e: ev.CallTransfer) -> None:
        agent = self._agent(e.agent_id)
        call = self._call_at(e.call_id, agent)
        if call is None or agent is None:
            return
        center = self.center
        self._hangups.pop(call.call_id, None)
        self._talk_left.pop(call.call_id, None)
        center._wrap_up(agent, center._behaviour(call.skill))
        call.transferred = True
        center.stats.transfers += 1
        target = e.target
        if target.skill_id is not None:
            call.first_queued = call.first_queued or center.now
            call.patience_at = center._patience_after_transfer(target.skill_id)
            center._enqueue(call, target.skill_id, reason=28, emit=False)
        elif target.agent_id is not None and target.agent_id in center.agents:
            center._direct_to(call, center.agents[target.agent_id])
        elif target.number is not None:
            self._outside(call)
        else:  # an IVR flow (or an agent the simulation does not know): the call ends there
            call.state = "ivr"
            center._at(center.now + IVR_STAY_MS, self._ended_elsewhere, call, call.version)

    def _outside(self, call: SimCall) -> None:
        """Transferred to a number: the outside party answers (or the customer gives up while it rings)."""
        center = self.center
        call.state, call.agent = "outside", None
        call.version += 1
        ring = self.settings.callout_ring_time.draw_ms(center.rng)
        if center.rng.random() < self.settings.outside_answer_rate:
            center._later(center.now + ring, "call.answer", call, {"party": "outside"})
            ring += max(1, center._behaviour(call.skill).handle_time.draw_ms(center.rng))
        center._at(center.now + ring, self._ended_elsewhere, call, call.version)

    def _ended_elsewhere(self, call: SimCall, version: int) -> None:
        if call.version == version and call.state in ("outside", "ivr"):
            self.center._release(call, "customer" if call.state == "outside" else "system")

    def _consult(self, e: ev.CallConsult) -> None:
        agent = self._agent(e.agent_id)
        original = self._call_at(e.original_call_id, agent)
        if original is None or agent is None:
            return
        center = self.center
        self._suspend(original)
        original.state, original.consulted = "consulting", True
        consult = self._new_call(original.vdn, original.media_type, e.call_id)
        consult.consult_of, consult.by, original.consult = original, agent, consult
        center.stats.consults += 1
        self._reach(consult, e.target)

    def _internal(self, e: ev.CallInternal) -> None:
        agent = self._agent(e.agent_id)
        if agent is None or agent.call is not None:
            return
        call = self._new_call(e.vdn, 5, e.call_id)
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
            self.ringing(call, colleague)
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
            self._consult_gone(original)

    def _completed(self, call_id: str, agent_id: int) -> SimCall | None:
        consult = self.center.in_progress.get(call_id)
        agent = self._agent(agent_id)
        if consult is None or agent is None or consult.by is not agent or consult.consult_of is None:
            return None
        return consult

    def _consult_transfer(self, e: ev.CallConsultTransfer) -> None:
        consult = self._completed(e.call_id, e.agent_id)
        if consult is None:
            return
        center, original = self.center, consult.consult_of
        assert original is not None
        self._talk_left.pop(original.call_id, None)
        if consult.agent is not None:
            center._consult_transfer(consult, emit=False)
            return
        _, agent = center._finish_consult(consult, "", emit=False)  # a number takes the customer
        center._wrap_up(agent, center._behaviour(original.skill))
        original.transferred = True
        self._outside_talks(original)

    def _outside_talks(self, call: SimCall) -> None:
        center = self.center
        call.state, call.agent = "outside", None
        call.version += 1
        talk = max(1, center._behaviour(call.skill).handle_time.draw_ms(center.rng))
        center._at(center.now + talk, self._ended_elsewhere, call, call.version)

    def _consult_conference(self, e: ev.CallConsultConference) -> None:
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
        self.resume(original)

    def _consult_cancel(self, e: ev.CallConsultCancel) -> None:
        consult = self._completed(e.call_id, e.agent_id)
        if consult is not None:
            self.center._consult_cancel(consult, emit=False)

    def _leave(self, e: ev.CallLeave) -> None:
        """An interactive agent leaves a conference: the call goes on with the others."""
        agent = self._agent(e.party.agent_id)
        call = self.center.in_progress.get(e.call_id)
        if agent is None or call is None or agent.call is not call:
            return
        center = self.center
        if agent in call.members:
            call.members.remove(agent)
        elif call.members:  # the primary agent leaves: a member carries on with the customer
            call.agent = call.members.pop(0)
        else:
            call.agent = None
        if not call.members:
            call.state = "talking"
        center._wrap_up(agent, center._behaviour(call.skill))
        helper = call.agent
        if helper is not None and not helper.interactive and call.state == "talking":
            self._hangups.pop(call.call_id, None)  # the simulated agent ends the call its own way
            talk = max(1, center._behaviour(call.skill).consult_time.draw_ms(center.rng))
            center._at(center.now + talk, center._talk_end, call, helper)
        elif helper is None:  # only an outside party is left with the customer
            self._outside_talks(call)

    def _originate(self, e: ev.CallOriginate) -> None:
        """The workbench calls a customer out: it answers, refuses (busy) or does not answer after its ring."""
        agent = self._agent(e.agent_id)
        if agent is None or agent.call is not None:
            return
        center = self.center
        call = self._new_call(e.vdn, e.media_type, e.call_id)
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
        self._hang_up_in(call, self.settings.callout_talk_time.draw_ms(self.center.rng))

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

    def _ring_timeout(self, call: SimCall, agent: SimAgent, version: int) -> None:
        if call.version == version and call.state == "ringing" and agent.call is call:
            self.center._no_answer(call, agent)
            self.no_answer(agent)

    # --- adoption: calls at interactive agents after a restart ---

    def adopt_talk(self, call: SimCall, view: CallView) -> None:
        """A call talking or held at an interactive agent: the customer's talk goes on from what is left."""
        center = self.center
        call.state = "conference" if view.conference else ("held" if view.stage == "held" else "talking")
        left = max(1, center._behaviour(call.skill).handle_time.residual_ms(view.talked_ms, center.rng))
        if call.state == "held":
            self._talk_left[call.call_id] = left
        else:
            self._hang_up_in(call, left)

    def adopt_call_out(self, call: SimCall, agent: SimAgent, view: CallView) -> None:
        center = self.center
        if view.stage == "outbound":
            call.state = "talking"
            self._hang_up_in(call, max(1, self.settings.callout_talk_time.residual_ms(view.talked_ms, center.rng)))
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

    # --- plumbing ---

    def _new_call(self, vdn: int, media_type: int, call_id: str | None = None) -> SimCall:
        from ccdata.sim.contact_center import SimCall

        center = self.center
        if call_id is None:
            center._numbers += 1
            call_id = f"{center.now // 1000}-{center._numbers}"
        return SimCall(call_id, vdn, center.now, media_type)

    def _hang_up_in(self, call: SimCall, ms: int) -> None:
        center = self.center
        self._serial += 1
        self._hangups[call.call_id] = (self._serial, center.now + max(1, ms))
        center._at(center.now + max(1, ms), self._hang_up, call, self._serial)

    def _hang_up(self, call: SimCall, serial: int) -> None:
        planned = self._hangups.get(call.call_id)
        if planned is None or planned[0] != serial or call.state not in ("talking", "conference"):
            return
        self.customer_hangs_up(call)

    def _suspend(self, call: SimCall) -> None:
        """A held customer waits (it never hangs up on hold): its talk stops until it is back."""
        planned = self._hangups.pop(call.call_id, None)
        if planned is not None:
            self._talk_left[call.call_id] = max(1, planned[1] - self.center.now)
