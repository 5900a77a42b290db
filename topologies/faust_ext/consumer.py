"""Faust's aiokafka consumer: the records it used to fetch and throw away, and the batch path.

## Records fetched for paused partitions

faust-streaming 0.15.3 hands aiokafka its live set of active partitions for a fetch that may wait a
second. When Faust pauses partitions in the meantime (a rebalance, the end of table recovery) the set
can even become empty, which aiokafka reads as "every partition". The fetch then drains records of
paused partitions, aiokafka moves their positions past them, and Faust drops them because those
partitions are not active. Nothing reads them again: they are not processed and their partition
never commits past them. Restarts hit it in 2 of 6 kill -9 runs and in 5 of 16 restarts with a
static instance id; with this consumer, in none of 6 and 8.

Here each fetch gets a frozen copy of the set, and records that come back for a partition no longer
active are un-read: the partition is sought back to the first of them, unless a seek has moved it
since (then that seek, Faust's own to the committed offset, decides).

## The batch path
Faust hands every fetched record to its Conductor one by one: an Event, a Stream, four Tasks and an
`asyncio.wait` per record, about 230 µs before any of our work. For the topics the stage shell owns
(`App.batch_router`), `_drain_messages` here passes each partition's fetched records on as one list,
after the same read-offset and gap bookkeeping Faust does per record, and `ack_offsets` acks a
batch in one step under Faust's ack lock. Everything else (table changelogs, recovery) keeps Faust's
own per-record path, and Faust keeps membership, assignment, offsets, gaps and commits.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Protocol, cast

import faust
from faust.transport import consumer as faust_consumer
from faust.transport.drivers import aiokafka as faust_aiokafka
from faust.types import TP
from faust.types.tuples import ack_lock
from mode.utils.futures import notify

RecordMap = Mapping[TP, list[Any]]

log = logging.getLogger(__name__)


async def _unread(consumer: Any, tp: Any, first: int, drained_to: int) -> bool:
    """Seek `tp` back to `first` if its position is still just past the drained records.

    Runs on the consumer's own thread, so the check and the seek see the same state."""
    subscription = consumer._subscription.subscription
    state = subscription.assignment.state_value(tp) if subscription is not None else None
    if state is None or not state.has_valid_position or state.position != drained_to:
        return False
    consumer.seek(tp, first)
    return True


class BatchRouter(Protocol):
    """Where the batch path hands fetched records (the stage shell)."""

    def handles(self, topic: str) -> bool: ...

    def offer(self, tp: TP, records: Sequence[Any], generation: int) -> bool:
        """Queue the records if there is room; False when the stage is full (then `room` waits)."""
        ...

    async def room(self, topic: str) -> None: ...


