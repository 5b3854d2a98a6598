"""The CC-Gateway's envelope and the request-field rules its interfaces share.

Every answer is HTTP 200 with `{message, retcode, result}`; `retcode` "0" on success, else a code of the reference
(`codes.GATEWAY_RETCODES`). CEC's own clients send booleans and numbers as JSON strings in places (`"status": "4"`,
`"holdflag": "true"`): both spellings are accepted wherever the reference types a field boolean or integer.
"""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from ccdata.api import http
from ccdata.domain import codes


def answer(
    retcode: str = "0", message: str = "", result: Any = None, headers: dict[str, str] | None = None
) -> Response:
    response = http.json({"message": message, "retcode": retcode, "result": result}, headers=headers)
    response.retcode = retcode  # type: ignore[attr-defined]  # for a facade that chains actions
    return response


def succeeded(response: Response) -> bool:
    return getattr(response, "retcode", None) == "0"


def success(result: Any = None, headers: dict[str, str] | None = None) -> Response:
    """The reference's success body: `{"result": {}, "message": "success", "retcode": "0"}` unless a result is given."""
    return answer(message="success", result={} if result is None else result, headers=headers)


def error(retcode: str, detail: str = "") -> Response:
    message = codes.GATEWAY_RETCODES.get(retcode, "")
    return answer(retcode, f"{message} {detail}".strip())


def guid_header(guid: str) -> dict[str, str]:
    """`Set-GUID` in the reference's case: Huawei's Java demo looks it up case-sensitively."""
    return {"Set-GUID": f"JSESSIONID={guid}"}


class BadField(ValueError):
    """A request field with a value the interface does not take; the message names the field."""


def flag(body: dict[str, Any], name: str, default: bool) -> bool:
    """A boolean field: JSON true/false or the strings "true"/"false" (any case)."""
    value = body.get(name)
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise BadField(f"{name} must be true or false, not {value!r}")


def integer(body: dict[str, Any], name: str, low: int, high: int, default: int | None = None) -> int | None:
    """An integer field in [low, high]: a JSON number or a string of ASCII digits."""
    value = body.get(name)
    if value is None or value == "":
        return default
    if isinstance(value, str) and value.isascii() and value.lstrip("-").isdigit() and len(value) <= 12:
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise BadField(f"{name} must be an integer in {low}-{high}, not {body.get(name)!r}")
    return value


def text(body: dict[str, Any], name: str, max_length: int, default: str = "", pattern: str | None = None) -> str:
    """A string field (a number is taken as its digits), at most `max_length` characters, optionally only of the
    characters in `pattern`."""
    value = body.get(name)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise BadField(f"{name} must be a string")
    value = str(value)
    if len(value) > max_length:
        raise BadField(f"{name} must be at most {max_length} characters")
    if pattern is not None and any(c not in pattern for c in value):
        raise BadField(f"{name} may hold only the characters {pattern!r}")
    return value


DIAL_CHARS = "0123456789*#"
