"""Recorded-fixture ("golden") cases: `<case>.input.json` (one `map` input record) beside
`<case>.expected.json` (its exact `map` output line), one folder per mapper under
`tests/fixtures/mappers/`. Used by the unit tests and by the tests `mappers new` scaffolds.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipelines.jsonl import map_obj
from pipelines.settings import PipelineSettings

INPUT_SUFFIX = ".input.json"
EXPECTED_SUFFIX = ".expected.json"


@dataclass(frozen=True)
class Case:
    mapper: str
    name: str
    input: Any
    expected: Any
    path: Path

    def __str__(self) -> str:
        return f"{self.mapper}/{self.name}"


def load_cases(fixtures_root: Path, mapper: str | None = None) -> list[Case]:
    """Every case under `fixtures_root` (or only `mapper`'s folder), sorted by folder and name."""
    folders = [fixtures_root / mapper] if mapper else sorted(p for p in fixtures_root.iterdir() if p.is_dir())
    cases: list[Case] = []
    for folder in folders:
        for input_path in sorted(folder.glob(f"*{INPUT_SUFFIX}")):
            name = input_path.name[: -len(INPUT_SUFFIX)]
            expected_path = folder / f"{name}{EXPECTED_SUFFIX}"
            cases.append(Case(folder.name, name, _read(input_path), _read(expected_path), input_path))
    return cases


def _read(path: Path) -> Any:
    """The file's JSON; a missing or broken file becomes a value no output equals, so the case
    fails with the reason instead of breaking test collection."""
    if not path.exists():
        return None
    try:
        return json.loads(path.read_text())
    except ValueError as exc:
        return {"unreadable_fixture": f"{path.name}: {exc}"}


def run_case(case: Case, settings: PipelineSettings | None = None) -> dict[str, Any]:
    """The `map` output line of the case's input, as a JSON-compatible dict."""
    out: dict[str, Any] = json.loads(json.dumps(map_obj(case.input, settings or PipelineSettings())))
    return out
