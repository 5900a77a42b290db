"""`reference sync` on the live stack: MongoDB documents -> compacted topics in Debezium MongoDB
format, only changes on later rounds, a tombstone when a document goes."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import orjson
import pymongo
import pytest
from confluent_kafka.admin import AdminClient, ConfigResource

from connectors.reference_sync import ReferenceSync
from openframe_stream.settings import MongoSettings, Settings
from tests.integration.connectors.conftest import Record, TopicReader
from topologies.topics import declare

CONNECTED = datetime(2026, 11, 20, 9, 15, 51, 456000, tzinfo=UTC)


@pytest.fixture
def scoped(isolated: Settings, unique: str) -> Iterator[Settings]:
    settings = isolated.model_copy(update={"mongo": MongoSettings(uri=isolated.mongo.uri, database=f"it_ref_{unique}")})
    yield settings
    client: pymongo.MongoClient[dict[str, object]] = pymongo.MongoClient(settings.mongo.uri)
    client.drop_database(settings.mongo.database)
    client.close()


def test_round_trip_changes_only_and_tombstones(scoped: Settings) -> None:
    client: pymongo.MongoClient[dict[str, object]] = pymongo.MongoClient(scoped.mongo.uri, tz_aware=True)
    db = client[scoped.mongo.database]
    db["organizations"].insert_one({"organizationId": "org-1", "name": "Acme Dental", "tenantId": "oss"})
    db["machines"].insert_many(
        [
            {"machineId": "m-1", "hostname": "WS-ACME-01", "organizationId": "org-1", "tenantId": "oss"},
            {"machineId": "m-2", "hostname": "WS-ACME-02", "organizationId": "org-1", "tenantId": "oss"},
        ]
    )
    db["tool_connections"].insert_one(
        {"machineId": "m-1", "toolType": "FLEET", "agentToolId": "31", "connectedAt": CONNECTED, "tenantId": "oss"}
    )
    topics = declare(scoped.topics)
    names = [topics.machines.name, topics.organizations.name, topics.tool_connections.name]
    reader = TopicReader(scoped, names)
    try:
        syncer = ReferenceSync(scoped)
        first = syncer.run_once()
        assert (first.sent, first.tombstones, first.unchanged) == (4, 0, 0)
        records = reader.until(lambda rs: len(rs) >= 4, 30, "first snapshot")
        assert syncer.run_once().sent == 0  # nothing changed

        db["machines"].update_one({"machineId": "m-2"}, {"$set": {"hostname": "WS-ACME-02B"}})
        db["machines"].delete_one({"machineId": "m-1"})
        second = syncer.run_once()
        assert (second.sent, second.tombstones) == (1, 1)
        records = reader.until(lambda rs: len(rs) >= 6, 30, "changes")
        # A fresh process reads the topics back and finds nothing to send.
        fresh = ReferenceSync(scoped).run_once()
        assert (fresh.sent, fresh.tombstones, fresh.unchanged) == (0, 0, 3)
        reader.poll(1.0)
    finally:
        reader.close()
        client.close()

    assert len(reader.records) == 6
    by_key = {(r.topic, r.key): r for r in records[:4]}
    connection = by_key[(topics.tool_connections.name, b"FLEET:31")]
    organization = by_key[(topics.organizations.name, b"org-1")]
    machine = by_key[(topics.machines.name, b"m-1")]
    _assert_envelope(connection, "tool_connections", scoped.mongo.database)
    _assert_envelope(organization, "organizations", scoped.mongo.database)
    after = orjson.loads(connection.json()["after"])
    assert after["connectedAt"] == {"$date": 1795166151456} and "$oid" in after["_id"]
    assert orjson.loads(machine.json()["after"])["hostname"] == "WS-ACME-01"
    tombstone = next(r for r in records[4:] if r.value is None)
    update = next(r for r in records[4:] if r.value is not None)
    assert (tombstone.topic, tombstone.key) == (topics.machines.name, b"m-1")
    assert update.key == b"m-2" and orjson.loads(update.json()["after"])["hostname"] == "WS-ACME-02B"
    admin = AdminClient({"bootstrap.servers": scoped.kafka.bootstrap_servers})
    resource = ConfigResource("topic", topics.machines.name)
    config = admin.describe_configs([resource])[resource].result(timeout=30)
    assert config["cleanup.policy"].value == "compact"


def _assert_envelope(record: Record, collection: str, db: str) -> None:
    value = record.json()
    assert value["before"] is None and value["op"] == "r" and isinstance(value["after"], str)
    assert value["source"]["connector"] == "mongodb" and value["source"]["snapshot"] == "true"
    assert value["source"]["collection"] == collection and value["source"]["db"] == db
    assert value["source"]["name"] == "openframe" and value["ts_ms"] == value["source"]["ts_ms"]
