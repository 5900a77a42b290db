"""Raw tool topics -> the unified events topic, through the mapper registry."""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import orjson

from pipelines.enrich import stream_key
from pipelines.normalize import normalize
from pipelines.records import DeadLetter, Mapped, RawRecord, Skipped
from topologies.outbox import Outbox, headers_of
from topologies.shell import Record, Stage

if TYPE_CHECKING:
    from topologies.app import Topology

COMPONENT = "normalize"


def raw_record(record: Record, value: Any = None) -> RawRecord:
    return RawRecord(
        topic=record.topic,
        headers=headers_of(record),
        key=record.key,
        value=record.value if value is None else value,
        partition=record.partition,
        offset=record.offset,
    )


class Normalizer:
    """Normalize records and queue what each becomes: a unified event, a dead letter, or nothing."""

    def __init__(self, topology: Topology) -> None:
        self.topology = topology
        self.prefix = topology.settings.topics.prefix
        self.unified = topology.specs.unified.name
        self.settings = topology.settings.pipeline

    def emit(self, out: Outbox, source: Record, record: RawRecord, tools: Counter[str], skipped: Counter[str]) -> None:
        # The pure pipeline sees topics without the deployment's prefix: one topic -> source map for all.
        if self.prefix and record.topic.startswith(self.prefix):
            record = dataclasses.replace(record, topic=record.topic.removeprefix(self.prefix))
        result = normalize(record, self.settings)
        if isinstance(result, Mapped):
            unified = result.event
            tool = str(unified.get("toolType"))
            out.add(
                self.unified,
                stream_key(unified).encode(),
                orjson.dumps(unified),
                {"tool-type": tool, "tenant-id": str(unified.get("tenantId"))},
            )
            tools[tool] += 1
        elif isinstance(result, Skipped):
            skipped[result.reason] += 1
        elif isinstance(result, DeadLetter):
            self.topology.dead_letters.add(out, source, result.stage, result.reason, result.detail, COMPONENT)

    def count(self, tools: Counter[str], skipped: Counter[str]) -> None:
        m = self.topology.metrics
        for tool, n in tools.items():
            m.records_out.labels(COMPONENT, tool).inc(n)
        for reason, n in skipped.items():
            m.skipped.labels(reason).inc(n)


class NormalizeStage(Stage):
    name = COMPONENT

    def __init__(self, topology: Topology, topics: Sequence[str]) -> None:
        self.topics = tuple(topics)
        self.normalizer = Normalizer(topology)

    async def handle(self, records: Sequence[Record], out: Outbox) -> Sequence[Record]:
        tools: Counter[str] = Counter()
        skipped: Counter[str] = Counter()
        emit = self.normalizer.emit
        for record in records:
            emit(out, record, raw_record(record), tools, skipped)
        self.normalizer.count(tools, skipped)
        return records


def stages(topology: Topology) -> list[Stage]:
    specs = topology.specs
    joined = {specs.fleet_activities.name, specs.fleet_host_activities.name}
    return [NormalizeStage(topology, [s.name for s in specs.raw() if s.name not in joined])]
