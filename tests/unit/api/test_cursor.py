"""Opaque cursors: round trip, and every malformed or foreign cursor is a CursorError (a 400)."""

from __future__ import annotations

import base64
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from api.cursor import CursorError, LogCursor, TimelineCursor
from api.query.logs import SORT_FIELDS, Keyset

PRINTABLE = st.characters(blacklist_categories=["Cc"])


@given(
    field=st.sampled_from(SORT_FIELDS), direction=st.sampled_from(["ASC", "DESC"]),
    way=st.sampled_from(["after", "before"]),
    number=st.integers(-(2**63), 2**63 - 1), text=st.text(PRINTABLE, max_size=100),
    event_id=st.text(PRINTABLE, min_size=1, max_size=100),
)
def test_log_cursor_round_trips(field: str, direction: str, way: str, number: int, text: str, event_id: str) -> None:
    value = number if field == "eventTimestamp" else text
    cursor = LogCursor(way, field, direction, Keyset(value, event_id), "fp")  # type: ignore[arg-type]
    token = cursor.encode()
    assert token.isascii() and "=" not in token and "+" not in token
    assert LogCursor.decode(token) == cursor


def _token(payload: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")


GOOD = {"w": "a", "f": "eventTimestamp", "d": "D", "v": 5, "i": "x", "h": "fp"}


@pytest.mark.parametrize("token", [
    "", "!!!", "x" * 3000, base64.urlsafe_b64encode(b"\xff\xfe").decode(), _token([1, 2]),
    _token(GOOD | {"w": "z"}), _token(GOOD | {"f": "message"}), _token(GOOD | {"d": "X"}),
    _token(GOOD | {"v": "5"}), _token(GOOD | {"v": True}), _token(GOOD | {"v": 2**64}),
    _token(GOOD | {"f": "severity", "v": 3}), _token(GOOD | {"i": None}),
    _token({k: v for k, v in GOOD.items() if k != "h"}),
])
def test_malformed_log_cursors_are_refused(token: str) -> None:
    with pytest.raises(CursorError):
        LogCursor.decode(token)


def test_a_cursor_is_bound_to_its_sort_and_filters() -> None:
    cursor = LogCursor.decode(_token(GOOD))
    cursor.check("eventTimestamp", "DESC", "fp")
    for args in (("severity", "DESC", "fp"), ("eventTimestamp", "ASC", "fp"), ("eventTimestamp", "DESC", "other")):
        with pytest.raises(CursorError):
            cursor.check(*args)


def test_timeline_cursor_round_trips_and_checks_its_month() -> None:
    c = TimelineCursor("2026-11", 1_795_000_000_000, "e1", "fp")
    assert TimelineCursor.decode(c.encode()) == c
    for bad in ({"m": "2026-13", "t": 1, "i": "e", "h": "f"}, {"m": "26-11", "t": 1, "i": "e", "h": "f"},
                {"m": "2026-11", "t": -1, "i": "e", "h": "f"}, {"m": "2026-11", "t": 1.5, "i": "e", "h": "f"}):
        with pytest.raises(CursorError):
            TimelineCursor.decode(_token(bad))


def test_control_characters_in_a_cursor_are_refused() -> None:
    for bad in (GOOD | {"i": "a\x00b"}, GOOD | {"f": "deviceId", "v": "x\ny"}, GOOD | {"h": "\x7f"}):
        with pytest.raises(CursorError):
            LogCursor.decode(_token(bad))
