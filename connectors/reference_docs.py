"""The pure half of `reference sync`: record keys, the Debezium MongoDB envelope of a document,
and the plan of what to send given what the topic already holds (by digest per key).

The envelope is what Debezium's MongoDB connector writes for a snapshot read: `after` is the
document as extended-JSON *text* (legacy mode, as in the recorded envelopes: `{"$oid": ...}`,
`{"$date": <epoch ms>}`), `op` is `r`, and `source` names the collection.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

import orjson
from bson import json_util
from bson.json_util import JSONMode, JSONOptions

_LEGACY: Final = JSONOptions(json_mode=JSONMode.LEGACY, tz_aware=True, tzinfo=UTC)


def _text(value: Any) -> str | None:
    if isinstance(value, str):
        return value.strip() or None
    if value is None or isinstance(value, bool | dict | list):
        return None
    return str(value)


def _machine_key(doc: Mapping[str, Any]) -> str | None:
    return _text(doc.get("machineId"))


def _organization_key(doc: Mapping[str, Any]) -> str | None:
    return _text(doc.get("organizationId"))


def _connection_key(doc: Mapping[str, Any]) -> str | None:
    tool, agent = _text(doc.get("toolType")), _text(doc.get("agentToolId"))
    return f"{tool.upper()}:{agent}" if tool and agent else None


# collection -> how its record key is made (the key the compacted topic is compacted by).
KEYS: Final[dict[str, Callable[[Mapping[str, Any]], str | None]]] = {
    "machines": _machine_key,
    "organizations": _organization_key,
    "tool_connections": _connection_key,
}


def extended_json(doc: Mapping[str, Any]) -> str:
    """The document as Debezium writes `after`: extended JSON text, fields in stored order."""
    return json_util.dumps(doc, json_options=_LEGACY)


def digest(after: str) -> str:
    return hashlib.sha256(after.encode()).hexdigest()


def envelope(collection: str, after: str, ts_ms: int, source_name: str, db: str) -> bytes:
    return orjson.dumps(
        {
            "before": None,
            "after": after,
            "op": "r",
            "ts_ms": ts_ms,
            "source": {
                "connector": "mongodb",
                "name": source_name,
                "db": db,
                "collection": collection,
                "snapshot": "true",
                "ts_ms": ts_ms,
            },
        }
    )


def after_of(value: bytes | None) -> str | None:
    """The `after` text of a record this module (or Debezium) wrote; None for a tombstone/other."""
    if not value:
        return None
    try:
        obj = orjson.loads(value)
    except orjson.JSONDecodeError:
        return None
    if isinstance(obj, dict) and "payload" in obj and "schema" in obj:
        obj = obj["payload"]
    after = obj.get("after") if isinstance(obj, dict) else None
    return after if isinstance(after, str) else None


def _connected_at(doc: Mapping[str, Any]) -> float:
    value = doc.get("connectedAt")
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).timestamp()
    return float("-inf")


def latest_by_key(collection: str, docs: Iterable[Mapping[str, Any]]) -> tuple[dict[str, Mapping[str, Any]], int]:
    """Key -> the document to publish, and how many documents had no key (skipped).

    Two tool connections for one (tool, agent) can exist after a re-install; the latest
    `connectedAt` wins, as in the reference's lookup. For the other collections a duplicate key
    keeps the last one read.
    """
    make_key = KEYS[collection]
    chosen: dict[str, Mapping[str, Any]] = {}
    keyless = 0
    for doc in docs:
        key = make_key(doc)
        if key is None:
            keyless += 1
            continue
        if collection == "tool_connections" and key in chosen and _connected_at(chosen[key]) > _connected_at(doc):
            continue
        chosen[key] = doc
    return chosen, keyless


@dataclass(frozen=True)
class Planned:
    key: str
    after: str | None  # None: a tombstone (the document is gone)


def plan(current: Mapping[str, Mapping[str, Any]], known: Mapping[str, str]) -> list[Planned]:
    """Records to send so the topic matches `current`: new or changed documents (by digest of
    their extended JSON), and a tombstone for every key in `known` no longer present."""
    planned = []
    for key, doc in current.items():
        after = extended_json(doc)
        if known.get(key) != digest(after):
            planned.append(Planned(key, after))
    planned.extend(Planned(key, None) for key in known if key not in current)
    return planned
