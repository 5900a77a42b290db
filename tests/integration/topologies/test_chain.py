"""The whole chain on the real stack: rows inserted, updated and deleted in the tool databases go
through Debezium, agent results through NATS JetStream and the bridge, MeshCentral envelopes
straight into Kafka, and all of them come out enriched in Cassandra and in Pinot.

It uses the real topic names (the connectors' own), so its worker starts at the log end
(`auto_offset_reset=latest`) with its own group, keyspace and Pinot table.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest

from infra.health import wait_until
from openframe_stream.settings import Settings
from pipelines.ids import tool_event_id
from tests.integration.topologies.harness import REPO, Pipeline, mongo_envelope, new_pipeline


@pytest.fixture(scope="module")
def chain(live_stack: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Pipeline, str]]:
    tag = uuid.uuid4().hex[:6]
    p = new_pipeline(tmp_path_factory.mktemp("chain"), OFS_TOPICS__PREFIX="", OFS_WORKER__AUTO_OFFSET_RESET="latest")
    cli = [sys.executable, "-m", "openframe_stream"]
    # Earlier tests restart PostgreSQL; a connector task may have failed with it: restart failed tasks.
    for step in (["tooldb", "init"], ["connectors", "apply"], ["connectors", "restart"]):
        subprocess.run([*cli, *step], check=True, cwd=REPO, capture_output=True, timeout=300)

    def connectors_running() -> bool:
        import requests

        names = ("tactical-rmm-postgres", "fleet-mariadb")
        states = [requests.get(f"{live_stack.connect.url}/connectors/{n}/status", timeout=5).json() for n in names]
        return all(st["connector"]["state"] == "RUNNING" and st["tasks"] and
                   all(t["state"] == "RUNNING" for t in st["tasks"]) for st in states)

    wait_until(connectors_running, timeout=120, what="CDC connectors running", interval=1.0)
    p.start()
    bridge = subprocess.Popen(  # noqa: S603
        [*cli, "bridge", "--stream", f"CHAIN{tag}", "--durable", f"chain{tag}", "--subject-prefix", f"chain{tag}.",
         "--metrics-port", "0"],
        cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )
    try:
        # The worker starts at the log end: wait until it is positioned, by a probe event it must store.
        probe = dict(json.loads((REPO.parent / "shared/fixtures/examples/agent-script-result.nats.json").read_text())
                     ["payload"], executionId=f"probe-{tag}")
        probe_id = tool_event_id("rmm", "events", f"probe-{tag}:{probe['machineId']}")

        def probe_stored() -> bool:
            p.send(p.topics.agent_results.name, probe, probe["machineId"], {"message-type": "SCRIPT_EXECUTED"})
            p.flush()
            return p.row(probe_id) is not None

        wait_until(probe_stored, timeout=120, what="worker positioned", interval=1.0)
        yield p, tag
    finally:
        os.killpg(bridge.pid, signal.SIGTERM)
        bridge.wait(timeout=30)
        p.cleanup()


def _seed_reference(p: Pipeline, tag: str, host_id: int) -> dict[str, str]:
    """Reference rows for this run's agents, in MongoDB and (via `reference sync`) in the topics."""
    import pymongo

    org, machine = f"org-{tag}", f"m-{tag}"
    agents = {"FLEET": str(host_id), "TACTICAL": f"TRMM-{tag}", "MESHCENTRAL": f"node//{tag}"}
    client: pymongo.MongoClient[dict[str, object]] = pymongo.MongoClient(p.settings.mongo.uri)
    try:
        db = client[p.settings.mongo.database]
        db.organizations.insert_one({"organizationId": org, "name": f"Org {tag}", "tenantId": "oss"})
        db.machines.insert_one({"machineId": machine, "hostname": f"HOST-{tag}", "organizationId": org,
                                "tenantId": "oss"})
        for tool, agent in agents.items():
            db.tool_connections.insert_one({"machineId": machine, "toolType": tool, "agentToolId": agent,
                                            "connectedAt": dt.datetime.now(dt.UTC), "tenantId": "oss"})
    finally:
        client.close()
    subprocess.run([sys.executable, "-m", "openframe_stream", "reference", "sync", "--once"], check=True, cwd=REPO,
                   capture_output=True, timeout=120)
    return agents


