"""The enriched topic -> Cassandra. Pinot consumes the same topic itself (REALTIME upsert table)."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import TYPE_CHECKING, Any

import orjson

from openframe_stream.errors import Transient

if TYPE_CHECKING:
    from topologies.app import Topology

log = logging.getLogger(__name__)
COMPONENT = "cassandra-sink"


def register(topology: Topology) -> None:
    settings, sink = topology.settings, topology.sink
    m = topology.metrics
    source = topology.source(topology.specs.enriched.name)
    batch = min(settings.worker.batch_size, sink.capabilities.max_batch)

    @topology.app.agent(source, name="cassandra-sink")
    async def store(stream: Any) -> None:
        manual = stream.noack()
        async for events in manual.noack_take(batch, within=settings.worker.batch_within):
            outbox = topology.outbox()
            decoded: list[dict[str, Any]] = []
            sources: list[Any] = []
            for event in events:
                m.records_in.labels("sink", event.message.topic).inc()
                try:
                    value = orjson.loads(event.message.value)
                except orjson.JSONDecodeError as exc:
                    topology.dead_letter(outbox, event, "sink", "undecodable_event", str(exc), COMPONENT)
                    continue
                decoded.append(value)
                sources.append(event)
            rejected = await _write_until_stored(topology, decoded)
            for reject in rejected:
                topology.dead_letter(outbox, sources[reject.index], "sink", reject.reason, reject.detail, COMPONENT)
            await outbox.deliver()
            now = time.time()
            rejected_ids = {r.index for r in rejected}
            for index, value in enumerate(decoded):
                if index not in rejected_ids and value.get("eventTimestamp") is not None:
                    m.end_to_end.labels(sink.name).observe(max(0.0, now - int(value["eventTimestamp"]) / 1000))
                    m.records_out.labels("sink", str(value.get("toolType"))).inc()
            for event in events:
                await manual.ack(event)


async def _write_until_stored(topology: Topology, events: list[dict[str, Any]]) -> list[Any]:
    """Write, retrying transient failures with capped backoff: backpressure, never loss."""
    if not events:
        return []
    delay = 0.2
    while True:
        started = time.perf_counter()
        try:
            rejected = await topology.sink.write(events)
        except Transient as exc:
            log.warning("%s unavailable (%s); retrying in %.1fs", topology.sink.name, exc, delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, topology.settings.worker.retry_backoff_max)
            continue
        topology.metrics.sink_write.labels(topology.sink.name).observe(time.perf_counter() - started)
        return rejected
