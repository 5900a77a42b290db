"""The authenticated caller. Its tenant is the only tenant any query of the request can use."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from api.tenancy import Tenant

SCOPES = ("logs:read", "stats:read", "pipeline:read")


class AuthError(Exception):
    """A missing, malformed, expired or unknown credential: always a 401, with a generic message."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason  # for logs and metrics, never for the client


@dataclass(frozen=True)
class Principal:
    tenant: Tenant
    subject: str
    scopes: frozenset[str]
    kind: Literal["token", "api_key"]


def parse_scopes(value: object) -> frozenset[str]:
    """`scope` as a space-separated string (RFC 8693) or `scp` as a list."""
    if isinstance(value, str):
        return frozenset(value.split())
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return frozenset(value)
    return frozenset()
