"""Restarting a crashed worker that has a static group instance id (KIP-345): it takes its partitions back
in the same group generation, without waiting out the dead member's session or rebalancing."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from infra.health import wait_until
from openframe_stream.settings import Settings
from tests.integration.topologies.harness import Pipeline, days_ago, new_pipeline
from topologies.provision import ensure_topics

JOINED = re.compile(r"Joined group '[^']+' \(generation (\d+)\)")


def _generations(pipeline: Pipeline) -> list[int]:
    return [int(g) for g in JOINED.findall(pipeline.log_path.read_text(errors="replace"))]


@pytest.fixture
def static_pipeline(live_stack: Settings, tmp_path: Path) -> Pipeline:
    p = new_pipeline(tmp_path, OFS_WORKER__INSTANCE_ID="worker-a")
    ensure_topics(live_stack.kafka.bootstrap_servers, p.topics, 1)
    return p


def test_a_static_member_resumes_after_kill_9_without_a_rebalance(static_pipeline: Pipeline) -> None:
    p = static_pipeline
    day = days_ago(40)
    base, ingest_day = int(day.timestamp() * 1000), day.strftime("%Y-%m-%d")
    try:
        p.start()
        p.send_agent_results("static", 0, 200, base)
        wait_until(lambda: p.stored_on(ingest_day) == 200, timeout=60, what="first events stored")
        before = _generations(p)
        assert before, "the worker never logged joining its group"
        p.kill()
        p.send_agent_results("static", 200, 400, base)  # arrives while the worker is dead
        p.start()
        wait_until(lambda: p.stored_on(ingest_day) >= 400, timeout=60, what="events sent while it was dead")
        assert p.stored_on(ingest_day) == 400
        after = _generations(p)[len(before):]
        # A dynamic member would join generation before[-1] + 1 once the dead one's session expired.
        assert after == [before[-1]], (before, after)
    finally:
        p.cleanup()
