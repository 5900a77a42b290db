"""Settings of the Cassandra sink."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class CassandraSinkSettings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    ttl_seconds: int = Field(0, description="TTL of written rows in seconds; 0 keeps them forever.")
    batch_size: int = Field(500, description="Most events written per batch (one take from the stream).")
    concurrency: int = Field(256, gt=0, description="Most CQL requests in flight at once.")
    batch_partitions: int = Field(
        10, gt=0, description="Most events_by_id rows (one partition each) per UNLOGGED batch. Cassandra warns "
        "above 10 partitions per batch (unlogged_batch_across_partitions_warn_threshold).",
    )
    batch_bytes: int = Field(
        4608, gt=0, description="Most bytes per events_by_id batch, as the server sizes it (values plus ~24 bytes a "
        "cell). Cassandra warns (and logs) on every multi-partition batch above batch_size_warn_threshold (5 KiB).",
    )
    protocol_version: int = Field(5, ge=4, description="CQL native protocol version (pinned: no downgrade probing).")
    request_timeout: float = Field(10.0, description="Seconds before one CQL request counts as failed.")
