from __future__ import annotations

from datetime import UTC, datetime

import orjson
from bson import ObjectId

from connectors.reference_docs import KEYS, after_of, digest, envelope, extended_json, latest_by_key, plan
from pipelines.envelope import decode_value, open_envelope
from pipelines.timestamps import to_epoch_ms

CONNECTED = datetime(2026, 11, 20, 9, 15, 51, 456000, tzinfo=UTC)


def test_keys_are_the_documented_plain_strings() -> None:
    assert KEYS["machines"]({"machineId": "m-1"}) == "m-1"
    assert KEYS["organizations"]({"organizationId": "o-1"}) == "o-1"
    assert KEYS["tool_connections"]({"toolType": "fleet", "agentToolId": 31}) == "FLEET:31"
    assert KEYS["tool_connections"]({"toolType": "FLEET"}) is None
    assert KEYS["machines"]({"machineId": "  "}) is None


def test_after_is_legacy_extended_json_text_like_the_recorded_envelopes() -> None:
    doc = {"_id": ObjectId("6740a1f2c3b4d5e6f7a8b9c0"), "machineId": "m-1", "connectedAt": CONNECTED}
    after = extended_json(doc)
    assert orjson.loads(after) == {
        "_id": {"$oid": "6740a1f2c3b4d5e6f7a8b9c0"},
        "machineId": "m-1",
        "connectedAt": {"$date": 1795166151456},
    }
    assert to_epoch_ms(orjson.loads(after)["connectedAt"]) == 1795166151456


def test_envelope_is_a_debezium_mongodb_snapshot_read_the_pipeline_opens() -> None:
    value = envelope("machines", extended_json({"machineId": "m-1"}), 1_700_000_000_123, "openframe", "openframe")
    obj = orjson.loads(value)
    assert obj["before"] is None and obj["op"] == "r" and obj["ts_ms"] == 1_700_000_000_123
    assert obj["source"] == {
        "connector": "mongodb",
        "name": "openframe",
        "db": "openframe",
        "collection": "machines",
        "snapshot": "true",
        "ts_ms": 1_700_000_000_123,
    }
    decoded = decode_value(value)
    assert isinstance(decoded, dict)
    change = open_envelope(decoded, "reference", {})
    assert getattr(change, "row", None) == {"machineId": "m-1"}
    assert getattr(change, "table", None) == "machines"
    assert after_of(value) == obj["after"] and after_of(None) is None and after_of(b"{}") is None


def test_the_latest_connection_wins_for_one_tool_agent() -> None:
    old = {
        "machineId": "m-old",
        "toolType": "FLEET",
        "agentToolId": "31",
        "connectedAt": datetime(2025, 1, 1, tzinfo=UTC),
    }
    new = {"machineId": "m-new", "toolType": "FLEET", "agentToolId": "31", "connectedAt": CONNECTED}
    keyless = {"machineId": "m-x", "toolType": "FLEET"}
    for order in ([old, new, keyless], [new, old, keyless]):
        chosen, skipped = latest_by_key("tool_connections", order)
        assert chosen["FLEET:31"]["machineId"] == "m-new"
        assert skipped == 1


def test_plan_sends_new_and_changed_documents_and_tombstones_removed_ones() -> None:
    docs = {"m-1": {"machineId": "m-1", "hostname": "A"}, "m-2": {"machineId": "m-2", "hostname": "B"}}
    first = plan(docs, {})
    assert sorted(p.key for p in first) == ["m-1", "m-2"] and all(p.after for p in first)
    known = {p.key: digest(p.after or "") for p in first}
    assert plan(docs, known) == []
    changed = dict(docs, **{"m-2": {"machineId": "m-2", "hostname": "B2"}})
    del changed["m-1"]
    again = plan(changed, known)
    assert [(p.key, p.after is None) for p in again] == [("m-2", False), ("m-1", True)]
