"""The query-building layer: no query without a tenant, the tenant filter first, hostile input escaped."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from api.query import cql, pinot_sql
from api.query.cql import EventByIdQuery, TimelineSlice
from api.query.logs import SORT_FIELDS, BucketQuery, FacetQuery, Keyset, LogFilters, LogQuery, TopQuery
from api.tenancy import Tenant

ACME = Tenant("acme")
HOSTILE = ["x' OR '1'='1", "a'); DROP TABLE logs; --", "\\' OR 1=1 --", "'' OR tenantId != ''", 'a" OR "b',
           "ü'\u2019", "a\\", "%' UNION SELECT * FROM logs --"]


@pytest.mark.parametrize("bad", [None, "acme", "", 42])
def test_no_query_can_be_built_without_a_tenant(bad: object) -> None:
    for build in (
        lambda: LogQuery(bad, LogFilters()),  # type: ignore[arg-type]
        lambda: FacetQuery(bad, LogFilters(), "toolType"),  # type: ignore[arg-type]
        lambda: BucketQuery(bad, LogFilters(), "hour", "severity"),  # type: ignore[arg-type]
        lambda: TopQuery(bad, LogFilters(), "deviceId"),  # type: ignore[arg-type]
        lambda: EventByIdQuery(bad, "id"),  # type: ignore[arg-type]
        lambda: TimelineSlice(bad, "dev", "2026-11", 10),  # type: ignore[arg-type]
    ):
        with pytest.raises(TypeError):
            build()
    with pytest.raises(TypeError):
        pinot_sql.where(bad, LogFilters())  # type: ignore[arg-type]


@pytest.mark.parametrize("bad", ["", " ", "a b", "x'y", "-lead", "a" * 129, "t\x00"])
def test_a_tenant_is_validated_when_made(bad: str) -> None:
    with pytest.raises(ValueError):
        Tenant(bad)


def test_every_pinot_query_starts_with_the_tenant() -> None:
    f = LogFilters(tool_types=("FLEET",), device_id="d")
    for sql in (
        pinot_sql.select_logs("logs", LogQuery(ACME, f)),
        pinot_sql.select_facet("logs", FacetQuery(ACME, f, "organization")),
        pinot_sql.select_buckets("logs", BucketQuery(ACME, f, "minute", "toolType")),
        pinot_sql.select_top("logs", TopQuery(ACME, f, "deviceId")),
    ):
        assert re.search(r" WHERE tenantId = 'acme' AND ", sql), sql


def test_log_query_renders_filters_keyset_and_order() -> None:
    f = LogFilters(time_from=1, time_to=2, severities=("ERROR", "CRITICAL"), organization_ids=("o1",),
                   search_terms=("disk", "full"))
    sql = pinot_sql.select_logs("logs", LogQuery(ACME, f, "severity", "ASC", 21, Keyset("ERROR", "id-9")))
    assert "eventTimestamp >= 1 AND eventTimestamp <= 2" in sql
    assert "severity IN ('ERROR', 'CRITICAL')" in sql and "organizationId IN ('o1')" in sql
    assert "TEXT_MATCH(summary, '\"disk full\"')" in sql
    assert "AND (severity > 'ERROR' OR (severity = 'ERROR' AND toolEventId > 'id-9'))" in sql
    assert sql.endswith("ORDER BY severity ASC, toolEventId ASC LIMIT 21")
    probe = pinot_sql.select_logs("logs", LogQuery(ACME, f, "eventTimestamp", "DESC", 1, Keyset(5, "i"), True))
    assert "(eventTimestamp < 5 OR (eventTimestamp = 5 AND toolEventId <= 'i'))" in probe


def _inner_literals(sql: str) -> list[str]:
    """Split SQL on quotes the way Calcite does: '' inside a literal is a quote, not an end."""
    return re.findall(r"'((?:[^']|'')*)'", sql)


@pytest.mark.parametrize("value", HOSTILE)
def test_hostile_values_stay_inside_their_literal(value: str) -> None:
    f = LogFilters(device_id=value, organization_ids=(value,), event_types=(value,))
    sql = pinot_sql.select_logs("logs", LogQuery(ACME, f, "deviceId", "DESC", 5, Keyset(value, value)))
    literals = _inner_literals(sql)
    assert literals.count(value.replace("'", "''")) == 6  # device, org, type, keyset value twice, id
    outside = re.sub(r"'(?:[^']|'')*'", "''", sql)
    assert "DROP" not in outside and "UNION" not in outside and " OR '1'" not in outside


@given(st.text(alphabet=st.characters(blacklist_categories=["Cs"], min_codepoint=0x20), max_size=60))
def test_literal_round_trips_any_printable_text(value: str) -> None:
    if "\x7f" in value:
        return
    rendered = pinot_sql.literal(value)
    assert rendered[0] == rendered[-1] == "'"
    assert rendered[1:-1].replace("''", "").count("'") == 0
    assert rendered[1:-1].replace("''", "'") == value


@pytest.mark.parametrize("value", ["a\x00b", "line\nbreak", "tab\t", "del\x7f"])
def test_control_characters_are_refused(value: str) -> None:
    with pytest.raises(pinot_sql.UnsafeValue):
        pinot_sql.literal(value)


def test_identifiers_come_only_from_whitelists() -> None:
    for bad in ("logs; DROP", "1logs", "logs--", "lo gs", ""):
        with pytest.raises(pinot_sql.UnsafeValue):
            pinot_sql.table(bad)
    with pytest.raises(pinot_sql.UnsafeValue):
        pinot_sql.column("summary; --")
    with pytest.raises(ValueError):
        LogQuery(ACME, LogFilters(), "message")  # type: ignore[arg-type]
    with pytest.raises(pinot_sql.UnsafeValue):
        pinot_sql.number(True)
    with pytest.raises(pinot_sql.UnsafeValue):
        pinot_sql.lucene_phrase(("a*", "b"))
    assert set(SORT_FIELDS) <= pinot_sql._COLUMNS


def test_cql_statements_bind_every_value_and_put_the_tenant_first() -> None:
    texts = cql.statements("ofs_ks")
    for text in texts.values():
        assert "'" not in text and "tenant_id = ?" in text
        assert text.index("tenant_id = ?") < text.index("?", text.index("tenant_id = ?") + 11) or text.count("?") == 2
    bound = TimelineSlice(ACME, "x'); DROP", "2026-11", 5, (1_795_000_000_000, "id'")).bound()
    assert [name for name, _ in bound] == ["timeline_same_time", "timeline_older"]
    assert all(values[0] == "acme" for _, values in bound)
    assert EventByIdQuery(ACME, "e'1").bound() == [("by_id", ("acme", "e'1"))]
    with pytest.raises(ValueError):
        cql.statements("ks; DROP KEYSPACE x")
    with pytest.raises(ValueError):
        TimelineSlice(ACME, "d", "2026-1'", 5)
