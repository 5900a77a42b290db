"""The dead-letter record: the original record, where it came from, and why it failed.

One format for every stage (decode, route, envelope, map, enrich, tenant, sink) and every producer
(worker, NATS bridge), so `openframe-stream dlq list|replay` can read and re-inject any of them.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from typing import Any

import orjson

DLQ_VERSION = 1


def _text_or_b64(data: bytes | str | None) -> tuple[str | None, str]:
    if data is None:
        return None, "none"
    if isinstance(data, str):
        return data, "utf8"
    try:
        return data.decode("utf-8"), "utf8"
    except UnicodeDecodeError:
        return base64.b64encode(data).decode("ascii"), "base64"


def build(
    *,
    stage: str,
    reason: str,
    detail: str,
    topic: str,
    partition: int,
    offset: int,
    key: bytes | str | None,
    value: bytes | str | None,
    headers: Mapping[str, str],
    failed_at_ms: int,
    component: str,
) -> bytes:
    """Serialize a dead letter. The original bytes survive exactly (UTF-8 text or base64)."""
    key_text, key_encoding = _text_or_b64(key)
    value_text, value_encoding = _text_or_b64(value)
    record: dict[str, Any] = {
        "version": DLQ_VERSION,
        "stage": stage,
        "reason": reason,
        "detail": detail[:2000],
        "component": component,
        "failedAt": failed_at_ms,
        "source": {"topic": topic, "partition": partition, "offset": offset},
        "original": {
            "key": key_text,
            "keyEncoding": key_encoding,
            "value": value_text,
            "valueEncoding": value_encoding,
            "headers": dict(headers),
        },
    }
    return orjson.dumps(record)


def original_bytes(record: Mapping[str, Any]) -> tuple[bytes | None, bytes | None, dict[str, str], str]:
    """(key, value, headers, source topic) of a dead letter, as they were, for replay."""
    original = record["original"]

    def decode(text: str | None, encoding: str) -> bytes | None:
        if text is None or encoding == "none":
            return None
        return base64.b64decode(text) if encoding == "base64" else text.encode("utf-8")

    return (
        decode(original["key"], original["keyEncoding"]),
        decode(original["value"], original["valueEncoding"]),
        dict(original["headers"]),
        str(record["source"]["topic"]),
    )
