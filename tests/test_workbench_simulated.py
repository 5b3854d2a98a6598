"""The workbench session of docs/client.md, run as written against a demo server whose simulator plays the platform
and the customers (issue 14): the call is offered at once with the ring endpoint, and what the session did is
what CC-CMS, the call track and DataProcess then say."""

from __future__ import annotations

import re
import threading
import time
from pathlib import Path

import httpx
import pytest

from ccdata.client import CmsClient, DataProcessClient, GatewayClient
from ccdata.domain.codes import CtiAgentState
from processes import serve_args, start_serve

pytestmark = pytest.mark.modes

PAGE = Path(__file__).parent.parent / "docs" / "client.md"
AGENT = 1901
INGEST = {"Authorization": "Bearer ccdata-demo-ingest"}


def session_code() -> str:
    section = PAGE.read_text().split("## CC-Gateway\n", 1)[1]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


def ring_when_idle(url: str, done: threading.Event, rung: list[str]) -> None:
    """The developer's `ccdata ring 1901`, once the session has made the agent idle."""
    cms = CmsClient(url, "ccdata-demo-ak", "ccdata-demo-sk")
    while not done.is_set():
        if cms.agent_status([AGENT])[0].currentState == CtiAgentState.IDLE:
            answer = httpx.post(f"{url}/ccdata/v1/simulator/ring", json={"agentId": AGENT}, headers=INGEST)
            if answer.status_code == 202:
                rung.append(answer.json()["callId"])
                return
        time.sleep(0.1)


def test_the_documented_workbench_session_runs_against_the_simulator(tmp_path: Path, mode: str) -> None:
    served = start_serve("--simulate", *serve_args(tmp_path, "demo.db", mode), log=tmp_path / "serve.log")
    done, rung = threading.Event(), []
    ringer = threading.Thread(target=ring_when_idle, args=(served.url, done, rung), daemon=True)
    try:
        ringer.start()
        code = session_code().replace('"http://127.0.0.1:8043"', repr(served.url))
        scope: dict[str, object] = {}
        runner = threading.Thread(target=exec, args=(compile(code, str(PAGE), "exec"), scope), daemon=True)
        runner.start()
        runner.join(120)
        assert not runner.is_alive(), f"the session did not end:\n{served.output()[-3000:]}"
        assert rung, "the agent never became idle"
        (call_id,) = rung
        agent = scope["agent"]
        assert isinstance(agent, GatewayClient) and agent.guid is None  # signed out at the end
        cms = CmsClient(served.url, "ccdata-demo-ak", "ccdata-demo-sk")
        assert cms.agent_status([AGENT])[0].currentState == CtiAgentState.NOT_SIGNED_IN
        # The rung call went to the agent (held and retrieved: two legs), then by a blind transfer to a skill queue
        # (leave reason 28), where the simulator routes it on.
        track = cms.call_track(1, call_id, int(time.time() * 1000))
        legs = [(row.deviceType, str(row.deviceNo), row.LeaveReason) for row in track]
        assert legs[:2] == [(2, str(AGENT), 18), (2, str(AGENT), 28)], legs
        # The call out is a call of its own, with its result once it ended.
        dp = DataProcessClient(served.url, "ccdata-demo-app", "ccdata-demo-secret")
        out = scope["call_out"]
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and dp.search(1, call_id=out).total == 0:
            time.sleep(0.2)
        assert dp.search(1, call_id=out).results[0].calleeNo == "13900139000"
        assert not served.process.poll()
    finally:
        done.set()
        served.stop()
