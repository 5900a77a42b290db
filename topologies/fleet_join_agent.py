"""The Fleet join stage: activities and host_activities (co-partitioned on the activity id) meet in
the `fleet-join` table. The decisions are `pipelines.fleet_join.join_batch` and `join_due`; this
module reads and writes the table, keeps the held activities, and normalizes what they emit.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import orjson

from pipelines import fleet_join as join
from pipelines.records import RawRecord
from topologies.faust_ext.tables import acting_on
from topologies.normalize_agent import Normalizer, raw_record
from topologies.outbox import Outbox
from topologies.shell import Record, Stage

if TYPE_CHECKING:
    from faust.types import TP

    from topologies.app import Topology

COMPONENT = "fleet-join"


class FleetJoinStage(Stage):
    name = COMPONENT

    def __init__(self, topology: Topology, now_ms: Callable[[], int] | None = None) -> None:
        specs = topology.specs
        self.activities, self.hosts = specs.fleet_activities.name, specs.fleet_host_activities.name
        self.topics = (self.activities, self.hosts)
        self.settings = topology.settings.fleet_join
        self.tick_seconds = max(0.05, self.settings.join_wait_seconds / 4)
        self.table = topology.app.Table(
            "fleet-join", default=None, partitions=topology.partitions_of(specs.fleet_activities), key_type=str
        )
        self.normalizer = Normalizer(topology)
        self.metrics = topology.metrics
        self.held: dict[str, join.Held[Record]] = {}
        self.swept_ms = 0  # the last sweep of expired join state
        self.now_ms = now_ms or (lambda: int(time.time() * 1000))

    async def handle(self, records: Sequence[Record], out: Outbox) -> Sequence[Record]:
        items = [
            join.Incoming("host" if r.topic == self.hosts else "activity", r, r.partition, _decode(r.value))
            for r in records
        ]
        result = join.join_batch(items, self.table.get, self.held, self.now_ms())
        return self._apply(result, out)

    async def tick(self, out: Outbox) -> Sequence[Record]:
        now = self.now_ms()
        if now - self.swept_ms >= self.settings.expiry_sweep_seconds * 1000:
            self.swept_ms = now
            for aid in join.join_expired(list(self.table.items()), self.held, now, self.settings):
                state = self.table.get(aid)
                with acting_on(self.activities, state["partition"] if state else 0):
                    self.table.pop(aid, None)
        if not self.held:
            return ()
        return self._apply(join.join_due(self.table.get, self.held, now, self.settings), out)

    def _apply(self, result: join.JoinResult[Record], out: Outbox) -> list[Record]:
        for aid, state in result.store.items():
            with acting_on(self.activities, state["partition"]):
                self.table[aid] = state
        tools: Counter[str] = Counter()
        skipped: Counter[str] = Counter({"host_link_without_ids": result.skipped} if result.skipped else {})
        for record in result.passthrough:
            self.normalizer.emit(out, record, raw_record(record), tools, skipped)
        for record, value in result.emit:
            self.normalizer.emit(out, record, self._as_activity(record, value), tools, skipped)
        self.normalizer.count(tools, skipped)
        self.held = result.held
        return result.ack

    def _as_activity(self, record: Record, value: dict[str, Any]) -> RawRecord:
        """The activity to normalize; a host row that completes a join stands in for its activity."""
        raw = raw_record(record, orjson.dumps(value))
        if record.topic == self.activities:
            return raw
        return RawRecord(self.activities, {"message-type": "FLEET_MDM_EVENT"}, raw.key, raw.value,
                         raw.partition, raw.offset)

    def revoked(self, partitions: set[TP]) -> None:
        gone = {tp.partition for tp in partitions if tp.topic in self.topics}
        self.held = {aid: h for aid, h in self.held.items() if h.partition not in gone}


def _decode(raw: Any) -> dict[str, Any] | None:
    try:
        value = orjson.loads(raw) if raw is not None else None
    except orjson.JSONDecodeError:
        return None
    return value if isinstance(value, dict) else None


def stages(topology: Topology) -> list[Stage]:
    return [FleetJoinStage(topology)]
