"""The Fleet join as a Faust agent: activities and host_activities (co-partitioned on the activity id)
meet in the `fleet-join` table; the logic is `pipelines.fleet_join`.

An activity waiting for its host row stays un-acked (its offset is not committed) until it is
emitted, so a crash redelivers it instead of losing it. A timer sends a marker to the activity's own
partition when its wait is over; the agent acts on it inside the stream, where the table may change.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

import orjson

from pipelines import fleet_join as join
from pipelines.records import RawRecord
from topologies.faust_compat import acting_on
from topologies.normalize_agent import emit, raw_record

if TYPE_CHECKING:
    from topologies.app import Topology

COMPONENT = "fleet-join"


def register(topology: Topology) -> None:
    specs, settings = topology.specs, topology.settings
    join_settings = settings.fleet_join
    table = topology.app.Table(
        "fleet-join",
        default=None,
        partitions=topology.partitions_of(specs.fleet_activities),
        key_type=str,
    )
    source = topology.source(specs.fleet_activities.name, specs.fleet_host_activities.name, specs.fleet_join_timer.name)
    timer_topic = topology.topic("fleet_join_timer")
    held: dict[str, tuple[Any, float]] = {}  # activity id -> (un-acked event, monotonic arrival)
    marked: set[str] = set()
    w = settings.worker

    def handle(event: Any, outbox: Any, done: list[Any]) -> None:
        topic = event.message.topic
        topology.metrics.records_in.labels(COMPONENT, topic).inc()
        now = int(time.time() * 1000)
        if topic == specs.fleet_join_timer.name:
            done.append(event)
            aid = bytes(event.message.value or b"").decode()
            marked.discard(aid)
            state = table.get(aid)
            if aid in held and state is not None:
                new, out = join.on_wait_over(state)
                table[aid] = new
                if out is not None:
                    emit(topology, outbox, held[aid][0], raw_record(held[aid][0], orjson.dumps(out.value)))
                done.append(held.pop(aid)[0])
            return
        value = _decode(event.message.value)
        if value is None:  # not JSON: let normalization dead-letter or skip it as usual
            emit(topology, outbox, event, raw_record(event))
            done.append(event)
            return
        if topic == specs.fleet_host_activities.name:
            done.append(event)
            link = join.host_link(value)
            if link is None:
                topology.metrics.skipped.labels("host_link_without_ids").inc()
                return
            aid, host = link
            new, out = join.on_host(table.get(aid), host, now)
            new["partition"] = event.message.partition
            table[aid] = new
            if out is not None:
                original = held[aid][0] if aid in held else event
                emit(topology, outbox, original, _as_activity(original, out.value, specs))
            if aid in held:
                done.append(held.pop(aid)[0])
            return
        activity = join.activity_id(value)
        if activity is None or _is_delete(value):
            emit(topology, outbox, event, raw_record(event))
            done.append(event)
            return
        new, out = join.on_activity(table.get(activity), value, now)
        new["partition"] = event.message.partition
        table[activity] = new
        if out is None:
            if activity in held:  # a redelivery or an update while waiting: keep the newest
                done.append(held[activity][0])
            held[activity] = (event, time.monotonic())
            return
        emit(topology, outbox, event, raw_record(event, orjson.dumps(out.value)))
        done.append(event)

    @topology.app.agent(source, name="fleet-join")
    async def fleet_join(stream: Any) -> None:
        manual = stream.noack()
        async for events in manual.noack_take(w.batch_size, within=w.batch_within):
            outbox = topology.outbox()
            done: list[Any] = []
            for event in events:
                with acting_on(event):
                    handle(event, outbox, done)
            await outbox.deliver()
            for event in done:
                await manual.ack(event)

    @topology.app.timer(interval=max(0.1, join_settings.join_wait_seconds / 4))  # type: ignore[untyped-decorator]  # faust decorators are untyped
    async def wait_over() -> None:
        deadline = time.monotonic() - join_settings.join_wait_seconds
        for aid, (event, since) in list(held.items()):
            if since <= deadline and aid not in marked:
                marked.add(aid)
                await timer_topic.send(key=event.message.key, value=aid.encode(), partition=event.message.partition)


def _decode(raw: Any) -> dict[str, Any] | None:
    try:
        value = orjson.loads(raw) if raw is not None else None
    except orjson.JSONDecodeError:
        return None
    return value if isinstance(value, dict) else None


def _is_delete(value: dict[str, Any]) -> bool:
    body = value.get("payload", value) if "schema" in value else value
    return isinstance(body, dict) and body.get("op") == "d"


def _as_activity(event: Any, value: dict[str, Any], specs: Any) -> Any:
    """A host row re-emits the activity: normalize it as a record of the activities topic."""
    record = raw_record(event, orjson.dumps(value))
    if record.topic == specs.fleet_activities.name:
        return record
    return RawRecord(
        topic=specs.fleet_activities.name,
        headers={"message-type": "FLEET_MDM_EVENT"},
        key=record.key,
        value=record.value,
        partition=record.partition,
        offset=record.offset,
    )
