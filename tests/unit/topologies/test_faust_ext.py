"""The Faust overrides: the version pin, and proof that Faust still calls each override.

A real `App` and its consumer are built (no broker is contacted); Faust's own callers are driven
with the fetch faked, so a faust-streaming that stops calling `_drain_messages`, `_getmany` or
`_new_offset` the way 0.15.3 does fails here, not in production.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator, Sequence
from importlib import metadata
from typing import Any

import pytest
from aiokafka.structs import ConsumerRecord
from faust.transport import consumer as faust_consumer
from faust.types import TP

from topologies.faust_ext import PINNED_FAUST, FaustVersionError, check_version
from topologies.faust_ext.consumer import App, Consumer

SRC = TP("t.src", 0)
LOG = TP("t.table-changelog", 0)


def record(tp: TP, offset: int) -> ConsumerRecord:  # type: ignore[type-arg]
    return ConsumerRecord(tp.topic, tp.partition, offset, 0, 0, b"k", b"v", None, 1, 1, [])


class Router:
    """A stage shell stand-in: takes `t.src` batches, refuses the first `refuse` offers."""

    def __init__(self, refuse: int = 0) -> None:
        self.batches: list[tuple[TP, list[int]]] = []
        self.refuse = refuse
        self.waited = 0

    def handles(self, topic: str) -> bool:
        return topic == SRC.topic

    def offer(self, tp: TP, records: Sequence[Any], generation: int) -> bool:
        if self.refuse:
            self.refuse -= 1
            return False
        self.batches.append((tp, [r.offset for r in records]))
        return True

    async def room(self, topic: str) -> None:
        self.waited += 1


@pytest.fixture
def loop() -> Iterator[asyncio.AbstractEventLoop]:
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    yield loop
    loop.close()
    asyncio.set_event_loop(None)


def consumer_with(fetches: list[dict[TP, list[Any]]], router: Router | None) -> tuple[Consumer, Any]:
    """The app's real consumer; each `_wait_next_records` returns the next fetch, then stops."""
    app = App("probe", broker="kafka://localhost:1", web_enabled=False)
    app.batch_router = router
    consumer = app.consumer
    assert isinstance(consumer, Consumer)
    stopped = asyncio.Event()
    fetcher: Any = type("Fetcher", (), {"_stopped": stopped})()
    queue = list(fetches)

    async def wait_next(timeout: float) -> tuple[dict[TP, list[Any]], set[TP] | None]:
        if not queue:
            stopped.set()
            return {}, None
        batch = queue.pop(0)
        return batch, set(batch)

    consumer._wait_next_records = wait_next  # type: ignore[method-assign]
    consumer.highwater = lambda tp: 100  # type: ignore[method-assign]
    consumer.resume_flow()
    return consumer, fetcher


def test_the_installed_faust_is_the_pinned_release() -> None:
    assert metadata.version("faust-streaming") == PINNED_FAUST
    check_version()


def test_another_faust_release_is_refused_at_import() -> None:
    with pytest.raises(FaustVersionError, match="0.15.4 is installed"):
        check_version("0.15.4")


def test_faust_fetcher_runs_the_drain_override(loop: asyncio.AbstractEventLoop) -> None:
    router = Router()
    consumer, _ = consumer_with([{SRC: [record(SRC, 0), record(SRC, 1)]}], router)
    fetcher = faust_consumer.Fetcher(consumer.app)
    stopped = asyncio.Event()
    fetcher._stopped = stopped  # type: ignore[assignment]  # the fake fetch stops this one
    fake_next = consumer._wait_next_records

    async def wait_next(timeout: float) -> Any:
        result = await fake_next(timeout)
        if not result[0]:
            stopped.set()
        return result

    consumer._wait_next_records = wait_next  # type: ignore[method-assign]
    loop.run_until_complete(faust_consumer.Fetcher._fetcher.fun(fetcher))
    assert router.batches == [(SRC, [0, 1])], "Faust's Fetcher no longer reaches the batch path"


