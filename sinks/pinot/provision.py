"""Provision the Pinot `logs` schema and REALTIME upsert table through the controller REST API.

Idempotent: absent objects are created, drifted ones updated, equal ones left alone, so every worker
can call it at start.
"""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

import requests
from pydantic import BaseModel, ConfigDict, Field

from openframe_stream.errors import ConfigError, Transient


class PinotSinkSettings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    table: str = Field("logs", description="Name of the Pinot schema and REALTIME table.")
    flush_rows: int = Field(100_000, description="Rows per consuming segment before it is committed.")
    retention_days: int = Field(60, description="Retention of the logs table in days.")


def schema(settings: PinotSinkSettings) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(resources.files("schemas").joinpath("pinot/logs.schema.json").read_text())
    body["schemaName"] = settings.table
    return body


def table_config(settings: PinotSinkSettings, topic: str, bootstrap: str) -> dict[str, Any]:
    text = resources.files("schemas").joinpath("pinot/logs.table.json").read_text()
    for name, value in {
        "ENRICHED_TOPIC": topic,
        "KAFKA_BOOTSTRAP": bootstrap,
        "FLUSH_ROWS": str(settings.flush_rows),
    }.items():
        text = text.replace("${" + name + "}", value)
    config: dict[str, Any] = json.loads(text)
    config["tableName"] = settings.table
    config["segmentsConfig"]["schemaName"] = settings.table
    config["segmentsConfig"]["retentionTimeValue"] = str(settings.retention_days)
    return config


def _call(method: str, url: str, **kwargs: Any) -> requests.Response:
    try:
        return requests.request(method, url, timeout=30, **kwargs)
    except requests.RequestException as exc:
        raise Transient(f"pinot controller unreachable: {exc}") from exc


def _check(response: requests.Response, what: str) -> None:
    if response.status_code >= 500:
        raise Transient(f"{what}: {response.status_code} {response.text[:300]}")
    if not response.ok:
        raise ConfigError(f"{what}: {response.status_code} {response.text[:500]}")


def provision(controller_url: str, settings: PinotSinkSettings, topic: str, bootstrap: str) -> list[str]:
    """Create or update the schema and the table; returns what changed (empty when nothing did)."""
    changed: list[str] = []
    wanted_schema = schema(settings)
    current = _call("GET", f"{controller_url}/schemas/{settings.table}")
    if current.status_code == 404:
        _check(_call("POST", f"{controller_url}/schemas", json=wanted_schema), "create schema")
        changed.append("schema created")
    else:
        _check(current, "read schema")
        if _schema_fields(current.json()) != _schema_fields(wanted_schema):
            _check(_call("PUT", f"{controller_url}/schemas/{settings.table}", json=wanted_schema), "update schema")
            changed.append("schema updated")
    wanted = table_config(settings, topic, bootstrap)
    current = _call("GET", f"{controller_url}/tables/{settings.table}", params={"type": "realtime"})
    _check(current, "read table")
    existing = current.json().get("REALTIME")
    if not existing:
        _check(_call("POST", f"{controller_url}/tables", json=wanted), "create table")
        changed.append("table created")
    elif _differs(existing, wanted):
        _check(_call("PUT", f"{controller_url}/tables/{settings.table}", json=wanted), "update table")
        changed.append("table updated")
    return changed


def _schema_fields(body: dict[str, Any]) -> Any:
    keys = ("dimensionFieldSpecs", "metricFieldSpecs", "dateTimeFieldSpecs", "primaryKeyColumns")
    return {k: body.get(k) or [] for k in keys}


def _differs(existing: dict[str, Any], wanted: dict[str, Any]) -> bool:
    """True when a key we set has another value on the server (the server adds defaults of its own)."""

    def covered(want: Any, have: Any) -> bool:
        if isinstance(want, dict):
            return isinstance(have, dict) and all(covered(v, have.get(k)) for k, v in want.items())
        if isinstance(want, list):
            return isinstance(have, list) and len(want) == len(have) and all(map(covered, want, have))
        return want == have or str(want) == str(have)

    # The server names the table with its type suffix (logs_REALTIME); that is not drift.
    wanted = {k: v for k, v in wanted.items() if k != "tableName"}
    return not covered(wanted, existing)
