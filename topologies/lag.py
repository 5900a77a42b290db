"""Consumer lag per group, topic and partition, in messages and in seconds.

Faust does not compute lag, so the worker measures it itself on a background thread: committed
offsets from the group coordinator, log-end offsets from the partition leaders, and the age of the
first uncommitted record (its timestamp), read by a consumer that joins no group and commits nothing.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from typing import Any

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PartitionLag:
    group: str
    topic: str
    partition: int
    committed: int
    end: int
    messages: int
    seconds: float


def measure(bootstrap: str, groups: list[str], now: float | None = None) -> list[PartitionLag]:
    from confluent_kafka import Consumer, ConsumerGroupTopicPartitions, TopicPartition
    from confluent_kafka.admin import AdminClient

    admin = AdminClient({"bootstrap.servers": bootstrap})
    probe = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": "openframe-lag-probe",
            "enable.auto.commit": False,
            "enable.partition.eof": False,
        }
    )
    now = time.time() if now is None else now
    rows: list[PartitionLag] = []
    try:
        for group in groups:
            futures = admin.list_consumer_group_offsets([ConsumerGroupTopicPartitions(group)])
            committed: list[Any] = futures[group].result(timeout=10).topic_partitions or []
            for tp in committed:
                if tp.offset < 0:
                    continue
                _, high = probe.get_watermark_offsets(TopicPartition(tp.topic, tp.partition), timeout=5)
                messages = max(0, high - tp.offset)
                seconds = 0.0
                if messages:
                    probe.assign([TopicPartition(tp.topic, tp.partition, tp.offset)])
                    record = probe.poll(2.0)
                    if record is not None and record.error() is None:
                        _, stamp = record.timestamp()
                        seconds = max(0.0, now - stamp / 1000) if stamp > 0 else 0.0
                rows.append(PartitionLag(group, tp.topic, tp.partition, tp.offset, high, messages, seconds))
    finally:
        probe.close()
    return rows


class LagMonitor:
    """Refreshes the lag gauges every `interval` seconds until stopped."""

    def __init__(self, bootstrap: str, groups: list[str], metrics: Any, interval: float) -> None:
        self._bootstrap, self._groups, self._metrics, self._interval = bootstrap, groups, metrics, interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="lag-monitor", daemon=True)
        self.last: list[PartitionLag] = []

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.last = measure(self._bootstrap, self._groups)
                for row in self.last:
                    labels = (row.group, row.topic, str(row.partition))
                    self._metrics.lag_messages.labels(*labels).set(row.messages)
                    self._metrics.lag_seconds.labels(*labels).set(row.seconds)
            except Exception as exc:  # noqa: BLE001 - a failed measurement must not stop the worker
                log.warning("lag measurement failed: %s", exc)
            self._stop.wait(self._interval)
