"""Raw tool topics -> the unified events topic, through the mapper registry."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

import orjson

from pipelines.enrich import stream_key
from pipelines.normalize import normalize
from pipelines.records import DeadLetter, Mapped, RawRecord, Skipped
from topologies.outbox import Outbox, headers_of

if TYPE_CHECKING:
    from topologies.app import Topology

COMPONENT = "normalize"


def raw_record(event: Any, value: Any = None) -> RawRecord:
    message = event.message
    return RawRecord(
        topic=message.topic,
        headers=headers_of(message),
        key=message.key,
        value=message.value if value is None else value,
        partition=message.partition,
        offset=message.offset,
    )


def emit(topology: Topology, outbox: Outbox, event: Any, record: RawRecord) -> None:
    """Normalize one record and queue what it becomes: a unified event, a dead letter, or nothing."""
    # The pure pipeline sees topics without the deployment's prefix: one topic -> source map for all.
    prefix = topology.settings.topics.prefix
    if prefix and record.topic.startswith(prefix):
        record = dataclasses.replace(record, topic=record.topic.removeprefix(prefix))
    result = normalize(record, topology.settings.pipeline)
    m = topology.metrics
    if isinstance(result, Mapped):
        unified = result.event
        tool = str(unified.get("toolType"))
        outbox.add(
            topology.topic("unified"),
            stream_key(unified).encode(),
            orjson.dumps(unified),
            {"tool-type": tool, "tenant-id": str(unified.get("tenantId"))},
        )
        m.records_out.labels(COMPONENT, tool).inc()
    elif isinstance(result, Skipped):
        m.skipped.labels(result.reason).inc()
    elif isinstance(result, DeadLetter):
        topology.dead_letter(outbox, event, result.stage, result.reason, result.detail, COMPONENT)


def register(topology: Topology) -> None:
    specs = topology.specs
    joined = {specs.fleet_activities.name, specs.fleet_host_activities.name}
    names = [s.name for s in specs.raw() if s.name not in joined]
    source = topology.source(*names)
    w = topology.settings.worker

    @topology.app.agent(source, name="normalize")
    async def normalize_records(stream: Any) -> None:
        manual = stream.noack()
        async for events in manual.noack_take(w.batch_size, within=w.batch_within):
            outbox = topology.outbox()
            for event in events:
                topology.metrics.records_in.labels(COMPONENT, event.message.topic).inc()
                emit(topology, outbox, event, raw_record(event))
            await outbox.deliver()
            for event in events:
                await manual.ack(event)
