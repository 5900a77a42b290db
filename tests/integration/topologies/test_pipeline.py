"""The topology end to end on the real stack: raw tool records in, enriched events in Cassandra and
Pinot out, dead letters for poison, corrections for late rows, and no loss across kill -9."""

from __future__ import annotations

import json
import time

from infra.health import wait_until
from tests.fixtures.mapper_cases.common import example
from tests.integration.topologies.harness import Pipeline, days_ago, expected_event


def test_tool_records_become_enriched_events_in_cassandra_and_pinot(pipeline: Pipeline) -> None:
    t = pipeline.topics
    tactical = example("tactical-auditlog.debezium-postgres.json")
    activity = example("fleet-activity.debezium.json")
    host = example("fleet-host-activity.debezium.json")
    mesh = example("meshcentral-event.debezium-mongodb.json")
    agent = example("agent-script-result.nats.json")
    agent_headers = {"message-type": "SCRIPT_EXECUTED"}
    mesh["value"]["after"] = mesh["value"]["after"].replace('"ids"', '"nodeid": "node//mesh-1", "ids"')

    pipeline.send(t.tactical.name, tactical["value"], "98211", tactical["headers"])
    pipeline.send(t.fleet_activities.name, activity["value"], "4211", activity["headers"])
    pipeline.send(t.fleet_host_activities.name, host["value"], "4211", host["headers"])
    pipeline.send(t.meshcentral.name, mesh["value"], "m1", mesh["headers"])
    pipeline.send(t.agent_results.name, agent["payload"], "m-8f2c41", agent_headers)
    pipeline.flush()

    cases = {
        "tactical": expected_event(pipeline, t.tactical.name, tactical["value"], tactical["headers"]),
        "fleet": expected_event(pipeline, t.fleet_activities.name, activity["value"], activity["headers"]),
        "mesh": expected_event(pipeline, t.meshcentral.name, mesh["value"], mesh["headers"]),
        "agent": expected_event(pipeline, t.agent_results.name, agent["payload"], agent_headers),
    }
    devices = {"tactical": "m-ws07", "fleet": "m-ws07", "mesh": "m-8f2c41", "agent": "m-8f2c41"}
    for name, event in cases.items():
        wait_until(lambda e=event: pipeline.row(e["toolEventId"]) is not None and
                   pipeline.row(e["toolEventId"]).device_id is not None, timeout=60, what=f"{name} in cassandra")
        row = pipeline.row(event["toolEventId"])
        assert row.device_id == devices[name], name
        assert row.organization_name == "Acme Accounting"
        assert row.event_type == event["eventType"] and row.summary == event["summary"]
    assert pipeline.row(cases["tactical"]["toolEventId"]).visible is False  # agent.execute_script
    table = pipeline.settings.pinot_sink.table
    visible_ids = [cases[n]["toolEventId"] for n in ("fleet", "mesh", "agent")]
    in_list = ", ".join(f"'{i}'" for i in visible_ids)
    wait_until(lambda: pipeline.pinot(f"SELECT COUNT(*) FROM {table} WHERE toolEventId IN ({in_list}) "
                                      "AND deviceId IS NOT NULL") == [[3]] or
               pipeline.pinot(f"SELECT COUNT(*) FROM {table} WHERE toolEventId IN ({in_list}) "
                              "AND organizationName = 'Acme Accounting'") == [[3]],
               timeout=60, what="pinot rows")
    hidden = pipeline.pinot(f"SELECT COUNT(*) FROM {table} WHERE toolEventId = '{cases['tactical']['toolEventId']}'")
    assert hidden in ([[0]], [])  # invisible events stay out of the analytics table


def test_a_late_host_row_corrects_the_fleet_event(pipeline: Pipeline) -> None:
    t = pipeline.topics
    activity = example("fleet-activity.debezium.json")
    after = activity["value"]["payload"]["after"]
    after["id"] = 99001
    after["details"] = json.dumps({"script_name": "x.ps1"})  # no host_id: only the join can name the host
    pipeline.send(t.fleet_activities.name, activity["value"], "99001", activity["headers"])
    pipeline.flush()
    event = expected_event(pipeline, t.fleet_activities.name, activity["value"], activity["headers"])
    wait_until(lambda: pipeline.row(event["toolEventId"]) is not None, timeout=60, what="activity without host")
    assert pipeline.row(event["toolEventId"]).device_id is None
    host = {"before": None, "after": {"host_id": 31, "activity_id": 99001}, "op": "c", "ts_ms": 1}
    pipeline.send(t.fleet_host_activities.name, host, "99001")
    pipeline.flush()
    wait_until(lambda: pipeline.row(event["toolEventId"]).device_id == "m-ws07", timeout=60, what="host correction")
    assert pipeline.row(event["toolEventId"]).agent_id == "31"


