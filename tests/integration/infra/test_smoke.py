"""One cheap round trip through each real server, with its real Python client."""

from __future__ import annotations

import asyncio
import time
import uuid

import orjson
import pytest
import requests
from confluent_kafka import Consumer, Producer
from confluent_kafka.admin import AdminClient, NewTopic

from infra.health import wait_until
from openframe_stream.settings import Settings

KAFKA20_FACTORY = "org.apache.pinot.plugin.stream.kafka20.KafkaConsumerFactory"


def _create_topic(settings: Settings, name: str, partitions: int = 1) -> None:
    admin = AdminClient({"bootstrap.servers": settings.kafka.bootstrap_servers})
    for future in admin.create_topics([NewTopic(name, partitions, 1)]).values():
        future.result(timeout=30)


def _consume(settings: Settings, topic: str, want: int, timeout: float = 60.0) -> list[bytes]:
    consumer = Consumer(
        {
            "bootstrap.servers": settings.kafka.bootstrap_servers,
            "group.id": f"smoke-{uuid.uuid4().hex[:6]}",
            "auto.offset.reset": "earliest",
        }
    )
    consumer.subscribe([topic])
    values: list[bytes] = []
    deadline = time.monotonic() + timeout
    try:
        while len(values) < want and time.monotonic() < deadline:
            message = consumer.poll(0.5)
            if message is None or message.error():
                continue
            value = message.value()
            if value is not None:
                values.append(value)
    finally:
        consumer.close()
    return values


def test_kafka_produce_consume(live_stack: Settings, unique: str) -> None:
    topic = f"smoke-kafka-{unique}"
    _create_topic(live_stack, topic)
    producer = Producer({"bootstrap.servers": live_stack.kafka.bootstrap_servers, "enable.idempotence": True})
    for i in range(5):
        producer.produce(topic, key=str(i), value=orjson.dumps({"n": i}))
    assert producer.flush(30) == 0
    values = _consume(live_stack, topic, want=5)
    assert sorted(orjson.loads(v)["n"] for v in values) == [0, 1, 2, 3, 4]


def _apply_connector(settings: Settings, name: str, config: dict[str, str]) -> None:
    response = requests.put(f"{settings.connect.url}/connectors/{name}/config", json=config, timeout=30)
    assert response.status_code in (200, 201), response.text

    def running() -> bool:
        state = requests.get(f"{settings.connect.url}/connectors/{name}/status", timeout=5)
        if not state.ok:
            return False
        body = state.json()
        tasks = body.get("tasks", [])
        failed = [t for t in tasks if t["state"] == "FAILED"]
        assert not failed, failed[0].get("trace", "")[:2000]
        return body["connector"]["state"] == "RUNNING" and bool(tasks) and tasks[0]["state"] == "RUNNING"

    wait_until(running, timeout=90, what=f"connector {name}")


def _delete_connector(settings: Settings, name: str) -> None:
    requests.delete(f"{settings.connect.url}/connectors/{name}", timeout=30)


def test_debezium_postgres_streams_an_inserted_row(live_stack: Settings, unique: str) -> None:
    import psycopg

    pg = live_stack.postgres
    table = f"smoke_{unique}"
    with psycopg.connect(host=pg.host, port=pg.port, user=pg.user, dbname=pg.database, autocommit=True) as conn:
        conn.execute(f"CREATE TABLE {table} (id serial PRIMARY KEY, note text)")
        conn.execute(f"GRANT SELECT ON {table} TO {pg.cdc_user}")
        conn.execute(f"CREATE PUBLICATION pub_{unique} FOR TABLE {table}")
    name = f"smoke-pg-{unique}"
    _apply_connector(
        live_stack,
        name,
        {
            "connector.class": "io.debezium.connector.postgresql.PostgresConnector",
            "database.hostname": pg.host,
            "database.port": str(pg.port),
            "database.user": pg.cdc_user,
            "database.password": pg.cdc_password,
            "database.dbname": pg.database,
            "topic.prefix": f"smoke_pg_{unique}",
            "table.include.list": f"public.{table}",
            "plugin.name": "pgoutput",
            "slot.name": f"slot_{unique}",
            "publication.name": f"pub_{unique}",
            "publication.autocreate.mode": "disabled",
            "slot.drop.on.stop": "true",
        },
    )
    try:
        with psycopg.connect(host=pg.host, port=pg.port, user=pg.user, dbname=pg.database, autocommit=True) as c:
            c.execute(f"INSERT INTO {table} (note) VALUES ('hello from postgres')")
        values = _consume(live_stack, f"smoke_pg_{unique}.public.{table}", want=1, timeout=90)
        assert values, "no change event arrived"
        envelope = orjson.loads(values[0])
        assert envelope["op"] in ("c", "r")
        assert envelope["after"]["note"] == "hello from postgres"
        assert envelope["source"]["connector"] == "postgresql"
    finally:
        _delete_connector(live_stack, name)


