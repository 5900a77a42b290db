"""The Tactical RMM and Fleet connectors on the live stack, fed by the traffic generator's writer.

Each test applies its own copy of the versioned connector (unique name, slot, server id, topic
prefix) that routes to this run's prefixed topics, so reruns and the real connectors never mix.
`snapshot.mode=no_data` skips the back-fill of earlier runs' rows; a canary row proves the
connector is streaming before the test writes.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from connectors.connect import ConnectClient, apply, wait_running
from connectors.settings import BridgeSettings, ConnectorSettings
from connectors.specs import load_templates, placeholder_values, render
from infra.traffic.estate import build_estate
from infra.traffic.model import Action, TrafficModel
from infra.traffic.settings import TrafficSettings
from infra.traffic.writer import TrafficWriter
from openframe_stream.settings import Settings
from pipelines.normalize import normalize
from pipelines.records import Mapped, RawRecord
from pipelines.settings import PipelineSettings
from pipelines.timestamps import to_epoch_ms
from tests.integration.connectors.conftest import Record, TopicReader, create_topics
from topologies.topics import declare

NOW = int(time.time() * 1000) // 1000 * 1000  # whole seconds: MariaDB TIMESTAMP (0) keeps no fraction


@contextmanager
def _connector(settings: Settings, template: str, name: str, options: ConnectorSettings) -> Iterator[ConnectClient]:
    client = ConnectClient(settings.connect.url)
    (found,) = [t for t in load_templates() if t.name == template]
    connector = render(found, placeholder_values(settings, options), name=name)
    assert apply(client, connector).written
    try:
        wait_running(client, name, timeout=120)
        yield client
    finally:
        client.delete(name)


def _mapped(record: Record) -> dict[str, Any]:
    raw = RawRecord(record.topic.split(".", 1)[1], record.headers, record.key, record.value)
    result = normalize(raw, PipelineSettings())
    assert isinstance(result, Mapped), result
    return result.event


def _stream_ready(reader: TopicReader, write_canary: Callable[[], None], is_canary: Callable[[Record], bool]) -> None:
    """Write a canary row every few seconds until one comes out of the connector."""
    last = [0.0]

    def seen(records: list[Record]) -> bool:
        if any(is_canary(r) for r in records):
            return True
        if time.monotonic() - last[0] > 3:
            write_canary()
            last[0] = time.monotonic()
        return False

    reader.until(seen, timeout=90, what="connector streaming (canary)")


@pytest.fixture
def writer(isolated: Settings) -> Iterator[TrafficWriter]:
    options = TrafficSettings(orphan_share=0)
    writer = TrafficWriter(isolated, build_estate(options, "oss"), options, BridgeSettings())
    asyncio.run(writer.prepare(reference_data=False, nats_stream=False))
    yield writer
    asyncio.run(writer.close())


def _model(kinds: list[str]) -> TrafficModel:
    options = TrafficSettings(orphan_share=0, mix=dict.fromkeys(kinds, 1.0))
    return TrafficModel(build_estate(TrafficSettings(), "oss"), options, seed=3)


def test_tactical_rows_reach_one_topic_with_a_header_per_table(
    isolated: Settings, unique: str, writer: TrafficWriter
) -> None:
    topic = declare(isolated.topics).tactical.name
    create_topics(isolated, [topic], isolated.topics.raw_partitions)
    options = ConnectorSettings(
        snapshot_mode="no_data",
        tactical_topic_prefix=f"it_trmm_{unique}",
        tactical_slot=f"it_slot_{unique}",
        tactical_slot_drop_on_stop=True,
    )
    reader = TopicReader(isolated, [topic])
    try:
        with _connector(isolated, "tactical-rmm-postgres", f"it-tactical-{unique}", options):
            canary = f"canary-{unique}"
            _stream_ready(
                reader,
                lambda: writer._pg.execute(
                    "INSERT INTO logs_auditlog (username, action, object_type) VALUES (%s, 'login', 'user')", (canary,)
                ),
                lambda r: (r.json() or {}).get("after", {}).get("username") == canary,
            )
            model = _model(["tactical.audit", "tactical.history.start", "tactical.task"])
            audit = _next(model, "tactical.audit")
            start = _next(model, "tactical.history.start")
            task = _next(model, "tactical.task")
            audit_id = _run(writer, audit)["id"]
            history_id = _run(writer, start)["id"]
            _run(writer, Action("tactical.history.finish", None, {"results": "ok"}, target=start.handle))
            # One result row per (agent, task): an earlier run may have created it, so the first write
            # is an insert or an update; the second is an update to failing.
            task_id = _run(writer, Action("tactical.task", task.device, task.data | {"status": "passing"}))["id"]
            _run(writer, Action("tactical.task", task.device, task.data | {"status": "failing", "retcode": 1}))
            _run(writer, Action("tactical.audit.delete", None, {}, target=audit.handle))

            def row(header: str, row_id: int, op: str) -> Callable[[Record], bool]:
                return lambda r: r.headers.get("message-type") == header and _op_id(r) == (op, row_id)

            wanted = {
                "audit insert": row("TACTICAL_RMM_AUDIT_EVENT", audit_id, "c"),
                "audit delete": row("TACTICAL_RMM_AUDIT_EVENT", audit_id, "d"),
                "history insert": row("TACTICAL_RMM_AGENT_HISTORY_EVENT", history_id, "c"),
                "history update": row("TACTICAL_RMM_AGENT_HISTORY_EVENT", history_id, "u"),
                "task passing": lambda r: _task(r, task_id, "passing"),
                "task update": lambda r: _task(r, task_id, "failing") and _op(r) == "u",
            }
            found = reader.find_all(wanted, 60, "tactical events")
    finally:
        reader.close()
    assert found["audit insert"].key == f'{{"id":{audit_id}}}'.encode()
    assert found["audit delete"].json()["before"]["id"] == audit_id  # REPLICA IDENTITY FULL: the old row
    assert found["audit delete"].value is not None  # tombstones.on.delete=false
    assert found["history update"].json()["after"]["results"] == "ok"
    assert found["history update"].json()["before"]["results"] is None
    assert found["task update"].json()["after"]["status"] == "failing"
    # timestamptz arrives as an ISO-8601 string the mappers read back to the written instant.
    assert to_epoch_ms(found["audit insert"].json()["after"]["entry_time"]) == audit.data["entry_time"]
    event = _mapped(found["audit insert"])
    assert event["eventTimestamp"] == audit.data["entry_time"]
    assert _mapped(found["task update"])["eventTimestamp"] == task.data["last_run"]


def test_fleet_tables_reach_their_topics_and_an_activity_shares_its_hosts_partition(
    isolated: Settings, unique: str, writer: TrafficWriter
) -> None:
    topics = declare(isolated.topics)
    names = [
        topics.fleet_activities.name,
        topics.fleet_host_activities.name,
        topics.fleet_query_results.name,
        topics.fleet_policy_membership.name,
    ]
    create_topics(isolated, names, isolated.topics.raw_partitions)
    options = ConnectorSettings(
        snapshot_mode="no_data",
        fleet_topic_prefix=f"it_fleet_{unique}",
        fleet_server_id=6000 + int(unique[:4], 16) % 3000,
        fleet_schema_history_topic=f"{isolated.topics.prefix}schema_history",
    )
    reader = TopicReader(isolated, names)
    try:
        with _connector(isolated, "fleet-mariadb", f"it-fleet-{unique}", options):
            canary = f"canary_{unique}"

            def write_canary() -> None:
                with writer._maria.cursor() as cursor:
                    cursor.execute("INSERT INTO activities (activity_type) VALUES (%s)", (canary,))

            _stream_ready(
                reader, write_canary, lambda r: (r.json() or {}).get("after", {}).get("activity_type") == canary
            )
            model = _model(["fleet.activity", "fleet.policy", "fleet.query_result"])
            host_activity = _next(model, "fleet.activity", lambda a: a.device is not None)
            global_activity = _next(model, "fleet.activity", lambda a: a.device is None)
            policy = _next(model, "fleet.policy")
            query = _next(model, "fleet.query_result")
            with_host = _run(writer, host_activity)
            without_host = _run(writer, global_activity)
            # One membership row per (policy, host): the first write may update an earlier run's row.
            _run(writer, Action("fleet.policy", policy.device, policy.data | {"passes": True}))
            _run(writer, Action("fleet.policy", policy.device, policy.data | {"passes": False}))
            first_query = _run(writer, query)
            _run(writer, Action("fleet.query_result", query.device, query.data | {"replace": True}))

            activity_key = str(with_host["id"]).encode()
            wanted: dict[str, Callable[[Record], bool]] = {
                "activity": lambda r: r.topic == names[0] and r.key == activity_key,
                "host link": lambda r: r.topic == names[1] and r.key == activity_key,
                "global": lambda r: r.topic == names[0] and r.key == str(without_host["id"]).encode(),
                "policy pass": lambda r: r.topic == names[3] and _membership(r, policy.data["host_id"], 1),
                "policy update": lambda r: r.topic == names[3] and _membership(r, policy.data["host_id"], 0),
                "query delete": lambda r: r.topic == names[2] and _op_id(r) == ("d", first_query["id"]),
            }
            found = reader.find_all(wanted, 60, "fleet events")
            host_links = [
                r for r in reader.records if r.topic == names[1] and r.key == str(without_host["id"]).encode()
            ]
    finally:
        reader.close()
    activity, link = found["activity"], found["host link"]
    # The co-partitioning contract: the same key bytes, so the same partition, on both topics.
    assert activity.partition == link.partition
    assert link.json()["after"] == {"host_id": host_activity.data["host_id"], "activity_id": with_host["id"]}
    assert activity.headers.get("message-type") == "FLEET_MDM_EVENT"
    assert "message-type" not in link.headers
    assert not host_links, "a global activity has no host row"
    assert found["policy pass"].headers["message-type"] == "FLEET_MDM_POLICY_MEMBERSHIP_EVENT"
    assert found["policy update"].json()["op"] == "u"
    assert found["query delete"].headers["message-type"] == "FLEET_MDM_QUERY_RESULT_EVENT"
    after = activity.json()["after"]
    assert to_epoch_ms(after["created_at"]) == host_activity.data["created_at"]
    assert after["created_at"].endswith("Z")  # TIMESTAMP(6): an ISO-8601 UTC string
    event = _mapped(activity)
    assert event["eventTimestamp"] == host_activity.data["created_at"]
    assert _mapped(found["policy update"])["eventTimestamp"] == policy.data["updated_at"]


def _next(model: TrafficModel, kind: str, where: Callable[[Action], bool] = lambda a: True) -> Action:
    while True:
        action = model.next(NOW)
        if action.kind == kind and where(action):
            return action


def _run(writer: TrafficWriter, action: Action) -> dict[str, Any]:
    return asyncio.run(writer.apply(action))


def _op(record: Record) -> str | None:
    body = record.json() or {}
    return body.get("op")


def _op_id(record: Record) -> tuple[str | None, int | None]:
    body = record.json() or {}
    row = body.get("after") or body.get("before") or {}
    return body.get("op"), row.get("id")


def _task(record: Record, row_id: int, status: str) -> bool:
    body = record.json() or {}
    after = body.get("after") or {}
    header = record.headers.get("message-type") == "TACTICAL_RMM_TASK_RESULT_EVENT"
    return header and after.get("id") == row_id and after.get("status") == status


def _membership(record: Record, host_id: int, passes: int) -> bool:
    after = (record.json() or {}).get("after") or {}
    return after.get("host_id") == host_id and after.get("passes") == passes
