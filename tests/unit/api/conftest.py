"""Unit-tier fixtures: generated RSA keys in a file JWKS, a hashed API key, and an app on the
in-memory reader (no servers)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi.testclient import TestClient

from api.app import create_app
from api.auth import local
from api.auth.apikeys import create_key
from api.auth.principal import SCOPES
from api.readers.base import Readers
from api.readers.memory import MemoryReader, StaticLag
from api.settings import ApiSettings
from api.tenancy import Tenant

ISSUER, AUDIENCE = "test-issuer", "test-aud"
PEPPER = "unit-test-pepper"
BASE_MS = 1_795_000_000_000  # 2026-11-18


def event(tenant: str, n: int, **fields: Any) -> dict[str, Any]:
    ts = fields.pop("eventTimestamp", BASE_MS + n * 60_000)
    return {
        "tenantId": tenant, "toolEventId": f"{tenant}-e{n:04d}", "eventTimestamp": ts,
        "ingestDay": "2026-11-18", "toolType": ["FLEET", "MESHCENTRAL", "TACTICAL"][n % 3],
        "eventType": ["LOGIN", "SCRIPT_EXECUTED", "POLICY_FAILED", "DEVICE_ONLINE"][n % 4],
        "severity": ["INFO", "WARNING", "ERROR", "CRITICAL"][n % 4],
        "userId": None, "deviceId": f"dev-{n % 5}" if n % 7 else None, "hostname": f"HOST-{n % 5}",
        "organizationId": f"org-{n % 2}", "organizationName": ["Acme", "Globex"][n % 2],
        "summary": f"event number {n} disk check", "message": f"message {n}",
        "details": {"result": {"n": n}}, "visible": True, **fields,
    }


@dataclass
class Keys:
    jwks: Path
    private: dict[str, tuple[rsa.RSAPrivateKey, str]]

    def token(self, tenant: str, scopes: tuple[str, ...] = SCOPES, **overrides: Any) -> str:
        key, kid = self.private[tenant]
        claims = local.claims(Tenant(tenant), ISSUER, AUDIENCE, scopes, 600) | overrides
        return local.sign(key, kid, claims)


@pytest.fixture(scope="session")
def rsa_keys() -> dict[str, rsa.RSAPrivateKey]:
    return {t: local.new_key() for t in ("acme", "globex", "spare")}


@pytest.fixture
def keys(tmp_path: Path, rsa_keys: dict[str, rsa.RSAPrivateKey]) -> Keys:
    private = {t: (rsa_keys[t], f"{t}-k1") for t in ("acme", "globex")}
    jwks = {"keys": [local.public_jwk(k, kid, Tenant(t)) for t, (k, kid) in private.items()]}
    path = tmp_path / "jwks.json"
    path.write_text(json.dumps(jwks))
    return Keys(path, private)


@pytest.fixture
def api_settings(tmp_path: Path, keys: Keys) -> ApiSettings:
    return ApiSettings(jwks=str(keys.jwks), issuer=ISSUER, audience=AUDIENCE, api_keys_file=tmp_path / "keys.json",
                       pepper=PEPPER, rate_limit_per_second=1.0, rate_limit_burst=3)  # type: ignore[arg-type]


@pytest.fixture
def memory() -> MemoryReader:
    return MemoryReader([event("acme", n) for n in range(60)] + [event("globex", n) for n in range(30)])


@pytest.fixture
def client_for(api_settings: ApiSettings, memory: MemoryReader) -> Iterator[Callable[..., TestClient]]:
    clients: list[TestClient] = []

    def make(settings: ApiSettings = api_settings, lag: int | None = 42) -> TestClient:
        app = create_app(settings, Readers(logs=memory, events=memory, lag=StaticLag(lag)))
        client = TestClient(app, raise_server_exceptions=False)
        client.__enter__()
        clients.append(client)
        return client

    yield make
    for c in clients:
        c.__exit__(None, None, None)


@pytest.fixture
def client(client_for: Callable[..., TestClient]) -> TestClient:
    return client_for()


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def new_api_key(settings: ApiSettings, tenant: str, scopes: tuple[str, ...] = SCOPES) -> str:
    assert settings.pepper is not None
    return create_key(settings.api_keys_file, settings.pepper.get_secret_value().encode(), Tenant(tenant), scopes, "t")
