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

    ref_source = topology.source(*kinds)

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

    source = topology.source(specs.unified.name, specs.enrich_retry.name)

    @app.agent(source, name="enrich")
    async def enrich_events(stream: Any) -> None:
        manual = stream.noack()
        async for events in manual.noack_take(w.batch_size, within=w.batch_within):
            outbox = topology.outbox()
            now = int(time.time() * 1000)
            for event in events:
                message = event.message
                if message.topic == specs.enrich_retry.name:
                    marker = orjson.loads(message.value)
                    marked.difference_update(marker.get("retry", []) + marker.get("drop", []))
                    with acting_on(event):
                        _retry(topology, outbox, pending, lookups, marker, tenant_id)
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
                    # One small entry per missed event: a write never re-serializes an agent's backlog.
                    entry_key = f"{bytes(message.key or b'').decode('utf-8', 'replace')}\x00{unified['toolEventId']}"
                    with acting_on(event):
                        pending[entry_key] = {"event": unified, "since": now, "partition": message.partition}
            await outbox.deliver()
            for event in events:
                await manual.ack(event)

    @app.timer(interval=e.retry_interval_seconds)  # type: ignore[untyped-decorator]  # faust decorators are untyped
    async def retry_misses() -> None:
        """Group kept misses by agent; mark the partition of every agent whose row has arrived, or
        whose entries expired or overflow the per-agent cap. Table reads only: writes need the stream."""
        now = int(time.time() * 1000)
        by_agent: dict[str, list[tuple[str, dict[str, Any]]]] = {}
        for entry_key, entry in list(pending.items()):
            if entry is not None and entry_key not in marked:
                by_agent.setdefault(entry_key.split("\x00", 1)[0], []).append((entry_key, entry))
        for entries in by_agent.values():
            entries.sort(key=lambda item: item[1]["since"])
            overflow = max(0, len(entries) - e.max_pending_per_agent)
            drop = [k for i, (k, v) in enumerate(entries) if i < overflow or now - v["since"] > window_ms]
            live = [(k, v) for k, v in entries if k not in set(drop)]
            probe = enrich(live[0][1]["event"], lookups, e, tenant_id) if live else None
            retry = [k for k, _ in live] if isinstance(probe, Enriched) and probe.complete else []
            if not (drop or retry):
                continue
            marked.update(drop + retry)
            marker = orjson.dumps({"retry": retry, "drop": drop})
            await retry_topic.send(key=entries[0][0].encode(), value=marker, partition=entries[0][1]["partition"])


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
    topology: Topology, outbox: Any, pending: Any, lookups: Lookups, marker: dict[str, list[str]], tenant_id: str
) -> None:
    """Re-enrich the marked entries; emit those now complete, drop expired ones."""
    for entry_key in marker.get("drop", []):
        pending.pop(entry_key, None)
    for entry_key in marker.get("retry", []):
        entry = pending.get(entry_key)
        if entry is None:
            continue
        result = enrich(entry["event"], lookups, topology.settings.enrich, tenant_id)
        if isinstance(result, Enriched) and result.complete:
            _emit(topology, outbox, result.event)
            topology.metrics.reenriched.labels(str(result.event.get("toolType"))).inc()
            pending.pop(entry_key, None)
