"""Reference records (Debezium MongoDB format): creates, updates, deletes, tombstones and bad input."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from pipelines.reference import Kind, RefChange, ReferenceError, connection_key, newer_connection, parse

OID = "665f1c2ab3e4d5f6a7b8c9d0"
MS = 1_763_630_151_456


def envelope(after: Any = None, *, op: str = "r", before: Any = None, as_text: bool = True) -> dict[str, Any]:
    """What Debezium's MongoDB connector (or `reference sync`) writes: `after` as extended JSON text."""

    def text(doc: Any) -> Any:
        return orjson.dumps(doc).decode() if as_text and isinstance(doc, dict) else doc

    return {"op": op, "ts_ms": MS, "before": text(before), "after": text(after), "source": {"collection": "x"}}


def value(body: dict[str, Any], *, with_schema: bool = False) -> bytes:
    return orjson.dumps({"schema": {"type": "struct"}, "payload": body} if with_schema else body)


MACHINE = {
    "_id": {"$oid": OID},
    "machineId": "m-ws07",
    "hostname": "WS-ACCT-07",
    "organizationId": {"$oid": OID},
    "tenantId": "oss",
}


@pytest.mark.parametrize("with_schema", [False, True])
@pytest.mark.parametrize("op", ["r", "c", "u"])
def test_machine_document_becomes_a_row_keyed_by_machine_id(op: str, with_schema: bool) -> None:
    change = parse("machines", b"m-ws07", value(envelope(MACHINE, op=op), with_schema=with_schema))
    assert change == RefChange(
        "machines",
        "m-ws07",
        {"machineId": "m-ws07", "hostname": "WS-ACCT-07", "organizationId": OID, "tenantId": "oss"},
    )


def test_after_may_be_a_document_instead_of_text() -> None:
    change = parse("machines", None, value(envelope(MACHINE, as_text=False)))
    assert change.key == "m-ws07" and change.row is not None and change.row["organizationId"] == OID


def test_object_id_and_number_wrappers_become_text() -> None:
    doc = {"organizationId": {"$oid": OID}, "name": "Acme", "tenantId": {"$numberLong": "42"}}
    change = parse("organizations", "ignored", value(envelope(doc)))
    assert change == RefChange("organizations", OID, {"organizationId": OID, "name": "Acme", "tenantId": "42"})


def test_the_key_comes_from_the_document_not_the_record_key() -> None:
    change = parse("machines", b"some-other-key", value(envelope(MACHINE)))
    assert change.key == "m-ws07"


@pytest.mark.parametrize(
    "connected",
    [{"$date": MS}, {"$date": {"$numberLong": str(MS)}}, "2025-11-20T09:15:51.456Z", MS],
)
def test_tool_connection_row_upper_cases_the_tool_and_reads_connected_at(connected: Any) -> None:
    doc = {"machineId": "m-ws07", "toolType": "fleet", "agentToolId": 31, "connectedAt": connected, "tenantId": "oss"}
    change = parse("tool_connections", None, value(envelope(doc)))
    assert change == RefChange(
        "tool_connections",
        "FLEET:31",
        {"machineId": "m-ws07", "toolType": "FLEET", "agentToolId": "31", "connectedAt": MS, "tenantId": "oss"},
    )


def test_tool_connection_without_a_time_has_connected_at_none() -> None:
    doc = {"machineId": "m-1", "toolType": "TACTICAL", "agentToolId": "abc"}
    change = parse("tool_connections", None, value(envelope(doc)))
    assert change.row is not None and change.row["connectedAt"] is None


@pytest.mark.parametrize("key", [b"m-ws07", "m-ws07"])
def test_tombstone_deletes_the_row_named_by_the_record_key(key: bytes | str) -> None:
    assert parse("machines", key, None) == RefChange("machines", "m-ws07", None)


@pytest.mark.parametrize("key", [None, b"", ""])
def test_tombstone_without_key_is_a_reference_error(key: bytes | str | None) -> None:
    with pytest.raises(ReferenceError) as caught:
        parse("organizations", key, None)
    assert caught.value.reason == "tombstone_without_key"


