"""/stats: counts over time buckets by a group, top devices and top event types (Pinot)."""

from __future__ import annotations

import asyncio
import dataclasses
import time
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from api.deps import StateDep, StatsReader
from api.errors import ERROR_RESPONSES, invalid
from api.models import Stats, StatsBucket, TopDevice, TopEventType
from api.paging import iso
from api.params import log_filters
from api.query.logs import INTERVAL_MS, BucketQuery, GroupBy, Interval, LogFilters, TopQuery

router = APIRouter(prefix="/stats", tags=["stats"], responses=ERROR_RESPONSES)
_DEFAULT_SPAN = {"minute": 3_600_000, "hour": 86_400_000, "day": 30 * 86_400_000}


@router.get("", response_model=Stats, summary="Event counts over time, top devices and top event types")
async def stats(
    principal: StatsReader,
    state: StateDep,
    filters: Annotated[LogFilters, Depends(log_filters)],
    interval: Annotated[Interval, Query(description="Bucket width.")] = "hour",
    groupBy: Annotated[GroupBy, Query(description="What each bucket's counts are split by.")] = "severity",
    top: Annotated[int, Query(ge=1, le=50, description="How many top devices and event types.")] = 10,
) -> Stats:
    width = INTERVAL_MS[interval]
    # Without a range: the last hour, day or 30 days, up to now (bucket-aligned so the first bar is whole).
    to_ms = filters.time_to if filters.time_to is not None else int(time.time() * 1000)
    from_ms = filters.time_from if filters.time_from is not None else to_ms - _DEFAULT_SPAN[interval] + 1
    from_ms -= from_ms % width
    count = (to_ms - from_ms) // width + 1
    if count > state.settings.stats_max_buckets:
        raise invalid("interval", f"{count} buckets; narrow the range or widen the interval "
                                  f"(at most {state.settings.stats_max_buckets})")
    bounded = dataclasses.replace(filters, time_from=from_ms, time_to=to_ms)
    logs, tenant = state.readers.logs, principal.tenant
    buckets, devices, types = await asyncio.gather(
        logs.buckets(BucketQuery(tenant, bounded, interval, groupBy)),
        logs.top(TopQuery(tenant, bounded, "deviceId", top)),
        logs.top(TopQuery(tenant, bounded, "eventType", top)),
    )
    counts: dict[int, dict[str, int]] = {from_ms + i * width: {} for i in range(count)}
    for start, group, n in buckets:
        bucket = counts.setdefault(start, {})
        bucket[group] = bucket.get(group, 0) + n
    groups = sorted({g for _, g, _ in buckets})
    return Stats(
        interval=interval, groupBy=groupBy, timestampFrom=iso(from_ms), timestampTo=iso(to_ms), groups=groups,
        buckets=[StatsBucket(start=s, timestamp=iso(s), counts=c, total=sum(c.values()))
                 for s, c in sorted(counts.items())],
        total=sum(n for _, _, n in buckets),
        topDevices=[TopDevice(deviceId=d, hostname=h, count=n) for d, h, n in devices],
        topEventTypes=[TopEventType(eventType=t, count=n) for t, _, n in types],
    )
