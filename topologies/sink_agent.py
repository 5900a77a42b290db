"""The enriched topic -> Cassandra. Pinot consumes the same topic itself (REALTIME upsert table)."""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from openframe_stream.errors import Transient
from sinks.base import Rejected
from topologies.outbox import Outbox
from topologies.shell import Record, Stage

if TYPE_CHECKING:
    from topologies.app import Topology

log = logging.getLogger(__name__)
COMPONENT = "cassandra-sink"
STAGE = "sink"


class SinkStage(Stage):
    name = STAGE

    def __init__(self, topology: Topology) -> None:
        self.topology, self.sink = topology, topology.sink
        self.topics = (topology.specs.enriched.name,)
        m = topology.metrics
        self.write_seconds = m.sink_write.labels(self.sink.name)
        self.end_to_end = m.end_to_end.labels(self.sink.name)

    async def handle(self, records: Sequence[Record], out: Outbox) -> Sequence[Record]:
        dead = self.topology.dead_letters
        pairs = dead.decoded(out, records, STAGE, COMPONENT)
        sources: list[Record] = [record for record, _ in pairs]
        decoded: list[dict[str, Any]] = [value for _, value in pairs]
        max_batch = self.sink.capabilities.max_batch
        rejected: list[Rejected] = []
        for start in range(0, len(decoded), max_batch):
            chunk = decoded[start : start + max_batch]
            written = await self._write_until_stored(chunk)
            rejected.extend(Rejected(r.index + start, r.reason, r.detail) for r in written)
        for reject in rejected:
            dead.add(out, sources[reject.index], STAGE, reject.reason, reject.detail, COMPONENT)
        self._observe(decoded, {r.index for r in rejected})
        return records

    def _observe(self, events: list[dict[str, Any]], rejected: set[int]) -> None:
        now = time.time()
        tools: Counter[str] = Counter()
        observe = self.end_to_end.observe
        for index, value in enumerate(events):
            stamp = value.get("eventTimestamp")
            if index not in rejected and stamp is not None:
                observe(max(0.0, now - int(stamp) / 1000))
                tools[str(value.get("toolType"))] += 1
        for tool, n in tools.items():
            self.topology.metrics.records_out.labels(STAGE, tool).inc(n)

    async def _write_until_stored(self, events: list[dict[str, Any]]) -> list[Rejected]:
        """Write, retrying transient failures with capped backoff: backpressure, never loss."""
        if not events:
            return []
        delay = 0.2
        while True:
            started = time.perf_counter()
            try:
                rejected = await self.sink.write(events)
            except Transient as exc:
                log.warning("%s unavailable (%s); retrying in %.1fs", self.sink.name, exc, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, self.topology.settings.worker.retry_backoff_max)
                continue
            self.write_seconds.observe(time.perf_counter() - started)
            return rejected


def stages(topology: Topology) -> list[Stage]:
    return [SinkStage(topology)]
