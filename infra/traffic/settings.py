"""Settings of the traffic generator."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field

if TYPE_CHECKING:
    from openframe_stream.settings import Settings

DEFAULT_MIX: dict[str, float] = {
    "tactical.audit": 10,
    "tactical.history.start": 7,
    "tactical.history.finish": 7,
    "tactical.task": 8,
    "tactical.audit.delete": 0.5,
    "fleet.activity": 12,
    "fleet.query_result": 6,
    "fleet.policy": 8,
    "fleet.activity.delete": 0.5,
    "agent.command": 6,
    "agent.script": 8,
    "mesh.event": 10,
}


class TrafficSettings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    rate: float = Field(20.0, description="Events per second the generator writes by default.")
    estate_seed: int = Field(
        7, description="Seed of the device estate (ids, names): the same devices on every run by default."
    )
    organizations: int = Field(3, description="Organizations in the generated estate.")
    devices: int = Field(24, description="Devices with a tool connection (enrichment finds them).")
    orphans: int = Field(3, description="Devices whose agents have no tool connection yet (enrichment misses).")
    orphan_share: float = Field(0.05, description="Share of events that reference an agent with no connection.")
    tool_coverage: float = Field(0.9, description="Chance that a device runs each tool (Fleet, Tactical, Mesh).")
    tactical_pk_connections: bool = Field(
        True,
        description=(
            "Also connect each Tactical agent under its integer pk: history and task rows carry only that "
            "FK, and the mappers use it as the agent id. Drop once the stream resolves pk -> agent_id."
        ),
    )
    mix: dict[str, float] = Field(
        default_factory=lambda: dict(DEFAULT_MIX), description="Relative weight of each kind of generated event."
    )


def traffic_settings(settings: Settings) -> TrafficSettings:
    return settings.traffic
