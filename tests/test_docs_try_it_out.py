"""/docs in a real browser (Debian's chromium, driven by Playwright): the page's auth-v2 signer signs as
`ccdata.signing` does, and a CC-CMS operation tried out from the page, authorized with `AK:SK`, succeeds."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import httpx
from playwright.sync_api import Page

from ccdata import config as configuration
from ccdata import signing
from ccdata.api.docs_page import demo_key
from server import running_server
from test_wallboard import _artifact, page  # noqa: F401  (the browser fixture)

VECTORS = [
    ("POST", "/rest/cmsapp/v1/ping", {}, '{"say": "Hello world!"}'),
    ("POST", "/rest/cmsapp/v1/openapi/agent/queryagentcalls", {"a b": "ü", "z": ""}, '{"agentId": "1001 ~ é"}'),
    ("GET", "/rest/cmsapp/v1/x", {}, ""),
]


def test_the_page_signs_as_the_reference_signer(tmp_path: Path, page: Page) -> None:  # noqa: F811
    with running_server(tmp_path) as running:
        page.goto(f"{running.url}/docs")
        page.wait_for_function("window.ccdataSigner !== undefined")
        moment = datetime(2026, 1, 1, 9, 0, 5, tzinfo=UTC)
        for method, path, query, body in VECTORS:
            expected = signing.authorization("ak-all", "sk-all", moment, method, path, query, {"host": running.host},
                                             body.encode())  # fmt: skip
            script = "([m, p, q, h, b]) => ccdataSigner.authorization('ak-all', 'sk-all', new Date(Date.UTC(2026, 0, 1,"
            script += " 9, 0, 5)), m, p, q, {host: h}, b)"
            got = page.evaluate(script, [method, path, list(map(list, query.items())), running.host, body])
            assert got == expected, (path, got, expected)


def test_a_cms_operation_tried_out_on_the_page_succeeds(tmp_path: Path, page: Page) -> None:  # noqa: F811
    with running_server(tmp_path) as running:
        page.goto(f"{running.url}/docs")
        page.wait_for_selector("#operations-CC-CMS-post_cmsapp_v1_agent_queryagentcalls")
        assert page.locator(".errors-wrapper").count() == 0  # Swagger UI resolved and rendered the whole document
        page.evaluate("window.ui.preauthorizeApiKey('authV2', 'ak-all:sk-all')")  # what the Authorize dialog sets
        operation = page.locator("#operations-CC-CMS-post_cmsapp_v1_agent_queryagentcalls")
        operation.locator(".opblock-summary").click()
        operation.locator(".try-out__btn").click()
        operation.locator("button.execute").click()
        status = operation.locator(".live-responses-table .response .response-col_status").first
        status.wait_for(timeout=10_000)
        assert status.inner_text().strip() == "200"
        answer = json.loads(operation.locator(".live-responses-table .microlight").first.inner_text())
        assert answer["resultCode"] == "0100000", answer
        status.scroll_into_view_if_needed()
        page.screenshot(path=str(_artifact("docs-try-it-out.png")))


def test_only_the_public_demo_credential_is_put_on_the_page(tmp_path: Path) -> None:
    assert demo_key(configuration.load(None)) == "ccdata-demo-ak:ccdata-demo-sk"
    with running_server(tmp_path) as running:  # the test configuration's own secrets
        assert demo_key(running.service.config) is None
        html = httpx.get(f"{running.url}/docs").text
        assert "const demoKey = null;" in html and "sk-all" not in html
