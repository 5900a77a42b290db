"""/logs: search (Pinot), facets (Pinot) and one event's details (Cassandra)."""

from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query

from api.deps import LogsReader, ReadersDep
from api.errors import ERROR_RESPONSES, ErrorBody, not_found
from api.models import EventDetail, FacetValue, LogFilterOptions, LogPage, OrganizationFacet
from api.paging import log_page, to_log_event
from api.params import log_filters
from api.query.cql import EventByIdQuery
from api.query.logs import Direction, FacetQuery, LogFilters, SortField

router = APIRouter(prefix="/logs", tags=["logs"], responses=ERROR_RESPONSES)
Filters = Annotated[LogFilters, Depends(log_filters)]


@router.get("", response_model=LogPage, summary="Search events (newest first by default)")
async def search_logs(
    principal: LogsReader,
    readers: ReadersDep,
    filters: Filters,
    limit: Annotated[int, Query(ge=1, le=100, description="Page size.")] = 20,
    cursor: Annotated[str | None, Query(max_length=2048, description="nextCursor or previousCursor of a page.")] = None,
    sortField: Annotated[SortField, Query(description="Sort column; toolEventId breaks ties.")] = "eventTimestamp",
    sortDirection: Annotated[Direction, Query(description="ASC or DESC.")] = "DESC",
) -> LogPage:
    return await log_page(readers.logs, principal.tenant, filters, sortField, sortDirection, limit, cursor)


@router.get("/filters", response_model=LogFilterOptions, summary="Facet values; each honours the other filters")
async def log_filter_options(principal: LogsReader, readers: ReadersDep, filters: Filters) -> LogFilterOptions:
    tools, types, severities, orgs = await asyncio.gather(
        *(readers.logs.facet(FacetQuery(principal.tenant, filters, f))
          for f in ("toolType", "eventType", "severity", "organization"))
    )
    return LogFilterOptions(
        toolTypes=[FacetValue(value=v, count=c) for v, _, c in tools],
        eventTypes=[FacetValue(value=v, count=c) for v, _, c in types],
        severities=[FacetValue(value=v, count=c) for v, _, c in severities],
        organizations=[OrganizationFacet(id=v, name=n, count=c) for v, n, c in orgs],
    )


@router.get("/{toolEventId}", response_model=EventDetail, summary="One event with message and details",
            responses={404: {"model": ErrorBody, "description": "No such event for this tenant."}})
async def event_details(
    principal: LogsReader,
    readers: ReadersDep,
    toolEventId: Annotated[str, Path(min_length=1, max_length=128, pattern=r"^[^\x00-\x1f\x7f]+$")],
) -> EventDetail:
    event = await readers.events.event(EventByIdQuery(principal.tenant, toolEventId))
    if event is None:
        raise not_found()
    base = to_log_event(event).model_dump()
    extra = {k: event.get(k) for k in ("message", "details", "agentId", "sourceEventType", "sourceTable",
                                       "operation", "visible")}
    return EventDetail(**base, **extra)
