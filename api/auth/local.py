"""A local token issuer for development and tests: one RSA key per tenant, its public half published
in a JWKS file with the tenant named in `tenant_id`. Production tokens come from the identity
provider whose JWKS the API is pointed at; this never runs inside the server."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from api.tenancy import Tenant


def new_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def public_jwk(key: rsa.RSAPrivateKey, kid: str, tenant: Tenant) -> dict[str, Any]:
    jwk: dict[str, Any] = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
    return jwk | {"kid": kid, "use": "sig", "alg": "RS256", "tenant_id": tenant.id}


def sign(key: rsa.RSAPrivateKey, kid: str, claims: dict[str, Any]) -> str:
    return jwt.encode(claims, key, algorithm="RS256", headers={"kid": kid})


def claims(tenant: Tenant, issuer: str, audience: str, scopes: tuple[str, ...], ttl: int,
           subject: str = "local-analyst") -> dict[str, Any]:
    now = int(time.time())
    return {"iss": issuer, "aud": audience, "sub": subject, "tenant_id": tenant.id, "scope": " ".join(scopes),
            "iat": now, "exp": now + ttl}


def tenant_key(key_dir: Path, jwks_file: Path, tenant: Tenant) -> tuple[rsa.RSAPrivateKey, str]:
    """The tenant's signing key (created once, mode 0600) and its kid; its public JWK is in `jwks_file`."""
    pem = key_dir / f"{tenant.id}.pem"
    kid = f"{tenant.id}-local-1"
    if pem.exists():
        loaded = serialization.load_pem_private_key(pem.read_bytes(), password=None)
        assert isinstance(loaded, rsa.RSAPrivateKey)
        key = loaded
    else:
        key = new_key()
        key_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(pem, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                      serialization.NoEncryption()))
    body: dict[str, Any] = json.loads(jwks_file.read_text()) if jwks_file.exists() else {"keys": []}
    body["keys"] = [k for k in body["keys"] if k.get("kid") != kid] + [public_jwk(key, kid, tenant)]
    jwks_file.parent.mkdir(parents=True, exist_ok=True)
    jwks_file.write_text(json.dumps(body, indent=2))
    return key, kid
