"""Settings of the pure pipeline stages (normalization and enrichment)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator

# Reference `message-type` header values -> our source names (a source name itself also works).
DEFAULT_MESSAGE_TYPES: dict[str, str] = {
    "MESHCENTRAL_EVENT": "meshcentral.events",
    "FLEET_MDM_EVENT": "fleet.activities",
    "FLEET_MDM_POLICY_ACTIVITY_EVENT": "fleet.activities",
    "FLEET_MDM_QUERY_RESULT_EVENT": "fleet.query_results",
    "FLEET_MDM_POLICY_MEMBERSHIP_EVENT": "fleet.policy_membership",
    "TACTICAL_RMM_AUDIT_EVENT": "tactical.logs_auditlog",
    "TACTICAL_RMM_AGENT_HISTORY_EVENT": "tactical.agents_agenthistory",
    "TACTICAL_RMM_TASK_RESULT_EVENT": "tactical.autotasks_taskresult",
    "COMMAND_EXECUTED": "agent.results",
    "SCRIPT_EXECUTED": "agent.results",
}

# Reference topic names -> source. A value ending in `.*` picks the source by the record's table:
# `tactical.*` + `source.table = logs_auditlog` -> `tactical.logs_auditlog`.
DEFAULT_TOPIC_SOURCES: dict[str, str] = {
    "fleet.activities.events": "fleet.activities",
    "fleet.mysql.events": "fleet.activities",
    "fleet.query_results.events": "fleet.query_results",
    "fleet.policy_membership.events": "fleet.policy_membership",
    "meshcentral.mongodb.events": "meshcentral.events",
    "tactical-rmm.postgres.events": "tactical.*",
    "logs.events": "agent.results",
    "shared.logs.events": "agent.results",
}


class PipelineSettings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    tenant_id: str = Field("oss", description="Tenant of every event in single-tenant mode.")
    message_types: dict[str, str] = Field(
        default_factory=lambda: dict(DEFAULT_MESSAGE_TYPES),
        description="`message-type` header value (upper case) -> source; checked before the topic.",
    )
    topic_sources: dict[str, str] = Field(
        default_factory=lambda: dict(DEFAULT_TOPIC_SOURCES),
        description="Topic -> source for records without a `message-type` header; `<tool>.*` picks by table.",
    )

    @field_validator("message_types")
    @classmethod
    def _upper_keys(cls, value: dict[str, str]) -> dict[str, str]:
        # Header values are matched upper-cased, as the reference did.
        return {key.upper(): source for key, source in value.items()}
