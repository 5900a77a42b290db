"""`schemas/unified_event.avsc` is the one definition: the pydantic model, the Pinot schema, the
CQL tables and the hot-path event dict must agree with it on names (camelCase <-> snake_case),
types and nullability. `disagreements` lists every drift; the tests below also prove it notices."""

from __future__ import annotations

import copy
import re
import types
import typing
from typing import Any

import fastavro
import orjson
import pytest

from pipelines.event_model import EventDetails, UnifiedEvent
from pipelines.normalize import normalize
from pipelines.records import Mapped, RawRecord
from pipelines.settings import PipelineSettings
from schemas import cql_statements, pinot_logs_schema, unified_event_avro

JSON_TEXT = {"details"}  # an object on the JSON wire, JSON text in Avro, Pinot and Cassandra
AVRO_TO_PINOT = {"string": "STRING", "long": "LONG", "int": "INT", "boolean": "BOOLEAN"}
AVRO_TO_CQL = {"string": "text", "long": "bigint", "int": "int", "boolean": "boolean"}
CQL_TIMESTAMPS = {"eventTimestamp"}  # epoch-ms long in Avro, a CQL timestamp
TABLE = re.compile(r"CREATE TABLE IF NOT EXISTS (\w+)\.(\w+) \((.*?)\)(?: WITH CLUSTERING ORDER BY \((.*)\))?$", re.S)
PRIMARY_KEY = re.compile(r"PRIMARY KEY \(\(([^)]*)\)(?:,\s*([^)]*))?\)")
# device_timeline only holds events that have a device; its writer skips the others.
NULLABLE_KEY_COLUMNS = {("device_timeline", "device_id")}
EXTRA_CQL_COLUMNS = {"device_timeline": {"month": "text"}}


def snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def avro_fields(schema: dict[str, Any]) -> dict[str, tuple[str, bool]]:
    fastavro.parse_schema(schema)
    fields: dict[str, tuple[str, bool]] = {}
    for field in schema["fields"]:
        kind = field["type"]
        if isinstance(kind, list):
            rest = [k for k in kind if k != "null"]
            assert len(rest) == 1, field
            fields[field["name"]] = (rest[0], "null" in kind)
        else:
            fields[field["name"]] = (kind, False)
    return fields


def model_fields(model: type[UnifiedEvent]) -> dict[str, tuple[str, bool]]:
    fields: dict[str, tuple[str, bool]] = {}
    for name, info in model.model_fields.items():
        annotation, nullable = info.annotation, False
        if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union:
            args = [a for a in typing.get_args(annotation) if a is not type(None)]
            nullable, annotation = len(args) < len(typing.get_args(annotation)), args[0]
        if typing.get_origin(annotation) is typing.Literal:
            annotation = type(typing.get_args(annotation)[0])
        kind = {str: "string", int: "int|long", bool: "boolean", EventDetails: "json"}[annotation]  # type: ignore[index]
        fields[info.alias or name] = (kind, nullable)
    return fields


def cql_tables(statements: list[str]) -> dict[str, tuple[dict[str, str], list[str], list[str]]]:
    tables: dict[str, tuple[dict[str, str], list[str], list[str]]] = {}
    for statement in statements:
        match = TABLE.match(statement)
        if not match:
            continue
        columns: dict[str, str] = {}
        key = PRIMARY_KEY.search(match.group(3))
        assert key, statement
        for line in match.group(3).splitlines():
            line = line.strip().rstrip(",")
            if line and not line.startswith("PRIMARY KEY"):
                column, kind = line.split()
                columns[column] = kind
        partition = [c.strip() for c in key.group(1).split(",")]
        clustering = [c.strip() for c in (key.group(2) or "").split(",") if c.strip()]
        tables[match.group(2)] = (columns, partition, clustering)
    return tables


