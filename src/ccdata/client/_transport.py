"""Sans-I/O plumbing: every operation is a generator that yields `httpx.Request`s and returns a result.

The sync clients drive it with an `httpx.Client`, the async ones with an `httpx.AsyncClient`, so request building,
signing, token refresh and parsing are written once.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any, TypeVar

import httpx
import msgspec

T = TypeVar("T")
Op = Generator[httpx.Request, httpx.Response, T]


def drive(http: httpx.Client, op: Op[T]) -> T:
    try:
        request = next(op)
        while True:
            request = op.send(http.send(request))
    except StopIteration as done:
        return done.value


async def adrive(http: httpx.AsyncClient, op: Op[T]) -> T:
    try:
        request = next(op)
        while True:
            request = op.send(await http.send(request))
    except StopIteration as done:
        return done.value


class SyncBase:
    """Runs operations on an `httpx.Client` (given, or owned and closed by `close()`)."""

    def __init__(self, http: httpx.Client | None, timeout: float) -> None:
        self._owned = http is None
        self._http = http or httpx.Client(timeout=timeout)

    def _run(self, op: Op[Any]) -> Any:
        return drive(self._http, op)

    def close(self) -> None:
        if self._owned:
            self._http.close()

    def __enter__(self) -> Any:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class AsyncBase:
    """The same operations on an `httpx.AsyncClient`: every method returns an awaitable."""

    def __init__(self, http: httpx.AsyncClient | None, timeout: float) -> None:
        self._owned = http is None
        self._http = http or httpx.AsyncClient(timeout=timeout)

    async def _run(self, op: Op[Any]) -> Any:
        return await adrive(self._http, op)

    async def aclose(self) -> None:
        if self._owned:
            await self._http.aclose()

    async def __aenter__(self) -> Any:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()


def json_of(response: httpx.Response) -> Any:
    try:
        return _decoder.decode(response.content)
    except msgspec.DecodeError:
        return None


_decoder = msgspec.json.Decoder()
