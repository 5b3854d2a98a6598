"""API Fabric: `POST /apigovernance/api/oauth/tokenByAkSk`, the Bearer token of the DataProcess interfaces."""

from __future__ import annotations

import logging

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ccdata.api import http
from ccdata.api.auth.apifabric import Tokens
from ccdata.api.auth.throttle import FailureLock, RateLimiter
from ccdata.api.inputs import InvalidParameter, ascii_int, json_object, string
from ccdata.service import Service

DEFAULT_EXPIRE_S = 600  # the reference's example value of X-Token-Expire
LOCKED = "too many wrong app secrets from this address; try again later"
log = logging.getLogger("ccdata.security")


def routes(service: Service, tokens: Tokens) -> list[Route]:
    settings = service.config.dataprocess
    limits = service.config.limits
    rate = RateLimiter(limits.token_rate_per_s, limits.token_burst)
    lockout = FailureLock(limits.token_failures_per_address, limits.failure_window_s, limits.lock_s)

    async def token_by_ak_sk(request: Request) -> Response:
        address = http.client_address(request)
        if locked := lockout.locked_for(address):
            return http.too_many_requests(request, locked, LOCKED)
        if wait := rate.take(("address", address)):
            return http.too_many_requests(request, wait)
        try:
            body = json_object(await http.read_body(request, service.config.server.max_body_bytes))
            app_key = string(body, "app_key", 128)
            app_secret = string(body, "app_secret", 256)
            expire = _expire(request.headers.get("x-token-expire"), settings.max_token_expire_s)
        except http.BodyTooLarge as exc:
            return http.spring_error(request, 413, "Payload Too Large", str(exc))
        except InvalidParameter as exc:
            return http.spring_error(request, 400, "Bad Request", str(exc))
        if wait := rate.take(("app", app_key)):
            return http.too_many_requests(request, wait)
        token = tokens.issue(app_key or "", app_secret or "", expire)
        if token is None:
            if lockout.fail(address):
                log.warning("tokenByAkSk: address %s locked for %d s after wrong app secrets", address, limits.lock_s)
            return http.spring_error(request, 401, "Unauthorized", "unknown app_key or wrong app_secret")
        lockout.succeed(address)
        return http.json(
            {
                "AccessToken": token.value,
                "ApplyType": "Bearer",
                "CreateTime": str(token.created_at // 1000),
                "Expires": str(expire),
                "Scope": "",
                "AppKey": token.app.app_key,
                "UserID": "Anonymous",
            }
        )

    return [Route("/apigovernance/api/oauth/tokenByAkSk", token_by_ak_sk, methods=["POST"])]


def _expire(header: str | None, maximum: int) -> int:
    if header is None or not header.strip():
        return min(DEFAULT_EXPIRE_S, maximum)
    message = f"X-Token-Expire must be a number of seconds from 1 to {maximum}"
    try:
        value = ascii_int(header.strip(), "X-Token-Expire", max_digits=5)
    except InvalidParameter:
        raise InvalidParameter(message) from None
    if not 1 <= value <= maximum:
        raise InvalidParameter(message)
    return value
