"""The I/O half of the traffic generator: provision the estate (tool rows and reference documents)
and turn each `Action` into a write: a PostgreSQL or MariaDB statement (captured by Debezium), a
JetStream publish (forwarded by the bridge), or a recorded-format MeshCentral envelope on Kafka.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import orjson

from connectors.settings import BridgeSettings
from infra.tooldb import mariadb, postgres
from infra.tooldb.provision import provision
from infra.traffic import reference, rows
from infra.traffic.estate import Estate
from infra.traffic.model import Action
from infra.traffic.settings import TrafficSettings
from pipelines.records import MESSAGE_TYPE_HEADER
from topologies.topics import declare

if TYPE_CHECKING:
    from nats.aio.client import Client as NatsClient
    from nats.js.client import JetStreamContext

    from openframe_stream.settings import Settings


def _at(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, UTC)


def _json(value: Any) -> Any:
    from psycopg.types.json import Jsonb

    return None if value is None else Jsonb(value)


class TrafficWriter:
    def __init__(self, settings: Settings, estate: Estate, options: TrafficSettings, bridge: BridgeSettings) -> None:
        from confluent_kafka import Producer

        self._settings = settings
        self._estate = estate
        self._options = options
        self._bridge = bridge
        self._pg = postgres.connect(settings)
        self._maria = mariadb.connect(settings)
        self._producer = Producer({"bootstrap.servers": settings.kafka.bootstrap_servers, "enable.idempotence": True})
        self._mesh_topic = declare(settings.topics).meshcentral.name
        self._nats: NatsClient | None = None
        self._js: JetStreamContext | None = None
        self._rows: dict[int, int] = {}  # model handle -> database id
        self.agent_pk: dict[str, int] = {}
        self.task_pk: dict[tuple[str, str], int] = {}
        self.script_pk: dict[str, int] = {}
        self.policy_id: list[int] = []
        self.query_id: list[int] = []

    async def prepare(self, reference_data: bool = True, nats_stream: bool = True) -> None:
        """Tables, the estate's rows in both databases, then (unless told not to) the reference
        documents, the Kafka topics and the NATS stream. CDC tests need only the rows."""
        import nats

        from connectors.nats_bridge import ensure_stream
        from topologies.provision import ensure_topics

        provision(self._settings)
        self._prepare_tactical()
        self._prepare_fleet()
        if reference_data:
            reference.seed(self._settings, self._estate, self._options, self.agent_pk)
        if nats_stream:
            ensure_topics(
                self._settings.kafka.bootstrap_servers,
                declare(self._settings.topics),
                self._settings.topics.replication,
            )
            self._nats = await nats.connect(self._settings.nats.url)
            self._js = self._nats.jetstream()
            await ensure_stream(self._js, self._bridge)

    def _prepare_tactical(self) -> None:
        conn = self._pg
        for name in rows.SCRIPTS:
            found = conn.execute("SELECT id FROM scripts_script WHERE name = %s", (name,)).fetchone()
            if found is None:
                found = conn.execute("INSERT INTO scripts_script (name) VALUES (%s) RETURNING id", (name,)).fetchone()
            assert found is not None
            self.script_pk[name] = int(str(found[0]))
        for device in self._estate.devices:
            if device.tactical_agent_id is None:
                continue
            found = conn.execute(
                "INSERT INTO agents_agent (hostname, agent_id, plat, operating_system) VALUES (%s, %s, %s, %s) "
                "ON CONFLICT (agent_id) DO UPDATE SET hostname = EXCLUDED.hostname RETURNING id",
                (device.hostname, device.tactical_agent_id, device.platform, device.platform.title()),
            ).fetchone()
            assert found is not None
            pk = int(str(found[0]))
            self.agent_pk[device.tactical_agent_id] = pk
            for task in rows.TASKS:
                row = conn.execute(
                    "SELECT id FROM autotasks_automatedtask WHERE agent_id = %s AND name = %s", (pk, task)
                ).fetchone()
                if row is None:
                    row = conn.execute(
                        "INSERT INTO autotasks_automatedtask (agent_id, name) VALUES (%s, %s) RETURNING id", (pk, task)
                    ).fetchone()
                assert row is not None
                self.task_pk[(device.tactical_agent_id, task)] = int(str(row[0]))

    def _prepare_fleet(self) -> None:
        with self._maria.cursor() as cursor:
            for device in self._estate.devices:
                if device.fleet_host_id is not None:
                    cursor.execute(
                        "INSERT INTO hosts (id, hostname, platform, osquery_host_id, uuid) VALUES (%s, %s, %s, %s, %s) "
                        "ON DUPLICATE KEY UPDATE hostname = VALUES(hostname)",
                        (device.fleet_host_id, device.hostname, device.platform, device.machine_id, device.machine_id),
                    )
            for table, catalog, ids in (
                ("policies", rows.POLICIES, self.policy_id),
                ("queries", rows.QUERIES, self.query_id),
            ):
                for name, sql in catalog:
                    cursor.execute(f"SELECT id FROM {table} WHERE name = %s", (name,))
                    found = cursor.fetchone()
                    if found is None:
                        cursor.execute(
                            f"INSERT INTO {table} (name, query, description) VALUES (%s, %s, %s)", (name, sql, name)
                        )
                        found = (cursor.lastrowid,)
                    ids.append(int(found[0]))

    async def apply(self, action: Action) -> dict[str, Any]:
        """Perform one action; returns the ids it wrote (for tests and logs)."""
        kind, data = action.kind, action.data
        if kind.startswith("tactical."):
            return self._tactical(action)
        if kind.startswith("fleet."):
            return self._fleet(action)
        if kind.startswith("agent."):
            assert self._js is not None, "prepare() first"
            subject = self._bridge.subject_prefix + data["subject"]
            ack = await self._js.publish(subject, orjson.dumps(data["payload"]))
            return {"subject": subject, "seq": ack.seq, "executionId": data["payload"]["executionId"]}
        if kind == "mesh.event":
            key, value = rows.mesh_envelope(data, int(datetime.now(UTC).timestamp() * 1000))
            self._producer.produce(
                self._mesh_topic, key=key, value=value, headers=[(MESSAGE_TYPE_HEADER, b"MESHCENTRAL_EVENT")]
            )
            self._producer.poll(0)
            return {"oid": data["_id"]}
        raise ValueError(f"unknown action {kind}")

    def _tactical(self, action: Action) -> dict[str, Any]:
        conn, data, kind = self._pg, action.data, action.kind
        if kind == "tactical.audit":
            found = conn.execute(
                "INSERT INTO logs_auditlog (username, agent, agent_id, entry_time, action, object_type, before_value, "
                "after_value, message, debug_info) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s) RETURNING id",
                (data["username"], data["agent"], data["agent_id"], _at(data["entry_time"]), data["action"],
                 data["object_type"], _json(data["before_value"]), _json(data["after_value"]), data["message"],
                 _json(data["debug_info"])),
            ).fetchone()  # fmt: skip
            return self._remember(action, found)
        if kind == "tactical.history.start":
            script = self.script_pk.get(data["script"]) if data["script"] else None
            found = conn.execute(
                "INSERT INTO agents_agenthistory (agent_id, time, type, command, username, script_id) "
                "VALUES (%s, %s, %s, %s, %s, %s) RETURNING id",
                (
                    self.agent_pk[data["agent"]],
                    _at(data["time"]),
                    data["type"],
                    data["command"],
                    data["username"],
                    script,
                ),
            ).fetchone()
            return self._remember(action, found)
        if kind == "tactical.history.finish":
            row_id = self._rows.pop(action.target or 0)
            if "results" in data:
                conn.execute("UPDATE agents_agenthistory SET results = %s WHERE id = %s", (data["results"], row_id))
            else:
                conn.execute(
                    "UPDATE agents_agenthistory SET script_results = %s WHERE id = %s",
                    (_json(data["script_results"]), row_id),
                )
            return {"id": row_id}
        if kind == "tactical.task":
            agent = data["agent"]
            values = (
                *(self.agent_pk[agent], self.task_pk[(agent, data["task"])], data["retcode"], data["stdout"]),
                *(data["stderr"], data["execution_time"], _at(data["last_run"]), data["status"], data["sync_status"]),
            )
            found = conn.execute(
                "INSERT INTO autotasks_taskresult (agent_id, task_id, retcode, stdout, stderr, execution_time, "
                "last_run, status, sync_status) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s) "
                "ON CONFLICT (agent_id, task_id) DO UPDATE SET retcode = EXCLUDED.retcode, stdout = EXCLUDED.stdout, "
                "stderr = EXCLUDED.stderr, execution_time = EXCLUDED.execution_time, last_run = EXCLUDED.last_run, "
                "status = EXCLUDED.status, sync_status = EXCLUDED.sync_status RETURNING id",
                values,
            ).fetchone()
            return {"id": found[0] if found else None}
        if kind == "tactical.audit.delete":
            row_id = self._rows.pop(action.target or 0)
            conn.execute("DELETE FROM logs_auditlog WHERE id = %s", (row_id,))
            return {"id": row_id}
        raise ValueError(f"unknown action {kind}")

    def _fleet(self, action: Action) -> dict[str, Any]:
        data, kind = action.data, action.kind
        with self._maria.cursor() as cursor:
            if kind == "fleet.activity":
                self._maria.begin()  # Fleet writes an activity and its host link in one transaction
                cursor.execute(
                    "INSERT INTO activities (created_at, user_id, user_name, user_email, activity_type, details, "
                    "fleet_initiated, host_only) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
                    (_at(data["created_at"]), data["user_id"], data["user_name"], data["user_email"],
                     data["activity_type"], orjson.dumps(data["details"]), data["fleet_initiated"], data["host_only"]),
                )  # fmt: skip
                activity_id = int(cursor.lastrowid)
                if data["host_id"] is not None:
                    cursor.execute(
                        "INSERT INTO host_activities (host_id, activity_id) VALUES (%s, %s)",
                        (data["host_id"], activity_id),
                    )
                self._maria.commit()
                return self._remember(action, (activity_id,)) | {"host_id": data["host_id"]}
            if kind == "fleet.query_result":
                query_id = self.query_id[data["query"]]
                if data["replace"]:
                    cursor.execute(
                        "DELETE FROM query_results WHERE query_id = %s AND host_id = %s", (query_id, data["host_id"])
                    )
                cursor.execute(
                    "INSERT INTO query_results (query_id, host_id, osquery_version, error, last_fetched, data) "
                    "VALUES (%s, %s, %s, %s, %s, %s)",
                    (query_id, data["host_id"], data["osquery_version"], data["error"], _at(data["last_fetched"]),
                     None if data["data"] is None else orjson.dumps(data["data"])),
                )  # fmt: skip
                return {"id": cursor.lastrowid}
            if kind == "fleet.policy":
                policy_id = self.policy_id[data["policy"]]
                cursor.execute(
                    "INSERT INTO policy_membership (policy_id, host_id, passes, updated_at, automation_iteration) "
                    "VALUES (%s, %s, %s, %s, %s) ON DUPLICATE KEY UPDATE passes = VALUES(passes), "
                    "updated_at = VALUES(updated_at), automation_iteration = VALUES(automation_iteration)",
                    (
                        policy_id,
                        data["host_id"],
                        int(data["passes"]),
                        _at(data["updated_at"]),
                        data["automation_iteration"],
                    ),
                )
                return {"policy_id": policy_id, "host_id": data["host_id"]}
            if kind == "fleet.activity.delete":
                row_id = self._rows.pop(action.target or 0)
                cursor.execute("DELETE FROM activities WHERE id = %s", (row_id,))
                return {"id": row_id}
        raise ValueError(f"unknown action {kind}")

    def _remember(self, action: Action, found: Any) -> dict[str, Any]:
        row_id = int(found[0])
        if action.handle is not None:
            self._rows[action.handle] = row_id
        return {"id": row_id}

    async def close(self) -> None:
        self._producer.flush(30)
        if self._nats is not None:
            await self._nats.close()
        self._pg.close()
        self._maria.close()
