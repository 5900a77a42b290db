"""Tenant keys from a JWKS (a file or an http(s) URL), and RS256 token verification.

Each JWK names its tenant in a `tenant_id` member; a token must be signed by a key of the tenant in
its own `tenant_id` claim, so one tenant's key cannot mint another tenant's tokens. A new `kid`
(rotation) is picked up by re-reading the JWKS, at most once per `_MISS_REFRESH` seconds on a miss.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import jwt

from api.auth.principal import AuthError, Principal, parse_scopes
from api.tenancy import Tenant

log = logging.getLogger(__name__)
_MISS_REFRESH = 10.0


@dataclass(frozen=True)
class TenantKey:
    kid: str
    tenant: Tenant
    key: Any  # a cryptography RSA public key


def parse_jwks(body: Any) -> dict[str, TenantKey]:
    """Usable keys by kid: RSA signing keys that name a valid tenant; others are skipped with a log line."""
    keys: dict[str, TenantKey] = {}
    for jwk in body.get("keys", []) if isinstance(body, dict) else []:
        kid, tenant = jwk.get("kid"), jwk.get("tenant_id")
        try:
            if jwk.get("kty") != "RSA" or jwk.get("use", "sig") != "sig" or jwk.get("alg", "RS256") != "RS256":
                raise ValueError("not an RS256 signing key")
            if not isinstance(kid, str) or not kid:
                raise ValueError("no kid")
            keys[kid] = TenantKey(kid, Tenant(tenant), jwt.PyJWK(jwk, "RS256").key)
        except (ValueError, TypeError, jwt.PyJWKError) as exc:
            log.warning("JWKS key %r skipped: %s", kid, exc)
    return keys


class Jwks:
    def __init__(self, source: str, cache_seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self._source, self._ttl, self._clock = source, cache_seconds, clock
        self._keys: dict[str, TenantKey] = {}
        self._loaded_at: float | None = None
        self._lock = asyncio.Lock()

    async def _fetch(self) -> Any:
        if self._source.startswith(("http://", "https://")):
            async with httpx.AsyncClient(timeout=5) as client:
                response = await client.get(self._source)
                response.raise_for_status()
                return response.json()
        return json.loads(Path(self._source).read_text())

    async def _refresh(self) -> None:
        async with self._lock:
            try:
                self._keys = parse_jwks(await self._fetch())
            except (OSError, ValueError, httpx.HTTPError) as exc:
                # Keep the keys we had: a JWKS outage must not log everyone out at once.
                log.warning("JWKS %s unreadable: %s", self._source, exc)
            self._loaded_at = self._clock()

    async def get(self, kid: str) -> TenantKey | None:
        now = self._clock()
        stale = self._loaded_at is None or now - self._loaded_at > self._ttl
        missed = self._loaded_at is not None and kid not in self._keys and now - self._loaded_at > _MISS_REFRESH
        if stale or missed:
            await self._refresh()
        return self._keys.get(kid)


class TokenVerifier:
    def __init__(self, jwks: Jwks, issuer: str, audience: str, leeway: int) -> None:
        self._jwks, self._issuer, self._audience, self._leeway = jwks, issuer, audience, leeway

    async def verify(self, token: str) -> Principal:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise AuthError("malformed token") from exc
        if header.get("alg") != "RS256":
            raise AuthError("algorithm not allowed")
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise AuthError("token has no kid")
        key = await self._jwks.get(kid)
        if key is None:
            raise AuthError("unknown kid")
        try:
            claims = jwt.decode(
                token, key.key, algorithms=["RS256"], audience=self._audience, issuer=self._issuer,
                leeway=self._leeway, options={"require": ["exp", "iss", "aud", "tenant_id"]},
            )
        except jwt.PyJWTError as exc:
            raise AuthError(f"invalid token: {type(exc).__name__}") from exc
        try:
            tenant = Tenant(claims["tenant_id"])
        except (ValueError, TypeError) as exc:
            raise AuthError("bad tenant_id claim") from exc
        if tenant != key.tenant:
            raise AuthError("key belongs to another tenant")
        scopes = parse_scopes(claims.get("scope", claims.get("scp")))
        return Principal(tenant, str(claims.get("sub", "")), scopes, "token")
