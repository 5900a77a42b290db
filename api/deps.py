"""Typed dependencies: the app state, the authenticated principal, and scope checks."""

from __future__ import annotations

import logging
import math
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from api.auth.apikeys import ApiKeyStore
from api.auth.jwks import TokenVerifier
from api.auth.principal import AuthError, Principal
from api.auth.ratelimit import RateLimiter
from api.errors import ApiError
from api.metrics import ApiMetrics
from api.readers.base import Readers
from api.settings import ApiSettings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class AppState:
    settings: ApiSettings
    readers: Readers
    verifier: TokenVerifier
    api_keys: ApiKeyStore
    limiter: RateLimiter
    metrics: ApiMetrics


def get_state(request: Request) -> AppState:
    state: AppState = request.app.state.api
    return state


def get_readers(request: Request) -> Readers:
    return get_state(request).readers


StateDep = Annotated[AppState, Depends(get_state)]
ReadersDep = Annotated[Readers, Depends(get_readers)]

_bearer = HTTPBearer(auto_error=False, description="RS256 JWT with a `tenant_id` claim.")
_api_key = APIKeyHeader(name="X-API-Key", auto_error=False, description="Integration API key (`ofsk_...`).")


def _unauthorized() -> ApiError:
    return ApiError(401, "unauthorized", "missing or invalid credentials",
                    headers={"WWW-Authenticate": 'Bearer realm="openframe", error="invalid_token"'})


async def authenticate(
    state: StateDep,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    api_key: Annotated[str | None, Depends(_api_key)],
) -> Principal:
    try:
        if bearer is not None and api_key is not None:
            raise AuthError("two credentials")
        if bearer is not None:
            return await state.verifier.verify(bearer.credentials)
        if api_key is not None:
            principal = state.api_keys.verify(api_key)
            wait = state.limiter.take(principal.subject)
            if wait > 0:
                state.metrics.rate_limited.inc()
                raise ApiError(429, "rate_limited", "rate limit exceeded for this API key",
                               headers={"Retry-After": str(max(1, math.ceil(wait)))})
            return principal
        raise AuthError("no credentials")
    except AuthError as exc:
        state.metrics.auth_failures.labels(exc.reason.split(":")[0]).inc()
        log.info("authentication failed: %s", exc.reason)
        raise _unauthorized() from None


def require(scope: str) -> Callable[..., Awaitable[Principal]]:
    async def check(principal: Annotated[Principal, Depends(authenticate)]) -> Principal:
        if scope not in principal.scopes:
            raise ApiError(403, "forbidden", f"this credential lacks the scope {scope!r}")
        return principal

    return check


LogsReader = Annotated[Principal, Depends(require("logs:read"))]
StatsReader = Annotated[Principal, Depends(require("stats:read"))]
PipelineReader = Annotated[Principal, Depends(require("pipeline:read"))]
