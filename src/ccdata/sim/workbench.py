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

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ccdata.domain import events as ev
from ccdata.domain.engine import Engine
from ccdata.sim.adoption import own_state
from ccdata.sim.workbench_calls import PlacedCalls

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
        self._interactive: list[SimAgent] | None = None  # built at first use: the agents come after this
        self._modes: dict[int, str] = {}  # interactive agent -> its own state (idle, busy, rest, wrapup)
        self._hangups: dict[str, tuple[int, int]] = {}  # call -> (serial, when) of the customer's hang-up to come
        self._talk_left: dict[str, int] = {}  # a call on hold or consulting -> the customer's talk still to come
        self._serial = 0
        self.placed = PlacedCalls(self)  # the calls a workbench places: consults, internal calls, call-outs
        self._handlers: dict[type, Callable[[Any], None]] = {
            ev.AgentLogin: self._login, ev.AgentLogout: self._logout, ev.AgentState: self._state,
            ev.CallAnswer: self._answer, ev.CallNoAnswer: self._refused, ev.CallHold: self._hold,
            ev.CallUnhold: self._unhold, ev.CallRelease: self._release, ev.CallTransfer: self._transfer,
            ev.CallConsult: self.placed.consult, ev.CallConsultTransfer: self.placed.consult_transfer,
            ev.CallConsultConference: self.placed.consult_conference, ev.CallConsultCancel: self.placed.consult_cancel,
            ev.CallLeave: self._leave, ev.CallConference: self._conference, ev.CallOriginate: self.placed.originate,
            ev.CallInternal: self.placed.internal,
        }  # fmt: skip

    # --- what the simulation calls ---

    def follow(self, event: ev.Event) -> None:
        handler = self._handlers.get(type(event))
        if handler is not None and self._concerns(event):
            self.center.now = max(self.center.now, event.at)  # the reaction never predates the action
            handler(event)

    def _concerns(self, event: ev.Event) -> bool:
        """An interactive agent's action, or anything about a call of the simulation's (a stale call's release):
        events of other feeds about other calls and agents move nothing, not even the simulation's clock."""
        agent_id = getattr(event, "agent_id", None)
        if agent_id is not None and self.agent_of(agent_id) is not None:
            return True
        return getattr(event, "call_id", None) in self.center.in_progress

    def ringing(self, call: SimCall, agent: SimAgent, since: int | None = None) -> None:
        """The call rings at an interactive agent: it waits for the workbench, up to the no-answer timeout."""
        center = self.center
        timeout_at = (center.now if since is None else since) + int(self.settings.no_answer_timeout_s * 1000)
        center._at(max(center.now, timeout_at), self._ring_timeout, call, agent, call.version)

    def talking(self, call: SimCall) -> None:
        """A customer connected to an interactive agent hangs up after a drawn talk of the call's skill."""
        center = self.center
        self.hang_up_in(call, center._behaviour(call.skill).handle_time.draw_ms(center.rng))

    def resume(self, call: SimCall) -> None:
        """The customer is back (retrieved from hold or a consult): its talk goes on where it stopped."""
        left = self._talk_left.pop(call.call_id, None)
        if left is None:
            self.talking(call)
        else:
            self.hang_up_in(call, left)

    def customer_hangs_up(self, call: SimCall) -> None:
        self.forget(call)
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

    def settle(self, engine: Engine) -> None:
        """Each free interactive agent takes its own state as the engine derived it, after any committed event:
        wrap-up after a call, or idle at once (an agent signed in with auto-enter-idle), or the state it asked for
        during the call. The router offers calls by what is true, whichever rule the engine applied."""
        if self._interactive is None:
            self._interactive = [a for a in self.center.agents.values() if a.interactive]
        for agent in self._interactive:
            live = engine.agent(self.center.cc_id, agent.agent_id)
            if agent.call is not None or live is None or live.calls:
                continue  # on a call: its state is the call's until the call leaves it
            mode = own_state(live)
            if mode == "off":
                agent.state = "off"
            elif mode != agent.state:
                self._set_mode(agent, mode)

    def no_answer(self, agent: SimAgent) -> None:
        """The platform set the agent busy (reason 2) after its no-answer."""
        self._modes[agent.agent_id] = "busy"

    def consult_answered(self, consult: SimCall) -> None:
        self.placed.consult_answered(consult)

    def colleague_rings(self, call: SimCall, agent: SimAgent) -> None:
        self.placed.colleague_rings(call, agent)

    # --- ringing an agent now (`ccdata ring`) ---

    def ring(self, agent_id: int, media: str, caller: str | None, skill: int | None) -> str:
        center = self.center
        agent = self._checked_for_ring(agent_id, media, skill)
        skill = skill if skill is not None else min(agent.levels, key=lambda s: (-agent.levels[s], s))
        media_type, sub_media = MEDIA[media]
        codes = [c for c in center.scenario.access_codes if c.vdn == agent.vdn and skill in {t.skill for t in c.skills}]
        code = next((c for c in codes if c.media_type == media_type), codes[0] if codes else None)
        call = self.new_call(agent.vdn, media_type)
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

    def agent_of(self, agent_id: int | None) -> SimAgent | None:
        agent = self.center.agents.get(agent_id or 0)
        return agent if agent is not None and agent.interactive else None

    def call_at(self, call_id: str, agent: SimAgent | None) -> SimCall | None:
        call = self.center.in_progress.get(call_id)
        return call if call is not None and agent is not None and call.agent is agent else None

    def _login(self, e: ev.AgentLogin) -> None:
        agent = self.agent_of(e.agent_id)
        if agent is not None and agent.call is None:
            self._set_mode(agent, e.state)

    def _logout(self, e: ev.AgentLogout) -> None:
        agent = self.agent_of(e.agent_id)
        if agent is not None and agent.call is None:
            agent.state = "off"

    def _state(self, e: ev.AgentState) -> None:
        agent = self.agent_of(e.agent_id)
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
        agent = self.agent_of(e.agent_id)
        call = self.call_at(e.call_id, agent)
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
                self.placed.consult_answered(call)  # the simulated caller hangs up after a while
        else:
            self.center._connect(call, agent)
            self.talking(call)

    def _refused(self, e: ev.CallNoAnswer) -> None:
        """The workbench rejected the call: it goes back where it waited, as after a ring timeout."""
        agent = self.agent_of(e.agent_id)
        call = self.call_at(e.call_id, agent)
        if call is not None and agent is not None and call.state == "ringing":
            self.center._back_to_queue(call, agent)
            self.left(agent)  # its state as before; the gateway sets another if CEC would

    def _hold(self, e: ev.CallHold) -> None:
        call = self.call_at(e.call_id, self.agent_of(e.agent_id))
        if call is not None and call.state == "talking":
            call.state = "held"
            self.suspend(call)

    def _unhold(self, e: ev.CallUnhold) -> None:
        call = self.call_at(e.call_id, self.agent_of(e.agent_id))
        if call is not None and call.state == "held":
            call.state = "talking"
            self.resume(call)

    def _release(self, e: ev.CallRelease) -> None:
        """The call ends, whoever released it (the workbench, a feed): everyone on it leaves."""
        center = self.center
        call = center.in_progress.pop(e.call_id, None)
        if call is None:
            return
        self.forget(call)
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
            self.consult_gone(original)
        elif call.answered and not call.internal:
            center._survey(call, behaviour)

    def consult_gone(self, original: SimCall) -> None:
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
        agent = self.agent_of(e.agent_id)
        call = self.call_at(e.call_id, agent)
        if call is None or agent is None:
            return
        center = self.center
        self.forget(call)
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
            center._at(center.now + IVR_STAY_MS, self.ended_elsewhere, call, call.version)

    def _outside(self, call: SimCall) -> None:
        """Transferred to a number: the outside party answers (or the customer gives up while it rings)."""
        center = self.center
        call.state, call.agent = "outside", None
        call.version += 1
        ring = self.settings.callout_ring_time.draw_ms(center.rng)
        if center.rng.random() < self.settings.outside_answer_rate:
            center._later(center.now + ring, "call.answer", call, {"party": "outside"})
            ring += max(1, center._behaviour(call.skill).handle_time.draw_ms(center.rng))
        center._at(center.now + ring, self.ended_elsewhere, call, call.version)

    def ended_elsewhere(self, call: SimCall, version: int) -> None:
        if call.version == version and call.state in ("outside", "ivr"):
            self.center._release(call, "customer" if call.state == "outside" else "system")

    def outside_talks(self, call: SimCall) -> None:
        center = self.center
        call.state, call.agent = "outside", None
        call.version += 1
        talk = max(1, center._behaviour(call.skill).handle_time.draw_ms(center.rng))
        center._at(center.now + talk, self.ended_elsewhere, call, call.version)

    def _conference(self, e: ev.CallConference) -> None:
        """A third party joins (three-party, not through a consult): a simulated colleague leaves again after the
        skill's `conference_time` (or the customer ends the call); a number or a workbench stays until the end."""
        agent = self.agent_of(e.agent_id)
        call = self.call_at(e.call_id, agent)
        if call is None or agent is None or call.state != "talking":
            return
        center = self.center
        call.state = "conference"
        member = center.agents.get(e.party.agent_id or 0)
        if member is None or member.call is not None:
            return
        member.state, member.call = "talking", call
        call.members.append(member)
        if not member.interactive:
            talk = max(1, center._behaviour(call.skill).conference_time.draw_ms(center.rng))
            center._at(center.now + talk, center._conference_end, call, agent, member, call.skill)

    def _leave(self, e: ev.CallLeave) -> None:
        """An interactive agent leaves a conference: the call goes on with the others."""
        agent = self.agent_of(e.party.agent_id)
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
            self.outside_talks(call)

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
            self.hang_up_in(call, left)

    def adopt_mode(self, agent: SimAgent, mode: str) -> None:
        self._modes[agent.agent_id] = mode

    def adopt_call_out(self, call: SimCall, agent: SimAgent, view: CallView) -> None:
        self.placed.adopt_call_out(call, agent, view)

    def adopt_consult(self, consult: SimCall, agent: SimAgent, original: SimCall | None, view: CallView) -> None:
        self.placed.adopt_consult(consult, agent, original, view)

    # --- plumbing ---

    def new_call(self, vdn: int, media_type: int, call_id: str | None = None) -> SimCall:
        from ccdata.sim.contact_center import SimCall

        center = self.center
        if call_id is None:
            center._numbers += 1
            call_id = f"{center.now // 1000}-{center._numbers}"
        return SimCall(call_id, vdn, center.now, media_type)

    def forget(self, call: SimCall) -> None:
        """The customer's talk is over (released, transferred away): no hang-up to come."""
        self._hangups.pop(call.call_id, None)
        self._talk_left.pop(call.call_id, None)

    def hang_up_in(self, call: SimCall, ms: int) -> None:
        center = self.center
        self._serial += 1
        self._hangups[call.call_id] = (self._serial, center.now + max(1, ms))
        center._at(center.now + max(1, ms), self._hang_up, call, self._serial)

    def _hang_up(self, call: SimCall, serial: int) -> None:
        planned = self._hangups.get(call.call_id)
        if planned is None or planned[0] != serial or call.state not in ("talking", "conference"):
            return
        self.customer_hangs_up(call)

    def suspend(self, call: SimCall) -> None:
        """A held customer waits (it never hangs up on hold): its talk stops until it is back."""
        planned = self._hangups.pop(call.call_id, None)
        if planned is not None:
            self._talk_left[call.call_id] = max(1, planned[1] - self.center.now)
