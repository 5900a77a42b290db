"""/devices/{deviceId}/timeline: one device's events from Cassandra, newest first."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Path, Query

from api.deps import LogsReader, StateDep
from api.errors import ERROR_RESPONSES
from api.models import Timeline
from api.paging import timeline_page

router = APIRouter(prefix="/devices", tags=["devices"], responses=ERROR_RESPONSES)


@router.get("/{deviceId}/timeline", response_model=Timeline, summary="A device's events, newest first")
async def device_timeline(
    principal: LogsReader,
    state: StateDep,
    deviceId: Annotated[str, Path(min_length=1, max_length=128, pattern=r"^[^\x00-\x1f\x7f]+$")],
    limit: Annotated[int, Query(ge=1, le=100, description="Page size.")] = 20,
    cursor: Annotated[str | None, Query(max_length=2048, description="nextCursor of the previous page.")] = None,
) -> Timeline:
    return await timeline_page(state.readers.events, principal.tenant, deviceId, limit, cursor,
                               dt.datetime.now(dt.UTC), state.settings.timeline_months)
