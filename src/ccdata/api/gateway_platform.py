"""What the CC-Gateway does on an agent's behalf once something it asked for happens: the platform's side of the
agent's phone.

- Auto-answer: a call alerting an agent signed in with `autoanswer` is answered at once (`AgentEvent_Auto_Answer`
  replaces `AgentEvent_Ringing`), when ccdata is the platform: the simulator runs, or `[gateway] auto_answer`.
- Success transfer and three-party help: a `transfer` with mode 2 (or 3/4 to a number) and an `innerhelp` with
  mode 2 start a consult call; when its target answers, the transfer completes (`call.consult.transfer`) or the
  conference is joined (`call.consult.conference`).

Each follow-up is a contract event with an id derived from what caused it, so a repeat (a replay, or two nodes
reacting to the same event) is dropped as a duplicate. Pending follow-ups live in memory: after a restart a
consult call waits for the agent's own `confjoin` or `transfer`.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

from ccdata.domain import events as ev
from ccdata.pipeline import Committed

if TYPE_CHECKING:
    from ccdata.api.gateway import Gateway

log = logging.getLogger("ccdata.gateway")


class Platform:
    def __init__(self, gateway: Gateway, auto_answer: bool) -> None:
        self.gw = gateway
        self.auto_answer = auto_answer
        self.on_answer: dict[tuple[int, str], tuple[str, int]] = {}  # consult call -> (event type, agent)
        self._tasks: set[asyncio.Task[None]] = set()

    def complete_on_answer(self, cc_id: int, consult_call_id: str, event_type: str, agent_id: int) -> None:
        self.on_answer[(cc_id, consult_call_id)] = (event_type, agent_id)

    def committed(self, item: Committed) -> None:
        e = item.event
        engine = self.gw.service.engine
        if isinstance(e, ev.CallAlert) and self.auto_answer:
            for agent_id in e.alerted:
                agent = engine.agent(e.cc_id, agent_id)
                if agent is not None and agent.auto_answer:
                    self._emit(f"ccdata-autoanswer-{e.id}-{agent_id}", "call.answer", e.vdn, callId=e.call_id,
                               agentId=agent_id)  # fmt: skip
        elif isinstance(e, ev.CallAnswer) and e.agent_id is not None:
            follow_up = self.on_answer.pop((e.cc_id, e.call_id), None)
            if follow_up is not None:
                event_type, agent_id = follow_up
                self._emit(f"ccdata-complete-{e.id}", event_type, e.vdn, callId=e.call_id, agentId=agent_id)
        elif isinstance(e, ev.CallRelease | ev.CallConsultCancel):
            self.on_answer.pop((e.cc_id, e.call_id), None)

    def _emit(self, event_id: str, type_: str, vdn: int, **fields: Any) -> None:
        task = asyncio.get_running_loop().create_task(self._run(event_id, type_, vdn, fields))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _run(self, event_id: str, type_: str, vdn: int, fields: dict[str, Any]) -> None:
        try:
            rejection = await self.gw.service.emit_async(type_, vdn, id=event_id, **fields)
        except Exception:
            log.exception("gateway: %s for %s failed", type_, fields)
            return
        if rejection is not None and rejection.code != "duplicate":
            # The call moved on meanwhile (the customer hung up before the answer): loud, not fatal.
            log.warning("gateway: %s %s refused: %s", type_, fields, rejection.reason)

    async def stop(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
