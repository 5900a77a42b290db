"""Settings of the ingest side: the Debezium connectors, the reference sync and the NATS bridge.

The root `Settings` composes these as `connectors`, `reference` and `bridge`. Until it does, the
accessors below return defaults, so every code path already takes its settings from one place.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field

if TYPE_CHECKING:
    from openframe_stream.settings import Settings


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ConnectorSettings(_Frozen):
    """Values the versioned connector files refer to as `${connectors.<field>}`."""

    request_timeout: float = Field(30.0, description="Seconds per Kafka Connect REST call.")
    running_timeout: float = Field(120.0, description="Seconds `connectors apply --wait` waits for RUNNING.")
    snapshot_mode: str = Field(
        "initial", description="Debezium `snapshot.mode` of the SQL connectors (`no_data` skips the back-fill)."
    )
    tactical_topic_prefix: str = Field("trmm", description="Debezium `topic.prefix` of the Tactical RMM connector.")
    tactical_slot: str = Field("dbz_slot_trmm_combined", description="PostgreSQL replication slot of Tactical RMM.")
    tactical_slot_drop_on_stop: bool = Field(
        False, description="Drop the replication slot when the connector stops (tests; loses the position)."
    )
    heartbeat_interval_ms: int = Field(
        10000,
        description="Debezium `heartbeat.interval.ms` of the SQL connectors: their offsets (and the PostgreSQL "
        "slot) move with the source even when only uncaptured tables change, which bounds the WAL the slot "
        "keeps and lets the watchdog tell an idle task from a stalled one.",
    )
    fleet_topic_prefix: str = Field("fleet_mysql", description="Debezium `topic.prefix` of the Fleet connector.")
    fleet_server_id: int = Field(
        5401, description="Binlog client id of the Fleet connector; unique among the MariaDB server's replicas."
    )
    fleet_schema_history_topic: str = Field(
        "fleet_mysql_schema_history", description="Kafka topic where the Fleet connector keeps the DDL history."
    )
    meshcentral_mongodb_uri: str = Field(
        "mongodb://127.0.0.1:27017/?replicaSet=rs0",
        description="MeshCentral's MongoDB (a replica set with change streams); may hold credentials.",
    )
    meshcentral_database: str = Field("meshcentral", description="MeshCentral's database name.")
    reference_mongodb_uri: str = Field(
        "mongodb://127.0.0.1:27017/?replicaSet=rs0",
        description="OpenFrame's MongoDB for the reference CDC connector (replica set); may hold credentials.",
    )


class WatchdogSettings(_Frozen):
    """The connector watchdog (`connectors watch`): stall detection by progress, and healing."""

    interval_seconds: float = Field(5.0, description="Seconds between two looks at every watched connector.")
    stall_seconds: float = Field(
        60.0,
        description="A task is stalled when its source has been ahead this long while the task's position "
        "(PostgreSQL slot `confirmed_flush_lsn`, MariaDB binlog offset) did not move.",
    )
    min_lag_bytes: int = Field(1, description="Source lag, in bytes, below which a task never counts as stalled.")
    settle_seconds: float = Field(
        20.0,
        description="Seconds after a task restart before the watchdog may end a stale replication backend that "
        "still holds the connector's slot.",
    )
    retry_seconds: float = Field(
        90.0,
        description="Seconds before a task that is still stalled (or FAILED) is restarted again; each further "
        "restart waits twice as long. A restarted Debezium 3.2 task may spend 60 s of its start retrying to "
        "register its metrics while an abandoned task's are still registered: a shorter wait restarts it "
        "before it streams.",
    )
    backoff_max_seconds: float = Field(300.0, description="Longest wait between two restarts of one stalled task.")
    terminate_stale_backends: bool = Field(
        True,
        description="End a PostgreSQL replication backend that holds the connector's slot, carries Debezium's "
        "application name and the connector's user, and started before the task's last restart.",
    )
    connectors: tuple[str, ...] = Field(
        (), description="Connectors to watch (default: every PostgreSQL and MariaDB connector file)."
    )
    metrics_port: int = Field(9466, description="Port of the watchdog's Prometheus `/metrics` (0 = any free port).")
    metrics_host: str = Field("127.0.0.1", description="Address the watchdog's `/metrics` server binds.")


class ReferenceSyncSettings(_Frozen):
    every: float = Field(30.0, description="Seconds between `reference sync --every` rounds by default.")
    source_name: str = Field("openframe", description="`source.name` written into the synthetic envelopes.")
    flush_timeout: float = Field(30.0, description="Seconds to wait for Kafka to confirm one sync round.")


class BridgeSettings(_Frozen):
    stream: str = Field("AGENT_RESULTS", description="JetStream stream holding agent results (created if missing).")
    durable: str = Field("kafka-bridge", description="Durable pull consumer of the bridge on that stream.")
    subject_prefix: str = Field(
        "", description="Prefix before `machine.*...` subjects (streams may not overlap; tests isolate with it)."
    )
    storage: str = Field("file", description="Stream storage: `file` or `memory`.")
    max_age_s: float = Field(7 * 86400.0, description="Seconds a result stays in the stream at most.")
    batch: int = Field(500, description="Messages fetched, produced and acked per round.")
    fetch_wait_s: float = Field(1.0, description="Seconds one fetch waits for the first message.")
    ack_wait_s: float = Field(
        30.0, description="Seconds before JetStream redelivers an unacked message (e.g. after a crash)."
    )
    max_ack_pending: int = Field(20000, description="Unacked messages JetStream lets the consumer hold.")
    delivery_timeout_s: float = Field(60.0, description="Seconds to wait for Kafka to confirm one batch.")
    metrics_port: int = Field(9465, description="Port of the bridge's Prometheus `/metrics` (0 = any free port).")
    metrics_host: str = Field("127.0.0.1", description="Address the `/metrics` server binds.")


def connector_settings(settings: Settings) -> ConnectorSettings:
    return settings.connectors


def reference_settings(settings: Settings) -> ReferenceSyncSettings:
    return settings.reference


def bridge_settings(settings: Settings) -> BridgeSettings:
    return settings.bridge


def watchdog_settings(settings: Settings) -> WatchdogSettings:
    return settings.watchdog