def test_debezium_mariadb_streams_an_inserted_row(live_stack: Settings, unique: str) -> None:
    import pymysql

    m = live_stack.mariadb
    table = f"smoke_{unique}"
    conn = pymysql.connect(
        host=m.host, port=m.port, user=m.user, password=m.password, database=m.database, autocommit=True
    )
    with conn.cursor() as cursor:
        cursor.execute(f"CREATE TABLE {table} (id INT AUTO_INCREMENT PRIMARY KEY, note VARCHAR(64))")
    name = f"smoke-maria-{unique}"
    _apply_connector(
        live_stack,
        name,
        {
            "connector.class": "io.debezium.connector.mariadb.MariaDbConnector",
            "database.hostname": m.host,
            "database.port": str(m.port),
            "database.user": m.cdc_user,
            "database.password": m.cdc_password,
            "database.server.id": str(5400 + int(unique[:3], 16) % 1000),
            "topic.prefix": f"smoke_maria_{unique}",
            "database.include.list": m.database,
            "table.include.list": f"{m.database}.{table}",
            "schema.history.internal.kafka.bootstrap.servers": live_stack.kafka.bootstrap_servers,
            "schema.history.internal.kafka.topic": f"smoke_schemahistory_{unique}",
            "include.schema.changes": "false",
            "database.ssl.mode": "disable",
        },
    )
    try:
        with conn.cursor() as cursor:
            cursor.execute(f"INSERT INTO {table} (note) VALUES ('hello from mariadb')")
        values = _consume(live_stack, f"smoke_maria_{unique}.{m.database}.{table}", want=1, timeout=90)
        assert values, "no change event arrived"
        envelope = orjson.loads(values[0])
        assert envelope["after"]["note"] == "hello from mariadb"
        assert envelope["source"]["connector"] == "mariadb"
    finally:
        _delete_connector(live_stack, name)
        conn.close()


def test_debezium_mongodb_config_validates_on_connect(live_stack: Settings) -> None:
    """Live MongoDB CDC needs a real replica set (see README); the plugin is shipped and validated."""
    cls = "io.debezium.connector.mongodb.MongoDbConnector"
    config = {
        "name": "meshcentral-events",
        "connector.class": cls,
        "mongodb.connection.string": "mongodb://127.0.0.1:27017/?replicaSet=rs0",
        "topic.prefix": "meshcentral",
        "collection.include.list": "meshcentral.events",
    }
    response = requests.put(
        f"{live_stack.connect.url}/connector-plugins/{cls}/config/validate", json=config, timeout=30
    )
    assert response.ok, response.text
    body = response.json()
    assert body["name"] == cls
    assert body["error_count"] == 0, [c["value"] for c in body["configs"] if c["value"]["errors"]]
    bad = dict(config, **{"topic.prefix": ""})
    response = requests.put(f"{live_stack.connect.url}/connector-plugins/{cls}/config/validate", json=bad, timeout=30)
    assert response.json()["error_count"] > 0


def test_cassandra_cql_round_trip(live_stack: Settings, unique: str) -> None:
    from cassandra.cluster import Cluster

    c = live_stack.cassandra
    cluster = Cluster(list(c.hosts), port=c.port)
    try:
        session = cluster.connect()
        session.execute(
            "CREATE KEYSPACE IF NOT EXISTS smoke WITH replication = {'class':'SimpleStrategy','replication_factor':1}"
        )
        session.execute(f"CREATE TABLE smoke.t_{unique} (k text PRIMARY KEY, v int)")
        session.execute(f"INSERT INTO smoke.t_{unique} (k, v) VALUES (%s, %s)", ("a", 42))
        row = session.execute(f"SELECT v FROM smoke.t_{unique} WHERE k = %s", ("a",)).one()
        assert row.v == 42
        session.execute(f"DROP TABLE smoke.t_{unique}")
    finally:
        cluster.shutdown()


