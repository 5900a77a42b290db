"""Event time: any of the forms tools write, to epoch milliseconds, and the UTC day of it.

Accepted: ISO-8601 strings (with `Z`, an offset, or naive = UTC), epoch numbers (or numeric
strings) in seconds, milliseconds, microseconds or nanoseconds, told apart by magnitude, and
MongoDB `{"$date": ...}` / `{"$numberLong": ...}`. Anything else, or a time outside years
1..9999, is None, so the caller falls back to the envelope's ts_ms.
"""

from __future__ import annotations

import math
from datetime import UTC, date, datetime
from functools import lru_cache
from typing import Any

from pipelines.extjson import date_value, unwrap_number

_MIN_MS = -62_135_596_800_000  # 0001-01-01T00:00:00Z
_MAX_MS = 253_402_300_799_999  # 9999-12-31T23:59:59.999Z
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
_MS_PER_DAY = 86_400_000


def _from_number(value: float) -> int | None:
    if not math.isfinite(value):
        return None
    magnitude = abs(value)
    # 1e11 s is the year 5138 and 1e11 ms is 1973: below it a number can only sensibly be seconds.
    if magnitude < 1e11:
        ms = value * 1000
    elif magnitude < 1e14:
        ms = value
    elif magnitude < 1e17:
        ms = value / 1000
    else:
        ms = value / 1_000_000
    result = int(ms)
    return result if _MIN_MS <= result <= _MAX_MS else None


def _from_text(text: str) -> int | None:
    text = text.strip()
    if not text:
        return None
    first = text[0]
    if first.isdigit() or first == "-":
        try:
            return _from_number(float(text)) if _looks_numeric(text) else _from_iso(text)
        except ValueError:
            return None
    return None


def _looks_numeric(text: str) -> bool:
    # "2026-11-20" starts with a digit too; a numeric string has no '-' after the sign and no ':'.
    return "-" not in text[1:] and ":" not in text and "T" not in text


def _from_iso(text: str) -> int | None:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    try:
        result = int(moment.timestamp() * 1000)
    except (OverflowError, ValueError):
        return None
    return result if _MIN_MS <= result <= _MAX_MS else None


def to_epoch_ms(value: Any) -> int | None:
    """Epoch milliseconds of a tool time value, or None when it is not a time."""
    kind = type(value)
    if kind is str:
        # Fast path for the common `2026-11-20T09:14:03.118Z` shape; anything else goes the long way.
        if len(value) > 19 and value[4] == "-" and value[10] == "T" and value[-1] == "Z":
            try:
                moment = datetime.fromisoformat(value)
            except ValueError:
                return None
            return int(moment.timestamp() * 1000)  # a UTC time with a 4-digit year is in range
        return _from_text(value)
    if kind is int or kind is float:
        return _from_number(value)
    if kind is dict:  # fast path for MongoDB's {"$date": <epoch ms>}
        inner = value.get("$date")
        if type(inner) is int:
            return _from_number(inner)
    if value is None or kind is bool:
        return None
    if isinstance(value, str):
        return _from_text(value)
    if isinstance(value, int | float):
        return _from_number(value)
    if isinstance(value, dict):
        inner = unwrap_number(date_value(value))
        if inner is value or isinstance(inner, dict):
            return None
        return to_epoch_ms(inner)
    return None


def utc_day(epoch_ms: int) -> str:
    """`yyyy-MM-dd` of the UTC day the instant falls on."""
    return day_text(epoch_ms // _MS_PER_DAY)


@lru_cache(maxsize=1024)  # events cluster on few days: memoize the formatting of a day number
def day_text(day_number: int) -> str:
    """`yyyy-MM-dd` of a day counted from 1970-01-01."""
    return date.fromordinal(_EPOCH_ORDINAL + day_number).isoformat()
