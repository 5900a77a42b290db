"""Is a source ahead of its connector, and for how long has the connector not moved? (pure)

A task is judged by what it does, not by the state Connect reports: it is stalled when its
source has moved past the point where the task last made progress and the task's position has not
moved since, for longer than a settable time. Idle time does not count: the clock starts when the
source first moves on while the task stands still, so a quiet database is never "stalled".
"""

from __future__ import annotations

from dataclasses import dataclass, replace


@dataclass(frozen=True)
class Sample:
    """One reading of a source and of its connector's position, at monotonic time `at`.

    Positions are ordered integers (`positions.py`): for PostgreSQL the WAL head and the slot's
    `confirmed_flush_lsn`, for MariaDB the binlog head and the connector's committed offset.
    `task` is None when the connector has no position yet (new connector, slot missing).
    """

    at: float
    source: int
    task: int | None
    lag_bytes: int


@dataclass(frozen=True)
class Tracker:
    """What the watchdog remembers of one connector between samples."""

    task: int | None = None  # the task position last seen
    moved_at: float | None = None  # when it last moved (or was first seen)
    source_then: int | None = None  # the source position when the task last moved
    ahead_since: float | None = None  # first sample since then with the source past `source_then`
    lag_bytes: int = 0


def observe(tracker: Tracker, sample: Sample) -> Tracker:
    """The tracker after one more sample."""
    if tracker.moved_at is None or sample.task != tracker.task:
        # First sight, or the task moved: progress. Count again from here.
        return Tracker(sample.task, sample.at, sample.source, None, sample.lag_bytes)
    ahead_since = tracker.ahead_since
    if ahead_since is None and tracker.source_then is not None and sample.source > tracker.source_then:
        ahead_since = sample.at
    return replace(tracker, ahead_since=ahead_since, lag_bytes=sample.lag_bytes)


def stalled_for(tracker: Tracker, now: float) -> float:
    """Seconds the source has been ahead while the task stood still (0 when it is not behind)."""
    if tracker.ahead_since is None or tracker.lag_bytes <= 0:
        return 0.0
    return max(now - tracker.ahead_since, 0.0)


def is_stalled(tracker: Tracker, now: float, stall_seconds: float, min_lag_bytes: int) -> bool:
    return tracker.lag_bytes >= max(min_lag_bytes, 1) and stalled_for(tracker, now) >= stall_seconds
