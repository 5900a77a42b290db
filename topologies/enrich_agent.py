"""Enrichment as Faust agents: reference topics fill global tables; unified events are joined with
them (no network call per event) and go to the enriched topic, keyed by toolEventId.

A miss is emitted at once with the device fields null, counted, and kept in the `enrich-pending`
table (keyed like the unified topic, so co-partitioned with it). A timer checks the kept events
against the tables; when their reference row has arrived, it marks their partition and the agent
re-emits them enriched with the same toolEventId, so every sink corrects itself.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

import orjson

from pipelines import reference
from pipelines.enrich import Enriched, Lookups, enrich, storage_form
from topologies.faust_compat import acting_on

if TYPE_CHECKING:
    from topologies.app import Topology

COMPONENT = "enrich"


def register(topology: Topology) -> None:
    app, specs, settings = topology.app, topology.specs, topology.settings
    machines = app.GlobalTable(
        "ref-machines", default=None, key_type=str, partitions=topology.partitions_of(specs.machines)
    )
    organizations = app.GlobalTable(
        "ref-organizations", default=None, key_type=str, partitions=topology.partitions_of(specs.organizations)
    )
    connections = app.GlobalTable(
        "ref-tool-connections", default=None, key_type=str, partitions=topology.partitions_of(specs.tool_connections)
    )
    pending = app.Table("enrich-pending", default=None, partitions=topology.partitions_of(specs.unified), key_type=str)
    lookups = Lookups(connection=connections.get, machine=machines.get, organization=organizations.get)
    kinds: dict[str, reference.Kind] = {
        specs.machines.name: "machines",
        specs.organizations.name: "organizations",
        specs.tool_connections.name: "tool_connections",
    }
    tables = {"machines": machines, "organizations": organizations, "tool_connections": connections}
    w, e = settings.worker, settings.enrich
    tenant_id = settings.pipeline.tenant_id
    window_ms = e.reenrich_window_minutes * 60_000
    retry_topic = topology.topic("enrich_retry")
    marked: set[str] = set()

    ref_source = app.topic(*kinds, key_type=bytes, value_type=bytes, key_serializer="raw", value_serializer="raw")

    @app.agent(ref_source, name="reference-tables")
    async def load_reference(stream: Any) -> None:
        manual = stream.noack()
        async for events in manual.noack_take(w.batch_size, within=w.batch_within):
            outbox = topology.outbox()
            for event in events:
                message = event.message
                kind = kinds[message.topic]
                topology.metrics.records_in.labels("reference", message.topic).inc()
                try:
                    change = reference.parse(kind, message.key, message.value)
                except reference.ReferenceError as exc:
                    topology.dead_letter(outbox, event, "reference", exc.reason, exc.detail, "reference-tables")
                    continue
                table = tables[kind]
                with acting_on(event):
                    if change.row is None:
                        table.pop(change.key, None)
                    elif kind != "tool_connections" or reference.newer_connection(table.get(change.key), change.row):
                        table[change.key] = change.row
            await outbox.deliver()
            for event in events:
                await manual.ack(event)

    source = app.topic(
        specs.unified.name,
        specs.enrich_retry.name,
        key_type=bytes,
        value_type=bytes,
        key_serializer="raw",
        value_serializer="raw",
    )

    @app.agent(source, name="enrich")
    async def enrich_events(stream: Any) -> None:
        manual = stream.noack()
        async for events in manual.noack_take(w.batch_size, within=w.batch_within):
            outbox = topology.outbox()
            now = int(time.time() * 1000)
            for event in events:
                message = event.message
                key = bytes(message.key or b"").decode("utf-8", "replace")
                if message.topic == specs.enrich_retry.name:
                    marked.discard(key)
                    with acting_on(event):
                        _retry(topology, outbox, pending, lookups, key, now, window_ms, tenant_id)
                    continue
                topology.metrics.records_in.labels(COMPONENT, message.topic).inc()
                try:
                    unified = orjson.loads(message.value)
                except orjson.JSONDecodeError as exc:
                    topology.dead_letter(outbox, event, COMPONENT, "undecodable_event", str(exc), COMPONENT)
                    continue
                result = enrich(unified, lookups, e, tenant_id)
                if not isinstance(result, Enriched):
                    topology.dead_letter(outbox, event, "tenant", result.reason, result.detail, COMPONENT)
                    continue
                _emit(topology, outbox, result.event)
                if not result.complete:
                    topology.metrics.enrichment_misses.labels(str(unified.get("toolType"))).inc()
                    kept = [p for p in (pending.get(key) or []) if now - p["since"] <= window_ms]
                    kept = [p for p in kept if p["event"].get("toolEventId") != unified.get("toolEventId")]
                    kept.append({"event": unified, "since": now, "partition": message.partition})
                    with acting_on(event):
                        pending[key] = kept[-e.max_pending_per_agent :]
            await outbox.deliver()
            for event in events:
                await manual.ack(event)

    @app.timer(interval=e.retry_interval_seconds)  # type: ignore[untyped-decorator]  # faust decorators are untyped
    async def retry_misses() -> None:
        now = int(time.time() * 1000)
        for key, kept in list(pending.items()):
            if not kept or key in marked:
                continue
            due = any(now - p["since"] > window_ms for p in kept) or any(
                isinstance(r := enrich(p["event"], lookups, e, tenant_id), Enriched) and r.complete for p in kept
            )
            if due:
                marked.add(key)
                await retry_topic.send(key=key.encode(), value=b"retry", partition=kept[0]["partition"])


def _emit(topology: Topology, outbox: Any, enriched: dict[str, Any]) -> None:
    event = storage_form(enriched)
    outbox.add(
        topology.topic("enriched"),
        str(event["toolEventId"]).encode(),
        orjson.dumps(event),
        {"tool-type": str(event.get("toolType")), "tenant-id": str(event.get("tenantId"))},
    )
    topology.metrics.records_out.labels(COMPONENT, str(event.get("toolType"))).inc()


def _retry(
    topology: Topology,
    outbox: Any,
    pending: Any,
    lookups: Lookups,
    key: str,
    now: int,
    window_ms: float,
    tenant_id: str,
) -> None:
    kept = []
    for entry in pending.get(key) or []:
        if now - entry["since"] > window_ms:
            continue
        result = enrich(entry["event"], lookups, topology.settings.enrich, tenant_id)
        if isinstance(result, Enriched) and result.complete:
            _emit(topology, outbox, result.event)
            topology.metrics.reenriched.labels(str(result.event.get("toolType"))).inc()
        else:
            kept.append(entry)
    if kept:
        pending[key] = kept
    else:
        pending.pop(key, None)
