"""The stages' librdkafka producer, against librdkafka's in-process mock cluster (no server).

The mock is a unit-tier stand-in for the broker protocol only; the integration tier sends through
the same `KafkaSender` to the real Kafka.
"""

from __future__ import annotations

import asyncio
import random
from typing import Any

import pytest
from aiokafka.partitioner import DefaultPartitioner
from confluent_kafka import Producer

from topologies.producer import DeliveryFailed, KafkaSender, Message, producer_config

MOCK = {"test.mock.num.brokers": 1}


def test_keys_land_on_the_partitions_aiokafka_and_java_pick() -> None:
    """Faust's tables (aiokafka) and the Java clients hash keys with murmur2; librdkafka's default
    (CRC32) would not, and keyed events would miss their co-partitioned table rows."""
    producer = Producer(producer_config("unused:9092", 0.001, MOCK))
    placed: dict[bytes, int] = {}

    def delivered(error: Any, message: Any) -> None:
        assert error is None, error
        placed[message.key()] = message.partition()

    rng = random.Random(9)
    keys = {f"FLEET:{rng.getrandbits(48):x}".encode() for _ in range(1500)}
    keys |= {rng.randbytes(rng.randint(1, 40)) for _ in range(1500)}
    for key in keys:
        producer.produce("parity", b"v", key, on_delivery=delivered)
        producer.poll(0)
    assert producer.flush(30) == 0
    partitions = sorted(producer.list_topics("parity").topics["parity"].partitions)
    assert len(partitions) > 1, "one partition would prove nothing"
    expected = {key: DefaultPartitioner()(key, partitions, partitions) for key in keys}
    assert len(placed) == len(keys) >= 2900
    mismatched = [key for key in keys if placed[key] != expected[key]]
    assert mismatched == []
    assert len(set(placed.values())) == len(partitions)


def test_the_config_is_idempotent_acks_all_murmur2_and_takes_overrides() -> None:
    config = producer_config("k:9092", 0.005, {"linger.ms": 20})
    assert config["enable.idempotence"] is True and config["acks"] == "all"
    assert config["partitioner"] == "murmur2_random"
    assert config["linger.ms"] == 20
    assert producer_config("k:9092", 0.005)["linger.ms"] == 5


@pytest.fixture
def sender() -> Any:
    s = KafkaSender(producer_config("unused:9092", 0.001, MOCK))
    yield s
    s.close(5)


def test_send_returns_once_every_message_of_the_batch_is_delivered(sender: KafkaSender) -> None:
    messages = [Message("sent", f"k{i}".encode(), b"v", [("h", b"1")]) for i in range(500)]
    asyncio.run(sender.send(messages))
    assert sender.close(5) == 0


def test_a_message_the_producer_refuses_fails_the_batch_and_is_named(sender: KafkaSender) -> None:
    good = Message("refuse", b"a", b"v", [], partition=0)
    bad = Message("refuse", b"b", b"v", [], partition=99)  # no such partition: refused before queueing
    asyncio.run(sender.send([good]))  # creates the topic on the mock
    with pytest.raises(DeliveryFailed) as raised:
        asyncio.run(sender.send([good, bad, good]))
    assert raised.value.failed == [bad]
    assert "partition" in raised.value.reason.lower()


def test_text_header_values_go_out_as_utf8() -> None:
    """The outbox passes header values as str; the broker must get their UTF-8 bytes."""
    from confluent_kafka import Consumer

    producer = Producer(producer_config("unused:9092", 0.001, MOCK))
    producer.produce("headers", b"v", b"k", headers=[("x", "é"), ("y", b"\x00")])
    assert producer.flush(10) == 0
    bootstrap = producer.list_topics().orig_broker_name.split("/")[0]
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "g", "auto.offset.reset": "earliest"})
    consumer.subscribe(["headers"])
    got = None
    for _ in range(50):
        got = consumer.poll(0.2)
        if got is not None and got.error() is None:
            break
    consumer.close()
    assert got is not None and got.headers() == [("x", "é".encode()), ("y", b"\x00")]


def test_an_empty_batch_is_a_no_op(sender: KafkaSender) -> None:
    asyncio.run(sender.send([]))
