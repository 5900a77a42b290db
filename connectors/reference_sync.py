"""`openframe-stream reference sync [--once | --every SECONDS]`: MongoDB reference collections ->
the compacted reference topics, in the format Debezium's MongoDB connector writes.

Locally there is no MongoDB change stream (see the README's known limit), so this snapshots the
collections instead. It first reads what the compacted topics already hold (a digest per key), so
a run, even a fresh `--once`, only sends documents that changed, and a tombstone for each key
whose document is gone. Every round is flushed and each delivery checked before it counts.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import click

from connectors.reference_docs import KEYS, Planned, after_of, digest, envelope, latest_by_key, plan
from connectors.settings import ReferenceSyncSettings, reference_settings
from infra.health import wait_until
from openframe_stream.cli import settings_of
from openframe_stream.errors import Transient
from topologies.provision import ensure_topics
from topologies.topics import declare

if TYPE_CHECKING:
    from confluent_kafka import Producer

    from openframe_stream.settings import Settings


@dataclass(frozen=True)
class RoundResult:
    sent: int
    tombstones: int
    unchanged: int
    keyless: int


class ReferenceSync:
    """Holds the digest per key of every reference topic between rounds (`--every`)."""

    def __init__(self, settings: Settings, options: ReferenceSyncSettings | None = None) -> None:
        from confluent_kafka import Producer

        self._settings = settings
        self._options = options or reference_settings(settings)
        topics = declare(settings.topics)
        self._topics = {
            "machines": topics.machines.name,
            "organizations": topics.organizations.name,
            "tool_connections": topics.tool_connections.name,
        }
        ensure_topics(settings.kafka.bootstrap_servers, topics, settings.topics.replication)
        self._producer: Producer = Producer(
            {"bootstrap.servers": settings.kafka.bootstrap_servers, "enable.idempotence": True, "acks": "all"}
        )
        self.known: dict[str, dict[str, str]] = {c: {} for c in self._topics}
        self._loaded = False

    def load_state(self) -> None:
        """Read the compacted topics from the start to their end: the latest digest per key."""
        from confluent_kafka import OFFSET_BEGINNING, Consumer, TopicPartition

        consumer = Consumer(
            {
                "bootstrap.servers": self._settings.kafka.bootstrap_servers,
                "group.id": "openframe-reference-sync-reader",  # never commits: assign(), not subscribe()
                "enable.auto.commit": False,
            }
        )
        try:
            ends: dict[tuple[str, int], int] = {}
            assignment = []
            by_topic = {topic: collection for collection, topic in self._topics.items()}
            metadata = consumer.list_topics(timeout=15)
            for topic in by_topic:
                for partition in metadata.topics[topic].partitions:
                    low, high = _watermarks(consumer, TopicPartition(topic, partition))
                    if high > low:
                        ends[(topic, partition)] = high
                        assignment.append(TopicPartition(topic, partition, OFFSET_BEGINNING))
            consumer.assign(assignment)
            deadline = time.monotonic() + 60
            while ends and time.monotonic() < deadline:
                for message in consumer.consume(1000, 0.5):
                    if message.error():
                        continue
                    known = self.known[by_topic[message.topic() or ""]]
                    key = (message.key() or b"").decode()
                    after = after_of(message.value())
                    if after is None:
                        known.pop(key, None)
                    else:
                        known[key] = digest(after)
                # Done with a partition once its position reaches the end seen at the start.
                positions = consumer.position([TopicPartition(t, p) for t, p in ends])
                for tp in positions:
                    if tp.offset >= ends[(tp.topic, tp.partition)]:
                        ends.pop((tp.topic, tp.partition))
            if ends:
                raise Transient(f"reading the reference topics did not reach their end: {sorted(ends)}")
        finally:
            consumer.close()
        self._loaded = True

    def run_once(self) -> RoundResult:
        import pymongo

        if not self._loaded:
            self.load_state()
        client: pymongo.MongoClient[dict[str, Any]] = pymongo.MongoClient(
            self._settings.mongo.uri, serverSelectionTimeoutMS=5000, tz_aware=True
        )
        try:
            db = client[self._settings.mongo.database]
            rounds = {}
            keyless = 0
            for collection in KEYS:
                docs, skipped = latest_by_key(collection, db[collection].find())
                keyless += skipped
                rounds[collection] = (docs, plan(docs, self.known[collection]))
        finally:
            client.close()
        sent = tombstones = unchanged = 0
        for collection, (docs, planned) in rounds.items():
            self._send(collection, planned)
            for record in planned:
                if record.after is None:
                    tombstones += 1
                    self.known[collection].pop(record.key, None)
                else:
                    sent += 1
                    self.known[collection][record.key] = digest(record.after)
            unchanged += len(docs) - sum(1 for r in planned if r.after is not None)
        return RoundResult(sent, tombstones, unchanged, keyless)

    def _send(self, collection: str, planned: list[Planned]) -> None:
        errors: list[str] = []

        def delivered(error: Any, _message: Any) -> None:
            if error is not None:
                errors.append(str(error))

        ts_ms = int(time.time() * 1000)
        topic = self._topics[collection]
        options = self._options
        for record in planned:
            value = None
            if record.after is not None:
                value = envelope(collection, record.after, ts_ms, options.source_name, self._settings.mongo.database)
            self._producer.produce(topic, key=record.key.encode(), value=value, on_delivery=delivered)
            self._producer.poll(0)
        left = self._producer.flush(options.flush_timeout)
        if left or errors:
            # Nothing is marked as known: the next round sends these again.
            raise Transient(f"{collection}: {left} unconfirmed, errors: {errors[:3]}")


def _watermarks(consumer: Any, partition: Any) -> tuple[int, int]:
    """(low, high) of a partition; a topic created a moment ago may not have its leader yet."""
    from confluent_kafka import KafkaException

    found: list[tuple[int, int]] = []

    def fetched() -> bool:
        try:
            found.append(consumer.get_watermark_offsets(partition, timeout=10))
        except KafkaException:
            return False
        return True

    wait_until(fetched, timeout=30, what=f"leader of {partition.topic}[{partition.partition}]")
    return found[0]


@click.group("reference")
def reference() -> None:
    """OpenFrame reference data (machines, organizations, tool connections) for enrichment."""


@reference.command("sync")
@click.option("--once", is_flag=True, help="One round, then exit (the default).")
@click.option("--every", type=float, default=None, metavar="SECONDS", help="A round every SECONDS until Ctrl-C.")
@click.pass_context
def sync(ctx: click.Context, once: bool, every: float | None) -> None:
    """Snapshot the MongoDB collections into the compacted reference topics (changes only)."""
    if once and every is not None:
        raise click.UsageError("--once and --every exclude each other")
    syncer = ReferenceSync(settings_of(ctx))
    pause = threading.Event()  # the schedule's clock; nothing ever sets it
    try:
        while True:
            result = syncer.run_once()
            keyless = f", {result.keyless} without a key (skipped)" if result.keyless else ""
            click.echo(
                f"reference sync: {result.sent} sent, {result.tombstones} tombstones, "
                f"{result.unchanged} unchanged{keyless}"
            )
            if every is None:
                return
            pause.wait(every)
    except KeyboardInterrupt:
        return
