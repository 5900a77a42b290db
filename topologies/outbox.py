"""Sends of one batch, delivered before the batch's source records are acked.

The outbox keeps every output of a batch (unified, enriched, dead letters), hands them to the
process's `Sender` together, and re-sends what failed with capped backoff, so an offset is committed
only after the target topic really has the record. It never gives up: a broker outage stalls the
partition instead of losing data.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from topologies.producer import DeliveryFailed, Message, Sender

log = logging.getLogger(__name__)


@dataclass
class Outbox:
    sender: Sender
    backoff_max: float = 10.0
    _pending: list[Message] = field(default_factory=list)

    def add(
        self,
        topic: str,
        key: bytes | None,
        value: bytes | None,
        headers: Mapping[str, str] | None = None,
        partition: int | None = None,
    ) -> None:
        # librdkafka encodes str header values as UTF-8 itself.
        self._pending.append(Message(topic, key, value, list(headers.items()) if headers else [], partition))

    def __len__(self) -> int:
        return len(self._pending)

    async def deliver(self) -> int:
        """Send everything and wait until the broker acknowledged all of it. Returns the count."""
        todo, self._pending = self._pending, []
        total, delay = len(todo), 0.1
        while todo:
            try:
                await self.sender.send(todo)
                todo = []
            except DeliveryFailed as exc:
                log.warning("%d of %d sends failed (%s); retrying in %.1fs", len(exc.failed), len(todo),
                            exc.reason, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, self.backoff_max)
                todo = exc.failed
        return total


def headers_of(record: Any) -> dict[str, str]:
    """A Kafka record's headers as str -> str (bytes decoded leniently)."""
    raw = getattr(record, "headers", None) or []
    items = raw.items() if isinstance(raw, Mapping) else raw
    out: dict[str, str] = {}
    for key, value in items:
        if isinstance(value, bytes | bytearray):
            out[str(key)] = bytes(value).decode("utf-8", "replace")
        elif value is not None:
            out[str(key)] = str(value)
    return out
