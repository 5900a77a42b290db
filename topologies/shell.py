"""The one stage shell every stage runs in.

Faust keeps what it is good at: group membership, assignment, offsets and gaps, commits, rebalances,
tables and their recovery, the web server. The shell takes over the per-record path: the consumer's
batch path (`faust_ext.consumer`) hands it each partition's fetched records as one list, and for
every stage one task

1. takes everything queued for it (whole fetched batches, up to `batch_size` records),
2. calls the stage's step, which queues its outputs and dead letters in an `Outbox`,
3. hands the outputs to the process's librdkafka producer and waits for every delivery report,
4. and only then acks the records the step released, in one step per partition.

A stage whose step raises on a batch has the batch retried record by record, and a record that
still raises goes to the dead-letter topic: one bad record never stops a partition. On a rebalance
the queued batches are dropped unacked (Faust seeks back to the committed offsets and reads them
again), each stage drops its in-process state for the revoked partitions, and a batch still in
flight delivers its outputs but acks nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from abc import ABC, abstractmethod
from collections import Counter, defaultdict, deque
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

import orjson
from faust.types import TP

from pipelines import deadletter
from topologies.outbox import Outbox, headers_of

if TYPE_CHECKING:
    from topologies.faust_ext.consumer import App, Consumer
    from topologies.metrics import Metrics
    from topologies.producer import Sender
    from topologies.settings import WorkerSettings

log = logging.getLogger(__name__)

Record = Any  # an aiokafka ConsumerRecord: topic, partition, offset, timestamp, key, value, headers


class Stage(ABC):
    """One step of the topology: the records of its topics in, outputs out, which records to ack."""

    name: str
    topics: tuple[str, ...]
    tick_seconds: float | None = None  # how often `tick` runs, if the stage has timed work

    @abstractmethod
    async def handle(self, records: Sequence[Record], out: Outbox) -> Sequence[Record]:
        """Process one batch; queue outputs in `out`; return the records that may be acked once delivered."""

    async def tick(self, out: Outbox) -> Sequence[Record]:
        """Timed work (expiry, retries), in the stage's own task between batches."""
        return ()

    def revoked(self, partitions: set[TP]) -> None:  # noqa: B027 - optional hook
        """Drop in-process state of partitions this worker no longer owns."""


@dataclass(frozen=True, slots=True)
class DeadLetters:
    """Dead letters: the original record, why it failed, counted per stage and reason."""

    topic: str
    metrics: Metrics

    def add(self, out: Outbox, record: Record, stage: str, reason: str, detail: str, component: str) -> None:
        value = deadletter.build(
            stage=stage,
            reason=reason,
            detail=detail,
            topic=record.topic,
            partition=record.partition,
            offset=record.offset,
            key=record.key,
            value=record.value,
            headers=headers_of(record),
            failed_at_ms=int(time.time() * 1000),
            component=component,
        )
        out.add(self.topic, record.key, value, {"dlq-stage": stage, "dlq-reason": reason})
        self.metrics.dead_letters.labels(stage, reason).inc()

    def decoded(self, out: Outbox, records: Sequence[Record], stage: str, component: str) -> list[tuple[Record, Any]]:
        """(record, JSON value) of each record; one that is not JSON is dead-lettered as `undecodable_event`."""
        values: list[tuple[Record, Any]] = []
        for record in records:
            try:
                values.append((record, orjson.loads(record.value)))
            except orjson.JSONDecodeError as exc:
                self.add(out, record, stage, "undecodable_event", str(exc), component)
        return values


class _Queue:
    """Fetched batches waiting for one stage; bounded in records (the fetch waits when it is full)."""

    def __init__(self, max_records: int) -> None:
        self.max_records = max_records
        self.items: deque[list[Record]] = deque()
        self.records = 0
        self.filled = asyncio.Event()
        self.drained = asyncio.Event()
        self.drained.set()

    def offer(self, records: list[Record]) -> bool:
        if self.items and self.records + len(records) > self.max_records:
            self.drained.clear()
            return False
        self.items.append(records)
        self.records += len(records)
        self.filled.set()
        return True

    def take(self, limit: int, at_least_one: bool = True) -> list[Record]:
        """Whole fetched batches up to `limit` records (and the first one even if larger, unless told not)."""
        taken: list[Record] = []
        while self.items and ((at_least_one and not taken) or len(taken) + len(self.items[0]) <= limit):
            taken.extend(self.items.popleft())
        self.records -= len(taken)
        if not self.items:
            self.filled.clear()
        self.drained.set()
        return taken

    def clear(self) -> None:
        self.items.clear()
        self.records = 0
        self.filled.clear()
        self.drained.set()


