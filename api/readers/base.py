"""The read side's store interfaces. Every method takes a typed query that carries its tenant."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from api.query.cql import EventByIdQuery, TimelineSlice
from api.query.logs import BucketQuery, FacetQuery, LogQuery, LogRow, TopQuery


class StoreUnavailable(Exception):
    """A store did not answer, or answered with an error: a 503 for the client, details in the log."""


class LogReader(Protocol):
    """The analytics store (Pinot)."""

    async def start(self) -> None: ...
    async def close(self) -> None: ...
    async def ping(self) -> bool: ...
    async def search(self, q: LogQuery) -> list[LogRow]: ...
    async def facet(self, q: FacetQuery) -> list[tuple[str, str | None, int]]:
        """(value, display name or None, count) per facet value."""
        ...
    async def buckets(self, q: BucketQuery) -> list[tuple[int, str, int]]:
        """(bucket start ms, group value, count)."""
        ...
    async def top(self, q: TopQuery) -> list[tuple[str, str | None, int]]:
        """(value, hostname for devices or None, count), most frequent first."""
        ...


class EventStore(Protocol):
    """The history store (Cassandra). Rows are camelCase dicts with `eventTimestamp` in epoch ms."""

    async def start(self) -> None: ...
    async def close(self) -> None: ...
    async def ping(self) -> bool: ...
    async def event(self, q: EventByIdQuery) -> dict[str, Any] | None: ...
    async def timeline(self, q: TimelineSlice) -> list[dict[str, Any]]: ...


class LagSource(Protocol):
    """The pipeline's consumer lag (not tenant data: one number for the whole worker)."""

    async def lag(self) -> int | None: ...


@dataclass(frozen=True)
class Readers:
    logs: LogReader
    events: EventStore
    lag: LagSource

    async def start(self) -> None:
        await self.logs.start()
        await self.events.start()

    async def close(self) -> None:
        await self.logs.close()
        await self.events.close()
