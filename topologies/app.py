"""`create_topology(settings)`: the Faust app, its topics, tables and agents, wired once.

Agents are thin I/O shells: they take batches, call the pure functions in `pipelines/`, hand every
output to an `Outbox`, and ack their input only after the outbox has it delivered (or dead-lettered).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import faust
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from pipelines import deadletter
from sinks.base import Sink
from topologies.faust_consumer import App as FaustApp
from topologies.faust_recovery import SeekFirstTableManager
from topologies.metrics import Metrics, create_metrics
from topologies.outbox import Outbox, headers_of
from topologies.topics import Topics, TopicSpec, declare

if TYPE_CHECKING:
    from openframe_stream.settings import Settings


@dataclass
class Topology:
    settings: Settings
    app: faust.App
    specs: Topics
    metrics: Metrics
    sink: Sink
    partitions: dict[str, int]  # topic name -> partition count in the cluster
    topics: dict[str, Any] = field(default_factory=dict)  # attribute name in Topics -> faust topic

    def topic(self, name: str) -> Any:
        return self.topics[name]

    def source(self, *names: str) -> Any:
        """One Faust source over `names`, records as raw bytes (the agents decode them themselves)."""
        return self.app.topic(*names, key_type=bytes, value_type=bytes, key_serializer="raw", value_serializer="raw")

    def partitions_of(self, spec: TopicSpec) -> int:
        """A table must have as many partitions as the topic it is built from (Faust checks)."""
        return self.partitions.get(spec.name, spec.partitions)

    def outbox(self) -> Outbox:
        return Outbox(backoff_max=self.settings.worker.retry_backoff_max)

    def dead_letter(self, outbox: Outbox, event: Any, stage: str, reason: str, detail: str, component: str) -> None:
        """Queue the original record of `event` for the dead-letter topic, with why it failed."""
        message = event.message
        headers = headers_of(message)
        value = deadletter.build(
            stage=stage,
            reason=reason,
            detail=detail,
            topic=message.topic,
            partition=message.partition,
            offset=message.offset,
            key=message.key,
            value=message.value,
            headers=headers,
            failed_at_ms=int(time.time() * 1000),
            component=component,
        )
        outbox.add(self.topic("dead_letter"), message.key, value, {"dlq-stage": stage, "dlq-reason": reason})
        self.metrics.dead_letters.labels(stage, reason).inc()


def _faust_topic(app: faust.App, spec: TopicSpec, internal: bool) -> Any:
    return app.topic(
        spec.name,
        key_type=bytes,
        value_type=bytes,
        key_serializer="raw",
        value_serializer="raw",
        partitions=spec.partitions if internal else None,
        internal=internal,
    )


def create_topology(settings: Settings, sink: Sink, partitions: dict[str, int]) -> Topology:
    w = settings.worker
    app = FaustApp(
        w.app_id,
        broker=[f"kafka://{server}" for server in settings.kafka.bootstrap_servers.split(",")],
        store=w.store,
        autodiscover=False,
        topic_partitions=settings.topics.partitions,
        topic_replication_factor=settings.topics.replication,
        broker_commit_interval=w.commit_interval,
        consumer_auto_offset_reset=w.auto_offset_reset,
        consumer_group_instance_id=w.instance_id,
        broker_session_timeout=w.session_timeout,
        broker_heartbeat_interval=min(3.0, w.session_timeout / 3),
        producer_acks=-1,
        # Agents queue a batch of sends and then await them all: lingering lets one produce request
        # carry many records instead of one socket write per record.
        producer_linger=w.producer_linger,
        producer_max_batch_size=w.producer_batch_bytes,
        stream_wait_empty=False,
        web_host=w.web_host,
        web_bind=w.web_host,
        web_port=w.web_port,
        web_in_thread=False,
        table_standby_replicas=0,
        TableManager=SeekFirstTableManager,
    )
    specs = declare(settings.topics)
    topology = Topology(
        settings=settings, app=app, specs=specs, metrics=create_metrics(), sink=sink, partitions=partitions
    )
    for name in specs.__dataclass_fields__:
        spec: TopicSpec = getattr(specs, name)
        # We provision every topic ourselves before start (topologies.provision); Faust must not alter them.
        topology.topics[name] = _faust_topic(app, spec, internal=False)

    from topologies import enrich_agent, fleet_join_agent, normalize_agent, sink_agent

    normalize_agent.register(topology)
    fleet_join_agent.register(topology)
    enrich_agent.register(topology)
    sink_agent.register(topology)
    _register_pages(topology)
    return topology


def _register_pages(topology: Topology) -> None:
    registry = topology.metrics.registry

    @topology.app.page("/metrics")
    async def metrics(web: Any, request: Any) -> Any:
        return web.bytes(generate_latest(registry), content_type=CONTENT_TYPE_LATEST.split(";")[0])

    @topology.app.page("/healthz")
    async def healthz(web: Any, request: Any) -> Any:
        return web.json({"status": "ok"})
