"""The interactive API documentation at /docs: the bundled Swagger UI (no CDN) over /openapi.json, with a request
interceptor (`static/docs-signer.js`) that signs CC-CMS "Try it out" requests in the browser (docs/client.md)."""

from __future__ import annotations

import json
from importlib import resources

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from ccdata.config import Config, load

SIGNER_PATH = "/docs/signer.js"

_PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>ccdata API</title>
<link rel="stylesheet" href="/docs/static/swagger-ui.css"></head>
<body><div id="ui"></div>
<script src="/docs/static/swagger-ui-bundle.js"></script>
<script src="%(signer)s"></script>
<script>
const demoKey = %(demo)s;
window.ui = SwaggerUIBundle({
  url: "/openapi.json", dom_id: "#ui", requestInterceptor: ccdataSigner.signRequest,
  onComplete: () => { if (demoKey) window.ui.preauthorizeApiKey("authV2", demoKey); },
});
</script>
</body></html>
"""


def demo_key(config: Config) -> str | None:
    """`AK:SK` of the packaged demo credential when this server uses it (a public secret, printed by `ccdata demo`):
    the page is then authorized from the start. Never a credential of the operator's own."""
    demo = {(c.ak, c.sk) for c in load(None).cms.credentials}
    for credential in config.cms.credentials:
        if (credential.ak, credential.sk) in demo:
            return f"{credential.ak}:{credential.sk}"
    return None


def routes(config: Config) -> list[Route]:
    page = _PAGE % {"signer": SIGNER_PATH, "demo": json.dumps(demo_key(config))}
    signer = resources.files("ccdata.api").joinpath("static/docs-signer.js").read_bytes()

    async def docs(request: Request) -> Response:
        return HTMLResponse(page)

    async def signer_js(request: Request) -> Response:
        return Response(signer, media_type="text/javascript; charset=utf-8")

    return [Route("/docs", docs, methods=["GET"]), Route(SIGNER_PATH, signer_js, methods=["GET"])]
