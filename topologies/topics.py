"""Every topic the platform reads or writes, declared once: name, key, value, partitions.

The worker provisions them at start (create-if-missing) and refuses to start when co-partitioned
topics disagree on their partition count (see `check_copartitioning`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Role = Literal["raw", "reference", "internal", "output", "dead_letter"]


class TopicSettings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    partitions: int = Field(4, description="Partitions of the pipeline's own topics (unified, enriched).")
    raw_partitions: int = Field(4, description="Partitions of raw tool topics the platform creates.")
    replication: int = Field(1, description="Replication factor of created topics.")
    prefix: str = Field("", description="Prefix for every topic name (e.g. a cluster id), empty locally.")


@dataclass(frozen=True)
class TopicSpec:
    name: str
    role: Role
    key: str  # what the record key is, for people and for the co-partitioning rule
    value: str  # the value schema: a name in schemas/ or a format description
    partitions: int
    compacted: bool = False
    copartition_group: str | None = None  # topics in one group must have equal partition counts
    config: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Topics:
    """The topic names the code uses, resolved from settings once."""

    fleet_activities: TopicSpec
    fleet_host_activities: TopicSpec
    fleet_query_results: TopicSpec
    fleet_policy_membership: TopicSpec
    tactical: TopicSpec
    meshcentral: TopicSpec
    agent_results: TopicSpec
    integrations: TopicSpec
    machines: TopicSpec
    organizations: TopicSpec
    tool_connections: TopicSpec
    unified: TopicSpec
    enriched: TopicSpec
    dead_letter: TopicSpec

    def all(self) -> list[TopicSpec]:
        return [getattr(self, name) for name in self.__dataclass_fields__]

    def raw(self) -> list[TopicSpec]:
        return [t for t in self.all() if t.role == "raw"]

    def reference(self) -> list[TopicSpec]:
        return [t for t in self.all() if t.role == "reference"]


def declare(settings: TopicSettings) -> Topics:
    p = settings.prefix
    raw = settings.raw_partitions
    debezium = "Debezium JSON envelope (JsonConverter, schemas.enable=false)"
    compact = {"cleanup.policy": "compact"}
    return Topics(
        fleet_activities=TopicSpec(
            f"{p}fleet.activities.events",
            "raw",
            "activity id (ExtractField$Key on id)",
            debezium,
            raw,
            copartition_group="fleet-join",
        ),
        fleet_host_activities=TopicSpec(
            f"{p}fleet.host_activities.events",
            "raw",
            "activity id (ExtractField$Key on activity_id)",
            debezium,
            raw,
            copartition_group="fleet-join",
        ),
        fleet_query_results=TopicSpec(f"{p}fleet.query_results.events", "raw", "Debezium row key", debezium, raw),
        fleet_policy_membership=TopicSpec(
            f"{p}fleet.policy_membership.events", "raw", "Debezium row key", debezium, raw
        ),
        tactical=TopicSpec(
            f"{p}tactical-rmm.postgres.events",
            "raw",
            "Debezium row key",
            debezium + "; header message-type per table",
            raw,
        ),
        meshcentral=TopicSpec(
            f"{p}meshcentral.mongodb.events", "raw", "Debezium document key", "Debezium MongoDB envelope", raw
        ),
        agent_results=TopicSpec(
            f"{p}logs.events",
            "raw",
            "machineId",
            "agent result JSON as published on NATS; header message-type",
            raw,
        ),
        integrations=TopicSpec(
            f"{p}integrations.events",
            "raw",
            "any (tool event id recommended)",
            "Debezium envelope or flattened row; header message-type required",
            raw,
        ),
        machines=TopicSpec(
            f"{p}openframe.machines",
            "reference",
            "machineId",
            "Debezium MongoDB envelope",
            raw,
            True,
            config=compact,
        ),
        organizations=TopicSpec(
            f"{p}openframe.organizations",
            "reference",
            "organizationId",
            "Debezium MongoDB envelope",
            raw,
            True,
            config=compact,
        ),
        tool_connections=TopicSpec(
            f"{p}openframe.tool_connections",
            "reference",
            "<TOOLTYPE>:<agentToolId>",
            "Debezium MongoDB envelope",
            raw,
            True,
            config=compact,
        ),
        unified=TopicSpec(
            f"{p}openframe.unified.events",
            "internal",
            "<toolType>:<agentId> (or toolEventId with no agent)",
            "unified event JSON (schemas/unified_event.avsc)",
            settings.partitions,
        ),
        enriched=TopicSpec(
            f"{p}openframe.enriched.events",
            "output",
            "toolEventId",
            "enriched unified event JSON",
            settings.partitions,
        ),
        dead_letter=TopicSpec(
            f"{p}openframe.dlq",
            "dead_letter",
            "original key",
            "dead letter JSON (pipelines/deadletter.py)",
            settings.partitions,
        ),
    )


class PartitionsMismatch(RuntimeError):
    pass


def check_copartitioning(topics: Topics, actual: dict[str, int]) -> None:
    """Raise unless every co-partition group has one partition count in the cluster (`actual`)."""
    groups: dict[str, dict[str, int]] = {}
    for spec in topics.all():
        if spec.copartition_group and spec.name in actual:
            groups.setdefault(spec.copartition_group, {})[spec.name] = actual[spec.name]
    for group, counts in groups.items():
        if len(set(counts.values())) > 1:
            listing = ", ".join(f"{name}={n}" for name, n in sorted(counts.items()))
            raise PartitionsMismatch(f"co-partitioned topics of '{group}' disagree: {listing}")
