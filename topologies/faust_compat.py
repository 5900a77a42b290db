"""The one place that leans on a Faust internal.

A Faust table decides the changelog partition of a write from the *current event* of the stream.
Batched, manually-acked iteration (`noack_take`) yields events without setting it, so a table
write there would fail ("Cannot modify table key from outside of stream iteration"). `acting_on`
sets it for the event being processed, exactly as Faust's own per-event loop does.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from faust import streams as _streams


@contextmanager
def acting_on(event: Any) -> Iterator[None]:
    token = _streams._current_event.set(weakref.ref(event))
    try:
        yield
    finally:
        _streams._current_event.reset(token)
