"""Small, total field readers shared by the mappers: they never raise on odd input types.

`text` mirrors how the reference read fields (Jackson `asText` plus "not blank"), so ids and
messages built from numbers or booleans come out the same as there.
"""

from __future__ import annotations

from typing import Any

import orjson


def text(value: Any) -> str | None:
    """A scalar as non-blank text: 42 -> "42", True -> "true", "" / None / containers -> None."""
    kind = type(value)  # exact-type checks first: this runs several times per event
    if kind is str:
        return value if value and not value.isspace() else None
    if kind is int:
        return str(value)
    if value is None or kind is dict or kind is list:
        return None
    if kind is bool:
        return "true" if value else "false"
    if isinstance(value, str):
        return value if value and not value.isspace() else None
    if isinstance(value, dict | list):
        return None
    return str(value)


def json_value(value: Any) -> Any:
    """Text holding JSON -> the parsed value; text that is not JSON, or any other value, as is."""
    if isinstance(value, str):
        try:
            return orjson.loads(value)
        except orjson.JSONDecodeError:
            return value
    return value


def json_object(value: Any) -> dict[str, Any] | None:
    """A JSON object given as an object or as JSON text; None for anything else."""
    if isinstance(value, str):
        if not value.startswith("{"):
            return None
        try:
            value = orjson.loads(value)
        except orjson.JSONDecodeError:
            return None
    return value if isinstance(value, dict) else None


def truthy(value: Any) -> bool:
    """Jackson-style boolean: true, non-zero numbers and the text "true" (any case)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return value != 0
    if isinstance(value, str):
        return value.strip().lower() == "true"
    return False


_INT64 = 2**63


def to_int(value: Any) -> int | None:
    """An integral number or numeric text as an int within 64 bits (what JSON sinks carry)."""
    if isinstance(value, bool) or value is None:
        return None
    try:
        number = int(value)
    except (TypeError, ValueError, OverflowError):
        return None
    return number if -_INT64 <= number < _INT64 else None


def int_or_text(value: str) -> int | str:
    """ "12" -> 12; text that is not a 64-bit integer stays text (as the reference stored it)."""
    number = to_int(value)
    return value if number is None else number


def float_or_text(value: str) -> float | str:
    """ "1.5" -> 1.5; text that is not a number stays text."""
    try:
        return float(value)
    except ValueError:
        return value


def present(value: Any) -> bool:
    """Non-blank text, or a non-empty object or array."""
    if isinstance(value, dict | list):
        return bool(value)
    return text(value) is not None


def compact(items: dict[str, Any]) -> dict[str, Any] | None:
    """`items` without its None values, or None when nothing is left."""
    if None in items.values():
        items = {key: value for key, value in items.items() if value is not None}
    return items or None


def dotted(first: str | None, second: str | None) -> str:
    """`first.second`, or whichever is present, or "unknown" (the reference's source-type rule)."""
    if first is not None and second is not None:
        return f"{first}.{second}"
    return first or second or "unknown"
