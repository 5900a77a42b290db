"""Apply `schemas/cql/events.cql` (idempotent) and build the statements the sink uses."""

from __future__ import annotations

import re
from importlib import resources
from typing import Any

COLUMNS = (
    "tenant_id",
    "tool_event_id",
    "user_id",
    "device_id",
    "hostname",
    "organization_id",
    "organization_name",
    "ingest_day",
    "tool_type",
    "event_type",
    "severity",
    "summary",
    "event_timestamp",
    "agent_id",
    "source_event_type",
    "source_table",
    "operation",
    "message",
    "details",
    "visible",
    "schema_version",
    "discriminator",
)


def statements(keyspace: str) -> list[str]:
    """The CQL file's statements, with the configured keyspace."""
    text = resources.files("schemas").joinpath("cql/events.cql").read_text()
    text = re.sub(r"--[^\n]*", "", text).replace("openframe_events", keyspace)
    return [s.strip() for s in text.split(";") if s.strip()]


def insert(keyspace: str, table: str) -> str:
    columns = [*COLUMNS, "month"] if table == "device_timeline" else list(COLUMNS)
    marks = ", ".join("?" for _ in columns)
    return f"INSERT INTO {keyspace}.{table} ({', '.join(columns)}) VALUES ({marks}) USING TTL ?"


def select_previous(keyspace: str) -> str:
    return (
        f"SELECT tool_event_id, ingest_day, event_timestamp, device_id FROM {keyspace}.events_by_id "
        "WHERE tenant_id = ? AND tool_event_id IN ?"
    )


def delete_day(keyspace: str) -> str:
    return (
        f"DELETE FROM {keyspace}.events_by_day WHERE tenant_id = ? AND ingest_day = ? "
        "AND event_timestamp = ? AND tool_event_id = ?"
    )


def delete_timeline(keyspace: str) -> str:
    return (
        f"DELETE FROM {keyspace}.device_timeline WHERE tenant_id = ? AND device_id = ? AND month = ? "
        "AND event_timestamp = ? AND tool_event_id = ?"
    )


def row_values(event: Any, to_time: Any, to_json: Any) -> list[Any]:
    """Column values in COLUMNS order from a wire event (camelCase)."""
    return [
        event.get("tenantId"),
        event.get("toolEventId"),
        event.get("userId"),
        event.get("deviceId"),
        event.get("hostname"),
        event.get("organizationId"),
        event.get("organizationName"),
        event.get("ingestDay"),
        event.get("toolType"),
        event.get("eventType"),
        event.get("severity"),
        event.get("summary"),
        to_time(event.get("eventTimestamp")),
        event.get("agentId"),
        event.get("sourceEventType"),
        event.get("sourceTable"),
        event.get("operation"),
        event.get("message"),
        to_json(event.get("details")),
        event.get("visible", True),
        event.get("schemaVersion", 1),
        event.get("discriminator"),
    ]
