"""Read-API latency on 1M events: /logs and /stats over Pinot, the device timeline over Cassandra.

Loads `--events` enriched events into a fresh Pinot table (JSON produced to a fresh topic the table,
provisioned by `sinks.pinot.provision`, consumes) and `--timeline-rows` rows into a fresh keyspace's
device_timeline (per-partition UNLOGGED batches, many in flight), serves the API from its own process
and times each endpoint over HTTP (auth included) against a baseline measured in the same run: the
same SQL sent straight to the Pinot broker, and the same CQL partition query through the driver.
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
from pathlib import Path
from typing import Any

import httpx

from api.auth import local
from api.auth.principal import SCOPES
from api.query import cql, pinot_sql
from api.query.logs import INTERVAL_MS, BucketQuery, LogFilters, LogQuery, TopQuery
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
        broker = httpx.Client(base_url=f"http://{settings.pinot.broker_host}:{settings.pinot.broker_port}", timeout=30)

        def api_get(path: str, **params: Any) -> Callable[[], Any]:
            def call() -> Any:
                response = api.get(path, params=params)
                assert response.status_code == 200, response.text[:300]
                return response.json()
            return call

        def raw_sql(sql: str) -> Callable[[], Any]:
            def call() -> Any:
                body = broker.post("/query/sql", json={"sql": sql}).json()
                assert not body.get("exceptions"), body["exceptions"]
                return body
            return call

        stmts = cql.statements(stores.keyspace)
        head = session.prepare(stmts["timeline_head"])
        device = f"{tenant.id}-dev-0"
        month = now.strftime("%Y-%m")

        page_two = api_get("/api/v1/logs", severities="ERROR,CRITICAL")()["pageInfo"]["nextCursor"]
        day_from = now_ms - 30 * 86_400_000 + 1
        day_from -= day_from % INTERVAL_MS["day"]
        bounded = LogFilters(time_from=day_from, time_to=now_ms)
        cases = [
            ("GET /logs (newest 20)", api_get("/api/v1/logs"),
             raw_sql(pinot_sql.select_logs(stores.table, LogQuery(tenant, LogFilters(), limit=21)))),
            ("GET /logs severities, page 2 (cursor)", api_get("/api/v1/logs", severities="ERROR,CRITICAL",
                                                               cursor=page_two),
             raw_sql(pinot_sql.select_logs(stores.table, LogQuery(tenant, LogFilters(severities=("ERROR", "CRITICAL")),
                                                                   limit=21)))),
            ("GET /logs search 'disk full'", api_get("/api/v1/logs", search="disk full"),
             raw_sql(pinot_sql.select_logs(stores.table, LogQuery(tenant, LogFilters(search_terms=("disk", "full")),
                                                                   limit=21)))),
            ("GET /logs sortField=deviceId ASC", api_get("/api/v1/logs", sortField="deviceId", sortDirection="ASC"),
             raw_sql(pinot_sql.select_logs(stores.table, LogQuery(tenant, LogFilters(), "deviceId", "ASC", 21)))),
            ("GET /stats day x30, by severity", api_get("/api/v1/stats", interval="day"),
             raw_sql(pinot_sql.select_buckets(stores.table, BucketQuery(tenant, bounded, "day", "severity")))),
            ("GET /stats hour x24, by eventType", api_get("/api/v1/stats", interval="hour", groupBy="eventType"),
             raw_sql(pinot_sql.select_top(stores.table, TopQuery(tenant, bounded, "deviceId", 10)))),
            (f"GET /devices/{{id}}/timeline (first 20 of {args.timeline_rows // 1000})",
             api_get(f"/api/v1/devices/{device}/timeline"),
             lambda: list(session.execute(head, (tenant.id, device, month, 21)))),
        ]
        rows = []
        for name, call, baseline in cases:
            base = timed(baseline, args.samples)
            measured = timed(call, args.samples)
            rows.append((name, measured, base))
            print(f"{name:48s} p50 {measured[0]:7.2f} ms  p99 {measured[1]:7.2f} ms | baseline p50 {base[0]:7.2f} "
                  f"p99 {base[1]:7.2f} ms | ratio p50 {measured[0] / base[0]:5.2f}x p99 {measured[1] / base[1]:5.2f}x",
                  flush=True)
        pages = api_get(f"/api/v1/devices/{device}/timeline", limit=100)
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
        del pages
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
