"""Lenient, precise parsing of request bodies: numbers as JSON numbers or numeric strings, ranges checked.

Every failure raises `InvalidParameter` with a message naming the field; each facade turns it into its own
documented error.
"""

from __future__ import annotations

from typing import Any

import msgspec

_decoder = msgspec.json.Decoder()


class InvalidParameter(ValueError):
    pass


def json_object(body: bytes) -> dict[str, Any]:
    if not body.strip():
        raise InvalidParameter("the request body is empty; a JSON object is expected")
    try:
        value = _decoder.decode(body)
    except msgspec.DecodeError as exc:
        raise InvalidParameter(f"the request body is not valid JSON: {exc}") from None
    if not isinstance(value, dict):
        raise InvalidParameter("the request body must be a JSON object")
    return value


def integer(body: dict[str, Any], name: str, low: int, high: int, *, required: bool = True) -> int | None:
    """A JSON integer or a string of digits, within [low, high]."""
    value = body.get(name)
    if value is None or value == "":
        if required:
            raise InvalidParameter(f"{name} is required")
        return None
    if isinstance(value, bool):
        raise InvalidParameter(f"{name} must be a number")
    if isinstance(value, str):
        text = value.strip()
        if not (text.isdigit() or (text.startswith("-") and text[1:].isdigit())):
            raise InvalidParameter(f"{name} must be a number, not {value!r}")
        value = int(text)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if not isinstance(value, int):
        raise InvalidParameter(f"{name} must be a number")
    if not low <= value <= high:
        raise InvalidParameter(f"{name} must be between {low} and {high}, not {value}")
    return value


def agent_id(body: dict[str, Any], name: str = "agentId") -> int:
    value = integer(body, name, 101, 999_999)
    assert value is not None
    check_agent_id(value, name)
    return value


def check_agent_id(value: int, name: str = "agentId") -> None:
    if not (101 <= value <= 59_999 or 70_000 <= value <= 999_999):
        raise InvalidParameter(f"{name} must be in 101-59999 or 70000-999999, not {value}")


def string(body: dict[str, Any], name: str, max_length: int, *, required: bool = True) -> str | None:
    """A string (a number is accepted and turned into its digits)."""
    value = body.get(name)
    if value is None or value == "":
        if required:
            raise InvalidParameter(f"{name} is required")
        return None
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise InvalidParameter(f"{name} must be a string")
    text = str(value)
    if len(text) > max_length:
        raise InvalidParameter(f"{name} must be at most {max_length} characters")
    return text
