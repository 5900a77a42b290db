"""Record value -> one row change: JSON decoding and the Debezium envelope rules.

Accepted shapes: a Debezium envelope with or without the JsonConverter `{schema, payload}` wrapper;
a row already flattened by `ExtractNewRecordState` (optional `__op`, `__table`, `__ts_ms`,
`__deleted` metadata fields); MongoDB's `after` as an extended-JSON string. Ops `c`, `r` and `u`
map (a snapshot read or an update is an upsert of the same event); `d`, a tombstone (null value)
and the no-row ops `t`/`m` are skips with a reason. Every other problem is a dead letter.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

import orjson

from pipelines.records import Change, DeadLetter, Skipped

MAPPED_OPS: Final = frozenset({"c", "r", "u"})
# Ops that carry no row to map: a delete, a truncate, a logical-decoding message.
_SKIPPED_OPS: Final = {"d": "delete", "t": "truncate", "m": "message"}
# Flattened rows carry no op unless `add.fields=op`; all mapped ops are upserts, so `c` is neutral.
_FLAT_DEFAULT_OP: Final = "c"
_TOMBSTONE: Final = Skipped("tombstone")


def decode_value(value: bytes | str | dict[str, Any] | None) -> dict[str, Any] | Skipped | DeadLetter:
    """The record value as a JSON object. Empty or null values are tombstones."""
    kind = type(value)
    if kind is bytes or kind is str or isinstance(value, bytes | bytearray | memoryview | str):
        if not value:
            return _TOMBSTONE
        try:
            obj = orjson.loads(value)  # type: ignore[arg-type]
        except orjson.JSONDecodeError as exc:
            return _decode_failure(value, exc)  # type: ignore[arg-type]
    elif kind is dict or isinstance(value, dict):
        return value  # type: ignore[return-value]
    elif value is None:
        return _TOMBSTONE
    else:
        return DeadLetter("decode", "unsupported_value_type", f"value is a {type(value).__name__}")
    if type(obj) is dict:
        return obj
    if obj is None:
        return _TOMBSTONE
    return DeadLetter("decode", "value_not_object", f"value is a JSON {type(obj).__name__}")


def _decode_failure(value: bytes | bytearray | memoryview | str, exc: Exception) -> DeadLetter:
    if not isinstance(value, str):
        try:
            bytes(value).decode("utf-8")
        except UnicodeDecodeError as bad:
            return DeadLetter("decode", "undecodable_bytes", f"value is not UTF-8: {bad}")
    return DeadLetter("decode", "invalid_json", str(exc))


def open_envelope(obj: dict[str, Any], source: str, headers: Mapping[str, str]) -> Change | Skipped | DeadLetter:
    """The row change inside a decoded value (see the module docstring)."""
    if "payload" in obj and "schema" in obj:
        obj = obj["payload"]
        if obj is None:
            return _TOMBSTONE
        if not isinstance(obj, dict):
            return DeadLetter("envelope", "payload_not_object", "`payload` is not a JSON object")
    if "op" in obj or "after" in obj:
        return _debezium(obj, source, headers)
    return _flattened(obj, source, headers)


def _check_op(op: Any) -> str | Skipped | DeadLetter:
    if op in MAPPED_OPS:
        return str(op)
    if op is None:
        return DeadLetter("envelope", "missing_op", "the envelope has no `op`")
    if isinstance(op, str) and op in _SKIPPED_OPS:
        return Skipped(_SKIPPED_OPS[op])
    return DeadLetter("envelope", "unknown_op", f"unknown op {op!r}")


def _debezium(obj: dict[str, Any], source: str, headers: Mapping[str, str]) -> Change | Skipped | DeadLetter:
    op = obj.get("op")
    if op != "c" and op != "u" and op != "r":  # three compares beat a set lookup on the hot path
        checked = _check_op(op)
        if not isinstance(checked, str):
            return checked
    after = obj.get("after")
    if type(after) is str:
        try:
            after = orjson.loads(after)
        except orjson.JSONDecodeError:
            return DeadLetter("envelope", "after_unparseable", f"`after` is text but not JSON ({len(after)} chars)")
    if type(after) is not dict:
        if after is None:
            return DeadLetter("envelope", "missing_after", f"op {op!r} without an `after` row")
        if not isinstance(after, dict):
            return DeadLetter("envelope", "after_not_object", f"`after` is a JSON {type(after).__name__}")
    table = None
    meta = obj.get("source")
    if type(meta) is dict:
        table = meta.get("table")
        if type(table) is not str or not table or table[0] == " " or table[-1] == " ":  # else: clean, use it
            table = _name(table) or _name(meta.get("collection"))
    ts_ms = obj.get("ts_ms")
    if type(ts_ms) is not int:
        ts_ms = _millis(ts_ms)
    return Change(source, op, after, table, ts_ms, headers)  # type: ignore[arg-type]


def _flattened(row: dict[str, Any], source: str, headers: Mapping[str, str]) -> Change | Skipped | DeadLetter:
    if not any(key.startswith("__") for key in row):
        return Change(source, _FLAT_DEFAULT_OP, row, None, None, headers)
    meta = {k: v for k, v in row.items() if k.startswith("__")}
    row = {k: v for k, v in row.items() if not k.startswith("__")}
    if meta.get("__deleted") in (True, "true"):
        return Skipped("delete")
    op = _check_op(meta.get("__op", _FLAT_DEFAULT_OP))
    if not isinstance(op, str):
        return op
    table = _name(meta.get("__table")) or _name(meta.get("__collection"))
    ts_ms = _millis(meta.get("__ts_ms"))
    if ts_ms is None:
        ts_ms = _millis(meta.get("__source_ts_ms"))
    return Change(source, op, row, table, ts_ms, headers)


def _name(value: Any) -> str | None:
    if isinstance(value, str):
        value = value.strip()
        return value or None
    return None


def _millis(value: Any) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        return int(value)
    except (OverflowError, ValueError):  # inf / nan
        return None
