"""An isolated pipeline on the live stack: its own topic prefix, consumer group, keyspace and Pinot
table, so tests never see the demo's data or each other's."""

from __future__ import annotations

import datetime as dt
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
import requests
from confluent_kafka import Producer

from infra.health import http_ok, wait_until
from openframe_stream.settings import Settings
from pipelines.records import Mapped, RawRecord
from tests.fixtures.mapper_cases.common import example
from topologies.topics import Topics, declare

REPO = Path(__file__).resolve().parents[3]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def isolated_env(tag: str) -> dict[str, str]:
    return {
        "OFS_TOPICS__PREFIX": f"t{tag}.",
        "OFS_WORKER__APP_ID": f"ofs-test-{tag}",
        "OFS_WORKER__WEB_PORT": str(free_port()),
        "OFS_WORKER__LAG_INTERVAL": "1",
        "OFS_CASSANDRA__KEYSPACE": f"ofs_test_{tag}",
        "OFS_PINOT_SINK__TABLE": f"logs_{tag}",
        "OFS_FLEET_JOIN__JOIN_WAIT_SECONDS": "1",
        "OFS_ENRICH__RETRY_INTERVAL_SECONDS": "0.5",
    }


def mongo_envelope(collection: str, doc: dict[str, Any]) -> bytes:
    now = int(time.time() * 1000)
    return orjson.dumps({
        "before": None, "after": orjson.dumps(doc).decode(), "op": "r", "ts_ms": now,
        "source": {"connector": "mongodb", "name": "openframe", "db": "openframe", "collection": collection,
                   "snapshot": "true", "ts_ms": now},
    })


