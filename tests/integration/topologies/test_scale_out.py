"""Two worker processes in one group: partitions spread over both, and when one is killed with -9
the survivor takes its partitions over; every event reaches Cassandra and Pinot exactly once."""

from __future__ import annotations

from pathlib import Path

from confluent_kafka.admin import AdminClient

from infra.health import wait_until
from openframe_stream.settings import Settings
from tests.integration.topologies.harness import Pipeline, days_ago, new_pipeline
from topologies.provision import ensure_topics


def test_the_survivor_of_a_kill_9_takes_over_and_every_event_is_stored_once(
    live_stack: Settings, tmp_path: Path
) -> None:
    first = new_pipeline(tmp_path)
    ensure_topics(live_stack.kafka.bootstrap_servers, first.topics, 1)
    second = first.twin()
    n = 20_000
    day = days_ago(32)
    base, ingest_day = int(day.timestamp() * 1000), day.strftime("%Y-%m-%d")
    table = first.settings.pinot_sink.table
    try:
        first.start()
        second.start()
        # Healthy is not yet joined: send only once the group has both members, each owning agent results.
        wait_until(lambda: _owners(first, first.topics.agent_results.name) == 2, timeout=120,
                   what="both workers owning partitions of the agent results topic")
        first.send_agent_results("scale", 0, n // 2, base, machines=64)

        def taken_in(p: Pipeline) -> float:
            return p.metric("openframe_records_in_total", stage="normalize")

        # Both members own partitions: each has taken records of the first half.
        wait_until(lambda: first.stored_on(ingest_day) >= n // 8 and taken_in(first) > 0 and taken_in(second) > 0,
                   timeout=180, what="both workers taking records")
        second.kill()
        assert first.stored_on(ingest_day) < n, "everything was stored before the kill; the test proves nothing"
        first.send_agent_results("scale", n // 2, n, base, machines=64)  # sent while only the survivor runs
        wait_until(lambda: first.stored_on(ingest_day) >= n, timeout=300, what="every event stored by the survivor")
        assert first.stored_on(ingest_day) == n
        wait_until(lambda: not first.uncommitted(), timeout=60, what="every offset committed by the survivor")
        wait_until(lambda: first.pinot(f"SELECT COUNT(*) FROM {table} WHERE ingestDay = '{ingest_day}'") == [[n]],
                   timeout=180, what="pinot count")
        assert first.pinot(
            f"SELECT COUNT(DISTINCT toolEventId) FROM {table} WHERE ingestDay = '{ingest_day}'"
        ) == [[n]]
    finally:
        second.stop()
        first.cleanup()


def _owners(p: Pipeline, topic: str) -> int:
    """Members of the worker's group (in a stable state) that own a partition of `topic`."""
    admin = AdminClient({"bootstrap.servers": p.settings.kafka.bootstrap_servers})
    group = admin.describe_consumer_groups([p.settings.worker.app_id])[p.settings.worker.app_id].result(timeout=10)
    if str(group.state) != "ConsumerGroupState.STABLE":
        return 0
    return sum(any(tp.topic == topic for tp in m.assignment.topic_partitions) for m in group.members)
