"""API keys for integrations: `ofsk_<id>_<secret>`. The store keeps the key id, tenant and scopes, and
HMAC-SHA256(pepper, secret); the secret itself is shown once, at creation. The pepper lives apart from
the store, so a leaked store alone cannot be brute-forced offline."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import os
import re
import secrets
from pathlib import Path
from typing import Any

from api.auth.principal import SCOPES, AuthError, Principal
from api.tenancy import Tenant

PREFIX = "ofsk"
_KEY = re.compile(rf"{PREFIX}_(?P<id>[0-9a-f]{{12}})_(?P<secret>[A-Za-z0-9_-]{{20,100}})")


def digest(pepper: bytes, secret: str) -> str:
    return hmac.new(pepper, secret.encode(), hashlib.sha256).hexdigest()


def ensure_pepper(path: Path) -> bytes:
    """The pepper in `path`, created (32 random bytes, mode 0600) when missing."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_hex(32))
    return path.read_text().strip().encode()


def _write_private(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text)
    tmp.replace(path)


def create_key(store: Path, pepper: bytes, tenant: Tenant, scopes: tuple[str, ...], name: str) -> str:
    """Add a key to the store and return the presentable key (the only time the secret exists)."""
    unknown = set(scopes) - set(SCOPES)
    if unknown or not scopes:
        raise ValueError(f"scopes must be among {SCOPES}")
    body: dict[str, Any] = json.loads(store.read_text()) if store.exists() else {"keys": {}}
    key_id, secret = secrets.token_hex(6), secrets.token_urlsafe(32)
    body["keys"][key_id] = {
        "tenant_id": tenant.id, "scopes": sorted(scopes), "name": name, "hash": digest(pepper, secret),
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }
    _write_private(store, json.dumps(body, indent=2, sort_keys=True))
    return f"{PREFIX}_{key_id}_{secret}"


def revoke_key(store: Path, key_id: str) -> bool:
    body: dict[str, Any] = json.loads(store.read_text()) if store.exists() else {"keys": {}}
    found = body["keys"].pop(key_id, None) is not None
    _write_private(store, json.dumps(body, indent=2, sort_keys=True))
    return found


class ApiKeyStore:
    """Verifies presented keys; re-reads the store file when it changes (a new or revoked key)."""

    def __init__(self, path: Path, pepper: bytes | None) -> None:
        self._path, self._pepper = path, pepper
        self._mtime: float | None = None
        self._keys: dict[str, dict[str, Any]] = {}

    def _load(self) -> None:
        try:
            mtime = self._path.stat().st_mtime
        except OSError:
            self._keys, self._mtime = {}, None
            return
        if mtime != self._mtime:
            self._keys = json.loads(self._path.read_text()).get("keys", {})
            self._mtime = mtime

    def verify(self, presented: str) -> Principal:
        match = _KEY.fullmatch(presented)
        if match is None or self._pepper is None:
            raise AuthError("malformed api key" if match is None else "api keys are not configured")
        self._load()
        entry = self._keys.get(match.group("id"))
        # Compare against a digest even for an unknown id, so timing does not tell which ids exist.
        expected = entry["hash"] if entry else "0" * 64
        if not hmac.compare_digest(expected, digest(self._pepper, match.group("secret"))) or entry is None:
            raise AuthError("unknown api key")
        return Principal(Tenant(entry["tenant_id"]), f"apikey:{match.group('id')}",
                         frozenset(entry.get("scopes", [])), "api_key")
