"""Recorded fixtures: every `<case>.input.json` maps to exactly its `<case>.expected.json`, and
the fixture folders and the registered mappers match one to one."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipelines.event_model import UnifiedEvent
from pipelines.golden import Case, load_cases, run_case
from pipelines.mappers import REGISTRY

FIXTURES = Path(__file__).resolve().parents[3] / "fixtures" / "mappers"
CASES = load_cases(FIXTURES)


@pytest.mark.parametrize("case", CASES, ids=str)
def test_fixture_maps_to_expected(case: Case) -> None:
    assert case.expected is not None, f"{case.path} has no expected file"
    assert run_case(case) == case.expected


@pytest.mark.parametrize("case", [c for c in CASES if c.expected and c.expected.get("status") == "mapped"], ids=str)
def test_expected_events_are_valid_unified_events(case: Case) -> None:
    event = UnifiedEvent.model_validate(case.expected["event"])
    assert event.model_dump(by_alias=True)["toolEventId"] == case.expected["event"]["toolEventId"]


def test_every_mapper_has_a_fixture_folder_and_every_folder_a_mapper() -> None:
    folders = {p.name for p in FIXTURES.iterdir() if p.is_dir()}
    mappers = {spec.name for spec in REGISTRY.specs()}
    assert folders == mappers


def test_every_folder_has_cases_and_every_input_an_expected_file() -> None:
    for folder in (p for p in FIXTURES.iterdir() if p.is_dir()):
        inputs = sorted(folder.glob("*.input.json"))
        assert inputs, f"{folder.name} has no cases"
        for path in inputs:
            assert path.with_name(path.name.replace(".input.", ".expected.")).exists(), path


def test_cases_cover_every_outcome() -> None:
    statuses = {c.expected["status"] for c in CASES}
    assert statuses >= {"mapped", "skipped", "dead_letter"}
