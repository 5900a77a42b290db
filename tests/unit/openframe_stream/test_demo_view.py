"""The demo's latency line: quantiles read off the end-to-end histogram, shown in ms."""

from __future__ import annotations

import math

from openframe_stream.demo import _ms, _quantile


def histogram(counts: dict[str, float]) -> dict[str, list[tuple[dict[str, str], float]]]:
    buckets = [({"sink": "cassandra", "le": le}, n) for le, n in counts.items()]
    return {"openframe_end_to_end_seconds_bucket": buckets,
            "openframe_end_to_end_seconds_count": [({"sink": "cassandra"}, counts["+Inf"])]}


def test_quantiles_are_the_first_bucket_holding_them() -> None:
    h = histogram({"0.1": 40, "0.25": 90, "0.3": 99, "0.4": 100, "+Inf": 100})
    assert _quantile(h, "openframe_end_to_end_seconds", 0.5, sink="cassandra") == 0.25
    assert _quantile(h, "openframe_end_to_end_seconds", 0.99, sink="cassandra") == 0.3


def test_beyond_the_last_bucket_is_infinite_and_no_events_is_nan() -> None:
    h = histogram({"900": 10, "+Inf": 100})
    assert _quantile(h, "openframe_end_to_end_seconds", 0.99, sink="cassandra") == math.inf
    assert math.isnan(_quantile({}, "openframe_end_to_end_seconds", 0.5, sink="cassandra"))


def test_labels() -> None:
    assert [_ms(v) for v in (0.3, 2.5, 30.0, math.inf, math.nan)] == [
        "<= 300ms", "<= 2500ms", "<= 30s", "over 15 min", "n/a"]
