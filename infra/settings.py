"""Settings of the local stack: where it lives, which services it manages, how big they are."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

_REPO = Path(__file__).resolve().parent.parent

ALL_SERVICES = (
    "postgres",
    "mariadb",
    "nats",
    "mongo",
    "kafka",
    "connect",
    "cassandra",
    "pinot-zk",
    "pinot",
)


class StackSettings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    run_dir: Path = Field(_REPO / ".stack", description="Data and logs of the local servers (git-ignored).")
    cache_dir: Path = Field(
        Path.home() / ".cache" / "openframe-stream",
        description="Resolved jars and binaries, shared by every checkout on this machine.",
    )
    services: tuple[str, ...] = Field(
        ALL_SERVICES,
        description="Services the stack manages. Drop one to point its endpoint setting at an existing server.",
    )
    java_home: Path | None = Field(None, description="JDK for the JVM servers (default: `java` on PATH; needs 17).")
    kafka_heap: str = Field("768m", description="Kafka broker max heap.")
    connect_heap: str = Field("768m", description="Kafka Connect max heap.")
    cassandra_heap: str = Field("1g", description="Cassandra max heap.")
    pinot_heap: str = Field("1536m", description="Pinot controller+broker+server max heap.")
    pinot_zk_heap: str = Field("192m", description="Pinot's embedded ZooKeeper max heap.")
    fast_jit: tuple[str, ...] = Field(
        ("connect", "pinot-zk"),
        description="JVM services started with the C1 JIT only: faster start on 2 cores, slower peak. "
        "The data path (Kafka, Cassandra, Pinot) keeps the full JIT, which doubles the Cassandra sink's rate.",
    )
    start_timeout: float = Field(240.0, description="Seconds to wait for one service's health check.")
    pg_user: str = Field("postgres", description="OS user that runs PostgreSQL (it refuses root).")
    maria_user: str = Field("mysql", description="OS user that runs MariaDB (it refuses root).")
