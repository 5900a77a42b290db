"""Authentication: RS256 tokens against a file JWKS (tenant-bound keys, rotation), API keys stored as
hashes, rate limits, and the 401/403/429 answers."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi.testclient import TestClient

from api.auth import local
from api.auth.apikeys import ApiKeyStore, digest
from api.auth.jwks import Jwks, TokenVerifier
from api.auth.principal import AuthError
from api.auth.ratelimit import RateLimiter
from api.settings import ApiSettings
from api.tenancy import Tenant
from tests.unit.api.conftest import AUDIENCE, ISSUER, Keys, auth, new_api_key

LOGS = "/api/v1/logs?limit=5"


def test_a_valid_token_reads_only_its_own_tenant(client: TestClient, keys: Keys) -> None:
    for tenant in ("acme", "globex"):
        body = client.get(LOGS, headers=auth(keys.token(tenant))).json()
        assert body["items"] and all(i["toolEventId"].startswith(f"{tenant}-") for i in body["items"])


@pytest.mark.parametrize("change", [
    {"exp": -120}, {"iss": "someone-else"}, {"aud": "another-api"}, {"tenant_id": "globex"},
    {"tenant_id": "bad tenant"}, {"nbf": 600},
])
def test_bad_claims_are_401(client: TestClient, keys: Keys, change: dict[str, object]) -> None:
    # Times are offsets from now, taken when the test runs: a long session collects it minutes earlier.
    claims = {k: int(time.time()) + v if k in ("exp", "nbf") and isinstance(v, int) else v for k, v in change.items()}
    response = client.get(LOGS, headers=auth(keys.token("acme", **claims)))
    assert response.status_code == 401
    assert response.json()["error"]["message"] == "missing or invalid credentials"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_missing_claims_and_foreign_or_unknown_keys_are_401(client: TestClient, keys: Keys,
                                                             rsa_keys: dict[str, rsa.RSAPrivateKey]) -> None:
    key, kid = keys.private["acme"]
    now = int(time.time())
    base = {"iss": ISSUER, "aud": AUDIENCE, "tenant_id": "acme", "exp": now + 60}
    forged = [
        local.sign(key, kid, {k: v for k, v in base.items() if k != "exp"}),
        local.sign(key, kid, {k: v for k, v in base.items() if k != "tenant_id"}),
        local.sign(rsa_keys["spare"], kid, base),  # right kid, wrong key: signature fails
        local.sign(rsa_keys["spare"], "spare-k1", base),  # a kid the JWKS does not have
        # globex's own key signing an acme token: a key only serves its tenant
        local.sign(keys.private["globex"][0], keys.private["globex"][1], base),
        jwt.encode(base, "s" * 32, algorithm="HS256", headers={"kid": kid}),
        jwt.encode(base, None, algorithm="none", headers={"kid": kid}),
        local.sign(key, kid, base)[:-4] + "AAAA",
        "not-a-jwt",
    ]
    for token in forged:
        assert client.get(LOGS, headers=auth(token)).status_code == 401, token[:40]
    assert client.get(LOGS).status_code == 401
    assert client.get(LOGS, headers={"Authorization": "Basic dTpw"}).status_code == 401


def test_a_missing_scope_is_403(client: TestClient, keys: Keys) -> None:
    token = keys.token("acme", scopes=("stats:read",))
    assert client.get(LOGS, headers=auth(token)).status_code == 403
    assert client.get("/api/v1/stats", headers=auth(token)).status_code == 200
    forbidden = client.get("/api/v1/pipeline/lag", headers=auth(token))
    assert forbidden.status_code == 403 and forbidden.json()["error"]["code"] == "forbidden"


def test_rotation_picks_up_a_new_kid_and_drops_a_removed_one(keys: Keys,
                                                              rsa_keys: dict[str, rsa.RSAPrivateKey]) -> None:
    now = [0.0]
    jwks = Jwks(str(keys.jwks), cache_seconds=300, clock=lambda: now[0])
    verifier = TokenVerifier(jwks, ISSUER, AUDIENCE, 0)
    new_key = rsa_keys["spare"]
    claims = local.claims(Tenant("acme"), ISSUER, AUDIENCE, ("logs:read",), 60)
    rotated = local.sign(new_key, "acme-k2", claims)
    assert asyncio.run(verifier.verify(keys.token("acme"))).tenant == Tenant("acme")
    body = json.loads(keys.jwks.read_text())
    kept = [k for k in body["keys"] if k["kid"] != "acme-k1"]
    body["keys"] = [*kept, local.public_jwk(new_key, "acme-k2", Tenant("acme"))]
    keys.jwks.write_text(json.dumps(body))
    now[0] = 11.0  # an unknown kid re-reads the JWKS, at most every 10 s
    assert asyncio.run(verifier.verify(rotated)).tenant == Tenant("acme")
    now[0] = 400.0  # after the cache time the old kid is gone
    with pytest.raises(AuthError):
        asyncio.run(verifier.verify(keys.token("acme")))


def test_api_keys_are_stored_as_hashes_and_scoped(client: TestClient, api_settings: ApiSettings) -> None:
    key = new_api_key(api_settings, "globex", ("logs:read",))
    stored = api_settings.api_keys_file.read_text()
    secret = key.split("_", 2)[2]
    assert secret not in stored and digest(b"unit-test-pepper", secret) in stored
    assert oct(api_settings.api_keys_file.stat().st_mode & 0o777) == "0o600"
    body = client.get(LOGS, headers={"X-API-Key": key}).json()
    assert body["items"] and all(i["toolEventId"].startswith("globex-") for i in body["items"])
    assert client.get("/api/v1/stats", headers={"X-API-Key": key}).status_code == 403
    altered = key[:-1] + ("A" if key[-1] != "A" else "B")
    for bad in (altered, key.replace("ofsk_", "ofsx_"), "ofsk_000000000000_" + secret):
        assert client.get(LOGS, headers={"X-API-Key": bad}).status_code == 401


def test_api_keys_need_the_pepper(api_settings: ApiSettings) -> None:
    key = new_api_key(api_settings, "acme")
    with pytest.raises(AuthError):
        ApiKeyStore(api_settings.api_keys_file, None).verify(key)
    with pytest.raises(AuthError):
        ApiKeyStore(api_settings.api_keys_file, b"another pepper").verify(key)
    assert ApiKeyStore(api_settings.api_keys_file, b"unit-test-pepper").verify(key).tenant == Tenant("acme")


def test_api_keys_are_rate_limited_per_key(client_for: Callable[..., TestClient], api_settings: ApiSettings) -> None:
    client = client_for()
    first, second = new_api_key(api_settings, "acme"), new_api_key(api_settings, "acme")
    codes = [client.get(LOGS, headers={"X-API-Key": first}).status_code for _ in range(6)]
    assert codes[:3] == [200, 200, 200] and 429 in codes[3:]
    limited = client.get(LOGS, headers={"X-API-Key": first})
    assert limited.status_code == 429 and int(limited.headers["Retry-After"]) >= 1
    assert limited.json()["error"]["code"] == "rate_limited"
    assert client.get(LOGS, headers={"X-API-Key": second}).status_code == 200  # buckets are per key


def test_token_bucket_refills_at_its_rate() -> None:
    now = [0.0]
    limiter = RateLimiter(rate=2.0, burst=2, clock=lambda: now[0])
    assert [limiter.take("k") for _ in range(2)] == [0.0, 0.0]
    assert limiter.take("k") == pytest.approx(0.5)
    now[0] = 0.5
    assert limiter.take("k") == 0.0
    now[0] = 100.0
    assert [limiter.take("k") for _ in range(3)][-1] > 0  # never more than the burst saved up
    with pytest.raises(ValueError):
        RateLimiter(0, 1)


def test_two_credentials_at_once_are_refused(client: TestClient, keys: Keys, api_settings: ApiSettings) -> None:
    headers = auth(keys.token("acme")) | {"X-API-Key": new_api_key(api_settings, "globex")}
    assert client.get(LOGS, headers=headers).status_code == 401
