"""`create_app(settings, readers)`: the read API as a factory; nothing is built at import time."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI, Request, Response

from api import errors, metrics
from api.auth.apikeys import ApiKeyStore
from api.auth.jwks import Jwks, TokenVerifier
from api.auth.ratelimit import RateLimiter
from api.deps import AppState
from api.readers.base import Readers, StoreUnavailable
from api.routes import dashboard, devices, health, logs, pipeline, stats
from api.settings import ApiSettings

log = logging.getLogger(__name__)
API_PREFIX = "/api/v1"


def load_pepper(settings: ApiSettings) -> bytes | None:
    """The API-key pepper, or None (then no API key validates)."""
    if settings.pepper is not None:
        return settings.pepper.get_secret_value().encode()
    try:
        return settings.pepper_file.read_text().strip().encode() or None
    except OSError:
        return None


def create_app(settings: ApiSettings, readers: Readers) -> FastAPI:
    state = AppState(
        settings=settings,
        readers=readers,
        verifier=TokenVerifier(Jwks(settings.jwks, settings.jwks_cache_seconds), settings.issuer,
                               settings.audience, settings.clock_skew_seconds),
        api_keys=ApiKeyStore(settings.api_keys_file, load_pepper(settings)),
        limiter=RateLimiter(settings.rate_limit_per_second, settings.rate_limit_burst),
        metrics=metrics.build(),
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        try:
            await readers.start()
        except StoreUnavailable as exc:  # serve anyway: /readyz says so, and readers reconnect on use
            log.warning("a store is not reachable at start: %s", exc)
        yield
        await readers.close()

    app = FastAPI(
        title="OpenFrame Stream read API",
        version="1.0.0",
        description="Tenant-scoped event queries over Pinot (search, facets, stats) and Cassandra (details, "
        "device timelines). Authenticate with a Bearer RS256 token or an `X-API-Key`.",
        lifespan=lifespan,
        docs_url=None,  # Swagger UI would load its assets from a CDN
        redoc_url=None,
    )
    app.state.api = state
    errors.install(app)
    app.middleware("http")(metrics.middleware(state.metrics, API_PREFIX))

    @app.middleware("http")
    async def no_store(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        response = await call_next(request)
        if request.url.path.startswith(API_PREFIX):
            response.headers["Cache-Control"] = "no-store"  # tenant data never sits in shared caches
            response.headers["X-Content-Type-Options"] = "nosniff"
        return response

    api = APIRouter(prefix=API_PREFIX)
    for module in (logs, devices, stats, pipeline):
        api.include_router(module.router)
    app.include_router(api)
    app.include_router(health.router)
    app.include_router(dashboard.router)
    return app
