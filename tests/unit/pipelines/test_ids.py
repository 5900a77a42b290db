from __future__ import annotations

import hashlib
import uuid

from pipelines.ids import hashed_event_id, name_uuid, row_hash, tool_event_id


def test_same_as_java_name_uuid_from_bytes() -> None:
    for name in [
        "fleet_activities_id_4211",
        "meshcentral_events_id_6740a1f2c3b4d5e6f7a8b9c0",
        "rmm_events_id_x:m",
        "é",
    ]:
        expected = uuid.UUID(bytes=hashlib.md5(name.encode()).digest(), version=3)
        assert name_uuid(name) == str(expected)
        assert uuid.UUID(name_uuid(name)).version == 3


def test_not_uuid3_with_a_namespace() -> None:
    assert tool_event_id("fleet", "activities", "1") != str(uuid.uuid3(uuid.NAMESPACE_DNS, "fleet_activities_id_1"))


def test_known_value() -> None:
    # Java: UUID.nameUUIDFromBytes("fleet_activities_id_4211".getBytes()).toString()
    assert tool_event_id("fleet", "activities", "4211") == "c350323a-7c69-3ca1-aba4-524edf3aaaab"


def test_row_hash_is_order_independent_and_content_sensitive() -> None:
    assert row_hash({"a": 1, "b": [1, 2]}) == row_hash({"b": [1, 2], "a": 1})
    assert row_hash({"a": 1}) != row_hash({"a": 2})
    assert hashed_event_id("fleet", "t", {"a": 1}) != hashed_event_id("fleet", "u", {"a": 1})
