"""Render typed log queries to Pinot SQL. User values only ever enter as escaped literals, column
names only from whitelists, and every WHERE clause starts with the tenant.

Pinot 0.11 (Calcite) string literals are single-quoted with `''` for a quote and no backslash
escapes; control characters are refused outright rather than escaped.
"""

from __future__ import annotations

import re

from api.query.logs import (
    LOG_COLUMNS,
    SORT_FIELDS,
    BucketQuery,
    FacetQuery,
    LogFilters,
    LogQuery,
    TopQuery,
)
from api.tenancy import Tenant, require_tenant

_TABLE = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,127}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_COLUMNS = frozenset({*LOG_COLUMNS, *SORT_FIELDS, "tenantId"})
_TRUNC = {"minute": "MINUTE", "hour": "HOUR", "day": "DAY"}
_FACET_COLUMNS = {"toolType": "toolType", "eventType": "eventType", "severity": "severity"}


class UnsafeValue(ValueError):
    """A value that cannot be written as a Pinot literal (control characters, wrong type)."""


def literal(value: str) -> str:
    if not isinstance(value, str) or _CONTROL.search(value):
        raise UnsafeValue("strings may not contain control characters")
    return "'" + value.replace("'", "''") + "'"


def number(value: int) -> str:
    if isinstance(value, bool) or not isinstance(value, int):
        raise UnsafeValue("expected an integer")
    return str(value)


def column(name: str) -> str:
    if name not in _COLUMNS:
        raise UnsafeValue(f"column {name!r} is not allowed")
    return name


def table(name: str) -> str:
    if not _TABLE.fullmatch(name):
        raise UnsafeValue(f"table name {name!r} is not allowed")
    return name


def _in(col: str, values: tuple[str, ...]) -> str:
    return f"{column(col)} IN ({', '.join(literal(v) for v in values)})"


def where(tenant: Tenant, filters: LogFilters) -> str:
    """`tenantId = '<t>'` first, then the filters, all ANDed."""
    clauses = [f"tenantId = {literal(require_tenant(tenant).id)}"]
    if filters.time_from is not None:
        clauses.append(f"eventTimestamp >= {number(filters.time_from)}")
    if filters.time_to is not None:
        clauses.append(f"eventTimestamp <= {number(filters.time_to)}")
    if filters.tool_types:
        clauses.append(_in("toolType", filters.tool_types))
    if filters.event_types:
        clauses.append(_in("eventType", filters.event_types))
    if filters.severities:
        clauses.append(_in("severity", filters.severities))
    if filters.organization_ids:
        clauses.append(_in("organizationId", filters.organization_ids))
    if filters.device_id is not None:
        clauses.append(f"deviceId = {literal(filters.device_id)}")
    if filters.search_terms:
        clauses.append(f"TEXT_MATCH(summary, {literal(lucene_phrase(filters.search_terms))})")
    return " AND ".join(clauses)


def lucene_phrase(terms: tuple[str, ...]) -> str:
    """One Lucene phrase query. Terms are words (letters, digits, '_'); anything else is refused, so no
    Lucene operator can reach the parser."""
    for term in terms:
        if not re.fullmatch(r"\w+", term):
            raise UnsafeValue("search terms are words")
    return '"' + " ".join(terms) + '"'


def _value(sort_field: str, value: int | str) -> str:
    return number(value) if sort_field == "eventTimestamp" else literal(value)  # type: ignore[arg-type]


def select_logs(table_name: str, q: LogQuery) -> str:
    sort = column(q.sort_field)
    op = "<" if q.direction == "DESC" else ">"
    sql_where = where(q.tenant, q.filters)
    if q.after is not None:
        v, i = _value(sort, q.after.value), literal(q.after.tool_event_id)
        tie = op + ("=" if q.inclusive else "")
        sql_where += f" AND ({sort} {op} {v} OR ({sort} = {v} AND toolEventId {tie} {i}))"
    order = f" ORDER BY {sort} {q.direction}, toolEventId {q.direction}" if q.ordered else ""
    return f"SELECT {', '.join(LOG_COLUMNS)} FROM {table(table_name)} WHERE {sql_where}{order} LIMIT {number(q.limit)}"


def select_facet(table_name: str, q: FacetQuery) -> str:
    filters = q.filters.without(q.facet)
    sql_where = where(q.tenant, filters)
    if q.facet == "organization":
        return (
            f"SELECT organizationId, organizationName, COUNT(*) FROM {table(table_name)} WHERE {sql_where} "
            "AND organizationId IS NOT NULL GROUP BY organizationId, organizationName "
            "ORDER BY organizationName, organizationId LIMIT 1000"
        )
    col = column(_FACET_COLUMNS[q.facet])
    return (
        f"SELECT {col}, COUNT(*) FROM {table(table_name)} WHERE {sql_where} AND {col} IS NOT NULL "
        f"GROUP BY {col} ORDER BY {col} LIMIT 1000"
    )


def select_buckets(table_name: str, q: BucketQuery) -> str:
    col = column(q.group_by)
    return (
        f"SELECT DATETRUNC('{_TRUNC[q.interval]}', eventTimestamp, 'MILLISECONDS') AS bucket, {col}, COUNT(*) "
        f"FROM {table(table_name)} WHERE {where(q.tenant, q.filters)} "
        f"GROUP BY bucket, {col} ORDER BY bucket LIMIT 20000"
    )


def select_top(table_name: str, q: TopQuery) -> str:
    col = column(q.column)
    extra = ", hostname" if q.column == "deviceId" else ""
    # hostname rides along for display; a renamed device shows up once per name, which is the truth.
    return (
        f"SELECT {col}{extra}, COUNT(*) AS n FROM {table(table_name)} WHERE {where(q.tenant, q.filters)} "
        f"AND {col} IS NOT NULL GROUP BY {col}{extra} ORDER BY COUNT(*) DESC, {col} LIMIT {number(q.limit)}"
    )


def count_logs(table_name: str, tenant: Tenant, filters: LogFilters) -> str:
    return f"SELECT COUNT(*) FROM {table(table_name)} WHERE {where(tenant, filters)}"
