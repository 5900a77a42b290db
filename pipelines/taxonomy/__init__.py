"""The event taxonomy as data: `event_types.json` (110 unified types with severity and default
summary) and one `<tool>.json` per tool (source type -> unified type, plus the skip and invisible
lists). Files are read once, on first use, and validated: a tool file naming an unknown unified
type is a `ConfigError`, not a silent UNKNOWN.

A source type missing from its tool's map becomes `UNKNOWN` (severity WARNING): mapped, never
dropped.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any, Final

from openframe_stream.errors import ConfigError

UNKNOWN: Final = "UNKNOWN"
SEVERITIES: Final = ("INFO", "WARNING", "ERROR", "CRITICAL")

# (eventType, severity, default summary): what the hot path needs per source type.
Classification = tuple[str, str, str]


def _read(name: str) -> Any:
    try:
        text = resources.files(__name__).joinpath(name).read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise ConfigError(f"taxonomy file {name} is missing") from exc
    return json.loads(text)


@cache
def event_types() -> Mapping[str, Classification]:
    """Every unified event type by name."""
    raw: dict[str, dict[str, str]] = _read("event_types.json")
    types: dict[str, Classification] = {}
    for name, spec in raw.items():
        if spec.get("severity") not in SEVERITIES or not spec.get("summary"):
            raise ConfigError(f"event type {name}: needs a severity in {SEVERITIES} and a summary")
        types[name] = (name, spec["severity"], spec["summary"])
    if UNKNOWN not in types:
        raise ConfigError("event_types.json must define UNKNOWN")
    return types


@dataclass(frozen=True)
class ToolTaxonomy:
    """One tool's source-type map. Build with `tool_taxonomy(tool)` or `taxonomy_from_data(...)`."""

    tool: str
    source_types: Mapping[str, str]
    skip: frozenset[str] = frozenset()
    invisible: frozenset[str] = frozenset()
    lookup: dict[str, Classification] = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        types = event_types()
        for source_type, event_type in self.source_types.items():
            if event_type not in types:
                raise ConfigError(f"{self.tool}: {source_type!r} maps to unknown event type {event_type!r}")
            self.lookup[source_type] = types[event_type]

    def classify(self, source_type: str) -> Classification:
        """(eventType, severity, default summary); UNKNOWN/WARNING when the type is not mapped."""
        found = self.lookup.get(source_type)
        return found if found is not None else event_types()[UNKNOWN]


def taxonomy_from_data(data: Mapping[str, Any]) -> ToolTaxonomy:
    """A taxonomy from the JSON shape of `<tool>.json`; third-party mappers pass one of these."""
    try:
        return ToolTaxonomy(
            tool=str(data["tool"]),
            source_types=dict(data.get("source_types", {})),
            skip=frozenset(data.get("skip", ())),
            invisible=frozenset(data.get("invisible", ())),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise ConfigError(f"bad taxonomy data: {exc}") from exc


@cache
def tool_taxonomy(tool: str) -> ToolTaxonomy:
    """The built-in taxonomy of `tool` (FLEET, MESHCENTRAL, ...), from `<tool lower case>.json`."""
    data = _read(f"{tool.lower()}.json")
    if str(data.get("tool", "")).upper() != tool.upper():
        raise ConfigError(f"{tool.lower()}.json declares tool {data.get('tool')!r}")
    return taxonomy_from_data(data)


@cache
def fleet_activity_messages() -> Mapping[str, str]:
    """Fleet `activity_type` -> the human text the reference shows (e.g. "Created policy")."""
    messages: dict[str, str] = _read("fleet_activity_messages.json")
    return messages
