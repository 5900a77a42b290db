"""The tenant: a value that cannot be empty, so a query that needs one cannot be built without it."""

from __future__ import annotations

import re
from dataclasses import dataclass

_TENANT = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}")


@dataclass(frozen=True, slots=True)
class Tenant:
    """A validated tenant id. Only authentication builds one from a request (see `api.auth`)."""

    id: str

    def __post_init__(self) -> None:
        if not isinstance(self.id, str) or not _TENANT.fullmatch(self.id):
            raise ValueError("a tenant id is 1-128 characters of letters, digits, '_', '.', ':' or '-'")


def require_tenant(value: object) -> Tenant:
    """Query constructors call this: anything but a `Tenant` (None, a bare string) is refused."""
    if not isinstance(value, Tenant):
        raise TypeError(f"a query needs a Tenant, got {type(value).__name__}")
    return value
