"""The consumer's fetch: aiokafka gets a frozen copy of the active partitions, and records fetched for
a partition paused meanwhile are un-read (sought back) instead of dropped."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

from faust.types import TP

from topologies.faust_ext.consumer import Consumer, _unread

ACTIVE = TP("t.logs.events", 0)
PAUSED = TP("t.openframe.enriched.events", 2)


def records(*offsets: int) -> list[Any]:
    return [SimpleNamespace(offset=o) for o in offsets]


@dataclass
class FakeKafkaConsumer:
    """aiokafka's consumer as `_unread` sees it: a position per partition, and seek."""

    positions: dict[TP, int | None]
    seeks: list[tuple[TP, int]] = field(default_factory=list)

    @property
    def _subscription(self) -> Any:
        def state_value(tp: TP) -> Any:
            if tp not in self.positions:
                return None
            position = self.positions[tp]
            return SimpleNamespace(has_valid_position=position is not None, position=position)

        return SimpleNamespace(subscription=SimpleNamespace(assignment=SimpleNamespace(state_value=state_value)))

    def seek(self, tp: TP, offset: int) -> None:
        self.seeks.append((tp, offset))
        self.positions[tp] = offset


def test_unread_seeks_back_when_the_position_is_just_past_the_drained_records() -> None:
    kafka = FakeKafkaConsumer({PAUSED: 13})
    assert asyncio.run(_unread(kafka, PAUSED, 10, 13)) is True
    assert kafka.seeks == [(PAUSED, 10)]


def test_unread_leaves_a_partition_alone_that_a_seek_already_moved() -> None:
    kafka = FakeKafkaConsumer({PAUSED: 4})  # Faust sought it to its committed offset meanwhile
    assert asyncio.run(_unread(kafka, PAUSED, 10, 13)) is False
    assert kafka.seeks == []


def test_unread_ignores_a_partition_no_longer_assigned() -> None:
    kafka = FakeKafkaConsumer({})
    assert asyncio.run(_unread(kafka, PAUSED, 10, 13)) is False


class FakeThread:
    """The consumer thread: a fetch during which Faust pauses `PAUSED` (a rebalance starting)."""

    def __init__(self, owner: Any, kafka: FakeKafkaConsumer) -> None:
        self.owner, self.kafka = owner, kafka
        self.asked: Any = None

    async def getmany(self, partitions: Any, timeout: float) -> dict[TP, list[Any]]:
        self.asked = partitions
        self.owner.pause_partitions({PAUSED})  # while aiokafka waits for data
        assert PAUSED in partitions, "the fetch must keep the set it was given"
        return {ACTIVE: records(5, 6), PAUSED: records(10, 11, 12)}

    async def call_thread(self, fun: Any, *args: Any) -> Any:
        return await fun(*args)

    def _ensure_consumer(self) -> FakeKafkaConsumer:
        return self.kafka


def _consumer(kafka: FakeKafkaConsumer) -> Any:
    # Only the state `_getmany` and Faust's pause/resume bookkeeping use; no Kafka connection.
    consumer: Any = Consumer.__new__(Consumer)
    consumer._active_partitions = {ACTIVE, PAUSED}
    consumer._paused_partitions = set()
    consumer._buffered_partitions = set()
    consumer._thread = FakeThread(consumer, kafka)
    return consumer


def test_records_of_a_partition_paused_during_the_fetch_are_unread_not_dropped() -> None:
    kafka = FakeKafkaConsumer({ACTIVE: 7, PAUSED: 13})
    consumer = _consumer(kafka)
    got = asyncio.run(consumer._getmany(consumer._active_partitions, 1.0))
    assert isinstance(consumer._thread.asked, frozenset)
    assert consumer._thread.asked == {ACTIVE, PAUSED}
    assert [r.offset for r in got[ACTIVE]] == [5, 6]
    assert PAUSED not in got
    assert kafka.seeks == [(PAUSED, 10)]  # the next fetch after the resume reads them again


def test_a_fetch_with_every_partition_still_active_is_passed_through() -> None:
    kafka = FakeKafkaConsumer({ACTIVE: 7, PAUSED: 13})
    consumer = _consumer(kafka)
    consumer._thread.owner = SimpleNamespace(pause_partitions=lambda tps: None)  # nothing pauses
    got = asyncio.run(consumer._getmany(consumer._active_partitions, 1.0))
    assert set(got) == {ACTIVE, PAUSED} and kafka.seeks == []
