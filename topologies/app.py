"""`create_topology(settings)`: the Faust app, its tables and the stages, wired once.

Stages are thin: the shell (`topologies.shell`) hands them whole batches, they call the pure
functions in `pipelines/` and queue every output in an `Outbox`, and the shell acks their input only
after the outbox has it delivered (or dead-lettered).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import faust
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from sinks.base import Sink
from topologies.faust_ext.consumer import App as FaustApp
from topologies.faust_ext.recovery import SeekFirstTableManager
from topologies.metrics import Metrics, create_metrics
from topologies.producer import Sender
from topologies.shell import DeadLetters, Shell
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
    shell: Shell
    dead_letters: DeadLetters

    def partitions_of(self, spec: TopicSpec) -> int:
        """A table must have as many partitions as the topic it is built from (Faust checks)."""
        return self.partitions.get(spec.name, spec.partitions)


def create_app(settings: Settings) -> FaustApp:
    w = settings.worker
    return FaustApp(
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
        # Faust's producer only writes table changelogs now; the stages send through librdkafka.
        producer_acks=-1,
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


def create_topology(settings: Settings, sink: Sink, partitions: dict[str, int], sender: Sender) -> Topology:
    """The app and every stage of `settings.worker.stages`, wired once."""
    app = create_app(settings)
    specs = declare(settings.topics)
    metrics = create_metrics()
    dead_letters = DeadLetters(specs.dead_letter.name, metrics)
    shell = Shell(app, sender, metrics, settings.worker, dead_letters)
    topology = Topology(settings=settings, app=app, specs=specs, metrics=metrics, sink=sink,
                        partitions=partitions, shell=shell, dead_letters=dead_letters)

    from topologies import enrich_agent, fleet_join_agent, normalize_agent, sink_agent

    builders = {
        "normalize": normalize_agent.stages,
        "fleet-join": fleet_join_agent.stages,
        "enrich": enrich_agent.stages,
        "sink": sink_agent.stages,
    }
    for name in settings.worker.stages:
        for stage in builders[name](topology):
            shell.add(stage)
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
