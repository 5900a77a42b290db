"""Probes and metrics (outside /api/v1, unauthenticated: they reveal no tenant data)."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from api.deps import StateDep
from api.models import Health

router = APIRouter(tags=["health"])


@router.get("/healthz", response_model=Health, summary="Liveness")
async def healthz() -> Health:
    return Health(status="ok")


@router.get("/readyz", response_model=Health, summary="Readiness: Pinot and Cassandra answer",
            responses={503: {"model": Health, "description": "A store does not answer."}})
async def readyz(state: StateDep) -> JSONResponse:
    pinot, cassandra = await asyncio.gather(state.readers.logs.ping(), state.readers.events.ping())
    ok = pinot and cassandra
    body = Health(status="ok" if ok else "unavailable", checks={"pinot": pinot, "cassandra": cassandra})
    return JSONResponse(body.model_dump(), status_code=200 if ok else 503)


@router.get("/metrics", summary="Prometheus metrics", response_class=Response,
            responses={200: {"content": {"text/plain": {}}}})
async def metrics(state: StateDep) -> Response:
    return Response(generate_latest(state.metrics.registry), media_type=CONTENT_TYPE_LATEST)
