"""Prometheus metrics of one app instance (its own registry: two apps in one process never share)."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from fastapi import Request, Response
from prometheus_client import CollectorRegistry, Counter, Histogram

_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


@dataclass(frozen=True)
class ApiMetrics:
    registry: CollectorRegistry
    requests: Counter
    latency: Histogram
    auth_failures: Counter
    rate_limited: Counter


def build() -> ApiMetrics:
    r = CollectorRegistry()
    return ApiMetrics(
        registry=r,
        requests=Counter("openframe_api_requests_total", "Requests by route and status.",
                         ["method", "route", "status"], registry=r),
        latency=Histogram("openframe_api_request_seconds", "Request duration by route.", ["route"],
                          buckets=_BUCKETS, registry=r),
        auth_failures=Counter("openframe_api_auth_failures_total", "Rejected credentials by reason.",
                              ["reason"], registry=r),
        rate_limited=Counter("openframe_api_rate_limited_total", "Requests refused by an API key's rate limit.",
                             registry=r),
    )


def middleware(metrics: ApiMetrics, prefix: str) -> Callable[[Request, Callable[[Request], Awaitable[Response]]],
                                                Awaitable[Response]]:
    async def measure(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        start = time.perf_counter()
        status = 500
        try:
            response = await call_next(request)
            status = response.status_code
            return response
        finally:
            # The route template, not the raw path: ids in paths would make a label per event.
            # (Routers included under `prefix` report their path without it.)
            route = getattr(request.scope.get("route"), "path", None)
            if route is None:
                route = "unmatched"
            elif request.url.path.startswith(prefix + "/") and not route.startswith(prefix):
                route = prefix + route
            metrics.requests.labels(request.method, route, str(status)).inc()
            metrics.latency.labels(route).observe(time.perf_counter() - start)

    return measure