def disagreements(avro: dict[str, Any], model: type[UnifiedEvent], pinot: dict[str, Any], cql: list[str]) -> list[str]:
    problems: list[str] = []
    reference = avro_fields(avro)

    for name, (kind, nullable) in model_fields(model).items():
        if name not in reference:
            problems.append(f"model: {name} is not in Avro")
            continue
        want_kind, want_null = reference[name]
        expected = "json" if name in JSON_TEXT else want_kind
        if expected not in kind.split("|"):
            problems.append(f"model: {name} is {kind}, Avro says {want_kind}")
        if nullable != want_null:
            problems.append(f"model: {name} nullable={nullable}, Avro says {want_null}")
    problems += [f"model: misses {n}" for n in reference.keys() - model_fields(model).keys()]

    specs = {
        f["name"]: f["dataType"] for f in pinot.get("dimensionFieldSpecs", []) + pinot.get("dateTimeFieldSpecs", [])
    }
    problems += [f"pinot: {n} is {specs[n]}, Avro says {reference[n][0]}" for n in specs.keys() & reference.keys()
                 if specs[n] != AVRO_TO_PINOT[reference[n][0]]]  # fmt: skip
    problems += [f"pinot: misses {n}" for n in reference.keys() - specs.keys()]
    problems += [f"pinot: {n} is not in Avro" for n in specs.keys() - reference.keys()]
    if pinot.get("primaryKeyColumns") != ["toolEventId"]:
        problems.append("pinot: primary key must be [toolEventId]")

    tables = cql_tables(cql)
    if set(tables) != {"events_by_id", "events_by_day", "device_timeline"}:
        problems.append(f"cql: tables are {sorted(tables)}")
    for table, (columns, partition, clustering) in tables.items():
        expected_columns = {
            snake(n): "timestamp" if n in CQL_TIMESTAMPS else AVRO_TO_CQL[k] for n, (k, _) in reference.items()
        } | EXTRA_CQL_COLUMNS.get(table, {})
        if columns != expected_columns:
            diff = set(columns.items()) ^ set(expected_columns.items())
            problems.append(f"cql: {table} columns differ from Avro: {sorted(diff)}")
        nullable = {snake(n) for n, (_, null) in reference.items() if null}
        for column in partition + clustering:
            if column in nullable and (table, column) not in NULLABLE_KEY_COLUMNS:
                problems.append(f"cql: {table} key column {column} is nullable in Avro")
    return problems


def test_all_four_definitions_agree() -> None:
    assert disagreements(unified_event_avro(), UnifiedEvent, pinot_logs_schema(), cql_statements()) == []


def test_hot_path_event_has_exactly_the_avro_fields_in_order() -> None:
    value = {"op": "c", "ts_ms": 1, "after": '{"_id": {"$oid": "a"}, "etype": "user", "action": "login"}'}
    out = normalize(RawRecord("meshcentral.mongodb.events", {}, None, orjson.dumps(value)), PipelineSettings())
    assert isinstance(out, Mapped)
    assert list(out.event) == [f["name"] for f in unified_event_avro()["fields"]]


def test_cql_keys_and_clustering_order() -> None:
    tables = cql_tables(cql_statements())
    assert tables["events_by_id"][1:] == (["tenant_id", "tool_event_id"], [])
    assert tables["events_by_day"][1:] == (["tenant_id", "ingest_day"], ["event_timestamp", "tool_event_id"])
    assert tables["device_timeline"][1:] == (["tenant_id", "device_id", "month"], ["event_timestamp", "tool_event_id"])
    statements = cql_statements()
    assert statements[0].startswith("CREATE KEYSPACE IF NOT EXISTS openframe_events")
    assert "'SimpleStrategy'" in statements[0] and "'replication_factor': 1" in statements[0]
    for statement in statements[1:]:
        assert (
            "WITH CLUSTERING ORDER BY (event_timestamp DESC, tool_event_id ASC)" in statement
            or "events_by_id" in statement
        )


def test_pinot_time_column_and_text_sizes() -> None:
    pinot = pinot_logs_schema()
    assert pinot["schemaName"] == "logs"
    assert pinot["dateTimeFieldSpecs"] == [
        {
            "name": "eventTimestamp",
            "dataType": "LONG",
            "format": "1:MILLISECONDS:EPOCH",
            "granularity": "1:MILLISECONDS",
        }
    ]
    sizes = {f["name"]: f.get("maxLength") for f in pinot["dimensionFieldSpecs"]}
    assert sizes["message"] == sizes["details"] == 65536


def _rename_avro(schema: dict[str, Any]) -> None:
    schema["fields"][2]["name"] = "actorId"


def _retype_avro(schema: dict[str, Any]) -> None:
    schema["fields"][20]["type"] = "long"  # schemaVersion


def _null_avro(schema: dict[str, Any]) -> None:
    schema["fields"][0]["type"] = ["null", "string"]  # tenantId, a key column


@pytest.mark.parametrize("drift", [_rename_avro, _retype_avro, _null_avro])
def test_avro_drift_is_noticed(drift: Any) -> None:
    avro = copy.deepcopy(unified_event_avro())
    drift(avro)
    assert disagreements(avro, UnifiedEvent, pinot_logs_schema(), cql_statements())


def test_pinot_and_cql_drift_is_noticed() -> None:
    pinot = copy.deepcopy(pinot_logs_schema())
    pinot["dimensionFieldSpecs"][-1]["dataType"] = "INT"
    assert disagreements(unified_event_avro(), UnifiedEvent, pinot, cql_statements())
    cql = [s.replace("visible boolean", "visible text") for s in cql_statements()]
    assert disagreements(unified_event_avro(), UnifiedEvent, pinot_logs_schema(), cql)
    cql = [s.replace("    discriminator text,\n", "") for s in cql_statements()]
    assert disagreements(unified_event_avro(), UnifiedEvent, pinot_logs_schema(), cql)
