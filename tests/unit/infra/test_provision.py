from __future__ import annotations

from pathlib import Path

import pytest

from infra import provision
from infra.settings import StackSettings


def test_jvm_lib_is_content_addressed_and_cached(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[Path] = []

    def fake_copy(pom: Path, target: Path) -> None:
        calls.append(pom)
        target.mkdir(parents=True, exist_ok=True)
        (target / "x.jar").write_text("jar")

    monkeypatch.setattr(provision, "_maven_copy", fake_copy)
    settings = StackSettings(cache_dir=tmp_path)
    first = provision.jvm_lib(settings, "kafka")
    second = provision.jvm_lib(settings, "kafka")
    assert first == second and (first / "x.jar").exists()
    assert len(calls) == 1, "a second run must not resolve again"
    assert first.name.startswith("kafka-") and len(first.name) == len("kafka-") + 12


def test_a_failed_resolution_leaves_no_half_filled_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(pom: Path, target: Path) -> None:
        target.mkdir(parents=True, exist_ok=True)
        raise provision.ProvisionError("network down")

    monkeypatch.setattr(provision, "_maven_copy", broken)
    with pytest.raises(provision.ProvisionError):
        provision.jvm_lib(StackSettings(cache_dir=tmp_path), "cassandra")
    assert not any((tmp_path / "lib").iterdir())


def test_every_pom_pins_exact_versions() -> None:
    for pom in provision.MAVEN_DIR.glob("*.pom.xml"):
        text = pom.read_text()
        assert "<version>" in text
        for bad in ("LATEST", "RELEASE", "SNAPSHOT", "["):
            assert bad not in text, f"{pom.name} has an unpinned version ({bad})"
