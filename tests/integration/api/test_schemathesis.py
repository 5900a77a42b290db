"""Schemathesis fuzzes every operation of the served OpenAPI document, with a valid token and without
one, on the real stores: no request may get a 5xx."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from tests.integration.api.conftest import Seeded

ST = Path(sys.executable).with_name("st")


def run_schemathesis(base: str, headers: list[str], report: Path, examples: int) -> subprocess.CompletedProcess[str]:
    args = [str(ST), "run", f"{base}/openapi.json", "--checks", "not_a_server_error", "--max-examples", str(examples),
            "--workers", "1", "--seed", "20261122", "--phases", "examples,coverage,fuzzing",
            "--request-timeout", "20", "--generation-with-security-parameters", "false", "--no-shrink",
            "--report", "junit", "--report-junit-path", str(report)]
    for header in headers:
        args += ["--header", header]
    return subprocess.run(args, capture_output=True, text=True, timeout=420, check=False)


def test_no_request_gets_a_server_error(live_api: str, seeded: Seeded, tmp_path: Path) -> None:
    authorized = run_schemathesis(live_api, [f"Authorization: Bearer {seeded.token('acme')}"],
                                  tmp_path / "authorized.xml", 40)
    assert authorized.returncode == 0, authorized.stdout[-6000:] + authorized.stderr[-2000:]
    cases = re.search(r"(\d+) generated, (\d+) passed", authorized.stdout)
    assert cases and int(cases[1]) == int(cases[2]) >= 200, authorized.stdout[-3000:]
    anonymous = run_schemathesis(live_api, [], tmp_path / "anonymous.xml", 5)
    assert anonymous.returncode == 0, anonymous.stdout[-4000:]