class _Runner:
    def __init__(self, shell: Shell, stage: Stage) -> None:
        self.shell, self.stage = shell, stage
        self.queue = _Queue(shell.settings.queue_records)
        self.in_flight: dict[asyncio.Task[None], frozenset[Any]] = {}  # round -> its record keys
        self.failure: BaseException | None = None  # a round that raised: the runner raises it too

    async def run(self) -> None:
        stage, queue, settings = self.stage, self.queue, self.shell.settings
        next_tick = time.monotonic() + stage.tick_seconds if stage.tick_seconds else None
        try:
            while True:
                if self.failure is not None:
                    raise self.failure  # as an unhandled error in a Faust agent: the worker stops, nothing acked
                if not queue.items:
                    wait = None if next_tick is None else max(0.0, next_tick - time.monotonic())
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(queue.filled.wait(), wait)
                if next_tick is not None and time.monotonic() >= next_tick:
                    await self._settle(lambda _keys: True)  # timed work sees every earlier batch done
                    await self._round(None)
                    next_tick = time.monotonic() + (stage.tick_seconds or 0)
                if queue.items:
                    # Take only once a round may start: records queue up meanwhile and batches stay large.
                    await self._settle(lambda _keys: len(self.in_flight) >= settings.batches_in_flight)
                    if settings.batch_within > 0 and queue.records < settings.batch_size:
                        await asyncio.sleep(settings.batch_within)  # a short window fills the batch at low rates
                    records = queue.take(settings.batch_size)
                    if records:
                        await self._start(records)
        finally:
            for task in self.in_flight:
                task.cancel()

    async def _start(self, records: list[Record]) -> None:
        """Start a round once none of the open ones shares a key with it.

        A round's step runs before its first await, so steps keep their order; overlapping only
        the waits for delivery reports (or Cassandra) is what lets the next batch start early. While
        a shared key holds the round back, it takes in what queues meanwhile (up to `batch_size`)."""
        keys = {record.key for record in records if record.key is not None}
        size = self.shell.settings.batch_size
        while self.in_flight and not keys.isdisjoint(frozenset().union(*self.in_flight.values())):
            await asyncio.wait(list(self.in_flight), return_when=asyncio.FIRST_COMPLETED)
            more = self.queue.take(size - len(records), at_least_one=False)
            records.extend(more)
            keys.update(record.key for record in more if record.key is not None)
        task = asyncio.get_running_loop().create_task(self._round(records))
        self.in_flight[task] = frozenset(keys)
        task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Task[None]) -> None:
        self.in_flight.pop(task, None)
        if not task.cancelled() and task.exception() is not None:
            self.failure = task.exception()
            self.queue.filled.set()  # wake the runner to raise it

    async def _settle(self, blocked: Any) -> None:
        """Wait while `blocked(keys of the open rounds)` holds."""
        while self.in_flight and blocked(frozenset().union(*self.in_flight.values())):
            await asyncio.wait(list(self.in_flight), return_when=asyncio.FIRST_COMPLETED)

    async def _round(self, records: list[Record] | None) -> None:
        """One batch (or a tick when `records` is None): step, deliver, then ack."""
        shell, stage = self.shell, self.stage
        epoch = shell.epoch
        out = shell.outbox()
        try:
            acks = await (stage.tick(out) if records is None else stage.handle(records, out))
        except Exception:
            if records is None:
                log.exception("stage %s: timed work failed; it runs again at the next tick", stage.name)
                return
            log.exception("stage %s: a batch of %d failed; retrying it record by record", stage.name, len(records))
            out = shell.outbox()
            acks = await self._one_by_one(records, out)
        if records:
            shell.count_in(stage.name, records)  # taken in by the step (acked below, once delivered)
        await out.deliver()
        await shell.changelog_room()
        if epoch == shell.epoch:  # a rebalance since: the new owner reads these records again
            shell.ack(acks)

    async def _one_by_one(self, records: Sequence[Record], out: Outbox) -> list[Record]:
        acks: list[Record] = []
        for record in records:
            try:
                acks.extend(await self.stage.handle([record], out))
            except Exception as exc:  # noqa: BLE001 - a record the step cannot take: dead-letter it, go on
                log.exception("stage %s: record %s[%d]@%d failed", self.stage.name, record.topic, record.partition,
                              record.offset)
                self.shell.dead_letters.add(out, record, self.stage.name, "stage_error",
                                            f"{type(exc).__name__}: {exc}", self.stage.name)
                acks.append(record)
        return acks