def test_router_topics_go_as_whole_batches_and_changelogs_keep_faust_path(loop: asyncio.AbstractEventLoop) -> None:
    router = Router()
    consumer, fetcher = consumer_with(
        [{SRC: [record(SRC, o) for o in (3, 4, 5)], LOG: [record(LOG, 0), record(LOG, 1)]}], router
    )
    seen: list[int] = []

    async def callback(message: Any) -> None:
        seen.append(message.offset)

    consumer.callback = callback
    loop.run_until_complete(consumer._drain_messages(fetcher))
    assert router.batches == [(SRC, [3, 4, 5])]
    assert seen == [0, 1]
    assert consumer._read_offset[SRC] == 5 and consumer._read_offset[LOG] == 1


def test_records_at_or_before_the_read_offset_are_not_handed_over_again(loop: asyncio.AbstractEventLoop) -> None:
    router = Router()
    consumer, fetcher = consumer_with(
        [{SRC: [record(SRC, o) for o in (0, 1)]}, {SRC: [record(SRC, o) for o in (0, 1, 2)]}], router
    )
    loop.run_until_complete(consumer._drain_messages(fetcher))
    assert router.batches == [(SRC, [0, 1]), (SRC, [1, 2])]  # Faust's rule: offset >= read offset


def test_offset_gaps_are_recorded_as_faust_does_for_acked_topics(loop: asyncio.AbstractEventLoop) -> None:
    consumer, fetcher = consumer_with([{SRC: [record(SRC, 2), record(SRC, 7)]}], Router())
    consumer.app.topics.acks_enabled_for = lambda topic: True  # type: ignore[method-assign]
    loop.run_until_complete(consumer._drain_messages(fetcher))
    assert [(i.begin, i.end) for i in consumer._gap[SRC]] == [(3, 8)]


def test_a_full_stage_holds_the_fetch_until_it_has_room(loop: asyncio.AbstractEventLoop) -> None:
    router = Router(refuse=2)
    consumer, fetcher = consumer_with([{SRC: [record(SRC, 0)]}], router)
    loop.run_until_complete(consumer._drain_messages(fetcher))
    assert router.waited == 2 and router.batches == [(SRC, [0])]


def test_without_a_router_faust_own_drain_runs(loop: asyncio.AbstractEventLoop) -> None:
    consumer, fetcher = consumer_with([{SRC: [record(SRC, 0)]}], None)
    seen: list[int] = []

    async def callback(message: Any) -> None:
        seen.append(message.offset)

    consumer.callback = callback
    consumer._get_active_partitions = lambda: {SRC}  # type: ignore[method-assign]
    loop.run_until_complete(consumer._drain_messages(fetcher))
    assert seen == [0]


def test_batch_acks_drive_faust_commit_offset(loop: asyncio.AbstractEventLoop) -> None:
    consumer, _ = consumer_with([], Router())
    consumer.app.topics.acks_enabled_for = lambda topic: True  # type: ignore[method-assign]
    consumer._committed_offset[SRC] = 3
    assert consumer.ack_offsets(SRC, [3, 4, 5, 4, 1]) == 3  # duplicates and committed offsets ignored
    assert consumer._n_acked == 3
    assert consumer._new_offset(SRC) == 6
    assert consumer.ack_offsets(SRC, [7]) == 1
    assert consumer._new_offset(SRC) is None  # 6 is not acked yet: nothing past it commits


def test_acks_of_a_topic_without_acks_are_ignored(loop: asyncio.AbstractEventLoop) -> None:
    consumer, _ = consumer_with([], Router())
    assert consumer.ack_offsets(SRC, [0, 1]) == 0 and not consumer._acked[SRC]


def test_faust_wait_for_records_fetches_through_the_getmany_override(loop: asyncio.AbstractEventLoop) -> None:
    consumer, _ = consumer_with([], Router())
    asked: list[Any] = []

    async def getmany(active_partitions: Any, timeout: float) -> dict[TP, list[Any]]:
        asked.append(active_partitions)
        return {SRC: [record(SRC, 0)]}

    consumer._getmany = getmany  # type: ignore[method-assign]
    consumer._get_active_partitions = lambda: {SRC}  # type: ignore[method-assign]
    records, active = loop.run_until_complete(faust_consumer.Consumer._wait_next_records(consumer, 0.1))
    assert asked == [{SRC}], "Faust no longer fetches through _getmany"
    assert records is not None and [r.offset for r in records[SRC]] == [0] and active == {SRC}