class Consumer(faust_aiokafka.Consumer):
    async def _getmany(self, active_partitions: set[TP] | None, timeout: float) -> RecordMap:
        if active_partitions is None:  # a client-only app reads every partition
            return await super()._getmany(active_partitions, timeout)
        # aiokafka only tests membership, so a frozen copy serves where Faust's type says set.
        records = await super()._getmany(cast(set[TP], frozenset(active_partitions)), timeout)
        stale = [tp for tp, batch in records.items() if batch and not self._wanted(tp)]
        for tp in stale:
            batch = records[tp]
            thread = self._thread
            moved = await thread.call_thread(
                _unread, thread._ensure_consumer(), tp, batch[0].offset, batch[-1].offset + 1
            )
            log.info("fetched %d records of paused %s[%d]; %s", len(batch), tp.topic, tp.partition,
                     "sought back to re-read them" if moved else "a seek already moved it")
        return {tp: batch for tp, batch in records.items() if tp not in stale} if stale else records

    def _wanted(self, tp: TP) -> bool:
        # The same test Faust applies to the records it is given.
        return tp in self._get_active_partitions() or tp in self._buffered_partitions


    async def _drain_messages(self, fetcher: Any) -> None:
        router: BatchRouter | None = getattr(self.app, "batch_router", None)
        if router is None:
            return await super()._drain_messages(fetcher)
        await self._drain_batches(fetcher, router)

    async def _drain_batches(self, fetcher: Any, router: BatchRouter) -> None:
        """Faust's `_drain_messages` loop, with whole per-partition batches for the router's topics."""
        consumer_stopped = self._stopped.is_set
        fetcher_stopped = fetcher._stopped.is_set
        try:
            while not (consumer_stopped() or fetcher_stopped()):
                self.diag.set_flag(faust_consumer.CONSUMER_FETCHING)
                await self.sleep(0)
                if self.should_stop:
                    break
                records, active = await self._wait_next_records(1.0)
                generation = self.app.consumer_generation_id
                if not records or self.should_stop:
                    continue
                if not self.flow_active:  # as getmany: positions may be stale, go back to committed
                    await self._seek_after_stopped_flow()
                    continue
                for tp, batch in records.items():
                    if not self.flow_active or self.app.consumer_generation_id != generation:
                        break
                    if not batch or not (active is None or tp in active or tp in self._buffered_partitions):
                        continue
                    if router.handles(tp.topic):
                        fresh = await self._read(tp, batch)
                        if fresh:
                            self.app.monitor.track_tp_end_offset(tp, self.highwater(tp))
                            await self._hand_over(router, tp, fresh, generation)
                    else:
                        await self._one_by_one(tp, batch)
                # No inline commit here (Faust commits after every `broker_commit_every` acks): a commit
                # waits for the changelog producer's flush, seconds at load, and the fetch of every stage
                # would wait with it. Faust's commit timer commits every `broker_commit_interval`.
                self._n_acked = 0
                self.diag.unset_flag(faust_consumer.CONSUMER_FETCHING)
        except self.consumer_stopped_errors:
            if self.transport.app.should_stop:
                return
            raise
        except asyncio.CancelledError:
            if self.transport.app.should_stop:
                return
            raise
        finally:
            self.diag.unset_flag(faust_consumer.CONSUMER_FETCHING)

    async def _seek_after_stopped_flow(self) -> None:
        try:
            await self.perform_seek()
        except Exception as exc:  # noqa: BLE001 - as Faust: the next rebalance seeks again
            log.warning("seek while flow is stopped failed: %r", exc)

    async def _read(self, tp: TP, batch: Sequence[Any]) -> list[Any]:
        """The records past the read offset, with Faust's gap bookkeeping (per record, same rules)."""
        read = self._read_offset[tp]
        acks_enabled = self.app.topics.acks_enabled_for(tp.topic)
        fresh: list[Any] = []
        for record in batch:
            offset = record.offset
            if read is None or offset >= read:
                if read and offset - read > 1 and acks_enabled:
                    await self._add_gap(tp, read + 1, offset)
                fresh.append(record)
                read = offset
        self._read_offset[tp] = read
        return fresh

    async def _hand_over(self, router: BatchRouter, tp: TP, records: list[Any], generation: int) -> None:
        while not router.offer(tp, records, generation):
            # A full stage holds the fetch (backpressure); a rebalance must not wait behind it.
            await self.wait_first(router.room(tp.topic), self.suspend_flow.wait())
            if self.suspend_flow.is_set() or self.should_stop:
                return  # dropped: the seek to committed offsets after the rebalance reads them again

    async def _one_by_one(self, tp: TP, batch: Sequence[Any]) -> None:
        """Faust's own per-record path (table changelogs, recovery)."""
        callback = self.callback
        for record in batch:
            read = self._read_offset[tp]
            offset = record.offset
            if read is None or offset >= read:
                if read and offset - read > 1 and self.app.topics.acks_enabled_for(tp.topic):
                    await self._add_gap(tp, read + 1, offset)
                await self.wait_first(callback(self._to_message(tp, record)), self.suspend_flow.wait())
                self._read_offset[tp] = offset

    def ack_offsets(self, tp: TP, offsets: Iterable[int]) -> int:
        """Ack many offsets of one partition at once: Faust's `ack` without a Message per record."""
        if not self.app.topics.acks_enabled_for(tp.topic):
            return 0
        added = 0
        with ack_lock:
            committed = self._committed_offset[tp]
            index, acked = self._acked_index[tp], self._acked[tp]
            for offset in offsets:
                if (committed is None or offset >= committed) and offset not in index:
                    index.add(offset)
                    acked.append(offset)
                    added += 1
            self._n_acked += added
            notify(self._waiting_for_ack)
        return added


class Transport(faust_aiokafka.Transport):
    Consumer = Consumer


class App(faust.App):
    """faust.App whose consumer transport is the one above (the producer's is Faust's own).

    `batch_router`, when set before the worker starts, receives the batch path's records."""

    batch_router: BatchRouter | None = None

    def _new_transport(self) -> Any:
        return Transport(self.conf.broker_consumer, self)
