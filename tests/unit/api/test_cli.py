"""`openframe-stream api token | keys create | keys revoke | openapi --check` through click's runner."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from api import cli
from api.auth.apikeys import ApiKeyStore
from api.auth.jwks import Jwks, TokenVerifier
from api.settings import ApiSettings
from api.tenancy import Tenant


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> ApiSettings:
    s = ApiSettings(jwks=str(tmp_path / "jwks.json"), api_keys_file=tmp_path / "keys.json",
                    pepper_file=tmp_path / "pepper")
    monkeypatch.setattr(cli, "_settings", lambda ctx: (None, s))
    return s


def test_token_publishes_the_tenant_key_and_verifies(settings: ApiSettings) -> None:
    result = CliRunner().invoke(cli.api, ["token", "--tenant", "acme", "--scope", "logs:read"])
    assert result.exit_code == 0, result.output
    jwks = json.loads(Path(settings.jwks).read_text())
    assert [(k["kid"], k["tenant_id"]) for k in jwks["keys"]] == [("acme-local-1", "acme")]
    assert "d" not in jwks["keys"][0]  # only the public half is published
    verifier = TokenVerifier(Jwks(settings.jwks, 60), settings.issuer, settings.audience, 0)
    principal = asyncio.run(verifier.verify(result.output.strip()))
    assert principal.tenant == Tenant("acme") and principal.scopes == frozenset({"logs:read"})
    again = CliRunner().invoke(cli.api, ["token", "--tenant", "acme", "--dashboard"])
    assert again.output.startswith("http://127.0.0.1:8080/dashboard#token=")
    assert len(json.loads(Path(settings.jwks).read_text())["keys"]) == 1  # the same key, reused


def test_keys_create_and_revoke(settings: ApiSettings) -> None:
    created = CliRunner().invoke(cli.api, ["keys", "create", "--tenant", "globex", "--scope", "stats:read"])
    assert created.exit_code == 0, created.output
    key = created.output.strip()
    assert oct(settings.pepper_file.stat().st_mode & 0o777) == "0o600"
    store = ApiKeyStore(settings.api_keys_file, settings.pepper_file.read_text().strip().encode())
    assert store.verify(key).scopes == frozenset({"stats:read"})
    key_id = key.split("_")[1]
    assert CliRunner().invoke(cli.api, ["keys", "revoke", key_id]).exit_code == 0
    assert CliRunner().invoke(cli.api, ["keys", "revoke", key_id]).exit_code != 0
    with pytest.raises(Exception, match="unknown api key"):
        ApiKeyStore(settings.api_keys_file, settings.pepper_file.read_text().strip().encode()).verify(key)


def test_openapi_check_passes_on_the_checked_in_spec() -> None:
    assert CliRunner().invoke(cli.api, ["openapi", "--check"]).exit_code == 0
