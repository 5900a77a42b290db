"""An in-memory reader over wire events (camelCase dicts): the same query semantics as Pinot and
Cassandra, for unit tests and the OpenAPI generator. Missing strings sort as Pinot 0.11 stores them,
as the text 'null'."""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from collections.abc import Iterable
from typing import Any

from api.query.cql import EventByIdQuery, TimelineSlice
from api.query.logs import INTERVAL_MS, LOG_COLUMNS, BucketQuery, FacetQuery, LogFilters, LogQuery, LogRow, TopQuery


def _stored(value: Any) -> Any:
    return "null" if value is None else value


def matches(event: dict[str, Any], tenant: str, f: LogFilters) -> bool:
    ts = event["eventTimestamp"]
    checks = [
        event.get("tenantId") == tenant,
        event.get("visible", True) is not False,
        f.time_from is None or ts >= f.time_from,
        f.time_to is None or ts <= f.time_to,
        not f.tool_types or event.get("toolType") in f.tool_types,
        not f.event_types or event.get("eventType") in f.event_types,
        not f.severities or event.get("severity") in f.severities,
        not f.organization_ids or event.get("organizationId") in f.organization_ids,
        f.device_id is None or event.get("deviceId") == f.device_id,
    ]
    if f.search_terms:
        words = [w.lower() for w in re.findall(r"\w+", event.get("summary") or "")]
        terms = [t.lower() for t in f.search_terms]
        checks.append(any(words[i : i + len(terms)] == terms for i in range(len(words))))
    return all(checks)


class MemoryReader:
    """Both a `LogReader` and an `EventStore` over the same events."""

    def __init__(self, events: Iterable[dict[str, Any]] = ()) -> None:
        self.events: list[dict[str, Any]] = list(events)
        self.healthy = True

    async def start(self) -> None:
        return None

    async def close(self) -> None:
        return None

    async def ping(self) -> bool:
        return self.healthy

    def _rows(self, tenant: str, f: LogFilters) -> list[dict[str, Any]]:
        return [e for e in self.events if matches(e, tenant, f)]

    async def search(self, q: LogQuery) -> list[LogRow]:
        def key(e: dict[str, Any]) -> tuple[Any, str]:
            return (_stored(e.get(q.sort_field)), e["toolEventId"])

        rows = sorted(self._rows(q.tenant.id, q.filters), key=key, reverse=q.direction == "DESC")
        if q.after is not None:
            bound = (q.after.value, q.after.tool_event_id)
            if q.direction == "DESC":
                rows = [r for r in rows if key(r) < bound or (q.inclusive and key(r) == bound)]
            else:
                rows = [r for r in rows if key(r) > bound or (q.inclusive and key(r) == bound)]
        return [LogRow({c: r.get(c) for c in LOG_COLUMNS}) for r in rows[: q.limit]]

    async def facet(self, q: FacetQuery) -> list[tuple[str, str | None, int]]:
        rows = self._rows(q.tenant.id, q.filters.without(q.facet))
        if q.facet == "organization":
            orgs = Counter((r["organizationId"], r.get("organizationName")) for r in rows if r.get("organizationId"))
            return sorted(((i, n, c) for (i, n), c in orgs.items()), key=lambda t: (_stored(t[1]), t[0]))
        counts = Counter(r[q.facet] for r in rows if r.get(q.facet) is not None)
        return [(v, None, c) for v, c in sorted(counts.items())]

    async def buckets(self, q: BucketQuery) -> list[tuple[int, str, int]]:
        width = INTERVAL_MS[q.interval]
        rows = self._rows(q.tenant.id, q.filters)
        counts = Counter((r["eventTimestamp"] - r["eventTimestamp"] % width, r[q.group_by]) for r in rows)
        return sorted((b, g, c) for (b, g), c in counts.items())

    async def top(self, q: TopQuery) -> list[tuple[str, str | None, int]]:
        rows = [r for r in self._rows(q.tenant.id, q.filters) if r.get(q.column) is not None]
        if q.column == "deviceId":
            counts = Counter((r["deviceId"], r.get("hostname")) for r in rows)
        else:
            counts = Counter((r["eventType"], None) for r in rows)
        ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0][0]))
        return [(v, h, c) for (v, h), c in ranked[: q.limit]]

    # ---- EventStore (Cassandra keeps invisible events too)

    async def event(self, q: EventByIdQuery) -> dict[str, Any] | None:
        for e in self.events:
            if e.get("tenantId") == q.tenant.id and e["toolEventId"] == q.tool_event_id:
                return dict(e)
        return None

    async def timeline(self, q: TimelineSlice) -> list[dict[str, Any]]:
        def month(ms: int) -> str:
            return dt.datetime.fromtimestamp(ms / 1000, tz=dt.UTC).strftime("%Y-%m")

        rows = [e for e in self.events if e.get("tenantId") == q.tenant.id and e.get("deviceId") == q.device_id
                and month(e["eventTimestamp"]) == q.month]
        rows.sort(key=lambda e: (-e["eventTimestamp"], e["toolEventId"]))
        if q.position is not None:
            ms, event_id = q.position
            rows = [e for e in rows if (-e["eventTimestamp"], e["toolEventId"]) > (-ms, event_id)]
        return [dict(e) for e in rows[: q.limit]]


class StaticLag:
    def __init__(self, value: int | None = None) -> None:
        self.value = value

    async def lag(self) -> int | None:
        return self.value