def test_pinot_realtime_table_reads_back_kafka_rows(live_stack: Settings, unique: str) -> None:
    from pinotdb import connect
    from pinotdb.exceptions import DatabaseError

    p = live_stack.pinot
    name = f"smoke_{unique}"
    _create_topic(live_stack, name)
    schema = {
        "schemaName": name,
        "dimensionFieldSpecs": [{"name": "id", "dataType": "STRING"}, {"name": "note", "dataType": "STRING"}],
        "dateTimeFieldSpecs": [
            {"name": "ts", "dataType": "LONG", "format": "1:MILLISECONDS:EPOCH", "granularity": "1:MILLISECONDS"}
        ],
    }
    table = {
        "tableName": name,
        "tableType": "REALTIME",
        "segmentsConfig": {"timeColumnName": "ts", "replication": "1", "schemaName": name, "replicasPerPartition": "1"},
        "tenants": {},
        "metadata": {},
        "tableIndexConfig": {
            "loadMode": "MMAP",
            "streamConfigs": {
                "streamType": "kafka",
                "stream.kafka.consumer.type": "lowlevel",
                "stream.kafka.topic.name": name,
                "stream.kafka.broker.list": live_stack.kafka.bootstrap_servers,
                "stream.kafka.consumer.factory.class.name": KAFKA20_FACTORY,
                "stream.kafka.decoder.class.name": "org.apache.pinot.plugin.stream.kafka.KafkaJSONMessageDecoder",
                "stream.kafka.consumer.prop.auto.offset.reset": "smallest",
            },
        },
    }
    assert requests.post(f"{p.controller_url}/schemas", json=schema, timeout=30).ok
    assert requests.post(f"{p.controller_url}/tables", json=table, timeout=30).ok
    try:
        producer = Producer({"bootstrap.servers": live_stack.kafka.bootstrap_servers})
        now = int(time.time() * 1000)
        for i in range(7):
            producer.produce(name, value=orjson.dumps({"id": f"r{i}", "note": "hello pinot", "ts": now + i}))
        assert producer.flush(30) == 0
        cursor = connect(host=p.broker_host, port=p.broker_port, path="/query/sql", scheme="http").cursor()

        def count() -> int:
            # Until the broker has routed the new table it answers BrokerResourceMissingError, and until
            # the consuming segment is online no rows at all: both mean "not yet".
            try:
                cursor.execute(f"SELECT COUNT(*) FROM {name} WHERE note = 'hello pinot'")
            except DatabaseError:
                return 0
            row = cursor.fetchone()
            return int(row[0]) if row else 0

        wait_until(lambda: count() == 7, timeout=60, what="pinot rows")
    finally:
        requests.delete(f"{p.controller_url}/tables/{name}?type=realtime", timeout=30)
        requests.delete(f"{p.controller_url}/schemas/{name}", timeout=30)


def test_pymongo_crud_round_trip(live_stack: Settings, unique: str) -> None:
    import pymongo

    client: pymongo.MongoClient[dict[str, object]] = pymongo.MongoClient(
        live_stack.mongo.uri, serverSelectionTimeoutMS=5000
    )
    try:
        coll = client["smoke"][f"c_{unique}"]
        coll.insert_one({"_id": "m1", "hostname": "WS-01"})
        coll.update_one({"_id": "m1"}, {"$set": {"hostname": "WS-02"}})
        assert coll.find_one({"_id": "m1"}) == {"_id": "m1", "hostname": "WS-02"}
        assert coll.delete_one({"_id": "m1"}).deleted_count == 1
        assert coll.count_documents({}) == 0
        coll.drop()
    finally:
        client.close()


def test_nats_jetstream_publish_and_durable_consume(live_stack: Settings, unique: str) -> None:
    import nats

    async def scenario() -> list[bytes]:
        nc = await nats.connect(live_stack.nats.url)
        try:
            js = nc.jetstream()
            await js.add_stream(name=f"SMOKE_{unique}", subjects=[f"smoke.{unique}.>"])
            for i in range(3):
                ack = await js.publish(f"smoke.{unique}.result", f"m{i}".encode())
                assert ack.seq == i + 1
            sub = await js.pull_subscribe(f"smoke.{unique}.>", durable=f"dur_{unique}")
            first = await sub.fetch(2, timeout=10)
            for msg in first:
                await msg.ack()
            await sub.unsubscribe()
            # A new subscription on the same durable resumes after the acked messages.
            again = await js.pull_subscribe(f"smoke.{unique}.>", durable=f"dur_{unique}")
            rest = await again.fetch(1, timeout=10)
            for msg in rest:
                await msg.ack()
            await js.delete_stream(f"SMOKE_{unique}")
            return [m.data for m in first + rest]
        finally:
            await nc.close()

    assert asyncio.run(scenario()) == [b"m0", b"m1", b"m2"]


@pytest.mark.parametrize("service", ["postgres"])
def test_down_keeps_data_and_up_restarts_only_what_is_down(live_stack: Settings, unique: str, service: str) -> None:
    import psycopg

    from infra import stack

    pg = live_stack.postgres
    with psycopg.connect(host=pg.host, port=pg.port, user=pg.user, dbname=pg.database, autocommit=True) as conn:
        conn.execute(f"CREATE TABLE keep_{unique} (v int)")
        conn.execute(f"INSERT INTO keep_{unique} VALUES (7)")
    assert stack.down(live_stack, [service]) == [service]
    outcomes = {o.name: o for o in stack.up(live_stack, [service])}
    assert outcomes[service].ok and outcomes[service].started
    with psycopg.connect(host=pg.host, port=pg.port, user=pg.user, dbname=pg.database, autocommit=True) as conn:
        assert conn.execute(f"SELECT v FROM keep_{unique}").fetchone() == (7,)
        conn.execute(f"DROP TABLE keep_{unique}")
