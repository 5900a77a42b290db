"""The unified event as a pydantic model: for schema agreement, the read API and docs.

The hot path does not build these (see `pipelines.normalize`); it emits plain dicts with the same
wire names. `schemas/unified_event.avsc` is the one definition; a unit test proves this model,
the Pinot schema and the CQL agree with it.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

Severity = Literal["INFO", "WARNING", "ERROR", "CRITICAL"]
Operation = Literal["c", "r", "u"]


class EventDetails(BaseModel):
    """Structured extras; on the JSON wire an object, in Avro/Pinot/Cassandra JSON text."""

    model_config = ConfigDict(frozen=True, extra="forbid", alias_generator=to_camel, populate_by_name=True)

    error: Any = Field(None, description="What went wrong (stderr, the failing policy, the query error).")
    result: Any = Field(None, description="What the action produced (stdout, query output, exit code).")
    additional_info: Any = Field(None, description="Tool-specific context, e.g. Fleet activity details.")


class UnifiedEvent(BaseModel):
    """One event of any tool, after normalization (enrichment fills device and organization)."""

    model_config = ConfigDict(frozen=True, extra="forbid", alias_generator=to_camel, populate_by_name=True)

    tenant_id: str = Field(description="Tenant; the configured one until enrichment resolves it.")
    tool_event_id: str = Field(description="Deterministic UUID v3 of `<tool>_<table>_id_<pk>`.")
    user_id: str | None = Field(None, description="Acting user (not set by normalization).")
    device_id: str | None = Field(None, description="OpenFrame machine id (set by enrichment).")
    hostname: str | None = Field(None, description="Device hostname (set by enrichment).")
    organization_id: str | None = Field(None, description="Organization of the device (enrichment).")
    organization_name: str | None = Field(None, description="Organization name (enrichment).")
    ingest_day: str = Field(description="UTC day of eventTimestamp, yyyy-MM-dd.")
    tool_type: str = Field(description="FLEET, MESHCENTRAL, TACTICAL, RMM, or a plugin's tool.")
    event_type: str = Field(description="Unified event type, e.g. LOGIN; UNKNOWN when unmapped.")
    severity: Severity = Field(description="Static severity of the event type.")
    summary: str = Field(description="The tool's message, else the event type's default summary.")
    event_timestamp: int = Field(description="Event time, epoch milliseconds.")
    agent_id: str | None = Field(None, description="Tool-side agent or host id, the enrichment key.")
    source_event_type: str = Field(description="The tool's own event type, e.g. user.login.")
    source_table: str = Field(description="Source table or collection (`events` for agent results).")
    operation: Operation = Field(description="Debezium op: c (create), r (snapshot read), u (update).")
    message: str | None = Field(None, description="The tool's human message, when it has one.")
    details: EventDetails = Field(default_factory=EventDetails, description="error / result / additionalInfo.")
    visible: bool = Field(True, description="False: stored in history, hidden from the analytics table.")
    schema_version: int = Field(1, description="Version of this event shape.")
    discriminator: str | None = Field(
        None, description="Raw tool tenant discriminator (Fleet team_id, MeshCentral domain, RMM tenantId)."
    )
