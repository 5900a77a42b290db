"""CQL for the read side: fixed statement texts with bind markers only (the reader prepares them),
plus typed queries that supply their values. The tenant is the first bound value of every statement,
and a query cannot be built without one."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from api.tenancy import Tenant, require_tenant

_KEYSPACE = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,47}")
EVENT_COLUMNS = (
    "tenant_id", "tool_event_id", "user_id", "device_id", "hostname", "organization_id", "organization_name",
    "ingest_day", "tool_type", "event_type", "severity", "summary", "event_timestamp", "agent_id",
    "source_event_type", "source_table", "operation", "message", "details", "visible", "schema_version",
    "discriminator",
)
_TIMELINE_KEY = "tenant_id = ? AND device_id = ? AND month = ?"


def keyspace(name: str) -> str:
    if not _KEYSPACE.fullmatch(name):
        raise ValueError(f"keyspace name {name!r} is not allowed")
    return name


def statements(ks: str) -> dict[str, str]:
    """Every statement the reader prepares, by name. No user value is ever formatted into these."""
    ks = keyspace(ks)
    cols = ", ".join(EVENT_COLUMNS)
    timeline = f"SELECT {cols} FROM {ks}.device_timeline WHERE {_TIMELINE_KEY}"
    return {
        "by_id": f"SELECT {cols} FROM {ks}.events_by_id WHERE tenant_id = ? AND tool_event_id = ?",
        "timeline_head": f"{timeline} LIMIT ?",
        "timeline_same_time": f"{timeline} AND event_timestamp = ? AND tool_event_id > ? LIMIT ?",
        "timeline_older": f"{timeline} AND event_timestamp < ? LIMIT ?",
    }


def _time(ms: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(ms / 1000, tz=dt.UTC)


@dataclass(frozen=True)
class EventByIdQuery:
    tenant: Tenant
    tool_event_id: str

    def __post_init__(self) -> None:
        require_tenant(self.tenant)

    def bound(self) -> list[tuple[str, tuple[object, ...]]]:
        return [("by_id", (self.tenant.id, self.tool_event_id))]


@dataclass(frozen=True)
class TimelineSlice:
    """Up to `limit` rows of one monthly partition of a device's timeline, newest first, strictly after
    `position` (event time ms, id) in the table's clustering order (time DESC, id ASC)."""

    tenant: Tenant
    device_id: str
    month: str
    limit: int
    position: tuple[int, str] | None = None

    def __post_init__(self) -> None:
        require_tenant(self.tenant)
        if not re.fullmatch(r"\d{4}-\d{2}", self.month) or not 1 <= self.limit <= 1000:
            raise ValueError("bad month or limit")

    def bound(self) -> list[tuple[str, tuple[object, ...]]]:
        """The statements to run in order; their rows, concatenated, are the slice."""
        key = (self.tenant.id, self.device_id, self.month)
        if self.position is None:
            return [("timeline_head", (*key, self.limit))]
        ms, event_id = self.position
        at = _time(ms)
        return [
            ("timeline_same_time", (*key, at, event_id, self.limit)),
            ("timeline_older", (*key, at, self.limit)),
        ]
