"""The shared sink contract's helper: the last version of each event in a batch wins."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import FrozenInstanceError
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sinks.base import Capabilities, Event, Rejected, Sink, last_per_id


def ev(event_id: Any, version: int = 0) -> dict[str, Any]:
    return {"toolEventId": event_id, "v": version}


def test_distinct_events_are_all_kept_in_order() -> None:
    batch = [ev("a"), ev("b"), ev("c")]
    assert last_per_id(batch) == [(0, batch[0]), (1, batch[1]), (2, batch[2])]


def test_the_last_version_of_each_event_wins_and_keeps_its_position() -> None:
    batch = [ev("a", 1), ev("b", 1), ev("a", 2), ev("c", 1), ev("b", 2), ev("a", 3)]
    assert last_per_id(batch) == [(3, batch[3]), (4, batch[4]), (5, batch[5])]


def test_empty_batch() -> None:
    assert last_per_id([]) == []


def test_ids_compare_as_text() -> None:
    batch = [ev(7, 1), ev("7", 2)]
    assert last_per_id(batch) == [(1, batch[1])]


def test_rejected_and_capabilities_are_frozen_values() -> None:
    reject = Rejected(2, "missing_key_field", "tenantId is required")
    with pytest.raises(FrozenInstanceError):
        reject.index = 3  # type: ignore[misc]
    assert Capabilities(upsert=True, max_batch=10) == Capabilities(upsert=True, max_batch=10)


def test_a_sink_must_implement_write_and_gets_no_op_hooks() -> None:
    class Incomplete(Sink):  # no write
        name = "incomplete"

    with pytest.raises(TypeError):
        Incomplete()  # type: ignore[abstract]

    class Minimal(Sink):
        name = "minimal"
        capabilities = Capabilities(upsert=False, max_batch=1)

        async def write(self, events: Sequence[Event]) -> list[Rejected]:
            return [Rejected(i, "nope", "") for i in range(len(events))]

    sink = Minimal()

    async def use() -> list[Rejected]:
        await sink.start()
        out = await sink.write([ev("a")])
        await sink.close()
        return out

    assert asyncio.run(use()) == [Rejected(0, "nope", "")]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(["a", "b", "c", "d"]), max_size=30))
def test_property_one_entry_per_id_the_last_one_in_batch_order(ids: list[str]) -> None:
    batch = [ev(event_id, i) for i, event_id in enumerate(ids)]
    kept = last_per_id(batch)
    kept_ids = [e["toolEventId"] for _, e in kept]
    assert sorted(kept_ids) == sorted(set(ids))
    assert [i for i, _ in kept] == sorted(i for i, _ in kept)
    for index, event in kept:
        assert batch[index] is event
        assert index == max(i for i, x in enumerate(ids) if x == event["toolEventId"])