def test_a_late_machine_row_enriches_earlier_events(pipeline: Pipeline) -> None:
    t = pipeline.topics
    record = example("tactical-auditlog.debezium-postgres.json")
    after = record["value"]["after"]
    after.update(id=77001, agentid="LATEAGENT", action="login", object_type="user")
    pipeline.send(t.tactical.name, record["value"], "77001", record["headers"])
    pipeline.flush()
    event = expected_event(pipeline, t.tactical.name, record["value"], record["headers"])
    wait_until(lambda: pipeline.row(event["toolEventId"]) is not None, timeout=60, what="unenriched event")
    assert pipeline.row(event["toolEventId"]).device_id is None
    misses = pipeline.metric("openframe_enrichment_misses_total", tool="TACTICAL")
    assert misses >= 1
    pipeline.seed_reference(
        organizations=[],
        machines=[{"machineId": "m-late", "hostname": "LATE-01", "organizationId": "org-acme", "tenantId": "oss"}],
        connections=[{"machineId": "m-late", "toolType": "TACTICAL", "agentToolId": "LATEAGENT", "tenantId": "oss"}],
    )
    wait_until(lambda: pipeline.row(event["toolEventId"]).device_id == "m-late", timeout=60, what="re-enrichment")
    assert pipeline.row(event["toolEventId"]).hostname == "LATE-01"


def test_a_poison_record_is_dead_lettered_and_the_stream_goes_on(pipeline: Pipeline) -> None:
    from topologies.cli import read_dead_letters

    t = pipeline.topics
    pipeline.send(t.agent_results.name, b"\xff\xfe{not json", "poison", {"message-type": "SCRIPT_EXECUTED"})
    good = dict(example("agent-script-result.nats.json")["payload"], executionId="after-poison")
    pipeline.send(t.agent_results.name, good, "m-8f2c41", {"message-type": "SCRIPT_EXECUTED"})
    pipeline.flush()
    event = expected_event(pipeline, t.agent_results.name, good, {"message-type": "SCRIPT_EXECUTED"})
    wait_until(lambda: pipeline.row(event["toolEventId"]) is not None, timeout=60, what="event after poison")

    def poison() -> list[dict]:
        rows = read_dead_letters(pipeline.settings.kafka.bootstrap_servers, t.dead_letter.name)
        return [r for _, _, r in rows if r["original"]["key"] == "poison"]

    wait_until(lambda: bool(poison()), timeout=30, what="dead letter")
    letter = poison()[0]
    assert letter["stage"] == "decode" and letter["reason"]
    assert letter["source"]["topic"] == t.agent_results.name and letter["source"]["offset"] >= 0
    assert letter["original"]["valueEncoding"] == "base64"  # the undecodable bytes survive exactly


def test_dlq_replay_reinjects_the_original_bytes_into_the_source_topic(pipeline: Pipeline) -> None:
    from click.testing import CliRunner
    from confluent_kafka import Consumer, TopicPartition

    from openframe_stream.cli import main

    t = pipeline.topics
    raw = b"\x00\x9f replay me"
    pipeline.send(t.agent_results.name, raw, "replay-me", {"message-type": "SCRIPT_EXECUTED"})
    pipeline.flush()
    env = dict(pipeline.env)
    runner = CliRunner()

    def listed() -> str:
        return runner.invoke(main, ["dlq", "list", "--json", "--stage", "decode"], env=env).output

    wait_until(lambda: "replay-me" in listed(), timeout=30, what="dead letter listed")
    consumer = Consumer({"bootstrap.servers": pipeline.settings.kafka.bootstrap_servers, "group.id": "replay-check",
                         "enable.auto.commit": False})
    parts = consumer.list_topics(t.agent_results.name, timeout=10).topics[t.agent_results.name].partitions
    ends = {p: consumer.get_watermark_offsets(TopicPartition(t.agent_results.name, p), timeout=10)[1] for p in parts}
    result = runner.invoke(main, ["dlq", "replay", "--stage", "decode", "--topic", t.agent_results.name], env=env)
    assert result.exit_code == 0, result.output
    assert "replayed" in result.output
    consumer.assign([TopicPartition(t.agent_results.name, p, ends[p]) for p in parts])
    replayed = []
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not any(m.key() == b"replay-me" for m in replayed):
        message = consumer.poll(0.5)
        if message is not None and message.error() is None:
            replayed.append(message)
    consumer.close()
    ours = [m for m in replayed if m.key() == b"replay-me"]
    assert ours and ours[0].value() == raw  # byte for byte
    headers = dict(ours[0].headers() or [])
    assert headers["message-type"] == b"SCRIPT_EXECUTED" and b"@" in headers["dlq-replayed-from"]


