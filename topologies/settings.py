"""Settings of the stream worker."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class WorkerSettings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    app_id: str = Field("openframe-stream", description="Faust app id: the consumer group and table prefix.")
    web_host: str = Field("127.0.0.1", description="Host of the worker's web server (/metrics, /healthz).")
    web_port: int = Field(6066, description="Port of the worker's web server.")
    stages: tuple[Literal["normalize", "fleet-join", "enrich", "sink"], ...] = Field(
        ("normalize", "fleet-join", "enrich", "sink"),
        description="Stages this worker runs (enrich includes the reference tables). A subset runs one "
        "stage alone, e.g. to scale it apart or to benchmark it.",
    )
    processes: int = Field(
        1, ge=1, description="Worker processes `run` starts in one consumer group; partitions spread over them."
    )
    batch_size: int = Field(2000, gt=0, description="Most records a stage takes per batch.")
    batch_within: float = Field(
        0.0, ge=0, description="Seconds a stage waits to fill a batch when fewer records are queued (0: none; "
        "at load the queue fills batches by itself, and any wait here adds to end-to-end latency)."
    )
    batches_in_flight: int = Field(
        8, ge=1, description="Batches a stage may have between its step and its acks (waiting for delivery reports or "
        "Cassandra); batches sharing a record key never overlap, so per-key order holds."
    )
    queue_records: int = Field(
        20_000, gt=0, description="Most fetched records queued per stage; when full the fetch waits (backpressure)."
    )
    commit_interval: float = Field(1.0, description="Seconds between offset commits of acked records.")
    retry_backoff_max: float = Field(10.0, description="Cap in seconds of the backoff between delivery retries.")
    lag_interval: float = Field(5.0, description="Seconds between consumer-lag measurements.")
    measure_lag: bool = Field(True, description="Export consumer lag from this process (`run --processes` "
                              "keeps it on in the first process only).")
    lag_groups: tuple[str, ...] = Field(
        (), description="Other consumer groups to report lag for, besides the worker's own."
    )
    producer_linger: float = Field(0.005, description="Seconds the producers wait to fill a request.")
    producer_batch_bytes: int = Field(
        262_144, description="Most bytes per partition in one produce request (Faust's default is 16 KiB)."
    )
    auto_offset_reset: str = Field(
        "earliest", description="Where a new consumer group starts: earliest (everything) or latest."
    )
    session_timeout: float = Field(
        10.0,
        gt=0,
        description="Seconds without a heartbeat before the broker drops a worker and hands its partitions to "
        "the others (Faust's default is 60). A crashed worker's partitions wait this long unless it comes back "
        "with the same instance_id.",
    )
    instance_id: str | None = Field(
        None,
        description="Static group membership (KIP-345): unique per worker, stable across its restarts (a pod "
        "name, a host name). A worker that restarts within session_timeout gets its partitions back at once, "
        "with no rebalance. Unset: dynamic membership.",
    )
    store: str = Field("memory://", description="Faust table store (memory:// rebuilds from changelogs).")
