"""Isolated read stores on the live stack: a topic, a Pinot table (provisioned by the sink's own
`provision`) reading it, and a Cassandra keyspace written by the real `CassandraSink`. Used by the
integration tests and bench/bench_api.py; `drop` removes all three."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import orjson
import requests

from openframe_stream.settings import Settings
from sinks.cassandra.config import CassandraSinkSettings
from sinks.cassandra.sink import CassandraSink
from sinks.pinot.provision import PinotSinkSettings, provision


@dataclass(frozen=True)
class Stores:
    settings: Settings
    tag: str

    @property
    def topic(self) -> str:
        return f"tapi{self.tag}.openframe.enriched.events"

    @property
    def table(self) -> str:
        return f"logs_api_{self.tag}"

    @property
    def keyspace(self) -> str:
        return f"ofs_api_{self.tag}"

    def create(self, flush_rows: int = 100_000) -> None:
        from confluent_kafka.admin import AdminClient, NewTopic  # type: ignore[attr-defined]

        admin = AdminClient({"bootstrap.servers": self.settings.kafka.bootstrap_servers})
        for future in admin.create_topics([NewTopic(self.topic, 1, 1)], operation_timeout=30).values():
            future.result(timeout=60)
        provision(self.settings.pinot.controller_url, PinotSinkSettings(table=self.table, flush_rows=flush_rows),
                  self.topic, self.settings.kafka.bootstrap_servers)

    def produce(self, events: Iterable[dict[str, Any]]) -> int:
        """Enriched events to the topic as the worker writes them: JSON, key toolEventId, details as text."""
        from confluent_kafka import Producer

        producer = Producer({"bootstrap.servers": self.settings.kafka.bootstrap_servers, "linger.ms": 50,
                             "batch.size": 1_000_000, "compression.type": "lz4",
                             "queue.buffering.max.messages": 500_000})
        n = 0
        for event in events:
            wire = dict(event, details=orjson.dumps(event.get("details")).decode())
            while True:
                try:
                    producer.produce(self.topic, key=event["toolEventId"], value=orjson.dumps(wire))
                    break
                except BufferError:
                    producer.poll(0.1)
            n += 1
            if n % 10_000 == 0:
                producer.poll(0)
        assert producer.flush(120) == 0
        return n

    def write_cassandra(self, events: Sequence[dict[str, Any]], batch: int = 500) -> None:
        c = self.settings.cassandra

        async def run() -> None:
            sink = CassandraSink(c.hosts, c.port, self.keyspace, CassandraSinkSettings(concurrency=32))
            await sink.start()
            try:
                for start in range(0, len(events), batch):
                    rejected = await sink.write(events[start : start + batch])
                    assert not rejected, rejected[:3]
            finally:
                await sink.close()

        asyncio.run(run())

    def pinot(self, sql: str) -> list[list[Any]]:
        p = self.settings.pinot
        body = requests.post(f"http://{p.broker_host}:{p.broker_port}/query/sql", json={"sql": sql}, timeout=30).json()
        if body.get("exceptions"):
            return []
        return list(body.get("resultTable", {}).get("rows", []))

    def wait_for_pinot(self, count: int, timeout: float = 180, extra: tuple[str, int] | None = None) -> None:
        """Until the table holds `count` rows, and `extra` (sql, count) holds too: a TEXT_MATCH count, as
        the text index of a consuming segment catches up a little after the rows are queryable."""
        deadline = time.monotonic() + timeout
        last: Any = None
        while time.monotonic() < deadline:
            last = self.pinot(f"SELECT COUNT(*) FROM {self.table}")
            if last == [[count]] and (extra is None or self.pinot(extra[0]) == [[extra[1]]]):
                return
            time.sleep(1)
        raise TimeoutError(f"pinot table {self.table} has {last}, expected {count}")

    def drop(self) -> None:
        """Table, schema, keyspace and topic. The topic goes last and is deleted until it stays gone: the
        broker auto-creates topics, and Pinot's consumer may fetch metadata while the table shuts down."""
        from cassandra.cluster import Cluster
        from confluent_kafka.admin import AdminClient

        controller = self.settings.pinot.controller_url
        try:
            requests.delete(f"{controller}/tables/{self.table}?type=realtime", timeout=60)
            deadline = time.monotonic() + 60
            while self.table in requests.get(f"{controller}/tables", timeout=30).json().get("tables", []):
                if time.monotonic() > deadline:
                    break
                time.sleep(1)
            requests.delete(f"{controller}/schemas/{self.table}", timeout=60)
        finally:
            c = self.settings.cassandra
            cluster = Cluster(list(c.hosts), port=c.port)
            try:
                cluster.connect().execute(f"DROP KEYSPACE IF EXISTS {self.keyspace}", timeout=120)
            finally:
                cluster.shutdown()
                admin = AdminClient({"bootstrap.servers": self.settings.kafka.bootstrap_servers})
                for _ in range(10):
                    for future in admin.delete_topics([self.topic], operation_timeout=30).values():
                        with contextlib.suppress(Exception):  # already gone
                            future.result(timeout=60)
                    time.sleep(3)
                    if self.topic not in admin.list_topics(timeout=15).topics:
                        break


def day(ms: int) -> str:
    return dt.datetime.fromtimestamp(ms / 1000, tz=dt.UTC).strftime("%Y-%m-%d")
