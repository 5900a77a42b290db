"""Query parameters shared by /logs, /logs/filters and /stats, validated into `LogFilters`.

List parameters accept repeats and commas (`toolTypes=FLEET&toolTypes=RMM` or `toolTypes=FLEET,RMM`).
Days are UTC days; a time without a zone is UTC. Every problem is reported per field in one 400.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated

from fastapi import Query

from api.errors import ApiError, FieldError
from api.query.logs import SEVERITIES, LogFilters

_CODE = re.compile(r"[A-Za-z0-9_]{1,64}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
MAX_VALUES = 50
MAX_SEARCH_TERMS = 10


def _ms(value: dt.datetime) -> int:
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return int(value.timestamp() * 1000)


def _day_start(day: dt.date) -> int:
    return int(dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC).timestamp() * 1000)


def _split(values: list[str] | None) -> list[str]:
    return [v.strip() for raw in values or [] for v in raw.split(",") if v.strip()]


class _Errors:
    def __init__(self) -> None:
        self.fields: list[FieldError] = []

    def add(self, field: str, message: str) -> None:
        self.fields.append(FieldError(field=field, message=message))

    def raise_any(self) -> None:
        if self.fields:
            raise ApiError(400, "invalid_parameter", "invalid request parameters", self.fields)


def _codes(name: str, values: list[str] | None, errors: _Errors, allowed: tuple[str, ...] = ()) -> tuple[str, ...]:
    items = [v.upper() for v in _split(values)]
    if len(items) > MAX_VALUES:
        errors.add(name, f"at most {MAX_VALUES} values")
    for v in items:
        if not _CODE.fullmatch(v) or (allowed and v not in allowed):
            errors.add(name, f"{v[:40]!r} is not allowed" + (f"; use one of {', '.join(allowed)}" if allowed else ""))
    return tuple(dict.fromkeys(items))


def _ids(name: str, values: list[str], errors: _Errors) -> tuple[str, ...]:
    if len(values) > MAX_VALUES:
        errors.add(name, f"at most {MAX_VALUES} values")
    for v in values:
        if len(v) > 128 or _CONTROL.search(v):
            errors.add(name, "ids are at most 128 characters, without control characters")
    return tuple(dict.fromkeys(values))


def log_filters(
    startDate: Annotated[dt.date | None, Query(description="First UTC day, inclusive (yyyy-MM-dd).")] = None,
    endDate: Annotated[dt.date | None, Query(description="Last UTC day, inclusive (yyyy-MM-dd).")] = None,
    timestampFrom: Annotated[dt.datetime | None, Query(description="Earliest event time, inclusive.")] = None,
    timestampTo: Annotated[dt.datetime | None, Query(description="Latest event time, inclusive (ISO-8601).")] = None,
    toolTypes: Annotated[list[str] | None, Query(description="Tool types, e.g. FLEET,MESHCENTRAL.")] = None,
    eventTypes: Annotated[list[str] | None, Query(description="Unified event types, e.g. LOGIN.")] = None,
    severities: Annotated[list[str] | None, Query(description="INFO, WARNING, ERROR, CRITICAL.")] = None,
    organizationIds: Annotated[list[str] | None, Query(description="Organization ids.")] = None,
    deviceId: Annotated[str | None, Query(description="One device id.")] = None,
    search: Annotated[str | None, Query(description="Words that appear, in this order, in the summary.")] = None,
) -> LogFilters:
    errors = _Errors()
    lower: list[int] = []
    upper: list[int] = []
    try:
        if startDate is not None:
            lower.append(_day_start(startDate))
        if endDate is not None:
            upper.append(_day_start(endDate + dt.timedelta(days=1)) - 1)
        from_ms = None if timestampFrom is None else _ms(timestampFrom)
        to_ms = None if timestampTo is None else _ms(timestampTo)
    except (OverflowError, ValueError):
        errors.add("timestampFrom", "date or time out of range")
        from_ms = to_ms = None
    lower += [] if from_ms is None else [from_ms]
    upper += [] if to_ms is None else [to_ms]
    if startDate and endDate and endDate < startDate:
        errors.add("endDate", "endDate is before startDate")
    if from_ms is not None and to_ms is not None and to_ms < from_ms:
        errors.add("timestampTo", "timestampTo is before timestampFrom")
    terms: tuple[str, ...] = ()
    if search is not None:
        terms = tuple(re.findall(r"\w+", search))
        if len(search) > 200 or not terms or len(terms) > MAX_SEARCH_TERMS:
            errors.add("search", f"1 to {MAX_SEARCH_TERMS} words, at most 200 characters")
    if deviceId is not None and (not deviceId or len(deviceId) > 128 or _CONTROL.search(deviceId)):
        errors.add("deviceId", "1 to 128 characters, without control characters")
    filters = LogFilters(
        time_from=max(lower) if lower else None,
        time_to=min(upper) if upper else None,
        tool_types=_codes("toolTypes", toolTypes, errors),
        event_types=_codes("eventTypes", eventTypes, errors),
        severities=_codes("severities", severities, errors, SEVERITIES),
        organization_ids=_ids("organizationIds", _split(organizationIds), errors),
        device_id=deviceId,
        search_terms=terms,
    )
    errors.raise_any()
    return filters
