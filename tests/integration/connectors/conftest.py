"""Helpers for the ingest tests on the live stack: per-run topics, and reading them back."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import orjson
import pytest
from confluent_kafka import Consumer
from confluent_kafka.admin import AdminClient, NewTopic

from infra.health import wait_until
from openframe_stream.settings import Settings
from topologies.topics import TopicSettings


@dataclass(frozen=True)
class Record:
    topic: str
    partition: int
    key: bytes | None
    value: bytes | None
    headers: dict[str, str]

    def json(self) -> Any:
        return None if self.value is None else orjson.loads(self.value)


def create_topics(settings: Settings, names: list[str], partitions: int, config: dict[str, str] | None = None) -> None:
    admin = AdminClient({"bootstrap.servers": settings.kafka.bootstrap_servers})
    futures = admin.create_topics([NewTopic(n, partitions, 1, config=config or {}) for n in names])
    for future in futures.values():
        future.result(timeout=30)


def delete_topics(settings: Settings, prefix: str) -> None:
    """Delete every topic whose name starts with this run's prefix."""
    admin = AdminClient({"bootstrap.servers": settings.kafka.bootstrap_servers})
    names = [t for t in admin.list_topics(timeout=15).topics if t.startswith(prefix)]
    if names:
        for future in admin.delete_topics(names, operation_timeout=30).values():
            future.result(timeout=60)


class TopicReader:
    """Reads topics from the beginning and keeps every record it has seen."""

    def __init__(self, settings: Settings, topics: list[str]) -> None:
        self._consumer = Consumer(
            {
                "bootstrap.servers": settings.kafka.bootstrap_servers,
                "group.id": f"it-{uuid.uuid4().hex[:8]}",
                "auto.offset.reset": "earliest",
                "enable.auto.commit": False,
                # Topics Connect creates lazily are picked up within a second.
                "topic.metadata.refresh.interval.ms": 1000,
            }
        )
        self._consumer.subscribe(topics)
        self.records: list[Record] = []

    def poll(self, seconds: float = 0.5) -> list[Record]:
        fresh = []
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            for message in self._consumer.consume(500, 0.2):
                if message.error():
                    continue
                headers = {k: (v or b"").decode() for k, v in (message.headers() or [])}
                fresh.append(
                    Record(message.topic() or "", message.partition() or 0, message.key(), message.value(), headers)
                )
        self.records.extend(fresh)
        return fresh

    def until(self, done: Callable[[list[Record]], bool], timeout: float, what: str) -> list[Record]:
        def check() -> bool:
            self.poll(0.3)
            return done(self.records)

        wait_until(check, timeout=timeout, what=what, interval=0.05)
        return self.records

    def find_all(self, wanted: dict[str, Callable[[Record], bool]], timeout: float, what: str) -> dict[str, Record]:
        """The first record matching each named predicate; fails naming the ones never seen."""

        def missing() -> list[str]:
            return [name for name, match in wanted.items() if not any(match(r) for r in self.records)]

        try:
            self.until(lambda _: not missing(), timeout, what)
        except TimeoutError:
            seen = [(r.topic, r.key, r.headers.get("message-type"), (r.json() or {}).get("op")) for r in self.records]
            raise AssertionError(f"{what}: never saw {missing()}; saw {seen[-30:]}") from None
        return {name: next(r for r in self.records if match(r)) for name, match in wanted.items()}

    def close(self) -> None:
        self._consumer.close()


@pytest.fixture
def run_prefix(unique: str) -> str:
    return f"it{unique}."


@pytest.fixture
def isolated(live_stack: Settings, run_prefix: str) -> Iterator[Settings]:
    """The live stack's settings with every topic name prefixed for this run; topics deleted after."""
    settings = live_stack.model_copy(update={"topics": TopicSettings(prefix=run_prefix)})
    yield settings
    delete_topics(live_stack, run_prefix)
