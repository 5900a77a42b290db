"""Frozen, self-documenting settings, built once in the entry point and passed down.

Every field has a default and a description. Values come from, in order of precedence: keyword
arguments, environment variables (`OFS_` prefix, `__` between nested names, e.g.
`OFS_KAFKA__BOOTSTRAP_SERVERS`), then a TOML file named by `OFS_SETTINGS_FILE` or `--settings`.
Endpoints are plain settings, so an existing cluster can replace any local server.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from api.settings import ApiSettings
from connectors.settings import BridgeSettings, ConnectorSettings, ReferenceSyncSettings, WatchdogSettings
from infra.settings import StackSettings
from infra.tooldb.settings import ToolDbSettings
from infra.traffic.settings import TrafficSettings
from pipelines.enrich import EnrichSettings
from pipelines.fleet_join import FleetJoinSettings
from pipelines.settings import PipelineSettings
from sinks.cassandra.config import CassandraSinkSettings
from sinks.pinot.provision import PinotSinkSettings
from topologies.settings import WorkerSettings
from topologies.topics import TopicSettings


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class KafkaSettings(_Frozen):
    bootstrap_servers: str = Field("127.0.0.1:9092", description="Kafka bootstrap servers (host:port,...).")
    controller_port: int = Field(9093, description="KRaft controller listener port of the local broker.")


class ConnectSettings(_Frozen):
    url: str = Field("http://127.0.0.1:8083", description="Kafka Connect REST base URL.")
    task_shutdown_timeout_ms: int = Field(
        60000,
        description="Local Connect worker `task.shutdown.graceful.timeout.ms`: how long a stopping task may take "
        "before Connect abandons it. Connect's 5 s default abandoned Debezium 3.2's PostgreSQL task during a "
        "broker outage with its replication connection still open (issue 16).",
    )
    rebalance_delay_ms: int = Field(
        10000,
        description="Local Connect worker `scheduled.rebalance.max.delay.ms`: how long the connectors and tasks "
        "of a worker that lost its group membership wait before they are assigned again. Connect's 5 min default "
        "left every CDC task unassigned for 5 min after a broker restart on the single-worker stack.",
    )


class CassandraSettings(_Frozen):
    hosts: tuple[str, ...] = Field(("127.0.0.1",), description="Cassandra contact points.")
    port: int = Field(9042, description="CQL native transport port.")
    keyspace: str = Field("openframe_events", description="Keyspace for event history.")
    storage_port: int = Field(7000, description="Inter-node (gossip) port of the local Cassandra.")
    jmx_port: int = Field(7199, description="Local JMX port of the local Cassandra.")


class PinotSettings(_Frozen):
    controller_url: str = Field("http://127.0.0.1:9000", description="Pinot controller REST base URL.")
    broker_host: str = Field("127.0.0.1", description="Pinot broker host (pinotdb connects here).")
    broker_port: int = Field(8099, description="Pinot broker query port.")
    zk_port: int = Field(2181, description="Port of the ZooKeeper the local Pinot cluster uses.")
    server_admin_port: int = Field(8097, description="Pinot server admin (health) port.")
    server_netty_port: int = Field(8098, description="Pinot server query port (the broker talks to it).")
    server_grpc_port: int = Field(8090, description="Pinot server gRPC port.")


class PostgresSettings(_Frozen):
    host: str = Field("127.0.0.1", description="Tactical RMM PostgreSQL host.")
    port: int = Field(5432, description="PostgreSQL port.")
    database: str = Field("tacticalrmm", description="Tactical RMM database name.")
    user: str = Field("postgres", description="Admin user for provisioning and the traffic generator.")
    password: str = Field("", description="Admin password (the local stack trusts loopback).")
    cdc_user: str = Field("debezium", description="Replication user Debezium connects as.")
    cdc_password: str = Field("dbz", description="Password of the replication user.")


class MariaDBSettings(_Frozen):
    host: str = Field("127.0.0.1", description="Fleet MariaDB host.")
    port: int = Field(3306, description="MariaDB port.")
    database: str = Field("fleet", description="Fleet database name.")
    user: str = Field("root", description="Admin user for provisioning and the traffic generator.")
    password: str = Field("", description="Admin password (local stack: socket/loopback root, no password).")
    cdc_user: str = Field("debezium", description="Binlog user Debezium connects as.")
    cdc_password: str = Field("dbz", description="Password of the binlog user.")
    server_id: int = Field(1, description="MariaDB server_id (binlog replication needs a unique one).")


class MongoSettings(_Frozen):
    uri: str = Field("mongodb://127.0.0.1:27017/", description="MongoDB-wire server URI (reference data).")
    database: str = Field("openframe", description="Database holding machines, organizations, tool_connections.")
    debug_addr: str = Field("127.0.0.1:8088", description="FerretDB's debug/metrics HTTP listener (local stack).")


class NatsSettings(_Frozen):
    url: str = Field("nats://127.0.0.1:4222", description="NATS server URL.")
    monitor_port: int = Field(8222, description="NATS HTTP monitoring port (health checks).")


class Settings(BaseSettings):
    """All settings of one process. Build with `Settings.load()` once and pass it down."""

    model_config = SettingsConfigDict(
        frozen=True,
        env_prefix="OFS_",
        env_nested_delimiter="__",
        extra="forbid",
    )

    kafka: KafkaSettings = Field(default_factory=KafkaSettings, description="Kafka broker.")
    connect: ConnectSettings = Field(default_factory=ConnectSettings, description="Kafka Connect.")
    cassandra: CassandraSettings = Field(default_factory=CassandraSettings, description="Cassandra.")
    pinot: PinotSettings = Field(default_factory=PinotSettings, description="Apache Pinot.")
    postgres: PostgresSettings = Field(default_factory=PostgresSettings, description="Tactical RMM DB.")
    mariadb: MariaDBSettings = Field(default_factory=MariaDBSettings, description="Fleet DB.")
    mongo: MongoSettings = Field(default_factory=MongoSettings, description="Reference data DB.")
    nats: NatsSettings = Field(default_factory=NatsSettings, description="NATS JetStream.")
    stack: StackSettings = Field(default_factory=StackSettings, description="The local stack.")
    pipeline: PipelineSettings = Field(default_factory=PipelineSettings, description="The pipeline.")
    topics: TopicSettings = Field(default_factory=TopicSettings, description="Topic names and partitions.")
    enrich: EnrichSettings = Field(default_factory=EnrichSettings, description="Enrichment and tenants.")
    fleet_join: FleetJoinSettings = Field(default_factory=FleetJoinSettings, description="The Fleet join.")
    worker: WorkerSettings = Field(default_factory=WorkerSettings, description="The stream worker.")
    cassandra_sink: CassandraSinkSettings = Field(
        default_factory=CassandraSinkSettings, description="The Cassandra sink."
    )
    pinot_sink: PinotSinkSettings = Field(default_factory=PinotSinkSettings, description="The Pinot table.")
    connectors: ConnectorSettings = Field(default_factory=ConnectorSettings, description="Debezium connectors.")
    reference: ReferenceSyncSettings = Field(
        default_factory=ReferenceSyncSettings, description="Reference data sync from MongoDB."
    )
    bridge: BridgeSettings = Field(default_factory=BridgeSettings, description="The NATS JetStream bridge.")
    watchdog: WatchdogSettings = Field(default_factory=WatchdogSettings, description="The connector watchdog.")
    tooldb: ToolDbSettings = Field(default_factory=ToolDbSettings, description="The local tool databases.")
    traffic: TrafficSettings = Field(default_factory=TrafficSettings, description="The traffic generator.")
    api: ApiSettings = Field(default_factory=ApiSettings, description="The read API.")

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        if settings_cls.model_config.get("toml_file"):
            sources.append(TomlConfigSettingsSource(settings_cls))
        return tuple(sources)

    @classmethod
    def load(cls, file: Path | None = None, **overrides: Any) -> Settings:
        """Build settings from env, then `file` (or `OFS_SETTINGS_FILE`), then defaults."""
        env_file = os.environ.get("OFS_SETTINGS_FILE")
        toml = file or (Path(env_file) if env_file else None)
        if toml is None:
            return cls(**overrides)
        # The file is configuration of this one build: a subclass carries it, nothing global does.
        config = {**cls.model_config, "toml_file": toml}
        with_file: type[Settings] = type(cls.__name__, (cls,), {"model_config": config})
        return with_file(**overrides)


def describe(model: type[BaseModel], prefix: str = "OFS_") -> list[tuple[str, str, str]]:
    """(env name, default, description) for every leaf setting: the README's settings table."""
    rows: list[tuple[str, str, str]] = []
    for name, field in model.model_fields.items():
        env = f"{prefix}{name.upper()}"
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            rows.extend(describe(annotation, env + "__"))
        else:
            default = field.get_default(call_default_factory=True)
            rows.append((env, repr(default), field.description or ""))
    return rows
