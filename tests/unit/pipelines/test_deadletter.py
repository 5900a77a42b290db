"""The dead-letter record: what failed, where, why, and the original key/value/headers byte for byte."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipelines.deadletter import DLQ_VERSION, build, original_bytes


def letter(**overrides: Any) -> dict[str, Any]:
    args: dict[str, Any] = {
        "stage": "map",
        "reason": "missing_timestamp",
        "detail": "no parseable tool time",
        "topic": "fleet.activities.events",
        "partition": 3,
        "offset": 1234,
        "key": b"101",
        "value": b'{"op": "c"}',
        "headers": {"message-type": "fleet.activities"},
        "failed_at_ms": 1_763_630_151_456,
        "component": "normalize",
    }
    args.update(overrides)
    record: dict[str, Any] = orjson.loads(build(**args))
    return record


def test_record_names_stage_reason_component_time_and_source() -> None:
    record = letter()
    assert {k: record[k] for k in ("version", "stage", "reason", "detail", "component", "failedAt", "source")} == {
        "version": DLQ_VERSION,
        "stage": "map",
        "reason": "missing_timestamp",
        "detail": "no parseable tool time",
        "component": "normalize",
        "failedAt": 1_763_630_151_456,
        "source": {"topic": "fleet.activities.events", "partition": 3, "offset": 1234},
    }


def test_utf8_originals_are_kept_as_readable_text() -> None:
    original = letter()["original"]
    assert original == {
        "key": "101",
        "keyEncoding": "utf8",
        "value": '{"op": "c"}',
        "valueEncoding": "utf8",
        "headers": {"message-type": "fleet.activities"},
    }


def test_non_utf8_originals_are_base64_and_come_back_exactly() -> None:
    raw = b"\xff\xfe\x00binary\x80"
    record = letter(key=b"\xc3\x28", value=raw)
    assert record["original"]["keyEncoding"] == record["original"]["valueEncoding"] == "base64"
    assert original_bytes(record) == (b"\xc3\x28", raw, {"message-type": "fleet.activities"}, "fleet.activities.events")


def test_missing_key_and_tombstone_value_stay_none_not_empty() -> None:
    record = letter(key=None, value=None, headers={})
    assert record["original"]["keyEncoding"] == record["original"]["valueEncoding"] == "none"
    assert original_bytes(record) == (None, None, {}, "fleet.activities.events")


def test_empty_bytes_stay_empty_bytes() -> None:
    assert original_bytes(letter(key=b"", value=b""))[:2] == (b"", b"")


def test_text_originals_come_back_as_their_utf8_bytes() -> None:
    record = letter(key="clé", value="ünïcode ✓")
    assert original_bytes(record)[:2] == ("clé".encode(), "ünïcode ✓".encode())


def test_detail_is_capped() -> None:
    record = letter(detail="x" * 5000)
    assert record["detail"] == "x" * 2000


def test_headers_are_copied_not_shared() -> None:
    record = letter()
    _, _, headers, _ = original_bytes(record)
    headers["message-type"] = "changed"
    assert original_bytes(record)[2] == {"message-type": "fleet.activities"}


@pytest.mark.parametrize("value", [b"\x00", b"\\u0000", b'"quoted"', b"\n\t\r", "\u2028".encode()])
def test_awkward_but_valid_utf8_round_trips(value: bytes) -> None:
    assert original_bytes(letter(value=value))[1] == value


maybe_bytes = st.one_of(st.none(), st.binary(max_size=64), st.text(max_size=16).map(str.encode))


@settings(max_examples=300, deadline=None)
@given(
    key=maybe_bytes,
    value=maybe_bytes,
    headers=st.dictionaries(st.text(max_size=8), st.text(max_size=16), max_size=4),
    topic=st.text(min_size=1, max_size=20),
)
def test_property_original_bytes_round_trip_exactly(
    key: bytes | None, value: bytes | None, headers: dict[str, str], topic: str
) -> None:
    record = orjson.loads(
        build(
            stage="decode",
            reason="r",
            detail="d",
            topic=topic,
            partition=0,
            offset=0,
            key=key,
            value=value,
            headers=headers,
            failed_at_ms=0,
            component="c",
        )
    )
    assert original_bytes(record) == (key, value, headers, topic)
