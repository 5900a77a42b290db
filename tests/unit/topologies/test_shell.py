"""The stage shell: outputs delivered before any ack, acks per partition, nothing acked across a
rebalance, a failing batch retried record by record with the bad record dead-lettered."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from types import SimpleNamespace
from typing import Any

import orjson
import pytest
from faust.types import TP

from topologies.metrics import create_metrics
from topologies.outbox import Outbox
from topologies.producer import DeliveryFailed, Message
from topologies.settings import WorkerSettings
from topologies.shell import DeadLetters, Shell, Stage, _Queue

DLQ = "t.dead-letter"


def rec(offset: int, value: bytes = b"ok", partition: int = 0, topic: str = "t.raw") -> Any:
    return SimpleNamespace(topic=topic, partition=partition, offset=offset, key=b"k", value=value, headers=[],
                           timestamp=0)


class Log:
    """One ordered log of sends and acks, to check that acks come after deliveries."""

    def __init__(self) -> None:
        self.events: list[tuple[str, Any]] = []

    def acked(self) -> list[tuple[TP, list[int]]]:
        return [e[1] for e in self.events if e[0] == "ack"]

    def sent(self) -> list[Message]:
        return [m for e in self.events if e[0] == "send" for m in e[1]]


class Sender:
    def __init__(self, log: Log, fail_first: int = 0, gate: asyncio.Event | None = None) -> None:
        self.log, self.fail_first, self.gate = log, fail_first, gate

    async def send(self, messages: Sequence[Message]) -> None:
        if self.gate is not None:
            await self.gate.wait()
        if self.fail_first:
            self.fail_first -= 1
            self.log.events.append(("failed", list(messages)))
            raise DeliveryFailed(list(messages), "broker down")
        self.log.events.append(("send", list(messages)))


class FakeApp:
    """What the shell touches of a Faust app."""

    def __init__(self, log: Log) -> None:
        self.batch_router: Any = None
        self.revoked_receivers: list[Any] = []
        self.on_partitions_revoked = SimpleNamespace(connect=self.revoked_receivers.append)
        self.tasks: list[Any] = []
        self.subscribed: list[tuple[str, ...]] = []
        self.topics = SimpleNamespace(add=lambda topic: self.subscribed.append(topic.topics))
        self.consumer = SimpleNamespace(ack_offsets=lambda tp, offsets: log.events.append(("ack", (tp, list(offsets)))))

    def task(self, fun: Any) -> Any:
        self.tasks.append(fun)
        return fun

    def topic(self, *topics: str, **_: Any) -> Any:
        return SimpleNamespace(topics=topics)


class Echo(Stage):
    """Emits one output per record; raises on the whole batch if any value is b"bad", and on the bad
    record alone when it is handed over by itself."""

    name = "echo"
    topics = ("t.raw",)

    def __init__(self) -> None:
        self.revoked_partitions: list[set[TP]] = []
        self.batches: list[list[int]] = []

    async def handle(self, records: Sequence[Any], out: Outbox) -> Sequence[Any]:
        self.batches.append([r.offset for r in records])
        if any(r.value == b"bad" for r in records):
            raise ValueError("cannot parse")
        for r in records:
            out.add("t.out", r.key, r.value)
        return list(records)

    def revoked(self, partitions: set[TP]) -> None:
        self.revoked_partitions.append(partitions)


def build(sender_kw: dict[str, Any] | None = None, **settings: Any) -> tuple[Shell, Echo, Log, Any]:
    log = Log()
    app = FakeApp(log)
    metrics = create_metrics()
    worker = WorkerSettings(**settings)
    shell = Shell(app, Sender(log, **(sender_kw or {})), metrics, worker, DeadLetters(DLQ, metrics))  # type: ignore[arg-type]
    stage = Echo()
    shell.add(stage)
    return shell, stage, log, metrics


def round_of(shell: Shell, records: list[Any] | None) -> None:
    asyncio.run(shell._by_topic["t.raw"]._round(records))


def test_a_batch_is_delivered_then_acked_in_one_step_per_partition() -> None:
    shell, stage, log, metrics = build()
    round_of(shell, [rec(0), rec(1, partition=1), rec(2)])
    assert [e[0] for e in log.events] == ["send", "ack", "ack"]
    assert [m.topic for m in log.sent()] == ["t.out"] * 3
    assert sorted(log.acked()) == [(TP("t.raw", 0), [0, 2]), (TP("t.raw", 1), [1])]
    assert metrics.records_in.labels("echo", "t.raw")._value.get() == 3


def test_nothing_is_acked_until_failed_deliveries_were_re_sent(monkeypatch: pytest.MonkeyPatch) -> None:
    async def no_sleep(_: float) -> None:
        return None

    monkeypatch.setattr("topologies.outbox.asyncio.sleep", no_sleep)
    shell, _, log, _ = build({"fail_first": 2})
    round_of(shell, [rec(0)])
    assert [e[0] for e in log.events] == ["failed", "failed", "send", "ack"]


def test_a_failing_batch_is_retried_record_by_record_and_only_the_bad_one_is_dead_lettered() -> None:
    shell, stage, log, metrics = build()
    round_of(shell, [rec(0), rec(1, b"bad"), rec(2)])
    assert stage.batches == [[0, 1, 2], [0], [1], [2]]
    sent = log.sent()
    assert [(m.topic, m.value) for m in sent if m.topic == "t.out"] == [("t.out", b"ok"), ("t.out", b"ok")]
    (letter,) = [m for m in sent if m.topic == DLQ]
    body = orjson.loads(letter.value or b"")
    assert body["reason"] == "stage_error" and "cannot parse" in body["detail"]
    assert body["source"] == {"topic": "t.raw", "partition": 0, "offset": 1}
    assert body["original"]["value"] == "bad"
    assert dict(letter.headers)["dlq-reason"] == "stage_error"
    assert log.acked() == [(TP("t.raw", 0), [0, 1, 2])]  # the bad record is acked: the DLQ has it
    assert metrics.dead_letters.labels("echo", "stage_error")._value.get() == 1


def test_a_rebalance_during_delivery_acks_nothing_of_the_batch_in_flight() -> None:
    async def scenario() -> tuple[Shell, Log, Echo]:
        gate = asyncio.Event()
        shell, stage, log, _ = build({"gate": gate})
        runner = shell._by_topic["t.raw"]
        in_flight = asyncio.create_task(runner._round([rec(0)]))
        await asyncio.sleep(0)
        runner.queue.offer([rec(1)])
        await shell._on_revoked(None, {TP("t.raw", 0)})
        gate.set()
        await in_flight
        return shell, log, stage

    shell, log, stage = asyncio.run(scenario())
    assert [e[0] for e in log.events] == ["send"]  # delivered (the new owner may send it again), not acked
    assert stage.revoked_partitions == [{TP("t.raw", 0)}]
    assert not shell._by_topic["t.raw"].queue.items  # queued batches are dropped: Faust re-reads them


def test_the_runner_coalesces_queued_batches_up_to_batch_size() -> None:
    async def scenario() -> tuple[Echo, Log]:
        shell, stage, log, _ = build(batch_size=4)
        runner = shell._by_topic["t.raw"]
        for first in (0, 2, 4):
            assert shell.offer(TP("t.raw", 0), [rec(first), rec(first + 1)], 1)
        task = asyncio.create_task(runner.run())
        while sum(len(offsets) for _, offsets in log.acked()) < 6:
            await asyncio.sleep(0.001)
        task.cancel()
        return stage, log

    stage, log = asyncio.run(scenario())
    assert stage.batches == [[0, 1, 2, 3], [4, 5]]


def test_the_queue_refuses_past_its_bound_and_signals_room_after_a_take() -> None:
    queue = _Queue(max_records=3)
    assert queue.offer([rec(0), rec(1)])
    assert not queue.offer([rec(2), rec(3)])
    assert not queue.drained.is_set()
    assert [r.offset for r in queue.take(10)] == [0, 1]
    assert queue.drained.is_set() and not queue.filled.is_set()
    assert queue.offer([rec(2), rec(3)])


def test_an_oversized_batch_is_taken_when_the_queue_is_empty() -> None:
    queue = _Queue(max_records=2)
    assert queue.offer([rec(i) for i in range(5)])  # a fetch larger than the bound must not deadlock
    assert len(queue.take(1)) == 5


def test_two_stages_cannot_read_one_topic() -> None:
    shell, _, _, _ = build()
    with pytest.raises(ValueError, match="read by stages echo and echo"):
        shell.add(Echo())


def test_the_shell_subscribes_its_topics_and_routes_only_them() -> None:
    shell, _, _, _ = build()
    app: Any = shell.app
    assert app.batch_router is shell and app.subscribed == [("t.raw",)]
    assert shell.handles("t.raw") and not shell.handles("t.table-changelog")


def test_the_next_batch_starts_while_the_previous_one_waits_for_its_delivery_reports() -> None:
    async def scenario() -> tuple[Echo, Log]:
        gate = asyncio.Event()
        shell, stage, log, _ = build({"gate": gate}, batches_in_flight=2)
        runner = shell._by_topic["t.raw"]
        await runner._start([rec(0)])
        await runner._start([SimpleNamespace(**{**vars(rec(1)), "key": b"other"})])
        await asyncio.sleep(0)
        assert stage.batches == [[0], [1]] and log.events == []  # both stepped, neither delivered nor acked
        gate.set()
        await runner._settle(lambda _keys: True)
        return stage, log

    _, log = asyncio.run(scenario())
    assert [e[0] for e in log.events] == ["send", "ack", "send", "ack"]


def test_batches_sharing_a_key_never_overlap_and_the_waiting_one_takes_what_queued_meanwhile() -> None:
    async def scenario() -> Echo:
        gate = asyncio.Event()
        shell, stage, _, _ = build({"gate": gate}, batches_in_flight=2)
        runner = shell._by_topic["t.raw"]
        await runner._start([rec(0)])
        second = asyncio.create_task(runner._start([rec(1)]))  # same key b"k": waits for the first
        await asyncio.sleep(0.01)
        assert stage.batches == [[0]]
        shell.offer(TP("t.raw", 0), [rec(2), rec(3)], 1)
        gate.set()
        await second
        await runner._settle(lambda _keys: True)
        return stage

    assert asyncio.run(scenario()).batches == [[0], [1, 2, 3]]


def test_the_queue_can_take_only_batches_that_fit() -> None:
    queue = _Queue(max_records=100)
    queue.offer([rec(0), rec(1), rec(2)])
    assert queue.take(2, at_least_one=False) == []
    assert len(queue.take(2)) == 3


def test_a_round_that_raises_stops_the_runner_instead_of_stalling_its_partition() -> None:
    async def scenario() -> None:
        shell, _, _, _ = build()
        runner = shell._by_topic["t.raw"]

        async def explode(records: Any) -> None:
            raise RuntimeError("sender gone")

        runner._round = explode  # type: ignore[method-assign]
        shell.offer(TP("t.raw", 0), [rec(0)], 1)
        await asyncio.wait_for(runner.run(), 5)

    with pytest.raises(RuntimeError, match="sender gone"):
        asyncio.run(scenario())


def test_a_round_waits_while_faust_changelog_buffer_is_deeper_than_the_queue_bound() -> None:
    async def scenario() -> tuple[Log, list[int]]:
        shell, _, log, _ = build(queue_records=10)
        buffer = SimpleNamespace(size=50)
        shell.app._producer = SimpleNamespace(buffer=buffer)  # type: ignore[attr-defined]
        seen: list[int] = []

        async def drain() -> None:
            while buffer.size > 0:
                await asyncio.sleep(0.001)
                seen.append(len(log.acked()))
                buffer.size -= 10

        drainer = asyncio.create_task(drain())
        await shell._by_topic["t.raw"]._round([rec(0)])
        await drainer
        return log, seen

    log, seen = asyncio.run(scenario())
    assert seen[:3] == [0, 0, 0]  # no ack while the buffer was deep
    assert log.acked() == [(TP("t.raw", 0), [0])]
