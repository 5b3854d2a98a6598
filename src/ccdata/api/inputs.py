"""Lenient, precise parsing of request bodies: numbers as JSON numbers or numeric strings, ranges checked.

Every failure raises `InvalidParameter` with a message naming the field; each facade turns it into its own
documented error.
"""

from __future__ import annotations

from typing import Any

import msgspec

_decoder = msgspec.json.Decoder()


#: More digits than any number of the interfaces has (ms timestamps have 13); longer digit strings are refused
#: before `int()` sees them.
MAX_DIGITS = 19


class InvalidParameter(ValueError):
    pass


def ascii_int(text: str, name: str, max_digits: int = MAX_DIGITS) -> int:
    """An optionally signed run of ASCII digits (no Unicode digits, no `_`, no spaces inside), bounded in length."""
    digits = text[1:] if text.startswith("-") else text
    if not (digits.isascii() and digits.isdigit()):
        raise InvalidParameter(f"{name} must be a number of ASCII digits, not {_shown(text)}")
    if len(digits) > max_digits:
        raise InvalidParameter(f"{name} must have at most {max_digits} digits")
    return int(text)


def _shown(text: str, limit: int = 40) -> str:
    return repr(text if len(text) <= limit else text[:limit] + "...")


def json_value(body: bytes) -> Any:
    """Any JSON value; every way of not being one (invalid UTF-8, nesting too deep, a number out of range) is an
    InvalidParameter."""
    try:
        return _decoder.decode(body)
    except (msgspec.MsgspecError, UnicodeDecodeError) as exc:
        raise InvalidParameter(f"the request body is not valid JSON: {exc}") from None
    except RecursionError:
        raise InvalidParameter("the request body is not valid JSON: it is nested too deeply") from None


def json_object(body: bytes) -> dict[str, Any]:
    if not body.strip():
        raise InvalidParameter("the request body is empty; a JSON object is expected")
    value = json_value(body)
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
        value = ascii_int(value.strip(), name)
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**63:
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
