"""Reference data (machines, organizations, tool connections) from their change records.

The records are Debezium MongoDB envelopes (`after` is extended-JSON text) or tombstones, whether
Debezium CDC or `openframe-stream reference sync` produced them. Pure functions: the topology keeps
the resulting rows in Faust tables.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import orjson

from pipelines.extjson import date_value, object_id, parse_text
from pipelines.timestamps import to_epoch_ms

Kind = Literal["machines", "organizations", "tool_connections"]


@dataclass(frozen=True, slots=True)
class RefChange:
    kind: Kind
    key: str  # table key: machineId, organizationId, or "<TOOLTYPE>:<agentToolId>"
    row: dict[str, Any] | None  # None: the reference row is gone


class ReferenceError(ValueError):
    """A reference record that cannot be read (dead-letter it with this reason)."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


def connection_key(tool_type: str, agent_id: str) -> str:
    return f"{tool_type.upper()}:{agent_id}"


def parse(kind: Kind, key: bytes | str | None, value: bytes | str | None) -> RefChange:
    """One reference change. A tombstone deletes the row named by the record key."""
    key_text = key.decode("utf-8", "replace") if isinstance(key, bytes) else key
    if value is None:
        if not key_text:
            raise ReferenceError("tombstone_without_key", f"{kind}: a tombstone must name its row")
        return RefChange(kind, key_text, None)
    try:
        return _parse(kind, key_text, value)
    except ReferenceError:
        raise
    except Exception as exc:  # any malformed record is a dead letter, never a crashed agent
        raise ReferenceError("malformed_record", f"{type(exc).__name__}: {exc}") from exc


def _parse(kind: Kind, key_text: str | None, value: bytes | str) -> RefChange:
    try:
        envelope = orjson.loads(value)
    except orjson.JSONDecodeError as exc:
        raise ReferenceError("undecodable_value", str(exc)) from exc
    if not isinstance(envelope, dict):
        raise ReferenceError("value_not_object", type(envelope).__name__)
    body = envelope.get("payload", envelope)
    if not isinstance(body, dict):
        raise ReferenceError("value_not_object", f"payload is {type(body).__name__}")
    after = body.get("after")
    if body.get("op") == "d" or after is None:
        doc = body.get("before")
        if isinstance(doc, str | bytes):
            doc = _document(doc, kind)
        if isinstance(doc, dict):
            # Key the delete exactly as the create was keyed: from the normalized row.
            return RefChange(kind, _key_of(kind, _row(kind, doc)), None)
        if key_text:
            return RefChange(kind, key_text, None)
        raise ReferenceError("delete_without_key", f"{kind}: cannot tell which row was deleted")
    doc = _document(after, kind) if isinstance(after, str | bytes) else after
    if not isinstance(doc, dict):
        raise ReferenceError("after_unparseable", f"{kind}: after is not a document")
    row = _row(kind, doc)
    return RefChange(kind, _key_of(kind, row), row)


def _document(text: str | bytes, kind: Kind) -> Any:
    try:
        return parse_text(text)
    except ValueError as exc:  # orjson.JSONDecodeError is a ValueError
        raise ReferenceError("after_unparseable", f"{kind}: {exc}") from exc


def _row(kind: Kind, doc: dict[str, Any]) -> dict[str, Any]:
    def text(name: str) -> str | None:
        value = doc.get(name)
        if value is None:
            return None
        oid = object_id(value)
        return oid if oid is not None else str(value)

    if kind == "machines":
        return {
            "machineId": text("machineId"),
            "hostname": text("hostname"),
            "organizationId": text("organizationId"),
            "tenantId": text("tenantId"),
        }
    if kind == "organizations":
        return {"organizationId": text("organizationId"), "name": text("name"), "tenantId": text("tenantId")}
    connected = to_epoch_ms(date_value(doc.get("connectedAt")))
    return {
        "machineId": text("machineId"),
        "toolType": (text("toolType") or "").upper(),
        "agentToolId": text("agentToolId"),
        "connectedAt": connected,
        "tenantId": text("tenantId"),
    }


def _key_of(kind: Kind, row: dict[str, Any]) -> str:
    if kind == "machines":
        key = row.get("machineId")
    elif kind == "organizations":
        key = row.get("organizationId")
    else:
        tool, agent = row.get("toolType"), row.get("agentToolId")
        key = connection_key(str(tool), str(agent)) if tool and agent else None
    if not key:
        raise ReferenceError("missing_field", f"{kind}: the row has no key field")
    return str(key)


def newer_connection(current: dict[str, Any] | None, candidate: dict[str, Any]) -> bool:
    """The latest `connectedAt` wins; a row without a time never replaces one with a time."""
    if current is None:
        return True
    old, new = current.get("connectedAt"), candidate.get("connectedAt")
    if new is None:
        return old is None
    return old is None or new >= old
