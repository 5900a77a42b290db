"""The values that flow through normalization: what comes in, what a mapper sees and returns, and
the three outcomes of `normalize` (mapped, skipped, dead letter).

Hot-path types are slotted dataclasses, not pydantic models: building and reading them is cheap.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final, Literal

from openframe_stream.errors import Terminal

# The header that names the record's kind, as the reference connectors and producers set it.
MESSAGE_TYPE_HEADER: Final = "message-type"

DeadLetterStage = Literal["decode", "route", "envelope", "map"]


@dataclass(frozen=True, slots=True)
class RawRecord:
    """One Kafka record as the consumer hands it over: `value` is the raw bytes or text, an already
    decoded JSON object, or None for a tombstone."""

    topic: str
    headers: Mapping[str, str]
    key: bytes | str | None
    value: bytes | str | dict[str, Any] | None
    partition: int = -1
    offset: int = -1


@dataclass(slots=True)  # not frozen: built once per event, and frozen init costs ~0.2 us
class Mapped:
    """A unified event (a plain dict with camelCase wire names), ready for `orjson.dumps`.
    Treat it as read-only."""

    event: dict[str, Any]
    source: str


@dataclass(frozen=True, slots=True)
class Skipped:
    """Deliberately not an event (a delete, a tombstone, a skip-listed source type)."""

    reason: str
    source: str | None = None


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """Bad input: `stage` says where it failed, `reason` is a snake_case code, `detail` is for people."""

    stage: DeadLetterStage
    reason: str
    detail: str = ""
    source: str | None = None


Result = Mapped | Skipped | DeadLetter


@dataclass(slots=True)
class Change:
    """What a mapper receives: one decoded row change. Treat it as read-only.

    `row` is the Debezium `after` (or the flattened row), `table` the source table or collection
    when the record names one, `ts_ms` the envelope's processing time (the time fallback).
    """

    source: str
    op: str
    row: Mapping[str, Any]
    table: str | None = None
    ts_ms: int | None = None
    headers: Mapping[str, str] = field(default_factory=dict)


@dataclass(slots=True)
class ToolEvent:
    """What a mapper returns: the tool-specific facts. `normalize` adds the rest (ids, taxonomy,
    timestamps, tenant).

    `time` is the tool's raw time value (ISO string, epoch number, Mongo `$date`); None means "use
    the envelope's ts_ms". `pk` None means "no primary key": the id is then a hash of the row.
    `error`, `result` and `additional_info` are JSON values; empty ones are left out of `details`.
    `table` overrides the source table used in the event id.
    """

    source_type: str
    pk: str | None
    time: Any = None
    agent_id: str | None = None
    message: str | None = None
    discriminator: str | None = None
    error: Any = None
    result: Any = None
    additional_info: Any = None
    table: str | None = None


class MapError(Terminal):
    """Raised by a mapper for input it cannot map; becomes a dead letter at stage `map`."""
