"""Memory: resident memory of a ccdata process holding 10,000 signed-in agents and 10,000 calls in progress,
against the same process before the state was built (the baseline of the same run).

    .venv/bin/python bench/memory.py [AGENTS]
"""

from __future__ import annotations

import gc
import sys
import tempfile
from pathlib import Path

from bench.common import rss_mib
from ccdata import config as configuration
from ccdata.service import Service
from ccdata.store.sqlite import SqliteStore

T0 = 1_767_225_600_000


def main(agents: int = 10_000) -> dict[str, float]:
    config = configuration.parse(f"""
[[vdns]]
id = 1
skills = [{{ id = 1, name = "voice" }}]

[[agent_groups]]
first = 1001
count = {agents}
vdn = 1
password = "x"
skills = [1]
""")
    with tempfile.TemporaryDirectory() as tmp:
        service = Service(config, SqliteStore(Path(tmp) / "memory.db"))
        gc.collect()
        baseline = rss_mib()
        events = []
        for n, agent in enumerate(range(1001, 1001 + agents)):
            events.append({"id": f"l{n}", "type": "agent.login", "at": T0, "ccId": 1, "vdn": 1, "agentId": agent,
                           "skills": [1], "phone": f"6{agent}"})  # fmt: skip
        for n, agent in enumerate(range(1001, 1001 + agents)):
            call = {"ccId": 1, "vdn": 1, "callId": f"{T0 // 1000 + n}-{n}"}
            at = T0 + 1000 + n
            events += [
                {"id": f"a{n}", "type": "call.arrive", "at": at, **call, "caller": f"1{n:010d}", "called": "650550"},
                {"id": f"i{n}", "type": "call.ivr", "at": at + 1, **call, "flowId": "100"},
                {"id": f"q{n}", "type": "call.queue", "at": at + 2, **call, "skillId": 1},
                {"id": f"r{n}", "type": "call.alert", "at": at + 3, **call, "agentId": agent},
                {"id": f"t{n}", "type": "call.answer", "at": at + 4, **call, "agentId": agent},
            ]
        report = service.ingest(events)
        del events
        gc.collect()
        loaded = rss_mib()
        calls, signed_in = len(service.engine.calls), sum(a.signed_in for a in service.engine.agents.values())
        service.close()
    return {"agents": signed_in, "calls": calls, "rss_mib": loaded, "baseline_mib": baseline,
            "state_mib": loaded - baseline, "rejected": report.rejected}  # fmt: skip


if __name__ == "__main__":
    if "--json" in sys.argv:  # for bench/run.py, which measures memory in a process of its own
        import json

        print(json.dumps(main()))
        sys.exit(0)
    f = main(int(sys.argv[1]) if len(sys.argv) > 1 else 10_000)
    print(
        f"{f['agents']:,} agents, {f['calls']:,} calls in progress: RSS {f['rss_mib']:.0f} MiB "
        f"(process before the state {f['baseline_mib']:.0f} MiB, state {f['state_mib']:.0f} MiB)"
    )
