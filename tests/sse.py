"""A server-sent-events reader over a real socket (httpx streaming), for the stream and wallboard tests."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpx


@dataclass
class Sse:
    id: str | None
    event: str
    data: Any


class SseReader:
    def __init__(self, response: httpx.Response) -> None:
        self.response = response
        self._lines = response.iter_lines()
        self.last_id: str | None = None

    def next(self) -> Sse:
        """The next message (pings, which are comments, skipped)."""
        fields: dict[str, str] = {}
        for line in self._lines:
            if not line:
                if "data" in fields or "event" in fields:
                    if "id" in fields:
                        self.last_id = fields["id"]
                    return Sse(fields.get("id"), fields.get("event", "message"), json.loads(fields.get("data", "null")))
                continue
            if line.startswith(":"):
                continue
            name, _, value = line.partition(":")
            fields[name] = value.removeprefix(" ")
        raise EOFError("the stream ended")

    def take(self, count: int) -> list[Sse]:
        return [self.next() for _ in range(count)]


@contextmanager
def stream(
    url: str, token: str, params: dict[str, str] | None = None, last_event_id: str | None = None, timeout: float = 10
) -> Iterator[SseReader]:
    headers = {"Authorization": f"Bearer {token}", "Accept": "text/event-stream"}
    if last_event_id is not None:
        headers["Last-Event-ID"] = last_event_id
    with (
        httpx.Client(base_url=url, timeout=timeout) as client,
        client.stream("GET", "/ccdata/v1/stream", params=params, headers=headers) as response,
    ):
        assert response.status_code == 200, response.read()
        yield SseReader(response)
