"""API Fabric tokens (`tokenByAkSk`): an app key and secret buy a Bearer token for the DataProcess interfaces.

Tokens are kept by their SHA-256 (a lookup reveals nothing about a guessed token's prefix), at most
`max_per_app` live ones per app (the oldest is revoked beyond), and dropped once expired.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from ccdata.api.http import bearer
from ccdata.config import DataProcessApp


@dataclass(frozen=True)
class Token:
    value: str
    app: DataProcessApp
    created_at: int
    expires_at: int


def _digest(value: str) -> bytes:
    return hashlib.sha256(value.encode("utf-8", "surrogatepass")).digest()


class Tokens:
    def __init__(self, apps: list[DataProcessApp], clock: Callable[[], int], max_per_app: int = 1000) -> None:
        self._apps = {a.app_key: a for a in apps}
        self._decoy = secrets.token_hex(16)  # an unknown app key is compared against this: same work, no match
        self._tokens: dict[bytes, Token] = {}
        self._by_app: dict[str, OrderedDict[bytes, None]] = {a.app_key: OrderedDict() for a in apps}
        self.max_per_app = max_per_app
        self.clock = clock

    def authenticate(self, app_key: str, app_secret: str) -> DataProcessApp | None:
        """The app whose key and secret these are; compared in constant time, known key or not."""
        app = self._apps.get(app_key)
        expected = app.app_secret if app is not None else self._decoy
        same = hmac.compare_digest(_digest(expected), _digest(app_secret))
        return app if same and app is not None else None

    def issue(self, app_key: str, app_secret: str, lifetime_s: int) -> Token | None:
        app = self.authenticate(app_key, app_secret)
        if app is None:
            return None
        now = self.clock()
        self._drop_expired(now)
        token = Token(secrets.token_hex(32), app, now, now + lifetime_s * 1000)
        key = _digest(token.value)
        owned = self._by_app[app.app_key]
        while len(owned) >= self.max_per_app:
            oldest, _ = owned.popitem(last=False)
            self._tokens.pop(oldest, None)
        self._tokens[key] = token
        owned[key] = None
        return token

    def check(self, authorization: str | None) -> Token | None:
        """The live token of an `Authorization: Bearer <token>` header (any case of `Bearer`), or None."""
        value = bearer(authorization)
        if value is None:
            return None
        token = self._tokens.get(_digest(value))
        if token is None or token.expires_at <= self.clock():
            return None
        return token

    def __len__(self) -> int:
        return len(self._tokens)

    def _drop_expired(self, now: int) -> None:
        for key in [k for k, t in self._tokens.items() if t.expires_at <= now]:
            token = self._tokens.pop(key)
            self._by_app[token.app.app_key].pop(key, None)
