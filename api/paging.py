"""Keyset paging over the readers: exact hasNextPage/hasPreviousPage, forwards and backwards, for
every sort field, and a device timeline that walks monthly partitions newest first.

A page asks for `limit + 1` rows in its scan direction: the extra row proves a further page exists.
The other side of the cursor is probed with one unordered `LIMIT 1` query, run concurrently.

Sorted by time, a page first looks in a narrow time window next to its anchor (the cursor, the range
bound, or now) and widens it only when the window holds too few rows: every row outside the window
sorts after every row inside, so a full window is the exact page, and the store sorts thousands of
rows instead of a tenant's millions."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import hashlib
import time
from typing import Any

from api.cursor import CursorError, LogCursor, TimelineCursor
from api.errors import invalid
from api.models import LogEvent, LogPage, PageInfo, Timeline, TimelinePageInfo
from api.query.cql import TimelineSlice
from api.query.logs import Direction, LogFilters, LogQuery, LogRow, SortField, flip
from api.readers.base import EventStore, LogReader
from api.tenancy import Tenant


def iso(ms: int) -> str:
    return dt.datetime.fromtimestamp(ms / 1000, tz=dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def to_log_event(values: dict[str, Any]) -> LogEvent:
    ms = int(values["eventTimestamp"])
    fields = {k: values.get(k) for k in LogEvent.model_fields if k not in ("eventTimestamp", "timestamp")}
    return LogEvent(**fields, eventTimestamp=ms, timestamp=iso(ms))


_WINDOWS_MS = (3_600_000, 86_400_000, 7 * 86_400_000)


async def windowed_search(reader: LogReader, q: LogQuery, now_ms: int) -> list[LogRow]:
    """`reader.search(q)`, through widening time windows when the sort is by time (see the module doc)."""
    if q.sort_field != "eventTimestamp":
        return await reader.search(q)
    f = q.filters
    after = int(q.after.value) if q.after is not None else None
    for width in _WINDOWS_MS:
        if q.direction == "DESC":
            anchor = after if after is not None else f.time_to if f.time_to is not None else now_ms
            bound = anchor - width
            if f.time_from is not None and bound <= f.time_from:
                break
            window = dataclasses.replace(f, time_from=bound)
        else:
            anchor_asc = after if after is not None else f.time_from
            if anchor_asc is None:
                break  # oldest first with no anchor: nothing to narrow around
            bound = anchor_asc + width
            if f.time_to is not None and bound >= f.time_to:
                break
            window = dataclasses.replace(f, time_to=bound)
        rows = await reader.search(dataclasses.replace(q, filters=window))
        if len(rows) >= q.limit:
            return rows
    return await reader.search(q)


async def log_page(reader: LogReader, tenant: Tenant, filters: LogFilters, sort_field: SortField,
                   direction: Direction, limit: int, cursor: str | None, now_ms: int | None = None) -> LogPage:
    fingerprint = filters.fingerprint(tenant)
    position = None
    if cursor is not None:
        try:
            position = LogCursor.decode(cursor)
            position.check(sort_field, direction, fingerprint)
        except CursorError as exc:
            raise invalid("cursor", str(exc)) from None
    backward = position is not None and position.way == "before"
    scan = flip(direction) if backward else direction
    keyset = position.keyset if position is not None else None
    page_query = LogQuery(tenant, filters, sort_field, scan, limit + 1, keyset)
    now = int(time.time() * 1000) if now_ms is None else now_ms
    if keyset is None:
        rows, behind = await windowed_search(reader, page_query, now), False
    else:
        probe = LogQuery(tenant, filters, sort_field, flip(scan), 1, keyset, inclusive=True, ordered=False)
        rows, probed = await asyncio.gather(windowed_search(reader, page_query, now), reader.search(probe))
        behind = bool(probed)
    beyond = len(rows) > limit
    rows = rows[:limit]
    if backward:
        rows.reverse()
    has_next, has_prev = (behind, beyond) if backward else (beyond, behind)

    def make(way: str, row: LogRow) -> str:
        return LogCursor(way, sort_field, direction, row.keyset(sort_field), fingerprint).encode()  # type: ignore[arg-type]

    info = PageInfo(
        hasNextPage=has_next and bool(rows),
        hasPreviousPage=has_prev and bool(rows),
        nextCursor=make("after", rows[-1]) if has_next and rows else None,
        previousCursor=make("before", rows[0]) if has_prev and rows else None,
    )
    return LogPage(items=[to_log_event(r.values) for r in rows], pageInfo=info)


def _months_back(start: str, count: int) -> list[str]:
    year, month = int(start[:4]), int(start[5:])
    out = []
    for _ in range(count):
        out.append(f"{year:04d}-{month:02d}")
        year, month = (year - 1, 12) if month == 1 else (year, month - 1)
    return out


def device_fingerprint(tenant: Tenant, device_id: str) -> str:
    return hashlib.sha256(repr((tenant.id, device_id)).encode()).hexdigest()[:16]


async def timeline_page(store: EventStore, tenant: Tenant, device_id: str, limit: int, cursor: str | None,
                        now: dt.datetime, months: int) -> Timeline:
    """Newest first. Without a cursor it starts at the month of now + 1 day (an event a little ahead of
    this clock still shows, without reading next month's empty partition all month long) and looks back
    `months` buckets; a cursor resumes inside its month."""
    fingerprint = device_fingerprint(tenant, device_id)
    newest = (now + dt.timedelta(days=1)).strftime("%Y-%m")
    position: tuple[int, str] | None = None
    start = newest
    if cursor is not None:
        try:
            c = TimelineCursor.decode(cursor)
        except CursorError as exc:
            raise invalid("cursor", str(exc)) from None
        if c.fingerprint != fingerprint:
            raise invalid("cursor", "cursor was made for another device")
        start, position = c.month, (c.event_ms, c.tool_event_id)
    floor = _months_back(newest, months)[-1]
    rows: list[tuple[str, dict[str, Any]]] = []
    for month in _months_back(start, months + 1):
        if month < floor or len(rows) > limit:
            break
        want = limit + 1 - len(rows)
        found = await store.timeline(TimelineSlice(tenant, device_id, month, want, position))
        rows.extend((month, r) for r in found)
        position = None
    has_next = len(rows) > limit
    rows = rows[:limit]
    next_cursor = None
    if has_next:
        month, last = rows[-1]
        next_cursor = TimelineCursor(month, int(last["eventTimestamp"]), str(last["toolEventId"]),
                                     fingerprint).encode()
    return Timeline(deviceId=device_id, items=[to_log_event(r) for _, r in rows],
                    pageInfo=TimelinePageInfo(hasNextPage=has_next, nextCursor=next_cursor))
