"""Create missing topics with their declared partitions and configs, then check co-partitioning."""

from __future__ import annotations

from typing import Any

from openframe_stream.errors import Transient
from topologies.topics import Topics, check_copartitioning


def _admin(bootstrap: str) -> Any:
    from confluent_kafka.admin import AdminClient

    return AdminClient({"bootstrap.servers": bootstrap})


def partition_counts(bootstrap: str, names: list[str]) -> dict[str, int]:
    try:
        metadata = _admin(bootstrap).list_topics(timeout=15)
    except Exception as exc:
        raise Transient(f"kafka unreachable: {exc}") from exc
    return {
        n: len(metadata.topics[n].partitions)
        for n in names
        if n in metadata.topics and metadata.topics[n].error is None
    }


def ensure_topics(bootstrap: str, topics: Topics, replication: int) -> dict[str, int]:
    """Create the declared topics that are missing and return every topic's partition count.
    Existing topics are kept as they are (their counts are checked by `check_copartitioning`, and
    the tables built from them follow them)."""
    from confluent_kafka.admin import NewTopic  # type: ignore[attr-defined]  # re-exported, not declared

    specs = topics.all()
    existing = partition_counts(bootstrap, [s.name for s in specs])
    missing = [s for s in specs if s.name not in existing]
    if missing:
        admin = _admin(bootstrap)
        futures = admin.create_topics(
            [NewTopic(s.name, s.partitions, replication, config=dict(s.config)) for s in missing],
            operation_timeout=30,
        )
        for name, future in futures.items():
            try:
                future.result(timeout=60)
            except Exception as exc:
                if "TOPIC_ALREADY_EXISTS" not in str(exc):
                    raise Transient(f"creating topic {name} failed: {exc}") from exc
    counts = partition_counts(bootstrap, [s.name for s in specs])
    check_copartitioning(topics, counts)
    return counts
