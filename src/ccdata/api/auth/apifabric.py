"""API Fabric tokens (`tokenByAkSk`): an app key and secret buy a Bearer token for the DataProcess interfaces."""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass

from ccdata.config import DataProcessApp


@dataclass(frozen=True)
class Token:
    value: str
    app: DataProcessApp
    created_at: int
    expires_at: int


class Tokens:
    def __init__(self, apps: list[DataProcessApp], clock: Callable[[], int]) -> None:
        self._apps = {a.app_key: a for a in apps}
        self._tokens: dict[str, Token] = {}
        self.clock = clock

    def issue(self, app_key: str, app_secret: str, lifetime_s: int) -> Token | None:
        app = self._apps.get(app_key)
        if app is None or not hmac.compare_digest(app.app_secret.encode(), app_secret.encode()):
            return None
        now = self.clock()
        self._drop_expired(now)
        token = Token(secrets.token_hex(32), app, now, now + lifetime_s * 1000)
        self._tokens[token.value] = token
        return token

    def check(self, authorization: str | None) -> Token | None:
        """The live token of an `Authorization: Bearer <token>` header, or None."""
        if not authorization or not authorization.startswith("Bearer "):
            return None
        token = self._tokens.get(authorization[len("Bearer ") :].strip())
        if token is None or token.expires_at <= self.clock():
            return None
        return token

    def _drop_expired(self, now: int) -> None:
        for value in [v for v, t in self._tokens.items() if t.expires_at <= now]:
            del self._tokens[value]
