"""`openframe-stream map` and `openframe-stream mappers list|new`, through click's CliRunner."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import orjson
from click.testing import CliRunner

from openframe_stream.cli import main
from pipelines.golden import load_cases
from pipelines.records import Change, ToolEvent
from pipelines.taxonomy import taxonomy_from_data

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "mappers"


def test_map_file_one_line_per_input_line_in_order(tmp_path: Path) -> None:
    cases = load_cases(FIXTURES)[:40]
    lines = [json.dumps(c.input) for c in cases]
    lines.insert(3, "this is not json")
    lines.insert(5, "[1, 2]")
    lines.insert(7, "")  # blank lines are not records and produce nothing
    source = tmp_path / "in.jsonl"
    source.write_text("\n".join(lines) + "\n")

    result = CliRunner().invoke(main, ["map", str(source)])

    assert result.exit_code == 0, result.output
    out = [json.loads(line) for line in result.output.splitlines()]
    assert len(out) == len(cases) + 2
    assert out[3] == {
        "status": "dead_letter", "stage": "decode", "reason": "invalid_json_line", "detail": out[3]["detail"],
    }  # fmt: skip
    assert out[5]["reason"] == "invalid_record"
    rest = out[:3] + out[4:5] + out[6:]
    assert rest == [c.expected for c in cases]


def test_map_reads_stdin() -> None:
    case = load_cases(FIXTURES, "meshcentral.events")[0]
    result = CliRunner().invoke(main, ["map"], input=json.dumps(case.input) + "\n")
    assert result.exit_code == 0
    assert orjson.loads(result.output) == case.expected


def test_mappers_list_shows_every_mapper() -> None:
    result = CliRunner().invoke(main, ["mappers", "list"])
    assert result.exit_code == 0
    for folder in FIXTURES.iterdir():
        assert folder.name in result.output
    assert "openframe-stream" in result.output and "MESHCENTRAL" in result.output


def test_mappers_new_scaffolds_files_and_a_failing_test(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["mappers", "new", "acme", "--root", str(tmp_path)])
    assert result.exit_code == 0, result.output
    module = tmp_path / "pipelines" / "mappers" / "acme.py"
    fixtures = tmp_path / "tests" / "fixtures" / "mappers" / "acme"
    test_file = tmp_path / "tests" / "unit" / "pipelines" / "mappers" / "test_acme.py"
    taxonomy = tmp_path / "pipelines" / "taxonomy" / "acme.json"
    for path in (module, fixtures / "example.input.json", fixtures / "example.expected.json", test_file, taxonomy):
        assert path.exists(), path
    assert taxonomy_from_data(json.loads(taxonomy.read_text())).tool == "ACME"

    # The generated mapper is a working starting point: run its function on the example row.
    namespace: dict[str, object] = {"__name__": "scaffolded_acme"}
    source = module.read_text().replace("@mapper(", "(lambda *a, **k: (lambda f: f))(")  # no global registration
    exec(compile(source, str(module), "exec"), namespace)  # noqa: S102 - our own generated file
    example = json.loads((fixtures / "example.input.json").read_text())
    out = namespace["map_acme"](Change("acme", "c", example["value"]["after"]))  # type: ignore[operator]
    assert isinstance(out, ToolEvent) and out.source_type == "example.created" and out.pk == "1"

    # The generated test fails until the expected file is filled in (and the mapper imported).
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(test_file)],
        capture_output=True, text=True, cwd=tmp_path / "tests", timeout=120,  # cwd without a pipelines/ dir
    )  # fmt: skip
    assert run.returncode == 1, run.stdout + run.stderr
    assert "failed" in run.stdout and "test_acme_fixture" in run.stdout


def test_mappers_new_never_overwrites_and_checks_names(tmp_path: Path) -> None:
    runner = CliRunner()
    assert runner.invoke(main, ["mappers", "new", "acme", "--root", str(tmp_path)]).exit_code == 0
    again = runner.invoke(main, ["mappers", "new", "acme", "--root", str(tmp_path)])
    assert again.exit_code != 0 and "not overwriting" in again.output
    bad = runner.invoke(main, ["mappers", "new", "Acme-Tool", "--root", str(tmp_path)])
    assert bad.exit_code != 0 and "lower_snake_case" in bad.output
