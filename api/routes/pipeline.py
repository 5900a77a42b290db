"""/pipeline/lag: the stream worker's consumer lag, for the dashboard."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import PipelineReader, StateDep
from api.errors import ERROR_RESPONSES
from api.models import PipelineLag

router = APIRouter(prefix="/pipeline", tags=["pipeline"], responses=ERROR_RESPONSES)


@router.get("/lag", response_model=PipelineLag, summary="Consumer lag of the stream worker (messages)")
async def pipeline_lag(principal: PipelineReader, state: StateDep) -> PipelineLag:
    return PipelineLag(group=state.settings.worker_group, lagMessages=await state.readers.lag.lag())
