"""The bridge's delivery contract, with fakes for NATS and Kafka: a message is acked only once
Kafka confirmed its record (or its dead letter); anything else is nak'ed for redelivery."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import orjson

from connectors.bridge_metrics import BridgeMetrics
from connectors.nats_bridge import Bridge
from connectors.settings import BridgeSettings
from openframe_stream.settings import Settings


@dataclass
class FakeMsg:
    subject: str
    data: bytes
    seq: int
    acked: bool = False
    naked: bool = False

    @property
    def metadata(self) -> Any:
        return SimpleNamespace(sequence=SimpleNamespace(stream=self.seq))

    async def ack(self) -> None:
        self.acked = True

    async def nak(self, delay: float | None = None) -> None:
        self.naked = True


@dataclass
class FakeProducer:
    """Reports delivery only on flush(), like librdkafka; `fail` lists values it will not deliver."""

    fail: set[bytes] = field(default_factory=set)
    unconfirmed: set[bytes] = field(default_factory=set)
    queued: list[tuple[str, bytes | None, bytes, Any]] = field(default_factory=list)
    produced: list[tuple[str, bytes | None, bytes]] = field(default_factory=list)

    def produce(self, topic: str, value: bytes, key: bytes | None, headers: Any, on_delivery: Any) -> None:
        self.queued.append((topic, key, value, on_delivery))

    def poll(self, timeout: float) -> int:
        return 0

    def flush(self, timeout: float) -> int:
        left = 0
        for topic, key, value, callback in self.queued:
            if value in self.unconfirmed or any(bad in value for bad in self.unconfirmed):
                left += 1
                continue
            failed = value in self.fail or any(bad in value for bad in self.fail)
            callback("MSG_TIMED_OUT" if failed else None, None)
            if not failed:
                self.produced.append((topic, key, value))
        self.queued.clear()
        return left


def _result(i: int) -> bytes:
    return orjson.dumps({"machineId": "m-1", "executionId": f"x-{i}"})


def _forward(producer: FakeProducer, batch: list[FakeMsg]) -> Bridge:
    bridge = Bridge(Settings.load(), BridgeSettings(), BridgeMetrics(), producer=producer)  # type: ignore[arg-type]
    asyncio.run(bridge._forward(batch))  # type: ignore[arg-type]
    return bridge


def test_only_confirmed_messages_are_acked_and_the_rest_are_naked() -> None:
    subject = "machine.m-1.script-execution.result"
    batch = [FakeMsg(subject, _result(i), i + 1) for i in range(4)] + [FakeMsg(subject, b"not json", 5)]
    producer = FakeProducer(fail={_result(1)}, unconfirmed={_result(2)})
    bridge = _forward(producer, batch)
    assert [m.acked for m in batch] == [True, False, False, True, True]
    assert [m.naked for m in batch] == [False, True, True, False, False]
    topics = [t for t, _, _ in producer.produced]
    assert topics == ["logs.events", "logs.events", "openframe.dlq"]
    assert (bridge.stats.forwarded, bridge.stats.dead_lettered, bridge.stats.redelivered_later) == (2, 1, 2)


def test_a_dead_letter_kafka_did_not_confirm_is_not_acked() -> None:
    batch = [FakeMsg("machine.m-1.command-execution.result", b"[1]", 1)]
    producer = FakeProducer(fail={b'"value_not_object"'})
    _forward(producer, batch)
    assert not batch[0].acked and batch[0].naked


class FakeSubscription:
    """Fails once like a reconnecting client, then serves one batch and stops the bridge."""

    def __init__(self, batch: list[FakeMsg], stop: Any) -> None:
        self._calls = 0
        self._batch = batch
        self._stop = stop

    async def fetch(self, batch: int, timeout: float) -> list[FakeMsg]:
        from nats.errors import ConnectionReconnectingError, TimeoutError

        self._calls += 1
        if self._calls == 1:
            raise ConnectionReconnectingError
        if self._calls == 2:
            return self._batch
        self._stop.set()
        raise TimeoutError

    async def consumer_info(self) -> Any:
        return SimpleNamespace(num_pending=7, num_ack_pending=0)


def test_the_consume_loop_survives_a_reconnect_and_keeps_forwarding() -> None:
    import threading

    stop = threading.Event()
    batch = [FakeMsg("machine.m-1.command-execution.result", _result(1), 1)]
    producer = FakeProducer()
    metrics = BridgeMetrics()
    bridge = Bridge(Settings.load(), BridgeSettings(), metrics, producer=producer)  # type: ignore[arg-type]
    asyncio.run(bridge.consume(FakeSubscription(batch, stop), stop, retry_s=0))
    assert batch[0].acked and bridge.stats.forwarded == 1
    assert metrics.registry.get_sample_value("ofs_bridge_consumer_pending") == 7
