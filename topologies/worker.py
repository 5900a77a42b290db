"""Start the stream worker: provision topics, the Pinot table and the Cassandra schema, then run Faust."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

from openframe_stream.errors import Transient
from sinks.cassandra.sink import CassandraSink
from sinks.pinot.provision import provision as provision_pinot
from topologies.app import Topology, create_topology
from topologies.lag import LagMonitor
from topologies.producer import KafkaSender, producer_config
from topologies.provision import ensure_topics
from topologies.topics import declare

if TYPE_CHECKING:
    from openframe_stream.settings import Settings

log = logging.getLogger(__name__)


def prepare(settings: Settings) -> dict[str, int]:
    """Everything a worker needs from the servers before it consumes (idempotent); returns the
    partition count of every topic."""
    specs = declare(settings.topics)
    counts = ensure_topics(settings.kafka.bootstrap_servers, specs, settings.topics.replication)
    changed = provision_pinot(
        settings.pinot.controller_url, settings.pinot_sink, specs.enriched.name, settings.kafka.bootstrap_servers
    )
    if changed:
        log.info("pinot: %s", ", ".join(changed))
    return counts


def build(settings: Settings, partitions: dict[str, int]) -> Topology:
    c = settings.cassandra
    sink = CassandraSink(c.hosts, c.port, c.keyspace, settings.cassandra_sink)
    sender = KafkaSender(producer_config(settings.kafka.bootstrap_servers, settings.worker.producer_linger))
    topology = create_topology(settings, sink, partitions, sender)

    @topology.app.on_before_shutdown.connect  # type: ignore[arg-type]  # mode types async receivers narrowly
    async def close_sender(app: Any, *args: Any, signal: Any = None, **kwargs: Any) -> None:
        left = sender.close()
        if left:  # unacked anyway: their records are read again after the restart
            log.warning("%d produced record(s) were still undelivered at shutdown", left)

    @topology.app.task  # type: ignore[untyped-decorator]  # faust decorators are untyped
    async def connect_sink() -> None:
        delay = 0.5
        while True:  # the agent retries writes anyway; this applies the CQL as soon as Cassandra answers
            try:
                await sink.start()
                return
            except Transient as exc:
                log.warning("cassandra not ready (%s); retrying in %.1fs", exc, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, settings.worker.retry_backoff_max)

    return topology


def run_worker(settings: Settings, loglevel: str = "INFO") -> None:
    import faust

    partitions = prepare(settings)
    topology = build(settings, partitions)
    groups = [settings.worker.app_id, *settings.worker.lag_groups]
    lag = LagMonitor(settings.kafka.bootstrap_servers, groups, topology.metrics, settings.worker.lag_interval)
    if settings.worker.measure_lag:
        lag.start()
    try:
        faust.Worker(topology.app, loglevel=loglevel, quiet=True).execute_from_commandline()
    finally:
        lag.stop()
