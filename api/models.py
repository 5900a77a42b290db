"""Response bodies. Field names are the wire names (camelCase), as in the reference API."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class LogEvent(BaseModel):
    toolEventId: str
    eventTimestamp: int = Field(description="Event time, epoch milliseconds.")
    timestamp: str = Field(description="Event time, ISO-8601 UTC.")
    ingestDay: str | None = None
    toolType: str | None = None
    eventType: str | None = None
    severity: str | None = None
    userId: str | None = None
    deviceId: str | None = None
    hostname: str | None = None
    organizationId: str | None = None
    organizationName: str | None = None
    summary: str | None = None


class PageInfo(BaseModel):
    hasNextPage: bool
    hasPreviousPage: bool
    nextCursor: str | None = Field(None, description="Pass as `cursor` for the next page; null on the last.")
    previousCursor: str | None = Field(None, description="Pass as `cursor` for the previous page; null on the first.")


class LogPage(BaseModel):
    items: list[LogEvent]
    pageInfo: PageInfo


class FacetValue(BaseModel):
    value: str
    count: int


class OrganizationFacet(BaseModel):
    id: str
    name: str | None
    count: int


class LogFilterOptions(BaseModel):
    toolTypes: list[FacetValue]
    eventTypes: list[FacetValue]
    severities: list[FacetValue]
    organizations: list[OrganizationFacet]


class EventDetail(LogEvent):
    message: str | None = None
    details: Any = Field(None, description="error / result / additionalInfo, parsed from the stored JSON.")
    agentId: str | None = None
    sourceEventType: str | None = None
    sourceTable: str | None = None
    operation: str | None = None
    visible: bool | None = None


class TimelinePageInfo(BaseModel):
    hasNextPage: bool
    nextCursor: str | None = None


class Timeline(BaseModel):
    deviceId: str
    items: list[LogEvent]
    pageInfo: TimelinePageInfo


class StatsBucket(BaseModel):
    start: int = Field(description="Bucket start, epoch milliseconds (UTC).")
    timestamp: str
    counts: dict[str, int]
    total: int


class TopDevice(BaseModel):
    deviceId: str
    hostname: str | None
    count: int


class TopEventType(BaseModel):
    eventType: str
    count: int


class Stats(BaseModel):
    interval: str
    groupBy: str
    timestampFrom: str
    timestampTo: str
    groups: list[str] = Field(description="Every group value seen, in order.")
    buckets: list[StatsBucket] = Field(description="Every bucket of the range, empty ones with zero counts.")
    total: int
    topDevices: list[TopDevice]
    topEventTypes: list[TopEventType]


class PipelineLag(BaseModel):
    group: str
    lagMessages: int | None = Field(description="Sum over partitions; null when the worker does not report it.")


class Health(BaseModel):
    status: str
    checks: dict[str, bool] = {}
