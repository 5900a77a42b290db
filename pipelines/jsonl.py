"""JSON lines in, JSON lines out: the `openframe-stream map` format, shared with the fixture tests.

Input line: `{"topic": str, "headers": {str: str}, "key": str|null, "value": object|string|null}`;
a string value is the raw message text. Output line: `{"status": "mapped", "event": {...}}`,
`{"status": "skipped", "reason": ...}` or `{"status": "dead_letter", "stage": ..., "reason": ...,
"detail": ...}`. A line that is not a record is itself a dead letter (stage `decode`).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import orjson

from pipelines.normalize import normalize
from pipelines.records import DeadLetter, Mapped, RawRecord, Result, Skipped
from pipelines.settings import PipelineSettings


def record_from_obj(obj: Any) -> RawRecord | DeadLetter:
    """A Kafka record from its JSON-lines form."""
    if not isinstance(obj, dict):
        return DeadLetter("decode", "invalid_record", "a record line must be a JSON object")
    topic = obj.get("topic")
    if not isinstance(topic, str):
        return DeadLetter("decode", "invalid_record", "`topic` must be a string")
    raw_headers = obj.get("headers") or {}
    if not isinstance(raw_headers, dict):
        return DeadLetter("decode", "invalid_record", "`headers` must be an object of strings")
    headers = {str(k): v if isinstance(v, str) else orjson.dumps(v).decode() for k, v in raw_headers.items()}
    key = obj.get("key")
    if key is not None and not isinstance(key, str):
        key = orjson.dumps(key).decode()
    value = obj.get("value")
    if value is not None and not isinstance(value, dict | str):
        value = orjson.dumps(value)  # an array or scalar: let normalization judge the raw JSON
    return RawRecord(topic=topic, headers=headers, key=key, value=value)


def result_to_obj(result: Result) -> dict[str, Any]:
    """The output line of one result."""
    if isinstance(result, Mapped):
        return {"status": "mapped", "event": result.event}
    if isinstance(result, Skipped):
        return {"status": "skipped", "reason": result.reason}
    return {"status": "dead_letter", "stage": result.stage, "reason": result.reason, "detail": result.detail}


def map_obj(obj: Any, settings: PipelineSettings) -> dict[str, Any]:
    """Map one parsed input line to its output line."""
    record = record_from_obj(obj)
    return result_to_obj(record if isinstance(record, DeadLetter) else normalize(record, settings))


def map_lines(lines: Iterable[bytes | str], settings: PipelineSettings) -> Iterator[bytes]:
    """One serialized output line per non-blank input line, in order; never raises on bad input."""
    for line in lines:
        if not line.strip():
            continue
        try:
            obj = orjson.loads(line)
        except orjson.JSONDecodeError as exc:
            yield orjson.dumps(result_to_obj(DeadLetter("decode", "invalid_json_line", str(exc))))
            continue
        yield orjson.dumps(map_obj(obj, settings))
