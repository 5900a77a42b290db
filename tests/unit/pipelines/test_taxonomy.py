from __future__ import annotations

import json
from pathlib import Path

import pytest

from openframe_stream.errors import ConfigError
from pipelines.taxonomy import SEVERITIES, event_types, fleet_activity_messages, taxonomy_from_data, tool_taxonomy

TOOLS = ["FLEET", "MESHCENTRAL", "TACTICAL", "RMM"]


def test_110_event_types_with_severity_and_summary() -> None:
    types = event_types()
    assert len(types) == 110
    assert types["UNKNOWN"] == ("UNKNOWN", "WARNING", "Unknown event")
    assert types["HOST_WIPED"][1] == "CRITICAL" and types["SCRIPT_FAILED"][1] == "ERROR"
    assert types["TASK_FAILED"][1] == "ERROR" and types["POLICY_VIOLATION"][1] == "WARNING"
    assert all(sev in SEVERITIES and summary for _, sev, summary in types.values())


@pytest.mark.parametrize("tool", TOOLS)
def test_tool_maps_name_only_known_types(tool: str) -> None:
    taxonomy = tool_taxonomy(tool)
    assert taxonomy.source_types
    assert set(taxonomy.source_types.values()) <= set(event_types())
    assert taxonomy.classify("definitely.not.mapped") == event_types()["UNKNOWN"]


def test_reference_specifics() -> None:
    assert tool_taxonomy("TACTICAL").classify("scxript.add")[0] == "SCRIPT_CREATED"
    assert tool_taxonomy("TACTICAL").classify("script.add")[0] == "UNKNOWN"
    assert tool_taxonomy("TACTICAL").invisible == {"agent.execute_script", "agent.execute_command"}
    assert "servertimelinestats" in tool_taxonomy("MESHCENTRAL").skip
    assert tool_taxonomy("RMM").classify("script_run.failed")[0] == "SCRIPT_FAILED"


def test_every_fleet_text_belongs_to_a_mapped_activity() -> None:
    assert set(fleet_activity_messages()) <= set(tool_taxonomy("FLEET").source_types)
    assert fleet_activity_messages()["applied_spec_policy"] == "Applied policy spec"


def test_bad_data_is_a_config_error() -> None:
    with pytest.raises(ConfigError):
        taxonomy_from_data({"source_types": {}})
    with pytest.raises(ConfigError):
        taxonomy_from_data({"tool": "X", "source_types": {"a": "NOPE"}})


def test_files_are_valid_json_objects() -> None:
    folder = Path(__file__).resolve().parents[3] / "pipelines" / "taxonomy"
    for path in folder.glob("*.json"):
        assert isinstance(json.loads(path.read_text()), dict), path
