"""The outbox: every send of a batch is confirmed before the batch is acked; failed sends are
re-sent with capped backoff until the broker has them, and none is delivered twice."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import pytest

from topologies.outbox import Outbox, headers_of
from topologies.producer import DeliveryFailed, Message


@dataclass
class FlakySender:
    """A producer whose "broker" fails the messages of a key listed in `failures` that many times.

    `delivered` counts confirmed records per key; `records` keeps (topic, key, value, headers)."""

    failures: dict[bytes | None, int] = field(default_factory=dict)
    attempts: Counter[bytes | None] = field(default_factory=Counter)
    delivered: Counter[bytes | None] = field(default_factory=Counter)
    records: list[tuple[str, bytes | None, bytes | None, Any]] = field(default_factory=list)
    calls: int = 0

    async def send(self, messages: Sequence[Message]) -> None:
        self.calls += 1
        failed = []
        for m in messages:
            self.attempts[m.key] += 1
            if self.failures.get(m.key, 0) >= self.attempts[m.key]:
                failed.append(m)
            else:
                self.delivered[m.key] += 1
                self.records.append((m.topic, m.key, m.value, m.headers))
        if failed:
            raise DeliveryFailed(failed, f"no ack for {failed[0].key!r}")


@pytest.fixture
def sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Backoff delays the outbox asked for; nothing really sleeps."""
    delays: list[float] = []

    async def fake_sleep(delay: float) -> None:
        delays.append(delay)

    monkeypatch.setattr("topologies.outbox.asyncio.sleep", fake_sleep)
    return delays


def fill(box: Outbox, n: int) -> list[bytes]:
    keys = [f"k{i}".encode() for i in range(n)]
    for key in keys:
        box.add("t.unified", key, b"value-" + key, {"message-type": "x"})
    return keys


def test_failed_sends_are_retried_until_each_record_is_delivered_exactly_once(sleeps: list[float]) -> None:
    target = FlakySender(failures={b"k1": 3, b"k3": 1})
    box = Outbox(target)
    keys = fill(box, 5)

    assert asyncio.run(box.deliver()) == 5

    assert target.delivered == Counter(dict.fromkeys(keys, 1))
    assert target.attempts == Counter({b"k0": 1, b"k1": 4, b"k2": 1, b"k3": 2, b"k4": 1})
    assert len(sleeps) == 3  # one pause per retry round; k1 needed three
    assert len(box) == 0


def test_backoff_doubles_and_is_capped(sleeps: list[float]) -> None:
    target = FlakySender(failures={b"k0": 7})
    box = Outbox(target, backoff_max=1.0)
    fill(box, 1)
    asyncio.run(box.deliver())
    assert sleeps == pytest.approx([0.1, 0.2, 0.4, 0.8, 1.0, 1.0, 1.0])
    assert target.delivered == Counter({b"k0": 1})


def test_all_succeeding_needs_no_retry(sleeps: list[float]) -> None:
    target = FlakySender()
    box = Outbox(target)
    fill(box, 3)
    assert asyncio.run(box.deliver()) == 3
    assert sleeps == [] and sum(target.attempts.values()) == 3 and target.calls == 1


def test_records_reach_their_own_targets_with_key_value_and_headers(sleeps: list[float]) -> None:
    sender = FlakySender(failures={b"bad": 1})
    box = Outbox(sender)
    box.add("t.unified", b"a", b"1", {"message-type": "fleet.activities", "x": "é"})
    box.add("t.dlq", b"bad", b"2", partition=3)
    box.add("t.unified", None, None, None)
    assert len(box) == 3
    assert asyncio.run(box.deliver()) == 3
    assert sender.records == [
        ("t.unified", b"a", b"1", [("message-type", "fleet.activities"), ("x", "é")]),  # librdkafka encodes
        ("t.unified", None, None, []),
        ("t.dlq", b"bad", b"2", []),  # re-sent alone after its first failure
    ]
    assert len(sleeps) == 1


def test_empty_outbox_delivers_nothing(sleeps: list[float]) -> None:
    sender = FlakySender()
    assert asyncio.run(Outbox(sender).deliver()) == 0
    assert sleeps == [] and sender.calls == 0


def test_an_outbox_can_be_filled_again_after_delivery(sleeps: list[float]) -> None:
    target = FlakySender()
    box = Outbox(target)
    fill(box, 2)

    async def twice() -> tuple[int, int]:
        first = await box.deliver()
        box.add("t.unified", b"again", b"v")
        return first, await box.deliver()

    assert asyncio.run(twice()) == (2, 1)
    assert target.delivered == Counter({b"k0": 1, b"k1": 1, b"again": 1})


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        (
            [("message-type", b"fleet.activities"), ("n", b"\xff\xfe")],
            {"message-type": "fleet.activities", "n": "\ufffd\ufffd"},
        ),
        ({"a": b"1", "b": bytearray(b"2"), "c": 3, "d": None}, {"a": "1", "b": "2", "c": "3"}),
        ([], {}),
        (None, {}),
    ],
)
def test_headers_of(headers: Any, expected: dict[str, str]) -> None:
    assert headers_of(SimpleNamespace(headers=headers)) == expected


def test_headers_of_a_message_without_headers() -> None:
    assert headers_of(object()) == {}
