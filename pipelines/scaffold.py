"""`openframe-stream mappers new NAME`: the files of a new tool mapper, ready to fill in.

Writes the mapper module, the tool's taxonomy file (unless the tool has one), a fixture folder
with an example input and an expected file that fails on purpose, and a test of that folder.
Never overwrites an existing file.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from openframe_stream.errors import ConfigError

_MODULE = re.compile(r"^[a-z][a-z0-9_]*$")
_TOOL = re.compile(r"^[A-Z][A-Z0-9_]*$")

_MAPPER = '''"""{name}: <which tool this is, and which table or collection the records come from>."""

from __future__ import annotations

from pipelines.mappers._fields import text
from pipelines.mappers._registry import mapper
from pipelines.records import Change, ToolEvent


@mapper("{name}", tool="{tool}", table="events")
def map_{name}(change: Change) -> ToolEvent:
    """One row (`change.row`, the Debezium `after` or the flattened row) -> the tool's facts.

    Replace the field names below with the tool's own; `table` above is the source table or
    collection (it is part of the event id). Pure: no I/O, no clock.
    """
    row = change.row
    return ToolEvent(
        source_type=text(row.get("type")) or "unknown",  # key into pipelines/taxonomy/{tool_file}
        pk=text(row.get("id")),  # None: the event id becomes a hash of the row
        time=row.get("created_at"),  # ISO-8601 or epoch; None: the envelope ts_ms
        agent_id=text(row.get("agent_id")),  # the enrichment key
        message=text(row.get("message")),
    )
'''

_TEST = '''"""Recorded-fixture tests of the `{name}` mapper: they fail until the expected files are real."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipelines.golden import load_cases, run_case
from pipelines.mappers import REGISTRY

FIXTURES = Path(__file__).resolve().parents[3] / "fixtures" / "mappers"
CASES = load_cases(FIXTURES, "{name}")


def test_{name}_is_registered() -> None:
    assert REGISTRY.get("{name}") is not None, "import {name} in pipelines/mappers/__init__.py"


def test_{name}_has_cases() -> None:
    assert CASES, "add <case>.input.json / <case>.expected.json to tests/fixtures/mappers/{name}/"


@pytest.mark.parametrize("case", CASES, ids=str)
def test_{name}_fixture(case) -> None:  # type: ignore[no-untyped-def]
    assert run_case(case) == case.expected
'''


def _example_input(name: str) -> dict[str, object]:
    return {
        "topic": f"{name}.events",
        "headers": {"message-type": name},
        "key": None,
        "value": {
            "op": "c",
            "ts_ms": 1763630000000,
            "after": {
                "id": 1,
                "type": "example.created",
                "created_at": "2025-11-20T09:00:00Z",
                "agent_id": "agent-1",
                "message": "Example created",
            },
        },
    }


def new_mapper(root: Path, name: str, tool: str | None = None) -> list[Path]:
    """Create the files for mapper `name` under project `root`; returns the paths written."""
    if not _MODULE.match(name):
        raise ConfigError(f"mapper name {name!r}: use lower_snake_case (it is a module name)")
    tool = tool or name.upper()
    if not _TOOL.match(tool):
        raise ConfigError(f"tool {tool!r}: use UPPER_SNAKE_CASE")
    tool_file = f"{tool.lower()}.json"
    fixtures = root / "tests" / "fixtures" / "mappers" / name
    planned: dict[Path, str] = {
        root / "pipelines" / "mappers" / f"{name}.py": _MAPPER.format(name=name, tool=tool, tool_file=tool_file),
        # One line each: the input is a `map` input line, the expected file its exact output line.
        fixtures / "example.input.json": json.dumps(_example_input(name)) + "\n",
        fixtures / "example.expected.json": json.dumps(
            {
                "status": "TODO",
                "todo": f"replace with the output of `openframe-stream map tests/fixtures/mappers/{name}/"
                "example.input.json`, checked by hand against the tool's rules",
            }
        )
        + "\n",
        root / "tests" / "unit" / "pipelines" / "mappers" / f"test_{name}.py": _TEST.format(name=name),
    }
    taxonomy = root / "pipelines" / "taxonomy" / tool_file
    if not taxonomy.exists():
        planned[taxonomy] = (
            json.dumps(
                {"tool": tool, "source_types": {"example.created": "UNKNOWN"}, "skip": [], "invisible": []}, indent=2
            )
            + "\n"
        )
    existing = [path for path in planned if path.exists()]
    if existing:
        raise ConfigError(f"not overwriting {', '.join(str(p) for p in existing)}")
    for path, content in planned.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content)
    return list(planned)
