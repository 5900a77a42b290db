from __future__ import annotations

from connectors.watchdog.progress import Sample, Tracker, is_stalled, observe, stalled_for


def _run(samples: list[tuple[float, int, int | None]]) -> Tracker:
    tracker = Tracker()
    for at, source, task in samples:
        tracker = observe(tracker, Sample(at, source, task, max(source - (task or 0), 0)))
    return tracker


def test_a_task_keeping_up_under_traffic_is_never_stalled() -> None:
    tracker = _run([(t, 100 + 10 * t, 95 + 10 * t) for t in range(0, 300, 5)])
    assert stalled_for(tracker, 300) == 0
    assert not is_stalled(tracker, 300, stall_seconds=60, min_lag_bytes=1)


def test_an_idle_source_is_not_a_stall_even_with_a_constant_gap() -> None:
    # Binlog offsets point at the start of the last transaction: a caught-up task sits a few bytes behind.
    tracker = _run([(t, 1000, 990) for t in range(0, 600, 5)])
    assert tracker.lag_bytes == 10
    assert not is_stalled(tracker, 600, stall_seconds=60, min_lag_bytes=1)


def test_the_clock_starts_when_the_source_moves_on_without_the_task() -> None:
    samples = [(t, 1000, 1000) for t in range(0, 100, 5)]  # idle, caught up
    samples += [(t, 1000 + t, 1000) for t in range(100, 200, 5)]  # writes arrive, the task stands still
    tracker = _run(samples)
    assert tracker.ahead_since == 100
    assert stalled_for(tracker, 195) == 95
    assert not is_stalled(tracker, 150, stall_seconds=60, min_lag_bytes=1)
    assert is_stalled(tracker, 160, stall_seconds=60, min_lag_bytes=1)
    assert not is_stalled(tracker, 160, stall_seconds=60, min_lag_bytes=10_000)


def test_any_progress_resets_the_clock() -> None:
    samples = [(t, 1000 + t, 1000) for t in range(0, 100, 5)]
    samples.append((100, 1100, 1050))  # the task moved
    tracker = _run(samples)
    assert tracker.ahead_since is None and tracker.moved_at == 100
    assert stalled_for(tracker, 100) == 0
    tracker = observe(tracker, Sample(105, 1110, 1050, 60))
    assert tracker.ahead_since == 105


def test_a_task_without_a_position_is_judged_like_any_other() -> None:
    tracker = _run([(0, 10, None), (5, 20, None), (70, 30, None)])
    assert tracker.ahead_since == 5
    assert is_stalled(tracker, 70, stall_seconds=60, min_lag_bytes=1)