def test_tool_changes_flow_through_cdc_nats_and_kafka_to_both_stores(chain: tuple[Pipeline, str]) -> None:
    import psycopg
    import pymysql

    p, tag = chain
    s = p.settings
    host_id = 700_000 + int(tag[:4], 16)
    _seed_reference(p, tag, host_id)
    expected: dict[str, str] = {}  # toolEventId -> expected event type

    with psycopg.connect(host=s.postgres.host, port=s.postgres.port, user=s.postgres.user,
                         dbname=s.postgres.database, autocommit=True) as pg:
        login = pg.execute(
            "INSERT INTO logs_auditlog (username, agent_id, action, object_type, message) "
            "VALUES ('tech1', %s, 'login', 'user', 'tech1 logged in') RETURNING id", (f"TRMM-{tag}",),
        ).fetchone()[0]
        gone = pg.execute(
            "INSERT INTO logs_auditlog (username, agent_id, action, object_type, message) "
            "VALUES ('tech1', %s, 'modify', 'agent', 'edited agent') RETURNING id", (f"TRMM-{tag}",),
        ).fetchone()[0]
        pg.execute("UPDATE logs_auditlog SET message = 'tech1 logged in (MFA)' WHERE id = %s", (login,))
        pg.execute("DELETE FROM logs_auditlog WHERE id = %s", (gone,))
    expected[tool_event_id("tactical", "logs_auditlog", str(login))] = "LOGIN"
    expected[tool_event_id("tactical", "logs_auditlog", str(gone))] = "DEVICE_UPDATED"  # deletes keep history

    maria = pymysql.connect(host=s.mariadb.host, port=s.mariadb.port, user=s.mariadb.user,
                            password=s.mariadb.password, database=s.mariadb.database, autocommit=False)
    try:
        with maria.cursor() as cur:
            cur.execute("INSERT INTO activities (user_name, activity_type, details) VALUES ('Ana', 'ran_script', %s)",
                        (json.dumps({"script_name": "restart.ps1"}),))
            activity = cur.lastrowid
            cur.execute("INSERT INTO host_activities (host_id, activity_id) VALUES (%s, %s)", (host_id, activity))
            cur.execute("INSERT INTO policies (name, query, description) VALUES (%s, 'SELECT 1', '')",
                        (f"disk-encryption-{tag}",))
            policy = cur.lastrowid
            cur.execute("INSERT INTO policy_membership (policy_id, host_id, passes) VALUES (%s, %s, 1)",
                        (policy, host_id))
        maria.commit()
        with maria.cursor() as cur:
            cur.execute("UPDATE policy_membership SET passes = 0 WHERE policy_id = %s AND host_id = %s",
                        (policy, host_id))
        maria.commit()
    finally:
        maria.close()
    expected[tool_event_id("fleet", "activities", str(activity))] = "SCRIPT_EXECUTED"
    expected[tool_event_id("fleet", "policy_membership", f"{policy}_{host_id}")] = "POLICY_VIOLATION"

    async def publish() -> None:
        import nats

        nc = await nats.connect(s.nats.url)
        try:
            payload = {"tenantId": "oss", "machineId": f"m-{tag}", "executionId": f"x-{tag}", "scriptId": "s1",
                       "stdout": "", "stderr": "boom", "exitCode": 2, "executionTimeMs": 10, "timedOut": False,
                       "error": None, "eventTimestamp": int(dt.datetime.now(dt.UTC).timestamp() * 1000)}
            await nc.jetstream().publish(f"chain{tag}.machine.m-{tag}.script-execution.result", orjson.dumps(payload))
        finally:
            await nc.close()

    asyncio.run(publish())
    expected[tool_event_id("rmm", "events", f"x-{tag}:m-{tag}")] = "SCRIPT_FAILED"

    oid = uuid.uuid4().hex[:24]
    doc = {"_id": {"$oid": oid}, "etype": "user", "action": "login", "nodeid": f"node//{tag}", "domain": "",
           "msg": "Account login", "time": {"$date": int(dt.datetime.now(dt.UTC).timestamp() * 1000)}}
    envelope = orjson.loads(mongo_envelope("events", doc))
    envelope["source"].update(name="meshcentral", db="meshcentral", snapshot="false")
    envelope["op"] = "c"
    p.send(p.topics.meshcentral.name, envelope, oid, {"message-type": "MESHCENTRAL_EVENT"})
    p.flush()
    expected[tool_event_id("meshcentral", "events", oid)] = "LOGIN"

    def incomplete() -> dict[str, str]:
        rows = {i: p.row(i) for i in expected}
        return {expected[i]: ("missing" if r is None else f"device={r.device_id}")
                for i, r in rows.items() if r is None or r.device_id != f"m-{tag}"}

    try:
        wait_until(lambda: not incomplete(), timeout=180, what="every change enriched in Cassandra", interval=1.0)
    except TimeoutError as exc:
        raise AssertionError(f"not enriched in Cassandra: {incomplete()}") from exc
    for event_id, event_type in expected.items():
        row = p.row(event_id)
        assert row.event_type == event_type, (event_id, row.event_type)
        assert row.organization_name == f"Org {tag}" and row.hostname == f"HOST-{tag}"
    # The insert enriched first; its UPDATE is a later CDC record and may still be on its way.
    login_id = tool_event_id("tactical", "logs_auditlog", str(login))
    wait_until(lambda: p.row(login_id).summary == "tech1 logged in (MFA)", timeout=60, what="the update applied",
               interval=0.5)
    assert p.row(login_id).summary == "tech1 logged in (MFA)"  # the update replaced the row
    visible = list(expected)
    ids = ", ".join(f"'{i}'" for i in visible)
    table = s.pinot_sink.table
    wait_until(lambda: p.pinot(f"SELECT COUNT(*) FROM {table} WHERE toolEventId IN ({ids}) "
                               f"AND organizationName = 'Org {tag}'") == [[len(visible)]],
               timeout=120, what="every event enriched in Pinot", interval=1.0)
    flip = (f"SELECT eventType FROM {table} WHERE toolEventId = "
            f"'{tool_event_id('fleet', 'policy_membership', f'{policy}_{host_id}')}'")
    wait_until(lambda: p.pinot(flip) == [["POLICY_VIOLATION"]], timeout=60, what="the policy flip upserted",
               interval=0.5)
    assert p.pinot(flip) == [["POLICY_VIOLATION"]]  # upserted: one row, the latest version
    assert Path(p.log_path).exists()
