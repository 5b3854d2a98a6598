"""One log line per request: method, path, status, milliseconds and the credential id (never a secret); and the
same observation handed to the metrics (`observe`), so that one wrapper times each request for both.

The credential id is what identifies the caller without being a secret: the CC-CMS access key (it travels in
clear in every `Authorization` header), the CC-Gateway agent ID, the DataProcess app key a facade resolved, or
`ingest`. Text by default, one JSON object per line with `[server] access_log = "json"`.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable
from typing import Any

import msgspec
from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger("ccdata.access")

_CMS_AK = re.compile(rb"^auth-v2/([^/]{1,128})/")
_INGEST_PATHS = ("/ccdata/v1/events", "/ccdata/v1/simulator/ring", "/ccdata/v1/state/digest")  # its token's
_AGENT = re.compile(r"^/agentgateway/resource/(?:onlineagent|agentevent|calldata|voicecall)/(\d{1,12})(?:/|$)")


def credential_of(scope: Scope) -> str:
    """The caller's credential id, from what a facade recorded in `scope["state"]`, else from the request."""
    recorded = scope.get("state", {}).get("credential")
    if recorded:
        return str(recorded)
    path: str = scope.get("path", "")
    if path.startswith("/rest/cmsapp/"):
        for name, value in scope.get("headers", ()):
            if name == b"authorization" and (found := _CMS_AK.match(value)):
                return "ak:" + found.group(1).decode("latin-1")
    elif found := _AGENT.match(path):
        return "agent:" + found.group(1)
    elif path in _INGEST_PATHS:
        return "ingest"
    return "-"


Observer = Callable[[Scope, int, float], None]  # (the request's scope after it ran, HTTP status, seconds)


class AccessLog:
    def __init__(self, app: ASGIApp, style: str = "text", observe: Observer | None = None) -> None:
        self.app = app
        self.style = style
        self.observe = observe

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or (self.style == "off" and self.observe is None):
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # what the client gets if the application fails before answering

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            seconds = time.perf_counter() - started
            if self.style != "off":
                self._line(scope, status, seconds * 1000)
            if self.observe is not None:
                self.observe(scope, status, seconds)

    def _line(self, scope: Scope, status: int, ms: float) -> None:
        client = scope.get("client")
        fields: dict[str, Any] = {
            "method": scope.get("method", ""),
            "path": scope.get("path", ""),
            "status": status,
            "ms": round(ms, 2),
            "credential": credential_of(scope),
            "client": client[0] if client else "-",
        }
        if self.style == "json":
            log.info(msgspec.json.encode(fields).decode())
        else:
            log.info("%(client)s %(method)s %(path)s %(status)d %(ms).1fms %(credential)s", fields)
