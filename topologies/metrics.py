"""The worker's Prometheus metrics, in a registry of their own (built per app, no import-time state)."""

from __future__ import annotations

from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

# Fine below 2 s so a p99 under one second can be read off the histogram (the targets are 300 ms and 2 s).
_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5, 0.6, 0.75, 1, 1.25, 1.5,
                    2, 2.5, 3, 5, 10, 30, 60, 300, 900)


@dataclass(frozen=True)
class Metrics:
    registry: CollectorRegistry
    records_in: Counter
    records_out: Counter
    skipped: Counter
    dead_letters: Counter
    enrichment_misses: Counter
    reenriched: Counter
    sink_write: Histogram
    end_to_end: Histogram
    lag_messages: Gauge
    lag_seconds: Gauge


def create_metrics(registry: CollectorRegistry | None = None) -> Metrics:
    r = registry or CollectorRegistry()
    return Metrics(
        registry=r,
        records_in=Counter(
            "openframe_records_in", "Records taken in, per stage and source topic.", ["stage", "source"], registry=r
        ),
        records_out=Counter(
            "openframe_records_out", "Records emitted, per stage and tool.", ["stage", "tool"], registry=r
        ),
        skipped=Counter(
            "openframe_records_skipped", "Records deliberately not turned into events.", ["reason"], registry=r
        ),
        dead_letters=Counter(
            "openframe_dead_letters", "Records sent to the dead-letter topic.", ["stage", "reason"], registry=r
        ),
        enrichment_misses=Counter(
            "openframe_enrichment_misses", "Events whose device was not known yet.", ["tool"], registry=r
        ),
        reenriched=Counter(
            "openframe_reenriched", "Missed events re-emitted once their reference row arrived.", ["tool"], registry=r
        ),
        sink_write=Histogram(
            "openframe_sink_write_seconds",
            "Duration of one sink batch write.",
            ["sink"],
            buckets=_LATENCY_BUCKETS,
            registry=r,
        ),
        end_to_end=Histogram(
            "openframe_end_to_end_seconds",
            "Now minus eventTimestamp when a sink has the event.",
            ["sink"],
            buckets=_LATENCY_BUCKETS,
            registry=r,
        ),
        lag_messages=Gauge(
            "openframe_consumer_lag_messages",
            "Log-end offset minus committed offset.",
            ["group", "topic", "partition"],
            registry=r,
        ),
        lag_seconds=Gauge(
            "openframe_consumer_lag_seconds",
            "Age of the oldest record not yet committed.",
            ["group", "topic", "partition"],
            registry=r,
        ),
    )