class Shell:
    """The stages of one worker process, fed by the consumer's batch path (a `BatchRouter`)."""

    def __init__(self, app: App, sender: Sender, metrics: Metrics, settings: WorkerSettings,
                 dead_letters: DeadLetters) -> None:
        self.app, self.sender, self.metrics, self.settings = app, sender, metrics, settings
        self.dead_letters = dead_letters
        self.epoch = 0  # bumped on every revocation: acks of older batches are dropped
        self._by_topic: dict[str, _Runner] = {}
        self._runners: list[_Runner] = []
        self._in = metrics.records_in
        app.batch_router = self
        app.on_partitions_revoked.connect(self._on_revoked)  # type: ignore[arg-type]  # mode types async receivers narrowly

        @app.task  # type: ignore[untyped-decorator]  # faust decorators are untyped
        async def run_stages() -> None:
            await asyncio.gather(*(runner.run() for runner in self._runners))

    def add(self, stage: Stage) -> None:
        runner = _Runner(self, stage)
        for topic in stage.topics:
            if topic in self._by_topic:
                raise ValueError(f"topic {topic} is read by stages {self._by_topic[topic].stage.name} and {stage.name}")
            self._by_topic[topic] = runner
        self._runners.append(runner)
        source = self.app.topic(*stage.topics, key_type=bytes, value_type=bytes, key_serializer="raw",
                                value_serializer="raw")
        self.app.topics.add(source)  # the Conductor subscribes to it; no Faust agent reads it

    @property
    def stages(self) -> list[Stage]:
        return [runner.stage for runner in self._runners]

    def outbox(self) -> Outbox:
        return Outbox(self.sender, backoff_max=self.settings.retry_backoff_max)

    # ---- BatchRouter: called by the consumer's batch path

    def handles(self, topic: str) -> bool:
        return topic in self._by_topic

    def offer(self, tp: TP, records: Sequence[Record], generation: int) -> bool:
        return self._by_topic[tp.topic].queue.offer(list(records))

    async def room(self, topic: str) -> None:
        await self._by_topic[topic].queue.drained.wait()

    async def changelog_room(self) -> None:
        """Hold the stage while Faust's changelog buffer is deeper than `queue_records`.

        Table writes queue their changelog records in Faust's producer buffer, which one task sends
        one by one; Faust's own per-event path waits for it to ebb, and the shell must too, or the
        buffer (and the next commit, which flushes it) grows without bound at load."""
        producer = getattr(self.app, "_producer", None)  # only once Faust made it: never create it here
        buffer = getattr(producer, "buffer", None)
        while buffer is not None and buffer.size > self.settings.queue_records:
            await asyncio.sleep(0.005)

    # ---- acks and counts, once per batch

    def ack(self, records: Sequence[Record]) -> None:
        if not records:
            return
        offsets: defaultdict[TP, list[int]] = defaultdict(list)
        for record in records:
            offsets[TP(record.topic, record.partition)].append(record.offset)
        consumer = cast("Consumer", self.app.consumer)
        for tp, values in offsets.items():
            consumer.ack_offsets(tp, values)

    def count_in(self, stage: str, records: Sequence[Record]) -> None:
        for topic, n in Counter(record.topic for record in records).items():
            self._in.labels(stage, topic).inc(n)

    async def _on_revoked(self, sender: Any, *args: Any, signal: Any = None, **kwargs: Any) -> None:
        revoked: set[TP] = args[0] if args else kwargs["revoked"]
        self.epoch += 1
        for runner in self._runners:
            runner.queue.clear()
            runner.stage.revoked(set(revoked))
