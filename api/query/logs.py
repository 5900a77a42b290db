"""Store-neutral queries over the `logs` table. Each one carries a `Tenant` (checked in its constructor),
so no reader can be asked for rows without a tenant filter; `pinot_sql` renders them, the in-memory
reader evaluates them."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, replace
from typing import Literal, get_args

from api.tenancy import Tenant, require_tenant

SortField = Literal["eventTimestamp", "severity", "eventType", "toolType", "organizationId", "deviceId", "ingestDay"]
Direction = Literal["ASC", "DESC"]
Facet = Literal["toolType", "eventType", "severity", "organization"]
Interval = Literal["minute", "hour", "day"]
GroupBy = Literal["severity", "toolType", "eventType"]
TopColumn = Literal["deviceId", "eventType"]

SORT_FIELDS: tuple[str, ...] = get_args(SortField)
SEVERITIES = ("INFO", "WARNING", "ERROR", "CRITICAL")
INTERVAL_MS = {"minute": 60_000, "hour": 3_600_000, "day": 86_400_000}
MAX_SCAN = 10_001  # Pinot refuses LIMIT above 10000 by default; a page asks for at most 101 rows anyway.

# What a page item carries (the reference's 12 projected columns plus the timestamp).
LOG_COLUMNS = (
    "toolEventId", "eventTimestamp", "ingestDay", "toolType", "eventType", "severity", "userId", "deviceId",
    "hostname", "organizationId", "organizationName", "summary",
)


def flip(direction: Direction) -> Direction:
    return "ASC" if direction == "DESC" else "DESC"


@dataclass(frozen=True)
class LogFilters:
    """Every filter of /logs, already validated and normalized (times as inclusive epoch ms)."""

    time_from: int | None = None
    time_to: int | None = None
    tool_types: tuple[str, ...] = ()
    event_types: tuple[str, ...] = ()
    severities: tuple[str, ...] = ()
    organization_ids: tuple[str, ...] = ()
    device_id: str | None = None
    search_terms: tuple[str, ...] = ()  # words of `search`, matched as one phrase in `summary`

    def without(self, facet: Facet) -> LogFilters:
        """The filters a facet honours: all but its own."""
        if facet == "toolType":
            return replace(self, tool_types=())
        if facet == "eventType":
            return replace(self, event_types=())
        if facet == "severity":
            return replace(self, severities=())
        return replace(self, organization_ids=())

    def fingerprint(self, tenant: Tenant) -> str:
        """Binds a cursor to the tenant and filters it was made for."""
        text = repr((tenant.id, self))
        return hashlib.sha256(text.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class Keyset:
    """A row's position in a sort: its sort-field value (as stored) and its id, the tiebreaker."""

    value: int | str
    tool_event_id: str


@dataclass(frozen=True)
class LogQuery:
    """Rows in `direction` order by (sort_field, toolEventId), strictly past `after` (or from it, when
    `inclusive`), at most `limit`. Unordered (`ordered=False`) it is an existence probe: any matching rows,
    which lets the store stop at the first hit instead of sorting every match."""

    tenant: Tenant
    filters: LogFilters
    sort_field: SortField = "eventTimestamp"
    direction: Direction = "DESC"
    limit: int = 21
    after: Keyset | None = None
    inclusive: bool = False
    ordered: bool = True

    def __post_init__(self) -> None:
        require_tenant(self.tenant)
        if self.sort_field not in SORT_FIELDS:
            raise ValueError(f"unknown sort field {self.sort_field!r}")
        if self.direction not in ("ASC", "DESC"):
            raise ValueError(f"unknown direction {self.direction!r}")
        if not 1 <= self.limit <= MAX_SCAN:
            raise ValueError("limit out of range")


@dataclass(frozen=True)
class FacetQuery:
    tenant: Tenant
    filters: LogFilters
    facet: Facet

    def __post_init__(self) -> None:
        require_tenant(self.tenant)
        if self.facet not in get_args(Facet):
            raise ValueError(f"unknown facet {self.facet!r}")


@dataclass(frozen=True)
class BucketQuery:
    """Counts per time bucket and group (the analysts' histogram)."""

    tenant: Tenant
    filters: LogFilters
    interval: Interval
    group_by: GroupBy

    def __post_init__(self) -> None:
        require_tenant(self.tenant)
        if self.interval not in INTERVAL_MS or self.group_by not in get_args(GroupBy):
            raise ValueError("unknown interval or group")


@dataclass(frozen=True)
class TopQuery:
    tenant: Tenant
    filters: LogFilters
    column: TopColumn
    limit: int = 10

    def __post_init__(self) -> None:
        require_tenant(self.tenant)
        if self.column not in get_args(TopColumn) or not 1 <= self.limit <= 100:
            raise ValueError("unknown column or limit")


@dataclass(frozen=True)
class LogRow:
    """One row as the store holds it: `sort_value` keeps Pinot's stored form ('null' for a missing
    string), so a cursor made from it compares the way the store sorts."""

    values: dict[str, object] = field(default_factory=dict)

    def keyset(self, sort_field: SortField) -> Keyset:
        value = self.values.get(sort_field)
        if sort_field == "eventTimestamp":
            return Keyset(int(value), str(self.values["toolEventId"]))  # type: ignore[call-overload]
        return Keyset("null" if value is None else str(value), str(self.values["toolEventId"]))
