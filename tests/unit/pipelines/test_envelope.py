from __future__ import annotations

import orjson
import pytest

from pipelines.envelope import decode_value, open_envelope
from pipelines.records import Change, DeadLetter, Skipped


@pytest.mark.parametrize("value", [None, b"", "", b"null", "null", bytearray(b"null")])
def test_tombstones(value: object) -> None:
    assert decode_value(value) == Skipped("tombstone")  # type: ignore[arg-type]


def test_undecodable_bytes() -> None:
    out = decode_value(b'{"a": "\xff\xfe"}')
    assert isinstance(out, DeadLetter)
    assert (out.stage, out.reason) == ("decode", "undecodable_bytes")


def test_invalid_json_and_non_objects() -> None:
    out = decode_value(b'{"op": ')
    assert isinstance(out, DeadLetter) and out.reason == "invalid_json"
    for raw in (b"[1]", b"12", b'"text"', b"true"):
        out = decode_value(raw)
        assert isinstance(out, DeadLetter) and (out.stage, out.reason) == ("decode", "value_not_object")
    out = decode_value(12)  # type: ignore[arg-type]
    assert isinstance(out, DeadLetter) and out.reason == "unsupported_value_type"


def test_bytes_str_and_dict_decode_alike() -> None:
    obj = {"op": "c", "after": {"id": 1}}
    assert decode_value(orjson.dumps(obj)) == decode_value(orjson.dumps(obj).decode()) == decode_value(obj) == obj


def test_wrapped_and_plain_envelopes_give_the_same_change() -> None:
    payload = {"op": "u", "ts_ms": 5, "after": {"id": 1}, "source": {"table": " activities "}}
    plain = open_envelope(payload, "s", {})
    wrapped = open_envelope({"schema": {}, "payload": payload}, "s", {})
    assert plain == wrapped == Change("s", "u", {"id": 1}, "activities", 5, {})


def test_collection_is_the_table_for_mongodb() -> None:
    change = open_envelope({"op": "c", "after": '{"_id": 1}', "source": {"collection": "events"}}, "s", {})
    assert isinstance(change, Change) and change.table == "events" and change.row == {"_id": 1}


@pytest.mark.parametrize(("op", "reason"), [("d", "delete"), ("t", "truncate"), ("m", "message")])
def test_row_less_ops_are_skips(op: str, reason: str) -> None:
    assert open_envelope({"op": op, "after": None}, "s", {}) == Skipped(reason)


@pytest.mark.parametrize(
    ("obj", "reason"),
    [
        ({"after": {"id": 1}}, "missing_op"),
        ({"op": "z", "after": {"id": 1}}, "unknown_op"),
        ({"op": 1, "after": {"id": 1}}, "unknown_op"),
        ({"op": "c", "after": None}, "missing_after"),
        ({"op": "c", "after": "{not json"}, "after_unparseable"),
        ({"op": "c", "after": "[1]"}, "after_not_object"),
        ({"op": "c", "after": 3}, "after_not_object"),
        ({"schema": {}, "payload": [1]}, "payload_not_object"),
    ],
)
def test_bad_envelopes(obj: dict[str, object], reason: str) -> None:
    out = open_envelope(obj, "s", {})
    assert isinstance(out, DeadLetter) and (out.stage, out.reason) == ("envelope", reason)


def test_flattened_metadata_is_read_and_removed() -> None:
    row = {"id": 1, "__op": "r", "__table": "t", "__source_ts_ms": 9}
    assert open_envelope(row, "s", {}) == Change("s", "r", {"id": 1}, "t", 9, {})
    assert open_envelope({"id": 1}, "s", {}) == Change("s", "c", {"id": 1}, None, None, {})
    assert open_envelope({"id": 1, "__deleted": True}, "s", {}) == Skipped("delete")


def test_garbage_ts_ms_is_ignored() -> None:
    for ts in ("123", float("inf"), True, None):
        change = open_envelope({"op": "c", "after": {}, "ts_ms": ts}, "s", {})
        assert isinstance(change, Change) and change.ts_ms is None
