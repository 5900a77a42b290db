"""The Cassandra schema file as statements, and the statements the sink builds from it."""

from __future__ import annotations

import re
from typing import Any

import pytest

from sinks.cassandra import cql

KS = "ofs_test_ks"
STATEMENTS = cql.statements(KS)


def table(name: str) -> str:
    (statement,) = [s for s in STATEMENTS if re.match(rf"CREATE TABLE IF NOT EXISTS {KS}\.{name} \(", s)]
    return statement


def columns(name: str) -> list[str]:
    body = table(name).split("(", 1)[1]
    return [line.split()[0] for line in body.splitlines() if re.match(r"\s+\w+ \w+,$", line)]


def primary_key(name: str) -> tuple[list[str], list[str]]:
    match = re.search(r"PRIMARY KEY \(\((.*?)\)(?:, (.*?))?\)", table(name))
    assert match, table(name)
    partition = [c.strip() for c in match.group(1).split(",")]
    clustering = [c.strip() for c in (match.group(2) or "").split(",") if c.strip()]
    return partition, clustering


def test_one_keyspace_and_three_tables_all_idempotent() -> None:
    assert len(STATEMENTS) == 4
    assert STATEMENTS[0].startswith(f"CREATE KEYSPACE IF NOT EXISTS {KS}\n")
    assert all("IF NOT EXISTS" in s for s in STATEMENTS)
    assert {name for name in ("events_by_id", "events_by_day", "device_timeline") if table(name)} == {
        "events_by_id",
        "events_by_day",
        "device_timeline",
    }


def test_the_configured_keyspace_replaces_the_default_everywhere_and_comments_are_gone() -> None:
    text = "\n".join(STATEMENTS)
    assert "openframe_events" not in text
    assert "--" not in text
    assert not any(s.endswith(";") for s in STATEMENTS)
    assert cql.statements("other_ks")[0].startswith("CREATE KEYSPACE IF NOT EXISTS other_ks")


@pytest.mark.parametrize(
    ("name", "extra"), [("events_by_id", []), ("events_by_day", []), ("device_timeline", ["month"])]
)
def test_every_table_has_exactly_the_sink_columns(name: str, extra: list[str]) -> None:
    assert columns(name) == [*cql.COLUMNS, *extra]


@pytest.mark.parametrize(
    ("name", "partition", "clustering"),
    [
        ("events_by_id", ["tenant_id", "tool_event_id"], []),
        ("events_by_day", ["tenant_id", "ingest_day"], ["event_timestamp", "tool_event_id"]),
        ("device_timeline", ["tenant_id", "device_id", "month"], ["event_timestamp", "tool_event_id"]),
    ],
)
def test_partitions_hold_the_tenant_and_a_bucket(name: str, partition: list[str], clustering: list[str]) -> None:
    assert primary_key(name) == (partition, clustering)


def test_time_ordered_tables_are_newest_first() -> None:
    for name in ("events_by_day", "device_timeline"):
        assert "CLUSTERING ORDER BY (event_timestamp DESC, tool_event_id ASC)" in table(name)


@pytest.mark.parametrize("name", ["events_by_id", "events_by_day", "device_timeline"])
def test_insert_binds_every_column_and_the_ttl(name: str) -> None:
    statement = cql.insert(KS, name)
    listed = statement.split("(", 1)[1].split(")", 1)[0].split(", ")
    assert listed == columns(name)
    assert statement.count("?") == len(listed) + 1
    assert statement.startswith(f"INSERT INTO {KS}.{name} ") and statement.endswith("USING TTL ?")


@pytest.mark.parametrize(
    ("statement", "name"),
    [(cql.delete_day(KS), "events_by_day"), (cql.delete_timeline(KS), "device_timeline")],
)
def test_deletes_name_one_whole_row(statement: str, name: str) -> None:
    partition, clustering = primary_key(name)
    assert statement.startswith(f"DELETE FROM {KS}.{name} WHERE ")
    where = re.findall(r"(\w+) = \?", statement)
    assert where == [*partition, *clustering]


def test_select_previous_reads_the_placements_of_many_ids_at_once() -> None:
    statement = cql.select_previous(KS)
    assert f"FROM {KS}.events_by_id" in statement
    # The whole partition key, its last column as an IN list: one read per tenant and chunk of ids.
    tenant, event_id = primary_key("events_by_id")[0]
    assert re.findall(r"(\w+) = \?", statement) == [tenant]
    assert statement.endswith(f"AND {event_id} IN ?")
    assert statement.startswith("SELECT tool_event_id, ingest_day, event_timestamp, device_id ")


def test_row_values_follow_columns_and_convert_time_and_details() -> None:
    wire = {
        "tenantId": "t",
        "toolEventId": "e",
        "userId": "u",
        "deviceId": "d",
        "hostname": "h",
        "organizationId": "o",
        "organizationName": "on",
        "ingestDay": "2025-11-20",
        "toolType": "FLEET",
        "eventType": "SCRIPT_RUN",
        "severity": "INFO",
        "summary": "s",
        "eventTimestamp": 5,
        "agentId": "a",
        "sourceEventType": "ran_script",
        "sourceTable": "activities",
        "operation": "c",
        "message": "m",
        "details": {"k": 1},
        "visible": False,
        "schemaVersion": 2,
        "discriminator": "7",
    }
    values = cql.row_values(wire, lambda ms: ("time", ms), lambda d: ("json", d))
    by_column = dict(zip(cql.COLUMNS, values, strict=True))
    assert by_column["event_timestamp"] == ("time", 5)
    assert by_column["details"] == ("json", {"k": 1})
    assert by_column["tenant_id"] == "t" and by_column["discriminator"] == "7" and by_column["visible"] is False
    assert by_column["schema_version"] == 2 and by_column["ingest_day"] == "2025-11-20"


def test_row_values_defaults_for_absent_fields() -> None:
    def same(x: Any) -> Any:
        return x

    by_column = dict(zip(cql.COLUMNS, cql.row_values({}, same, same), strict=True))
    assert by_column.pop("visible") is True and by_column.pop("schema_version") == 1
    assert set(by_column.values()) == {None}
