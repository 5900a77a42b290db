"""Enrichment stages: reference topics fill global tables; unified events are joined with them (no
network call per event) and go to the enriched topic, keyed by toolEventId.

A miss is emitted at once with the device fields null, counted, and kept in the `enrich-pending`
table (keyed like the unified topic, so co-partitioned with it). On each tick the stage re-enriches
the kept events whose reference rows have arrived (`pipelines.enrich.retry_due`) and re-emits them
with the same toolEventId, so every sink corrects itself.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import orjson

from pipelines import reference
from pipelines.enrich import Enriched, Lookups, agent_of, by_agent, enrich, pending_key, retry_due, storage_form
from topologies.faust_ext.tables import acting_on
from topologies.outbox import Outbox
from topologies.shell import Record, Stage

if TYPE_CHECKING:
    from topologies.app import Topology

COMPONENT = "enrich"


class ReferenceStage(Stage):
    name = "reference"

    def __init__(self, topology: Topology, kinds: dict[str, reference.Kind], tables: dict[str, Any]) -> None:
        self.topology, self.kinds, self.tables = topology, kinds, tables
        self.topics = tuple(kinds)

    async def handle(self, records: Sequence[Record], out: Outbox) -> Sequence[Record]:
        for record in records:
            kind = self.kinds[record.topic]
            try:
                change = reference.parse(kind, record.key, record.value)
            except reference.ReferenceError as exc:
                self.topology.dead_letters.add(out, record, "reference", exc.reason, exc.detail, "reference-tables")
                continue
            table = self.tables[kind]
            with acting_on(record.topic, record.partition):
                if change.row is None:
                    table.pop(change.key, None)
                elif kind != "tool_connections" or reference.newer_connection(table.get(change.key), change.row):
                    table[change.key] = change.row
        return records


class EnrichStage(Stage):
    name = COMPONENT

    def __init__(self, topology: Topology, lookups: Lookups, now_ms: Callable[[], int] | None = None) -> None:
        specs, settings = topology.specs, topology.settings
        self.topology, self.lookups = topology, lookups
        self.unified, self.enriched = specs.unified.name, specs.enriched.name
        self.topics = (self.unified,)
        self.settings, self.tenant_id = settings.enrich, settings.pipeline.tenant_id
        self.tick_seconds = settings.enrich.retry_interval_seconds
        self.pending = topology.app.Table(
            "enrich-pending", default=None, partitions=topology.partitions_of(specs.unified), key_type=str
        )
        self.now_ms = now_ms or (lambda: int(time.time() * 1000))
        self.swept_ms = 0  # the last expiry sweep, which also rebuilds `waiting`
        self.waiting: dict[str, dict[str, None]] = {}  # agent stream key -> its pending keys

    async def handle(self, records: Sequence[Record], out: Outbox) -> Sequence[Record]:
        now = self.now_ms()
        tools: Counter[str] = Counter()
        misses: Counter[str] = Counter()
        dead = self.topology.dead_letters
        for record, unified in dead.decoded(out, records, COMPONENT, COMPONENT):
            result = enrich(unified, self.lookups, self.settings, self.tenant_id)
            if not isinstance(result, Enriched):
                dead.add(out, record, "tenant", result.reason, result.detail, COMPONENT)
                continue
            tools[self._emit(out, result.event)] += 1
            if not result.complete:
                misses[str(unified.get("toolType"))] += 1
                agent = bytes(record.key or b"").decode("utf-8", "replace")
                key = pending_key(agent, unified["toolEventId"])
                with acting_on(record.topic, record.partition):
                    self.pending[key] = {"event": unified, "since": now, "partition": record.partition}
                self.waiting.setdefault(agent, {})[key] = None
        m = self.topology.metrics
        for tool, n in tools.items():
            m.records_out.labels(COMPONENT, tool).inc(n)
        for tool, n in misses.items():
            m.enrichment_misses.labels(tool).inc(n)
        return records

    async def tick(self, out: Outbox) -> Sequence[Record]:
        pending = self.pending
        now = self.now_ms()
        sweep = now - self.swept_ms >= self.settings.expiry_sweep_seconds * 1000
        if sweep:  # also rebuilds the index from the table (entries recovered after a rebalance)
            self.swept_ms, self.waiting = now, by_agent(pending)
        if not self.waiting:
            return ()
        result = retry_due(self.waiting, pending, self.lookups, self.settings, self.tenant_id, now, sweep)
        for key in result.remove:
            entry = pending.get(key)
            if entry is not None:
                with acting_on(self.unified, entry["partition"]):
                    pending.pop(key, None)
            agent = agent_of(key)
            group = self.waiting.get(agent)
            if group is not None:
                group.pop(key, None)
                if not group:
                    del self.waiting[agent]
        reenriched: Counter[str] = Counter()
        for _, event in result.emit:
            reenriched[self._emit(out, event)] += 1
        for tool, n in reenriched.items():
            self.topology.metrics.reenriched.labels(tool).inc(n)
            self.topology.metrics.records_out.labels(COMPONENT, tool).inc(n)
        return ()

    def revoked(self, partitions: set[Any]) -> None:
        self.swept_ms = 0  # the next tick rebuilds the index from what the table holds now

    def _emit(self, out: Outbox, enriched: dict[str, Any]) -> str:
        event = storage_form(enriched)
        tool = str(event.get("toolType"))
        out.add(
            self.enriched,
            str(event["toolEventId"]).encode(),
            orjson.dumps(event),
            {"tool-type": tool, "tenant-id": str(event.get("tenantId"))},
        )
        return tool


def stages(topology: Topology) -> list[Stage]:
    app, specs = topology.app, topology.specs

    def global_table(name: str, spec: Any) -> Any:
        return app.GlobalTable(name, default=None, key_type=str, partitions=topology.partitions_of(spec))

    machines = global_table("ref-machines", specs.machines)
    organizations = global_table("ref-organizations", specs.organizations)
    connections = global_table("ref-tool-connections", specs.tool_connections)
    kinds: dict[str, reference.Kind] = {
        specs.machines.name: "machines",
        specs.organizations.name: "organizations",
        specs.tool_connections.name: "tool_connections",
    }
    tables = {"machines": machines, "organizations": organizations, "tool_connections": connections}
    lookups = Lookups(connection=connections.get, machine=machines.get, organization=organizations.get)
    return [ReferenceStage(topology, kinds, tables), EnrichStage(topology, lookups)]
