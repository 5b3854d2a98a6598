"""The live simulator beside a real server: an agent workbench signed in through the gateway gets real traffic."""

from __future__ import annotations

import time
from pathlib import Path

from server import Api, Running, running_server

LIVE = """
[[agents]]
id = 1901
vdn = 1
password = "secret-live"
skills = [8]
interactive = true

[simulator.workbench]
no_answer_timeout_s = 60

[[simulator.access_codes]]
called = "650550"
vdn = 1
skills = [{ skill = 8 }]
calls_per_hour = [300, 300, 300, 300, 300, 300, 300, 300, 300, 300, 300, 300,
                  300, 300, 300, 300, 300, 300, 300, 300, 300, 300, 300, 300]

[[simulator.skills]]
skill = 8
handle_time = { kind = "fixed", mean = 20 }
wrap_up = { kind = "fixed", mean = 2 }
"""


def test_a_signed_in_workbench_receives_simulated_calls(tmp_path: Path) -> None:
    with running_server(tmp_path, extra=LIVE, live_speed=20) as running:
        api = Api(running)
        assert api.sign_in(1901, password="secret-live", autoanswer=False).json()["retcode"] == "0"
        seen: list[str] = []
        deadline = time.monotonic() + 30
        while "AgentEvent_Call_Release" not in seen and time.monotonic() < deadline:
            event = api.poll(1901)
            if event is not None:
                seen.append(event["eventType"])
            if event is not None and event["eventType"] == "AgentEvent_Ringing":
                answer(running, api, event["content"]["callid"])  # the workbench answers: nobody else does
        assert seen[:2] == ["AgentOther_InService", "AgentState_Ready"]
        ringing = seen.index("AgentEvent_Ringing")
        assert seen[ringing + 1] == "AgentEvent_Talking"
        assert "AgentEvent_Call_Release" in seen
        # Calls flow through the CMS interfaces too, for the simulator's other agents' skills and this one.
        last = api.call_info(1901, last=True)["result"]
        assert last is not None and last["called"] == "650550"
        assert not running.service.engine.rejections  # every simulated and gateway event was accepted


def test_a_restarted_server_carries_the_simulation_on_from_where_the_log_ends(tmp_path: Path) -> None:
    """A node starts from the central snapshot and catches up with the shared log: the simulation adopts what the
    engine holds after that, not before (its events were refused as dated before the log's end)."""
    for run in range(2):
        with running_server(tmp_path, extra=LIVE, live_speed=30) as running:
            started = running.service.pipeline.seq
            deadline = time.monotonic() + 20
            while running.service.pipeline.seq < started + 30 and time.monotonic() < deadline:
                time.sleep(0.1)
            assert running.service.pipeline.seq >= started + 30, f"run {run}: the simulation did not go on"
            assert not running.service.engine.rejections, f"run {run}"


def answer(running: Running, api: Api, call_id: str) -> None:
    """The workbench's answer, as the gateway emits it (sent through the ingest endpoint)."""
    engine = running.service.engine
    at = max(running.service.now(), engine.clock_of(1))
    event = {"id": f"answer-{call_id}", "type": "call.answer", "at": at, "ccId": 1, "vdn": 1, "callId": call_id,
             "agentId": 1901}  # fmt: skip
    api.ingest_ok([event])