def test_kill_9_mid_stream_loses_nothing_and_duplicates_nothing(pipeline: Pipeline) -> None:
    n = 20_000
    day = days_ago(30)  # a day no other test writes to (the shared examples are from 2026-11-20)
    base = int(day.timestamp() * 1000)
    pipeline.send_agent_results("kill", 0, n, base, machines=50)
    table = pipeline.settings.pinot_sink.table
    ingest_day = day.strftime("%Y-%m-%d")

    def stored() -> int:
        return pipeline.stored_on(ingest_day)

    wait_until(lambda: stored() >= n // 5, timeout=120, what="a fifth of the events stored")
    pipeline.kill()
    assert stored() < n, "the worker finished before it was killed; the test proves nothing"
    pipeline.start()
    wait_until(lambda: stored() >= n, timeout=300, what="all events stored after restart")
    assert stored() == n

    # Every record the restarted worker was handed is acked: its offsets commit through to the end
    # (a record dropped in the rebalance would hold its partition's commit back for good).
    wait_until(lambda: not pipeline.uncommitted(), timeout=60, what="every offset committed after the restart")
    wait_until(lambda: pipeline.pinot(f"SELECT COUNT(*) FROM {table} WHERE ingestDay = '{ingest_day}'") == [[n]],
               timeout=180, what="pinot count")
    assert pipeline.pinot(
        f"SELECT COUNT(DISTINCT toolEventId) FROM {table} WHERE ingestDay = '{ingest_day}'"
    ) == [[n]]


def test_a_cassandra_outage_applies_backpressure_and_the_worker_catches_up(pipeline: Pipeline) -> None:
    from infra import stack
    from topologies.lag import measure

    t, settings = pipeline.topics, pipeline.settings
    ks = settings.cassandra.keyspace
    day = days_ago(31)
    base = int(day.timestamp() * 1000)
    n = 500

    def committed_enriched() -> int:
        rows = measure(settings.kafka.bootstrap_servers, [settings.worker.app_id])
        return sum(r.committed for r in rows if r.topic == t.enriched.name)

    def uncommitted_enriched() -> int:
        rows = measure(settings.kafka.bootstrap_servers, [settings.worker.app_id])
        return sum(r.messages for r in rows if r.topic == t.enriched.name)

    enriched_before = pipeline.metric("openframe_records_out_total", stage="enrich")
    wait_until(lambda: uncommitted_enriched() == 0, timeout=60, what="earlier events committed")
    committed_before = committed_enriched()
    assert stack.down(settings, ["cassandra"]) == ["cassandra"]
    try:
        pipeline.send_agent_results("outage", 0, n, base)
        # Upstream stages go on; the sink holds its offsets while Cassandra is away.
        wait_until(lambda: pipeline.metric("openframe_records_out_total", stage="enrich") >= enriched_before + n,
                   timeout=60, what="events enriched during the outage")
        # The sink retries and commits nothing: no enriched offset moves while Cassandra is away.
        time.sleep(settings.worker.commit_interval * 3)  # let a few commit intervals pass: they must not commit
        assert committed_enriched() == committed_before
        assert pipeline.proc is not None and pipeline.proc.poll() is None, "the worker must survive the outage"
    finally:
        outcomes = stack.up(settings, ["cassandra"])
        assert all(o.ok for o in outcomes), outcomes

    def stored() -> int:
        from cassandra import InvalidRequest
        from cassandra.cluster import NoHostAvailable

        try:
            rows = pipeline.session().execute(
                f"SELECT COUNT(*) FROM {ks}.events_by_day WHERE tenant_id = 'oss' AND ingest_day = %s",
                (day.strftime("%Y-%m-%d"),), timeout=30,
            )
        except (InvalidRequest, NoHostAvailable):
            return -1
        return int(rows.one()[0])

    wait_until(lambda: stored() == n, timeout=180, what="catch-up after the outage")
    wait_until(lambda: uncommitted_enriched() == 0, timeout=60, what="sink offsets committed after catch-up")