@dataclass
class Pipeline:
    settings: Settings
    env: dict[str, str]
    topics: Topics
    log_path: Path
    proc: subprocess.Popen[bytes] | None = None
    producer: Producer = field(init=False)
    _cluster: Any = None

    def __post_init__(self) -> None:
        self.producer = Producer({"bootstrap.servers": self.settings.kafka.bootstrap_servers,
                                  "enable.idempotence": True, "linger.ms": 5})

    # ---- the worker process

    def start(self) -> None:
        env = dict(os.environ, **self.env)
        out = self.log_path.open("ab")
        self.proc = subprocess.Popen(  # noqa: S603
            [sys.executable, "-m", "openframe_stream", "run", "--no-bridge"], env=env, stdout=out,
            stderr=subprocess.STDOUT, cwd=REPO, start_new_session=True,
        )
        for port in self.ports():
            url = f"http://127.0.0.1:{port}/healthz"
            wait_until(lambda u=url: http_ok(u), timeout=120, what="worker", alive=lambda: self.proc.poll() is None)

    def ports(self) -> list[int]:
        """The web ports of the worker processes (`run --processes N` serves one each)."""
        base = self.settings.worker.web_port
        return [base + i for i in range(int(self.env.get("OFS_WORKER__PROCESSES", "1")))]

    def twin(self) -> Pipeline:
        """One more worker process of the same group and topics, on a web port of its own."""
        port = free_port()
        worker = self.settings.worker.model_copy(update={"web_port": port})
        return Pipeline(settings=self.settings.model_copy(update={"worker": worker}),
                        env={**self.env, "OFS_WORKER__WEB_PORT": str(port)}, topics=self.topics,
                        log_path=self.log_path.with_name(f"{self.log_path.stem}-twin-{port}.log"))

    def kill(self) -> None:
        assert self.proc is not None
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=30)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)

    def metric(self, name: str, **labels: str) -> float:
        """The sum of a metric over the worker processes that answer (a killed one does not)."""
        total = 0.0
        for port in self.ports():
            try:
                text = requests.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
            except (requests.ConnectionError, requests.Timeout):
                continue  # a killed process, or one too busy to answer now
            for line in text.splitlines():
                named = line.startswith(name + "{") or line.startswith(name + " ")
                if named and all(f'{k}="{v}"' in line for k, v in labels.items()):
                    total += float(line.rsplit(" ", 1)[1])
        return total

    # ---- input

    def send(self, topic: str, value: bytes | dict[str, Any] | None, key: bytes | str | None = None,
             headers: dict[str, str] | None = None) -> None:
        payload = orjson.dumps(value) if isinstance(value, dict) else value
        self.producer.produce(topic, key=key, value=payload, headers=list((headers or {}).items()))

    def send_agent_results(self, tag: str, start: int, stop: int, base_ms: int, machines: int = 0) -> None:
        """Script results `<tag>-<i>` for i in [start, stop), event time `base_ms + i`, then flush.

        With `machines`, they spread over machines m-0..m-<machines - 1> (unknown to the reference data),
        keyed by machine; without, they all come from the example's machine."""
        template = example("agent-script-result.nats.json")["payload"]
        for i in range(start, stop):
            machine = f"m-{i % machines}" if machines else template["machineId"]
            value = dict(template, executionId=f"{tag}-{i}", machineId=machine, eventTimestamp=base_ms + i)
            self.send(self.topics.agent_results.name, orjson.dumps(value), machine, {"message-type": "SCRIPT_EXECUTED"})
            if i % 5000 == 0:
                self.producer.poll(0)
        self.flush()

    def flush(self) -> None:
        assert self.producer.flush(60) == 0

    def seed_reference(self, organizations: list[dict[str, Any]], machines: list[dict[str, Any]],
                       connections: list[dict[str, Any]]) -> None:
        t = self.topics
        for org in organizations:
            self.send(t.organizations.name, mongo_envelope("organizations", org), org["organizationId"])
        for machine in machines:
            self.send(t.machines.name, mongo_envelope("machines", machine), machine["machineId"])
        for conn in connections:
            doc = dict(conn, connectedAt={"$date": conn.get("connectedAt", 1_700_000_000_000)})
            self.send(t.tool_connections.name, mongo_envelope("tool_connections", doc),
                      f"{conn['toolType']}:{conn['agentToolId']}")
        self.flush()

    # ---- output

    def session(self) -> Any:
        if self._cluster is None:
            from cassandra.cluster import EXEC_PROFILE_DEFAULT, Cluster, ExecutionProfile
            from cassandra.policies import RoundRobinPolicy

            c = self.settings.cassandra
            profile = ExecutionProfile(load_balancing_policy=RoundRobinPolicy())
            self._cluster = Cluster(list(c.hosts), port=c.port, execution_profiles={EXEC_PROFILE_DEFAULT: profile})
        return self._cluster.connect()

    def row(self, tool_event_id: str, tenant: str = "oss") -> Any:
        ks = self.settings.cassandra.keyspace
        try:
            return self.session().execute(
                f"SELECT * FROM {ks}.events_by_id WHERE tenant_id = %s AND tool_event_id = %s",
                (tenant, tool_event_id),
            ).one()
        except Exception:  # noqa: BLE001 - the keyspace may not exist yet
            return None

    def stored_on(self, ingest_day: str, tenant: str = "oss") -> int:
        """Events in Cassandra for one tenant and ingest day; 0 before the worker created the keyspace."""
        from cassandra import InvalidRequest

        try:
            rows = self.session().execute(
                f"SELECT COUNT(*) FROM {self.settings.cassandra.keyspace}.events_by_day "
                "WHERE tenant_id = %s AND ingest_day = %s", (tenant, ingest_day), timeout=60,
            )
        except InvalidRequest:
            return 0
        return int(rows.one()[0])

    def uncommitted(self) -> list[str]:
        """`topic[partition]=messages` for each partition of this pipeline's topics its group has not committed."""
        from topologies.lag import measure

        s = self.settings
        rows = measure(s.kafka.bootstrap_servers, [s.worker.app_id])
        return [f"{r.topic}[{r.partition}]={r.messages}" for r in rows
                if r.messages and r.topic.startswith(s.topics.prefix)]

    def pinot(self, sql: str) -> list[Any]:
        from pinotdb import connect

        p = self.settings.pinot
        cursor = connect(host=p.broker_host, port=p.broker_port, path="/query/sql", scheme="http").cursor()
        try:
            cursor.execute(sql)
            return list(cursor.fetchall())
        except Exception:  # noqa: BLE001 - table not yet queryable
            return []

    def cleanup(self) -> None:
        self.stop()
        p, table = self.settings.pinot, self.settings.pinot_sink.table
        requests.delete(f"{p.controller_url}/tables/{table}?type=realtime", timeout=30)
        requests.delete(f"{p.controller_url}/schemas/{table}", timeout=30)
        if self._cluster is not None:
            try:
                self.session().execute(f"DROP KEYSPACE IF EXISTS {self.settings.cassandra.keyspace}", timeout=60)
            finally:
                self._cluster.shutdown()


@contextmanager
def running(p: Pipeline) -> Iterator[Pipeline]:
    """The worker started; on the way out a dead worker's last log lines are printed, and all is cleaned up."""
    p.start()
    try:
        yield p
    finally:
        if p.proc is not None and p.proc.poll() is not None:
            print(p.log_path.read_text()[-5000:])  # noqa: T201 - a dead worker's last words help the reader
        p.cleanup()


def new_pipeline(log_dir: Path, **overrides: str) -> Pipeline:
    """An isolated pipeline; `overrides` are more OFS_* variables for its worker and its settings."""
    tag = uuid.uuid4().hex[:6]
    env = {**isolated_env(tag), **overrides}
    old = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        settings = Settings.load()
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    return Pipeline(settings=settings, env=env, topics=declare(settings.topics), log_path=log_dir / f"worker-{tag}.log")


def expected_event(pipeline: Pipeline, topic: str, value: dict[str, Any], headers: dict[str, str]) -> dict[str, Any]:
    """What normalization makes of a record (the pure function the worker runs)."""
    from pipelines.normalize import normalize

    logical = topic.removeprefix(pipeline.settings.topics.prefix)
    result = normalize(RawRecord(logical, headers, None, orjson.dumps(value)), pipeline.settings.pipeline)
    assert isinstance(result, Mapped), result
    return result.event


def days_ago(n: int) -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(microsecond=0) - dt.timedelta(days=n)
