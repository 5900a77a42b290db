"""Read-API latency on 1M events: /logs and /stats over Pinot, the device timeline over Cassandra.

Loads `--events` enriched events into a fresh Pinot table (JSON produced to a fresh topic the table,
provisioned by `sinks.pinot.provision`, consumes) and `--timeline-rows` rows into a fresh keyspace's
device_timeline (per-partition UNLOGGED batches, many in flight), serves the API from its own process
and times each endpoint over HTTP (auth included) against a baseline measured in the same run: the
very SQL and CQL the API sent for that request (recorded in-process), replayed raw one after another
to the Pinot broker and through the Cassandra driver.
Everything it creates is dropped at the end, also on failure or Ctrl-C.

    .venv/bin/python -m bench.bench_api [--events 1000000] [--timeline-rows 1000000] [--samples 200]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from api.auth import local
from api.auth.principal import SCOPES
from api.query import cql
from api.tenancy import Tenant
from bench.bench_api_data import TENANTS, load_timeline, pinot_events
from bench.bench_api_server import AUDIENCE, ISSUER
from openframe_stream.settings import Settings
from tests.integration.api.stores import Stores

ROOT = Path(__file__).resolve().parents[1]


def percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered) * 1000, ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000


def timed(call: Callable[[], Any], samples: int, warmup: int = 10) -> tuple[float, float]:
    for _ in range(warmup):
        call()
    out = []
    for _ in range(samples):
        start = time.perf_counter()
        call()
        out.append(time.perf_counter() - start)
    return percentiles(out)


@dataclass
class Baseline:
    """The store requests one API request made, replayed raw one after another."""

    sql: list[str]
    cql: list[tuple[str, tuple[object, ...]]]
    broker: httpx.Client
    session: Any
    prepared: dict[str, Any]

    @property
    def count(self) -> int:
        return len(self.sql) + len(self.cql)

    def run(self) -> None:
        for sql in self.sql:
            body = self.broker.post("/query/sql", json={"sql": sql}).json()
            assert not body.get("exceptions"), body["exceptions"]
        for name, values in self.cql:
            list(self.session.execute(self.prepared[name], values))


class Recorder:
    """Runs a request in-process on readers that note every query, so the baseline sends the very same
    SQL and CQL the API sent for it (windows, probes and all)."""

    def __init__(self, settings: Settings, stores: Stores, jwks: Path, token: str, session: Any) -> None:
        from fastapi.testclient import TestClient

        from api.app import create_app
        from api.readers.base import Readers
        from api.readers.cassandra import CassandraReader
        from api.readers.memory import StaticLag
        from api.readers.pinot import PinotReader
        from api.settings import ApiSettings

        self.sql: list[str] = []
        self.cql: list[tuple[str, tuple[object, ...]]] = []
        sql, cql_calls = self.sql, self.cql

        class Pinot(PinotReader):
            async def _query(self, text: str) -> tuple[list[str], list[list[Any]]]:
                sql.append(text)
                return await super()._query(text)

        class Cassandra(CassandraReader):
            async def _execute(self, name: str, values: tuple[object, ...]) -> list[Any]:
                cql_calls.append((name, values))
                return await super()._execute(name, values)

        p, c = settings.pinot, settings.cassandra
        broker_url = f"http://{p.broker_host}:{p.broker_port}"
        readers = Readers(logs=Pinot(broker_url, stores.table, 30),
                          events=Cassandra(c.hosts, c.port, stores.keyspace, 30), lag=StaticLag())
        api_settings = ApiSettings(jwks=str(jwks), issuer=ISSUER, audience=AUDIENCE)
        self.client = TestClient(create_app(api_settings, readers))
        self.client.__enter__()
        self.headers = {"Authorization": f"Bearer {token}"}
        self.broker = httpx.Client(base_url=broker_url, timeout=30)
        self.session = session
        self.prepared = {name: session.prepare(text) for name, text in cql.statements(stores.keyspace).items()}

    def baseline(self, path: str, params: dict[str, Any]) -> Baseline:
        self.sql.clear()
        self.cql.clear()
        response = self.client.get(path, params=params, headers=self.headers)
        assert response.status_code == 200, response.text[:300]
        return Baseline(list(self.sql), list(self.cql), self.broker, self.session, self.prepared)

    def close(self) -> None:
        self.client.__exit__(None, None, None)
        self.broker.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--timeline-rows", type=int, default=1_000_000)
    parser.add_argument("--samples", type=int, default=200)
    parser.add_argument("--load-timeout", type=float, default=900, help="Seconds Pinot may take to ingest.")
    args = parser.parse_args()
    settings = Settings.load()
    stores = Stores(settings, "b" + uuid.uuid4().hex[:7])
    now = dt.datetime.now(dt.UTC)
    now_ms = int(now.timestamp() * 1000)
    server: subprocess.Popen[bytes] | None = None
    cluster: Any = None
    try:
        stores.create()
        start = time.perf_counter()
        produced = stores.produce(pinot_events(args.events, now_ms))
        produce_s = time.perf_counter() - start
        print(f"produced {produced:,} events in {produce_s:.1f}s ({produced / produce_s:,.0f}/s)", flush=True)

        from cassandra.cluster import EXEC_PROFILE_DEFAULT, Cluster, ExecutionProfile
        from cassandra.policies import RoundRobinPolicy

        c = settings.cassandra
        profile = ExecutionProfile(load_balancing_policy=RoundRobinPolicy(), request_timeout=60)
        cluster = Cluster(list(c.hosts), port=c.port, execution_profiles={EXEC_PROFILE_DEFAULT: profile})
        session = cluster.connect()
        from sinks.cassandra.cql import statements

        for statement in statements(stores.keyspace):
            session.execute(statement, timeout=120)
        load_s = load_timeline(session, stores.keyspace, args.timeline_rows, now)
        print(f"wrote {args.timeline_rows:,} timeline rows in {load_s:.1f}s ({args.timeline_rows / load_s:,.0f}/s)",
              flush=True)

        start = time.perf_counter()
        stores.wait_for_pinot(produced, timeout=args.load_timeout)
        print(f"pinot has all {produced:,} rows {time.perf_counter() - start:.1f}s after the load finished", flush=True)

        tmp = Path(tempfile.mkdtemp(prefix="bench-api-"))
        jwks = tmp / "jwks.json"
        tenant = Tenant(TENANTS[0])
        key, kid = local.tenant_key(tmp / "signing", jwks, tenant)
        token = local.sign(key, kid, local.claims(tenant, ISSUER, AUDIENCE, SCOPES, 3600))
        port = free_port()
        server = subprocess.Popen(  # noqa: S603
            [sys.executable, "-m", "bench.bench_api_server", str(port), stores.table, stores.keyspace,
             str(jwks)], cwd=ROOT, env=dict(os.environ, PYTHONPATH=str(ROOT)),
        )
        api = httpx.Client(base_url=f"http://127.0.0.1:{port}", headers={"Authorization": f"Bearer {token}"},
                           timeout=30)
        deadline = time.monotonic() + 60
        while True:
            try:
                if api.get("/readyz").status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline or server.poll() is not None:
                raise RuntimeError("the API server did not become ready")
            time.sleep(0.5)

        def api_get(path: str, **params: Any) -> Callable[[], Any]:
            def call() -> Any:
                response = api.get(path, params=params)
                assert response.status_code == 200, response.text[:300]
                return response.json()
            return call

        device = f"{tenant.id}-dev-0"
        record = Recorder(settings, stores, jwks, token, session)
        page_two = api_get("/api/v1/logs", severities="ERROR,CRITICAL")()["pageInfo"]["nextCursor"]
        older = api_get("/api/v1/logs", limit=100)()
        for _ in range(20):  # ~2,000 rows down: a cursor deep into the newest hours
            older = api_get("/api/v1/logs", limit=100, cursor=older["pageInfo"]["nextCursor"])()
        cases: list[tuple[str, str, dict[str, Any]]] = [
            ("GET /logs (newest 20)", "/api/v1/logs", {}),
            ("GET /logs, 21st page of 100 (cursor)", "/api/v1/logs",
             {"limit": 100, "cursor": older["pageInfo"]["nextCursor"]}),
            ("GET /logs severities=ERROR,CRITICAL page 2", "/api/v1/logs",
             {"severities": "ERROR,CRITICAL", "cursor": page_two}),
            ("GET /logs search='disk full'", "/api/v1/logs", {"search": "disk full"}),
            ("GET /logs sortField=deviceId ASC", "/api/v1/logs", {"sortField": "deviceId", "sortDirection": "ASC"}),
            ("GET /logs/filters", "/api/v1/logs/filters", {}),
            ("GET /stats interval=day (30 days)", "/api/v1/stats", {"interval": "day"}),
            ("GET /stats interval=hour groupBy=eventType", "/api/v1/stats",
             {"interval": "hour", "groupBy": "eventType"}),
            ("GET /devices/{id}/timeline (20)", f"/api/v1/devices/{device}/timeline", {}),
        ]
        print(f"{'request':44s} {'store queries':>13s} | API p50 / p99 ms | baseline p50 / p99 ms | ratio p50 / p99")
        for name, path, params in cases:
            baseline = record.baseline(path, params)
            base = timed(baseline.run, args.samples)
            measured = timed(api_get(path, **params), args.samples)
            ratio = f"{measured[0] / base[0]:4.2f}x / {measured[1] / base[1]:4.2f}x"
            print(f"{name:44s} {baseline.count:>13d} | {measured[0]:7.1f} / {measured[1]:7.1f} | "
                  f"{base[0]:8.1f} / {base[1]:8.1f}     | {ratio}", flush=True)
        record.close()
        walked, cursor, start = 0, None, time.perf_counter()
        while True:
            body = api.get(f"/api/v1/devices/{device}/timeline", params={"limit": 100} | (
                {"cursor": cursor} if cursor else {})).json()
            walked += len(body["items"])
            cursor = body["pageInfo"]["nextCursor"]
            if not cursor:
                break
        print(f"timeline walk of {device}: {walked} rows over 12 months in {time.perf_counter() - start:.2f}s "
              f"(pages of 100)", flush=True)
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=30)
        if cluster is not None:
            cluster.shutdown()
        stores.drop()
        print("dropped", stores.table, stores.keyspace, stores.topic, flush=True)


if __name__ == "__main__":
    main()
