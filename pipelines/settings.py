"""Settings of the pure pipeline stages (normalization and enrichment)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class PipelineSettings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    tenant_id: str = Field("oss", description="Tenant of every event in single-tenant mode.")
