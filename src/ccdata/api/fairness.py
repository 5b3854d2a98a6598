"""Fair sharing between a large ingest and the reads beside it: every request other than an ingest tells the
service that reads are coming in, and the service commits writes in smaller steps for a while
(`[store] batch_events_beside_reads`, docs/operations.md)."""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

from ccdata.api.ingest import PATH as INGEST_PATH
from ccdata.service import Service


class ReadActivity:
    def __init__(self, app: ASGIApp, service: Service) -> None:
        self.app = app
        self.service = service

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope.get("path") != INGEST_PATH:
            self.service.note_read()
        await self.app(scope, receive, send)
