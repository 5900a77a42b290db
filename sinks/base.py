"""The one small contract every sink shares, and its batching helper.

A sink takes batches of enriched events (plain dicts, wire names) and either stores all of them,
returns the ones it rejects for good (each goes to the dead-letter topic with its reason), or raises
`Transient` so the caller retries the whole batch later without committing offsets. Every sink is
idempotent on `toolEventId`: a redelivered or re-emitted event replaces its earlier version.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

Event = Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class Rejected:
    index: int  # position in the batch given to `write`
    reason: str
    detail: str


@dataclass(frozen=True)
class Capabilities:
    upsert: bool  # an event with a known toolEventId replaces the stored one
    max_batch: int


class Sink(ABC):
    name: str
    capabilities: Capabilities

    async def start(self) -> None:  # noqa: B027 - optional hook
        """Connect and provision (idempotent)."""

    @abstractmethod
    async def write(self, events: Sequence[Event]) -> list[Rejected]:
        """Store every event or raise `openframe_stream.errors.Transient`; return the rejects."""

    async def close(self) -> None:  # noqa: B027 - optional hook
        """Release connections."""


def last_per_id(events: Sequence[Event]) -> list[tuple[int, Event]]:
    """(index, event) keeping only the last version of each (tenant, toolEventId) in the batch, in order."""
    latest: dict[object, int] = {}
    for index, event in enumerate(events):
        event_id = event.get("toolEventId")
        # An event without an id is its own entry (the sink rejects it), never merged with another.
        latest[(event.get("tenantId"), str(event_id)) if event_id else ("", index)] = index
    keep = set(latest.values())
    return [(i, e) for i, e in enumerate(events) if i in keep]
