"""The wallboard in a real browser (Debian's chromium, driven by Playwright) against a simulator-fed server: its
figures equal the CC-CMS monitoring interfaces' answers, an agent tile follows the agent within 2 s."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, sync_playwright

from server import Api, Running, running_server

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]  # fmt: skip
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
OPEN = "/v1/openapi"

BUSY_CENTER = """
[stream]
clients = [{ name = "wallboard", token = "wall-token", vdns = [1, 2] }]

[[agents]]
id = 1901
vdn = 1
password = "secret-live"
skills = [8]
interactive = true

[[simulator.access_codes]]
called = "650550"
vdn = 1
skills = [{ skill = 7, weight = 60 }, { skill = 8, weight = 40 }]
calls_per_hour = [900, 900, 900, 900, 900, 900, 900, 900, 900, 900, 900, 900,
                  900, 900, 900, 900, 900, 900, 900, 900, 900, 900, 900, 900]

[[simulator.skills]]
skill = 7
handle_time = { kind = "fixed", mean = 25 }
wrap_up = { kind = "fixed", mean = 3 }
patience = { kind = "exponential", mean = 40 }

[[simulator.skills]]
skill = 8
handle_time = { kind = "fixed", mean = 20 }
wrap_up = { kind = "fixed", mean = 2 }
patience = { kind = "exponential", mean = 40 }
"""


@pytest.fixture
def page() -> Iterator[Page]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: run scripts/setup.sh as root (it installs Debian's chromium)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            yield browser.new_page(viewport={"width": 1400, "height": 900})
        finally:
            browser.close()


def page_figures(page: Page) -> dict[str, Any]:
    """What the page shows: each agent tile's state, each queue row's figures."""
    page.evaluate("window.wallboard.refresh()")
    agents = page.eval_on_selector_all("[data-agent]", "ns => ns.map(n => [+n.dataset.agent, +n.dataset.state])")
    skills = page.eval_on_selector_all(
        "[data-skill]",
        """rows => rows.map(r => [+r.dataset.skill, Object.fromEntries([...r.querySelectorAll('[data-figure]')]
            .map(c => [c.dataset.figure, c.dataset.value]))])""",
    )
    return {"agents": dict(agents), "skills": dict(skills)}


def interface_figures(api: Api, agent_ids: list[int]) -> dict[str, Any]:
    """The same figures from the CC-CMS monitoring interfaces (and the day's from SQL over the call results)."""
    skills = [7, 8]
    totals = api.cms_ok(f"{OPEN}/skill/totalskillstatusex3", {"ccId": 1, "vdn": 1, "skillIds": skills})
    states = api.cms_ok(f"{OPEN}/skill/stateinfo", {"ccId": 1, "vdn": 1, "skillIds": skills})
    agents = api.cms_ok(f"{OPEN}/agentgroup/agentstatusinfobyagentids", {"ccId": 1, "vdn": 1, "agentIds": agent_ids})
    day = api.running.service.feed_time(1) // 86_400_000 * 86_400_000
    figures: dict[int, dict[str, str]] = {}
    for total, state in zip(totals, states, strict=True):
        figures[total["skillId"]] = {
            "waiting": str(total["queueSize"]), "longestWait": str(total["queueTime"]),
            "agents": f"{state['agentIdleNums']} / {state['agentLoginNums']}",
            **day_figures(api.running, total["skillId"], day),
        }  # fmt: skip
    return {"agents": {a["agentId"]: a["currentState"] for a in agents}, "skills": figures}


def day_figures(running: Running, skill: int, day: int) -> dict[str, str]:
    wait = "(CASE WHEN call_begin > 0 THEN call_begin ELSE call_end END) - wait_begin"
    ((offered, answered, within, answered_wait),) = running.sql(
        f"""SELECT count(*), coalesce(sum(CASE WHEN call_begin > 0 THEN 1 ELSE 0 END), 0),
                   coalesce(sum(CASE WHEN call_begin > 0 AND {wait} <= 20000 THEN 1 ELSE 0 END), 0),
                   coalesce(sum(CASE WHEN call_begin > 0 THEN {wait} ELSE 0 END), 0)
            FROM call_result WHERE vdn = 1 AND skill_id = ? AND log_date >= ?""",
        (skill, day),
    )
    offered, answered, within, answered_wait = map(int, (offered, answered, within, answered_wait))  # numeric sums
    level = "" if not offered else str(round(100 * within / offered, 1))
    return {"offered": str(offered), "abandoned": str(offered - answered), "serviceLevel": level,
            "averageSpeedOfAnswer": str(answered_wait // answered // 1000 if answered else 0)}  # fmt: skip


def comparable(shown: dict[str, Any], expected: dict[str, Any]) -> dict[str, Any]:
    """The page's figures restricted to those the interfaces answer ("agents" as the page writes it)."""
    skills = {}
    for skill, row in shown["skills"].items():
        skills[skill] = {k: (v if k != "serviceLevel" or v != "null" else "") for k, v in row.items()
                         if k in expected["skills"][skill] and k != "agents"}  # fmt: skip
    return {"agents": shown["agents"], "skills": skills}


def test_the_wallboard_shows_the_monitoring_figures_and_follows_an_agent(tmp_path: Path, page: Page) -> None:
    with running_server(tmp_path, extra=BUSY_CENTER, live_speed=4) as running:
        api = Api(running)
        deadline = time.monotonic() + 60
        while running.service.monitor.fed < 20 and time.monotonic() < deadline:
            time.sleep(0.2)  # some calls released, some waiting
        page.goto(f"{running.url}/wallboard")
        page.fill("#token", "wrong")
        page.click("button[type=submit]")
        page.wait_for_selector("#login-error:has-text('not a wallboard credential')")
        page.fill("#token", "wall-token")
        page.click("button[type=submit]")
        page.wait_for_selector("[data-agent]")
        page.wait_for_selector("#status.live")

        # The page's figures are the interfaces' (both read within a few ms: tried again if a call moved between).
        for _attempt in range(15):
            shown = page_figures(page)
            expected = interface_figures(api, sorted(shown["agents"]))
            without_agents = {s: {k: v for k, v in f.items() if k != "agents"} for s, f in expected["skills"].items()}
            if comparable(shown, expected) == {"agents": expected["agents"], "skills": without_agents}:
                break
        else:
            raise AssertionError(f"the page shows {shown}, the interfaces answer {expected}")
        assert int(shown["skills"][7]["offered"]) + int(shown["skills"][8]["offered"]) > 0

        # An agent signs in (agent.login) and out (agent.logout): the tile follows within 2 s of each event.
        tile = "[data-agent='1901']"
        assert api.sign_in(1901, password="secret-live").json()["retcode"] == "0"
        signed_in = time.monotonic()
        page.wait_for_selector(f"{tile}[data-state='1']", timeout=2000)
        assert time.monotonic() - signed_in < 2
        page.screenshot(path=str(_artifact("wallboard.png")), full_page=True)
        assert api.gateway("DELETE", "/onlineagent/1901/logout", 1901).json()["retcode"] == "0"
        signed_out = time.monotonic()
        page.wait_for_selector(f"{tile}[data-state='0']", timeout=2000)
        assert time.monotonic() - signed_out < 2
        assert int(page.get_attribute("#chart", "data-points") or 0) > 0  # the service-level chart has points


def test_the_page_and_its_figures_need_a_wallboard_credential(tmp_path: Path) -> None:
    with running_server(tmp_path, extra=BUSY_CENTER) as running:
        http = httpx.Client(base_url=running.url, timeout=5)
        page = http.get("/wallboard")
        assert page.status_code == 200 and "<svg" in page.text
        assert not re.search(r"""(src|href)=["']?(https?:)?//""", page.text)  # nothing loaded from elsewhere
        assert "script-src 'unsafe-inline'" in page.headers["content-security-policy"]
        assert http.get("/ccdata/v1/wallboard").status_code == 401
        wall = {"Authorization": "Bearer wall-token"}
        assert http.get("/ccdata/v1/wallboard", params={"vdn": "3"}, headers=wall).status_code == 403
        assert http.get("/ccdata/v1/wallboard", params={"vdn": "x"}, headers=wall).status_code == 400
        figures = http.get("/ccdata/v1/wallboard", headers=wall).json()
        assert figures["vdn"] == 1 and [s["skillId"] for s in figures["skills"]] == [7, 8]
        assert figures["vdns"] == [{"id": 1, "name": ""}, {"id": 2, "name": ""}]


def _artifact(name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS / name
