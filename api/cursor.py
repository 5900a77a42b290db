"""Opaque keyset cursors: url-safe base64 of compact JSON. They carry a position, never a tenant; the
tenant always comes from the credential. A cursor is bound to the sort and filters it was made for,
so reusing it with others is a 400, not a silently wrong page."""

from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass
from typing import Any, Literal

from api.query.logs import SORT_FIELDS, Direction, Keyset, SortField

Way = Literal["after", "before"]
_MAX_CURSOR = 2048
_MAX_TEXT = 512
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")  # no store value has them; the query layer refuses them too


class CursorError(ValueError):
    """The cursor is malformed, forged into nonsense, or was made for another query."""


def _encode(payload: dict[str, Any]) -> str:
    raw = json.dumps(payload, separators=(",", ":"), sort_keys=True).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode(token: str) -> dict[str, Any]:
    if not token or len(token) > _MAX_CURSOR:
        raise CursorError("cursor is empty or too long")
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        payload = json.loads(raw)
    except (binascii.Error, ValueError, UnicodeDecodeError) as exc:
        raise CursorError("cursor is not valid") from exc
    if not isinstance(payload, dict):
        raise CursorError("cursor is not valid")
    return payload


def _text(value: Any) -> str:
    if not isinstance(value, str) or len(value) > _MAX_TEXT or _CONTROL.search(value):
        raise CursorError("cursor is not valid")
    return value


@dataclass(frozen=True)
class LogCursor:
    way: Way  # "after": the page after `keyset`; "before": the page before it
    sort_field: SortField
    direction: Direction
    keyset: Keyset
    fingerprint: str

    def encode(self) -> str:
        return _encode({"w": self.way[0], "f": self.sort_field, "d": self.direction[0], "v": self.keyset.value,
                        "i": self.keyset.tool_event_id, "h": self.fingerprint})

    @classmethod
    def decode(cls, token: str) -> LogCursor:
        p = _decode(token)
        way = {"a": "after", "b": "before"}.get(p.get("w"))  # type: ignore[arg-type]
        direction = {"A": "ASC", "D": "DESC"}.get(p.get("d"))  # type: ignore[arg-type]
        field = p.get("f")
        value = p.get("v")
        if way is None or direction is None or field not in SORT_FIELDS:
            raise CursorError("cursor is not valid")
        if field == "eventTimestamp":
            if isinstance(value, bool) or not isinstance(value, int) or not -(2**63) <= value < 2**63:
                raise CursorError("cursor is not valid")
        else:
            value = _text(value)
        return cls(way, field, direction, Keyset(value, _text(p.get("i"))), _text(p.get("h")))  # type: ignore[arg-type]

    def check(self, sort_field: str, direction: str, fingerprint: str) -> None:
        if (self.sort_field, self.direction, self.fingerprint) != (sort_field, direction, fingerprint):
            raise CursorError("cursor was made for another sort or other filters")


@dataclass(frozen=True)
class TimelineCursor:
    month: str
    event_ms: int
    tool_event_id: str
    fingerprint: str  # of tenant and device

    def encode(self) -> str:
        return _encode({"m": self.month, "t": self.event_ms, "i": self.tool_event_id, "h": self.fingerprint})

    @classmethod
    def decode(cls, token: str) -> TimelineCursor:
        p = _decode(token)
        month, ms = p.get("m"), p.get("t")
        if not isinstance(month, str) or len(month) != 7 or not month[:4].isdigit() or month[4] != "-" \
                or not month[5:].isdigit() or not 1 <= int(month[5:]) <= 12:
            raise CursorError("cursor is not valid")
        if isinstance(ms, bool) or not isinstance(ms, int) or not 0 <= ms < 2**53:
            raise CursorError("cursor is not valid")
        return cls(month, ms, _text(p.get("i")), _text(p.get("h")))
