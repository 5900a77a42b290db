"""The outbox: every send of a batch is confirmed before the batch is acked; failed sends are
re-sent with capped backoff until the broker has them, and none is delivered twice."""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import pytest

from topologies.outbox import Outbox, headers_of


@dataclass
class FlakyTarget:
    """A topic whose `send` returns a future that the "broker" settles a moment later.

    Sends of a key listed in `failures` fail that many times (future errors, or `send` raising at
    once when `raise_in_send`), then succeed. `delivered` counts confirmed records per key."""

    failures: dict[bytes | None, int] = field(default_factory=dict)
    raise_in_send: bool = False
    attempts: Counter[bytes | None] = field(default_factory=Counter)
    delivered: Counter[bytes | None] = field(default_factory=Counter)
    records: list[tuple[bytes | None, bytes | None, Any]] = field(default_factory=list)

    async def send(self, *, key: Any = None, value: Any = None, headers: Any = None) -> asyncio.Future[Any]:
        self.attempts[key] += 1
        fail = self.failures.get(key, 0) >= self.attempts[key]
        if fail and self.raise_in_send:
            raise ConnectionError(f"send of {key!r} refused")
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()

        def settle() -> None:
            if fail:
                future.set_exception(TimeoutError(f"no ack for {key!r}"))
            else:
                self.delivered[key] += 1
                self.records.append((key, value, headers))
                future.set_result(("metadata", key))

        loop.call_soon(settle)
        return future


@pytest.fixture
def sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Backoff delays the outbox asked for; nothing really sleeps."""
    delays: list[float] = []

    async def fake_sleep(delay: float) -> None:
        delays.append(delay)

    monkeypatch.setattr("topologies.outbox.asyncio.sleep", fake_sleep)
    return delays


def fill(box: Outbox, target: FlakyTarget, n: int) -> list[bytes]:
    keys = [f"k{i}".encode() for i in range(n)]
    for key in keys:
        box.add(target, key, b"value-" + key, {"message-type": "x"})
    return keys


@pytest.mark.parametrize("raise_in_send", [False, True], ids=["future-fails", "send-raises"])
def test_failed_sends_are_retried_until_each_record_is_delivered_exactly_once(
    sleeps: list[float], raise_in_send: bool
) -> None:
    target = FlakyTarget(failures={b"k1": 3, b"k3": 1}, raise_in_send=raise_in_send)
    box = Outbox()
    keys = fill(box, target, 5)

    assert asyncio.run(box.deliver()) == 5

    assert target.delivered == Counter(dict.fromkeys(keys, 1))
    assert target.attempts == Counter({b"k0": 1, b"k1": 4, b"k2": 1, b"k3": 2, b"k4": 1})
    assert len(sleeps) == 3  # one pause per retry round; k1 needed three
    assert len(box) == 0


def test_backoff_doubles_and_is_capped(sleeps: list[float]) -> None:
    target = FlakyTarget(failures={b"k0": 7})
    box = Outbox(backoff_max=1.0)
    fill(box, target, 1)
    asyncio.run(box.deliver())
    assert sleeps == pytest.approx([0.1, 0.2, 0.4, 0.8, 1.0, 1.0, 1.0])
    assert target.delivered == Counter({b"k0": 1})


def test_all_succeeding_needs_no_retry(sleeps: list[float]) -> None:
    target = FlakyTarget()
    box = Outbox()
    fill(box, target, 3)
    assert asyncio.run(box.deliver()) == 3
    assert sleeps == [] and sum(target.attempts.values()) == 3


def test_records_reach_their_own_targets_with_key_value_and_encoded_headers(sleeps: list[float]) -> None:
    unified, dead = FlakyTarget(), FlakyTarget(failures={b"bad": 1})
    box = Outbox()
    box.add(unified, b"a", b"1", {"message-type": "fleet.activities", "x": "é"})
    box.add(dead, b"bad", b"2")
    box.add(unified, None, None, None)
    assert len(box) == 3
    assert asyncio.run(box.deliver()) == 3
    assert unified.records == [
        (b"a", b"1", [("message-type", b"fleet.activities"), ("x", "é".encode())]),
        (None, None, []),
    ]
    assert dead.records == [(b"bad", b"2", [])]
    assert len(sleeps) == 1


def test_empty_outbox_delivers_nothing(sleeps: list[float]) -> None:
    assert asyncio.run(Outbox().deliver()) == 0
    assert sleeps == []


def test_an_outbox_can_be_filled_again_after_delivery(sleeps: list[float]) -> None:
    target = FlakyTarget()
    box = Outbox()
    fill(box, target, 2)

    async def twice() -> tuple[int, int]:
        first = await box.deliver()
        box.add(target, b"again", b"v")
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
