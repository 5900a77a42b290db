"""Table writes outside Faust's per-event loop.

A Faust table decides the changelog partition of a write from the *current event* of the stream.
The stage shell hands whole batches of records to plain functions, so no Faust event is current;
`acting_on(topic, partition)` sets a stand-in that carries exactly what the table reads from it
(the source record's topic and partition), as Faust's own per-event loop would.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from faust import streams as _streams


@dataclass(frozen=True, slots=True)
class _Message:
    topic: str
    partition: int


class _Event:
    __slots__ = ("message", "__weakref__")

    def __init__(self, topic: str, partition: int) -> None:
        self.message = _Message(topic, partition)


@contextmanager
def acting_on(topic: str, partition: int) -> Iterator[None]:
    """Table writes inside the block go to the changelog partition of `topic[partition]`."""
    event = _Event(topic, partition)
    token = _streams._current_event.set(weakref.ref(event))  # type: ignore[arg-type]  # a stand-in for EventT
    try:
        yield
    finally:
        _streams._current_event.reset(token)
