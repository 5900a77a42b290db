from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from openframe_stream.errors import ConfigError
from pipelines.mappers import BUILTIN_PACKAGE, REGISTRY, DuplicateMapperError, Registry
from pipelines.records import Change, ToolEvent


def _fn(change: Change) -> ToolEvent:
    return ToolEvent("x", "1")


TAXONOMY = {"tool": "ACME", "source_types": {"alert.raised": "ALERT_TRIGGERED"}}


@dataclass
class FakeDist:
    name: str


@dataclass
class FakeEntryPoint:
    """Stands in for importlib.metadata.EntryPoint: `load()` runs the plugin's registrations."""

    name: str
    module: str
    dist: FakeDist | None
    action: Any

    def load(self) -> Any:
        return self.action()


def test_builtins_are_registered_with_their_sources_and_package() -> None:
    names = {spec.name: spec for spec in REGISTRY.specs()}
    assert set(names) >= {
        "fleet.activities", "fleet.query_results", "fleet.policy_membership", "meshcentral.events",
        "tactical.logs_auditlog", "tactical.agents_agenthistory", "tactical.autotasks_taskresult", "agent.results",
    }  # fmt: skip
    assert all(spec.package == BUILTIN_PACKAGE for spec in names.values())  # no plugins installed here
    assert names["agent.results"].table == "events" and names["fleet.activities"].table == "activities"
    assert names["tactical.logs_auditlog"].tool_id == "tactical"


def test_duplicate_names_and_sources_are_errors() -> None:
    registry = Registry()
    registry.mapper("acme.alerts", tool="ACME", taxonomy=TAXONOMY)(_fn)
    with pytest.raises(DuplicateMapperError, match="acme.alerts"):
        registry.mapper("acme.alerts", tool="ACME", taxonomy=TAXONOMY)(_fn)
    with pytest.raises(DuplicateMapperError, match="already handled"):
        registry.mapper("acme.other", tool="ACME", sources=("acme.alerts",), taxonomy=TAXONOMY)(_fn)
    assert registry.get("acme.other") is None


@pytest.mark.parametrize(("name", "tool"), [("Bad Name", "ACME"), ("acme", "acme"), ("", "ACME")])
def test_names_and_tools_are_checked(name: str, tool: str) -> None:
    with pytest.raises(ConfigError):
        Registry().mapper(name, tool=tool, taxonomy=TAXONOMY)(_fn)


def test_taxonomy_must_exist_and_name_known_types() -> None:
    with pytest.raises(ConfigError, match="missing"):
        Registry().mapper("nope.x", tool="NOPE_NO_FILE")(_fn)
    with pytest.raises(ConfigError, match="unknown event type"):
        Registry().mapper("acme.x", tool="ACME", taxonomy={"tool": "ACME", "source_types": {"a": "NOT_A_TYPE"}})(_fn)


def test_entry_points_register_with_their_package_once() -> None:
    registry = Registry()
    calls: list[str] = []

    def plugin() -> None:
        calls.append("loaded")
        registry.mapper("acme.alerts", tool="ACME", taxonomy=TAXONOMY)(_fn)

    registry.load_entry_points([FakeEntryPoint("acme", "acme_mappers", FakeDist("acme-mappers"), plugin)])
    registry.load_entry_points([FakeEntryPoint("acme", "acme_mappers", FakeDist("acme-mappers"), plugin)])
    spec = registry.for_source("acme.alerts")
    assert spec is not None and spec.package == "acme-mappers" and spec.tool == "ACME"
    assert calls == ["loaded"]


def test_for_source_loads_plugins_on_a_miss() -> None:
    registry = Registry()
    registry._plugins_loaded = False
    assert registry.for_source("surely.not.registered") is None
    assert registry._plugins_loaded  # the real entry-point group was consulted once


def test_plugin_clash_and_failure_are_config_errors_every_time() -> None:
    registry = Registry()
    registry.mapper("acme.alerts", tool="ACME", taxonomy=TAXONOMY)(_fn)

    def clash() -> None:
        registry.mapper("acme.alerts", tool="ACME", taxonomy=TAXONOMY)(_fn)

    eps = [FakeEntryPoint("acme", "acme_mappers", None, clash)]
    with pytest.raises(DuplicateMapperError):
        registry.load_entry_points(eps)
    with pytest.raises(DuplicateMapperError):
        registry.for_source("other.source")

    def broken() -> None:
        raise ImportError("no module named acme_sdk")

    failing = Registry()
    with pytest.raises(ConfigError, match="acme_sdk"):
        failing.load_entry_points([FakeEntryPoint("acme", "acme_mappers", FakeDist("acme-mappers"), broken)])