@pytest.mark.parametrize("as_text", [True, False])
def test_delete_with_pre_image_names_the_row_from_the_before_document(as_text: bool) -> None:
    doc = {"machineId": "m-1", "toolType": "meshcentral", "agentToolId": "node//mesh-1"}
    body = envelope(None, op="d", before=doc, as_text=as_text)
    assert parse("tool_connections", b"unrelated", value(body)) == RefChange(
        "tool_connections", "MESHCENTRAL:node//mesh-1", None
    )


@pytest.mark.parametrize("op", ["d", "u"])
def test_delete_without_pre_image_falls_back_to_the_record_key(op: str) -> None:
    """op d, or an envelope whose `after` is null, both mean the document is gone."""
    assert parse("machines", b"m-ws07", value(envelope(None, op=op))) == RefChange("machines", "m-ws07", None)


def test_delete_with_after_still_set_is_a_delete() -> None:
    body = envelope(MACHINE, op="d", before=MACHINE)
    assert parse("machines", None, value(body)) == RefChange("machines", "m-ws07", None)


def test_delete_without_pre_image_or_key_is_a_reference_error() -> None:
    with pytest.raises(ReferenceError) as caught:
        parse("machines", None, value(envelope(None, op="d")))
    assert caught.value.reason == "delete_without_key"


@pytest.mark.parametrize(
    ("kind", "raw", "reason"),
    [
        ("machines", b"{not json", "undecodable_value"),
        ("machines", b"\xff\xfe", "undecodable_value"),
        ("machines", b"[1, 2]", "value_not_object"),
        ("machines", b'"text"', "value_not_object"),
        ("machines", value(envelope('["a", "list"]')), "after_unparseable"),
        ("machines", value(envelope(7)), "after_unparseable"),
        ("machines", value(envelope({"hostname": "no id"})), "missing_field"),
        ("organizations", value(envelope({"name": "no id"})), "missing_field"),
        ("tool_connections", value(envelope({"machineId": "m", "toolType": "FLEET"})), "missing_field"),
        ("tool_connections", value(envelope({"machineId": "m", "agentToolId": "31"})), "missing_field"),
        ("machines", value(envelope(None, op="d", before={"hostname": "no id"})), "missing_field"),
    ],
)
def test_unreadable_records_raise_reference_error_with_a_reason(kind: Kind, raw: bytes, reason: str) -> None:
    with pytest.raises(ReferenceError) as caught:
        parse(kind, b"k", raw)
    assert caught.value.reason == reason
    assert str(caught.value).startswith(reason)


@pytest.mark.parametrize(
    "body", [envelope("{truncated", op="c"), envelope(None, op="d", before="{truncated")], ids=["after", "before"]
)
def test_after_or_before_that_is_not_json_text_is_a_reference_error(body: dict[str, Any]) -> None:
    with pytest.raises(ReferenceError):
        parse("machines", b"m-1", value(body))


@pytest.mark.parametrize("payload", [None, 5, "text"])
def test_payload_that_is_not_an_object_is_a_reference_error(payload: Any) -> None:
    with pytest.raises(ReferenceError):
        parse("machines", b"m-1", orjson.dumps({"schema": {}, "payload": payload}))


def test_delete_of_a_document_names_the_same_key_as_its_create() -> None:
    doc = {"organizationId": {"$oid": OID}, "name": "Acme"}
    created = parse("organizations", None, value(envelope(doc, op="c")))
    deleted = parse("organizations", None, value(envelope(None, op="d", before=doc)))
    assert deleted.key == created.key == OID


def test_connection_key_upper_cases_the_tool() -> None:
    assert connection_key("fleet", "31") == "FLEET:31"
    assert connection_key("MeshCentral", "node//x") == "MESHCENTRAL:node//x"


def conn(at: int | None) -> dict[str, Any]:
    return {"machineId": "m", "connectedAt": at}


@pytest.mark.parametrize(
    ("current", "candidate", "wins"),
    [
        (None, conn(5), True),
        (None, conn(None), True),
        (conn(5), conn(6), True),
        (conn(5), conn(5), True),  # a re-sent row (same time) still replaces
        (conn(6), conn(5), False),
        (conn(5), conn(None), False),  # a row without time never replaces one with a time
        (conn(None), conn(None), True),
        (conn(None), conn(5), True),
    ],
)
def test_newer_connection_latest_connected_at_wins(
    current: dict[str, Any] | None, candidate: dict[str, Any], wins: bool
) -> None:
    assert newer_connection(current, candidate) is wins
