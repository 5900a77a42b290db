"""One definition of the data: Avro, Pinot schema and table JSON, CQL.

`unified_event.avsc` is the definition of the unified event; `pinot/logs.schema.json` and
`cql/events.cql` follow it (a unit test proves they agree). Load them through these helpers so
they work from an installed package as well as from the source tree.
"""

from __future__ import annotations

import json
from importlib import resources
from typing import Any


def _text(*parts: str) -> str:
    node = resources.files(__name__)
    for part in parts:
        node = node.joinpath(part)
    return node.read_text(encoding="utf-8")


def unified_event_avro() -> dict[str, Any]:
    """The Avro schema of the unified event (parse it with `fastavro.parse_schema`)."""
    schema: dict[str, Any] = json.loads(_text("unified_event.avsc"))
    return schema


def pinot_logs_schema() -> dict[str, Any]:
    """The Pinot schema of the `logs` table."""
    schema: dict[str, Any] = json.loads(_text("pinot", "logs.schema.json"))
    return schema


def cql_statements() -> list[str]:
    """The CQL of the event history, one idempotent statement per item, comments removed."""
    lines = [line for line in _text("cql", "events.cql").splitlines() if not line.lstrip().startswith("--")]
    return [statement.strip() for statement in "\n".join(lines).split(";") if statement.strip()]
