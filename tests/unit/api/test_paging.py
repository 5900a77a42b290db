"""Keyset paging on the in-memory reader (the same query semantics the Pinot SQL encodes): every sort
field, both directions, forwards then back, exact has*Page flags and no empty last page."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from api.errors import ApiError
from api.paging import log_page, timeline_page
from api.query.logs import SORT_FIELDS, LogFilters
from api.readers.memory import MemoryReader
from api.tenancy import Tenant
from tests.unit.api.conftest import BASE_MS, event

TENANTS = ["t1", "t2", "t3"]


# Few distinct times, so the toolEventId tiebreaker is exercised, spread so the search windows of 1 h,
# 1 day and 7 days around "now" cut between them.
OFFSETS_MS = (0, 1_800_000, 7_200_000, 3 * 86_400_000, 10 * 86_400_000)
NOW_MS = BASE_MS + 10 * 86_400_000 + 600_000


def _events(seed_rows: list[tuple[int, int, int]]) -> list[dict[str, Any]]:
    out = []
    for n, (tenant, slot, device) in enumerate(seed_rows):
        out.append(event(TENANTS[tenant], n, eventTimestamp=BASE_MS + OFFSETS_MS[slot],
                         deviceId=None if device == 0 else f"d{device}"))
    return out


def walk(reader: MemoryReader, tenant: Tenant, filters: LogFilters, field: str, direction: str, limit: int,
         now_ms: int = NOW_MS) -> list[list[str]]:
    """Every page forwards, then back again from the last page; asserts both walks agree."""
    def page_at(cursor: str | None) -> Any:
        return asyncio.run(log_page(reader, tenant, filters, field, direction, limit, cursor,  # type: ignore[arg-type]
                                    now_ms))

    pages: list[list[str]] = []
    page = page_at(None)
    assert not page.pageInfo.hasPreviousPage and page.pageInfo.previousCursor is None
    while True:
        pages.append([i.toolEventId for i in page.items])
        assert page.items or len(pages) == 1, "an empty page after a page that said hasNextPage"
        assert page.pageInfo.hasPreviousPage == (len(pages) > 1)
        if not page.pageInfo.hasNextPage:
            assert page.pageInfo.nextCursor is None
            break
        page = page_at(page.pageInfo.nextCursor)
    back = [pages[-1]]
    cursor = page.pageInfo.previousCursor
    while cursor is not None:
        page = page_at(cursor)
        assert page.pageInfo.hasNextPage
        back.insert(0, [i.toolEventId for i in page.items])
        cursor = page.pageInfo.previousCursor
    assert back == pages, "paging back did not return the same pages"
    return pages


def expected(reader: MemoryReader, tenant: str, field: str, direction: str,
             filters: LogFilters | None = None) -> list[str]:
    filters = filters or LogFilters()
    rows = [e for e in reader.events if e["tenantId"] == tenant
            and (filters.time_from is None or e["eventTimestamp"] >= filters.time_from)
            and (filters.time_to is None or e["eventTimestamp"] <= filters.time_to)]
    key = lambda e: ("null" if e.get(field) is None else e[field], e["toolEventId"])  # noqa: E731
    return [e["toolEventId"] for e in sorted(rows, key=key, reverse=direction == "DESC")]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    rows=st.lists(st.tuples(st.integers(0, 2), st.integers(0, 4), st.integers(0, 3)), max_size=40),
    tenant=st.sampled_from(TENANTS), field=st.sampled_from(SORT_FIELDS), direction=st.sampled_from(["ASC", "DESC"]),
    limit=st.integers(1, 7), bounds=st.sampled_from([(None, None), (BASE_MS + 1, None), (None, BASE_MS + 7_200_000),
                                                     (BASE_MS, BASE_MS + 4 * 86_400_000)]),
)
def test_pages_cover_the_tenant_exactly_once_and_walk_back_the_same(
    rows: list[tuple[int, int, int]], tenant: str, field: str, direction: str, limit: int,
    bounds: tuple[int | None, int | None],
) -> None:
    reader = MemoryReader(_events(rows))
    filters = LogFilters(time_from=bounds[0], time_to=bounds[1])
    pages = walk(reader, Tenant(tenant), filters, field, direction, limit)
    flat = [i for p in pages for i in p]
    assert flat == expected(reader, tenant, field, direction, filters)  # none missing, none twice, in order
    assert all(i.startswith(f"{tenant}-") for i in flat)
    assert all(len(p) == limit for p in pages[:-1])


def test_an_exact_multiple_of_the_limit_has_no_empty_last_page() -> None:
    reader = MemoryReader([event("t1", n) for n in range(6)])
    pages = walk(reader, Tenant("t1"), LogFilters(), "eventTimestamp", "DESC", 3)
    assert [len(p) for p in pages] == [3, 3]


def test_a_cursor_for_other_filters_or_sort_is_a_400() -> None:
    reader = MemoryReader([event("t1", n) for n in range(6)])
    first = asyncio.run(log_page(reader, Tenant("t1"), LogFilters(), "eventTimestamp", "DESC", 2, None))
    cursor = first.pageInfo.nextCursor
    for tenant, filters, field in ((Tenant("t2"), LogFilters(), "eventTimestamp"),
                                   (Tenant("t1"), LogFilters(severities=("INFO",)), "eventTimestamp"),
                                   (Tenant("t1"), LogFilters(), "severity")):
        with pytest.raises(ApiError) as err:
            asyncio.run(log_page(reader, tenant, filters, field, "DESC", 2, cursor))  # type: ignore[arg-type]
        assert err.value.status == 400 and err.value.fields[0].field == "cursor"


def test_timeline_walks_month_buckets_newest_first() -> None:
    months = [dt.datetime(2026, m, 15, tzinfo=dt.UTC) for m in (9, 10, 11)]
    events = [event("t1", n, deviceId="dev", eventTimestamp=int(months[n % 3].timestamp() * 1000) + (n // 3) * 1000)
              for n in range(14)]
    events.append(event("t2", 99, deviceId="dev"))  # another tenant's row for the same device id
    events += [event("t1", 50 + n, deviceId="dev", eventTimestamp=events[0]["eventTimestamp"]) for n in range(3)]
    reader = MemoryReader(events)
    now = dt.datetime(2026, 11, 22, tzinfo=dt.UTC)
    seen: list[str] = []
    cursor = None
    while True:
        page = asyncio.run(timeline_page(reader, Tenant("t1"), "dev", 4, cursor, now, 13))
        seen += [i.toolEventId for i in page.items]
        assert page.items
        if not page.pageInfo.hasNextPage:
            break
        cursor = page.pageInfo.nextCursor
    mine = sorted((e for e in events if e["tenantId"] == "t1"), key=lambda e: (-e["eventTimestamp"], e["toolEventId"]))
    assert seen == [e["toolEventId"] for e in mine]
    with pytest.raises(ApiError):
        asyncio.run(timeline_page(reader, Tenant("t1"), "other-dev", 4, cursor, now, 13))
    window = asyncio.run(timeline_page(reader, Tenant("t1"), "dev", 50, None, now, 2))
    assert {i.timestamp[:7] for i in window.items} == {"2026-11", "2026-10"}  # the window: two months back
    skewed = events[0] | {"toolEventId": "t1-ahead", "eventTimestamp": int(dt.datetime(2026, 12, 1, 3, tzinfo=dt.UTC)
                                                                           .timestamp() * 1000)}
    reader.events.append(skewed)
    end_of_month = dt.datetime(2026, 11, 30, 23, tzinfo=dt.UTC)
    assert asyncio.run(timeline_page(reader, Tenant("t1"), "dev", 1, None, end_of_month, 2)).items[0].toolEventId \
        == "t1-ahead"  # a day of clock skew at a month's end still shows


def test_a_time_sorted_page_reads_a_narrow_window_first() -> None:
    """The store sees the window; a full window answers alone, a sparse one widens, then gives up."""
    reader = MemoryReader([event("t1", n, eventTimestamp=NOW_MS - n * 60_000) for n in range(100)])
    asked: list[LogFilters] = []
    search = reader.search

    async def spy(q: Any) -> Any:
        asked.append(q.filters)
        return await search(q)

    reader.search = spy  # type: ignore[method-assign]
    page = asyncio.run(log_page(reader, Tenant("t1"), LogFilters(), "eventTimestamp", "DESC", 20, None, NOW_MS))
    assert len(page.items) == 20 and [f.time_from for f in asked] == [NOW_MS - 3_600_000]
    asked.clear()
    asyncio.run(log_page(reader, Tenant("t1"), LogFilters(), "eventTimestamp", "DESC", 20, None,
                         NOW_MS + 30 * 86_400_000))
    assert [f.time_from for f in asked][-1] is None and len(asked) == 4  # three empty windows, then everything


@pytest.mark.parametrize("direction", ["ASC", "DESC"])
@pytest.mark.parametrize("bounds", [(None, None), (BASE_MS, None), (None, NOW_MS),
                                    (BASE_MS + 1, BASE_MS + 9 * 86_400_000)])
def test_time_windows_never_cut_a_page_short(direction: str, bounds: tuple[int | None, int | None]) -> None:
    # A few rows in every window around now and the bounds, many just outside them.
    reader = MemoryReader(_events([(0, slot, n % 4) for n, slot in enumerate([4, 4, 2, 1, 0] + [3] * 12 + [0] * 9)]))
    filters = LogFilters(time_from=bounds[0], time_to=bounds[1])
    for limit in (1, 3, 5, 8):
        pages = walk(reader, Tenant("t1"), filters, "eventTimestamp", direction, limit)
        assert [i for p in pages for i in p] == expected(reader, "t1", "eventTimestamp", direction, filters)
