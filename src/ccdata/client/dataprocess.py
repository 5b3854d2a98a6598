"""DataProcess client: a token from `tokenByAkSk` (cached, refreshed before it expires), then the call-result
search."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import httpx
import msgspec

from ccdata.client._transport import AsyncBase, Op, SyncBase, json_of
from ccdata.client.errors import AuthError, DataProcessError
from ccdata.client.types import CallResult, ResultPage, Token, convert

TOKEN_PATH = "/apigovernance/api/oauth/tokenByAkSk"
SEARCH_PATH = "/apiaccess/rest/dataprocess/v1/openapp/queryCallManualDetailInfo"
_FILTERS = {
    "call_id": "callId",
    "caller": "callerNo",
    "callee": "calleeNo",
    "begin": "beginDate",
    "end": "endDate",
    "call_type": "callType",
    "media_type": "mediaType",
    "evaluation": "evaluationValue",
    "offset": "offset",
    "limit": "limit",
}


class DataProcessOperations:
    def __init__(
        self,
        base_url: str,
        app_key: str,
        app_secret: str,
        *,
        token_expire_s: int = 600,
        refresh_margin_s: int = 60,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.app_key, self.app_secret = app_key, app_secret
        self.token_expire_s = token_expire_s
        self.refresh_margin_s = min(refresh_margin_s, token_expire_s // 2)
        self.clock = clock
        self.token: Token | None = None
        self._refresh_at = 0.0

    def get_token(self) -> Op[Token]:
        """The cached token, or a new one when it is missing or about to expire."""
        if self.token is not None and self.clock() < self._refresh_at:
            return self.token
        response = yield httpx.Request(
            "POST",
            self.base_url + TOKEN_PATH,
            json={"app_key": self.app_key, "app_secret": self.app_secret},
            headers={"X-Token-Expire": str(self.token_expire_s)},
        )
        token = convert(_checked(response), Token)
        self.token = token
        self._refresh_at = self.clock() + token.Expires - self.refresh_margin_s
        return token

    def search(self, vdn: int, *, sub_cc_no: int = 1, **filters: Any) -> Op[ResultPage]:
        """Call results; filters: call_id, caller, callee, begin, end (ms), call_type, media_type, evaluation,
        offset, limit."""
        unknown = set(filters) - set(_FILTERS)
        if unknown:
            raise TypeError(f"unknown filters {sorted(unknown)}; known: {sorted(_FILTERS)}")
        body = {"subCcNo": str(sub_cc_no), "vdn": str(vdn)}
        body.update({_FILTERS[k]: (v if k in ("offset", "limit") else str(v)) for k, v in filters.items()
                     if v is not None})  # fmt: skip
        for attempt in range(2):
            token = yield from self.get_token()
            response = yield httpx.Request(
                "POST", self.base_url + SEARCH_PATH, json=body,
                headers={"Authorization": f"Bearer {token.AccessToken}", "X-APP-Key": self.app_key},
            )  # fmt: skip
            if response.status_code == 401 and attempt == 0:
                self.token = None  # revoked or expired early (a server restart): get a new one, once
                continue
            if response.status_code == 200:  # decoded straight into the typed page: no dict in between
                return msgspec.json.decode(response.content, type=ResultPage, strict=False)
            return convert(_checked(response), ResultPage)
        raise AssertionError("unreachable")


def _checked(response: httpx.Response) -> Any:
    body = json_of(response)
    if response.status_code == 200 and isinstance(body, dict):
        return body
    message = body.get("message", "") if isinstance(body, dict) else response.text[:200]
    kind = AuthError if response.status_code in (401, 403) else DataProcessError
    raise kind(str(response.status_code), message, response.status_code)


class DataProcessClient(SyncBase):
    """DataProcess call-result search with API Fabric tokens.

    >>> dp = DataProcessClient("http://127.0.0.1:8043", "ccdata-demo-app", "ccdata-demo-secret")
    >>> dp.search(vdn=1, call_id="1795343553-244").total  # doctest: +SKIP
    1
    """

    def __init__(
        self,
        base_url: str,
        app_key: str,
        app_secret: str,
        *,
        token_expire_s: int = 600,
        timeout: float = 30.0,
        http: httpx.Client | None = None,
    ) -> None:
        super().__init__(http, timeout)
        self.ops = DataProcessOperations(base_url, app_key, app_secret, token_expire_s=token_expire_s)

    def token(self) -> Token:
        return self._run(self.ops.get_token())

    def search(self, vdn: int, *, sub_cc_no: int = 1, **filters: Any) -> ResultPage:
        return self._run(self.ops.search(vdn, sub_cc_no=sub_cc_no, **filters))

    def search_all(self, vdn: int, *, page: int = 500, **filters: Any) -> Iterator[CallResult]:
        """Every matching result, page by page (the offset/limit extension of ccdata)."""
        offset = 0
        while True:
            found = self.search(vdn, offset=offset, limit=page, **filters)
            yield from found.results
            offset += len(found.results)
            if not found.results or offset >= found.total:
                return


class AsyncDataProcessClient(AsyncBase):
    def __init__(
        self,
        base_url: str,
        app_key: str,
        app_secret: str,
        *,
        token_expire_s: int = 600,
        timeout: float = 30.0,
        http: httpx.AsyncClient | None = None,
    ) -> None:
        super().__init__(http, timeout)
        self.ops = DataProcessOperations(base_url, app_key, app_secret, token_expire_s=token_expire_s)

    async def token(self) -> Token:
        return await self._run(self.ops.get_token())

    async def search(self, vdn: int, *, sub_cc_no: int = 1, **filters: Any) -> ResultPage:
        return await self._run(self.ops.search(vdn, sub_cc_no=sub_cc_no, **filters))

    async def search_all(self, vdn: int, *, page: int = 500, **filters: Any) -> AsyncIterator[CallResult]:
        offset = 0
        while True:
            found = await self.search(vdn, offset=offset, limit=page, **filters)
            for result in found.results:
                yield result
            offset += len(found.results)
            if not found.results or offset >= found.total:
                return
