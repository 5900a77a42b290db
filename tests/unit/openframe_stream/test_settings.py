from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from openframe_stream.settings import Settings, describe


def test_env_overrides_nested_settings_and_file_fills_the_rest(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    toml = tmp_path / "ofs.toml"
    toml.write_text('[kafka]\nbootstrap_servers = "kafka.internal:9092"\n[cassandra]\nport = 19042\n')
    monkeypatch.setenv("OFS_CASSANDRA__PORT", "29042")
    settings = Settings.load(file=toml)
    assert settings.kafka.bootstrap_servers == "kafka.internal:9092"
    assert settings.cassandra.port == 29042  # env beats file
    assert Settings.load().kafka.bootstrap_servers == "127.0.0.1:9092"  # the file was for that call only


def test_settings_are_frozen_and_reject_unknown_keys() -> None:
    settings = Settings.load()
    with pytest.raises(ValidationError):
        settings.kafka.bootstrap_servers = "x:1"  # type: ignore[misc]
    with pytest.raises(ValidationError):
        Settings.load(kafka={"bootstrap": "typo:1"})


def test_every_setting_documents_itself() -> None:
    rows = describe(Settings)
    assert any(name == "OFS_KAFKA__BOOTSTRAP_SERVERS" for name, _, _ in rows)
    undocumented = [name for name, _, doc in rows if not doc]
    assert not undocumented
