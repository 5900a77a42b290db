"""Sends of one batch, delivered before the batch's source records are acked.

Faust's `topic.send` only queues a record; the future it returns resolves when the broker has it.
The outbox keeps every send of a batch, waits for all of them, and re-sends what failed with capped
backoff, so an offset is committed only after the unified, enriched or dead-letter topic really has
the record. It never gives up: a broker outage stalls the partition instead of losing data.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

log = logging.getLogger(__name__)


class SendTarget(Protocol):
    async def send(self, *, key: Any = ..., value: Any = ..., headers: Any = ...) -> Any: ...


@dataclass
class _Pending:
    target: SendTarget
    key: bytes | None
    value: bytes | None
    headers: list[tuple[str, bytes]]


@dataclass
class Outbox:
    backoff_max: float = 10.0
    _pending: list[_Pending] = field(default_factory=list)

    def add(
        self, target: SendTarget, key: bytes | None, value: bytes | None, headers: Mapping[str, str] | None = None
    ) -> None:
        encoded = [(k, v.encode()) for k, v in (headers or {}).items()]
        self._pending.append(_Pending(target, key, value, encoded))

    def __len__(self) -> int:
        return len(self._pending)

    async def deliver(self) -> int:
        """Send everything and wait until the broker acknowledged all of it. Returns the count."""
        todo, self._pending = self._pending, []
        delay = 0.1
        total = len(todo)
        while todo:
            # Queue every send first (awaited in turn: a Task per record would cost more than the
            # send), then wait for the broker's acknowledgements together.
            futures: list[Any] = []
            for pending in todo:
                try:
                    futures.append(await self._send(pending))
                except Exception as exc:  # noqa: BLE001 - retried below like a failed delivery
                    futures.append(exc)
            results = await asyncio.gather(*(_settle(f) for f in futures), return_exceptions=True)
            failed = [p for p, r in zip(todo, results, strict=True) if isinstance(r, BaseException)]
            if failed:
                first = next(r for r in results if isinstance(r, BaseException))
                log.warning("%d of %d sends failed (%s); retrying in %.1fs", len(failed), len(todo), first, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, self.backoff_max)
            todo = failed
        return total

    @staticmethod
    async def _send(p: _Pending) -> Any:
        return await p.target.send(key=p.key, value=p.value, headers=p.headers)


async def _settle(sent: Any) -> Any:
    """The delivery outcome of one send: its exception, or the awaited broker acknowledgement."""
    if isinstance(sent, BaseException):
        raise sent
    return await sent


def headers_of(message: Any) -> dict[str, str]:
    """A Faust/aiokafka message's headers as str -> str (bytes decoded leniently)."""
    raw = getattr(message, "headers", None) or []
    items = raw.items() if isinstance(raw, Mapping) else raw
    out: dict[str, str] = {}
    for key, value in items:
        if isinstance(value, bytes | bytearray):
            out[str(key)] = bytes(value).decode("utf-8", "replace")
        elif value is not None:
            out[str(key)] = str(value)
    return out
