"""MongoDB extended JSON, just the parts CDC records use: `$oid`, `$date`, `$numberLong` & co.

Debezium's MongoDB connector writes `after` as a JSON *string* in relaxed or canonical extended
JSON, so values such as `{"$oid": "..."}` or `{"$date": {"$numberLong": "..."}}` appear in rows.
"""

from __future__ import annotations

from typing import Any

import orjson

_NUMBER_WRAPPERS = ("$numberLong", "$numberInt", "$numberDouble", "$numberDecimal")


def parse_text(text: str | bytes) -> Any:
    """Parse JSON text (extended JSON is plain JSON syntax). Raises `orjson.JSONDecodeError`."""
    return orjson.loads(text)


def unwrap_number(value: Any) -> Any:
    """`{"$numberLong": "12"}` -> 12 (int or float); anything else is returned unchanged."""
    if isinstance(value, dict) and len(value) == 1:
        for key in _NUMBER_WRAPPERS:
            if key in value:
                raw = value[key]
                if isinstance(raw, str):
                    try:
                        return int(raw)
                    except ValueError:
                        try:
                            return float(raw)
                        except ValueError:
                            return None
                return raw
    return value


def object_id(value: Any) -> str | None:
    """The id text of `_id`: `{"$oid": "..."}` -> its hex string; a plain scalar -> its text."""
    if isinstance(value, dict):
        oid = value.get("$oid")
        if isinstance(oid, str) and oid.strip():
            return oid
        value = unwrap_number(value)
        if isinstance(value, dict | list):
            return None
    if value is None or isinstance(value, bool):
        return None
    text = str(value)
    return text if text.strip() else None


def date_value(value: Any) -> Any:
    """`{"$date": x}` -> x (a number, an ISO string or `{"$numberLong": ...}`, unwrapped)."""
    if isinstance(value, dict) and "$date" in value:
        return unwrap_number(value["$date"])
    return value
