"""Bulk data for bench/bench_api.py: 1M-scale enriched events for Pinot (produced as JSON to Kafka)
and device-timeline rows written straight into Cassandra with per-partition UNLOGGED batches."""

from __future__ import annotations

import datetime as dt
import random
import threading
import time
from collections.abc import Iterator
from typing import Any

from sinks.cassandra import cql

TENANTS = ("bench-a", "bench-b", "bench-c", "bench-d", "bench-e")
DEVICES_PER_TENANT = 200
TYPES = ["LOGIN", "LOGOUT", "SCRIPT_EXECUTED", "POLICY_FAILED", "DEVICE_OFFLINE", "SOFTWARE_INSTALLED",
         "COMMAND_EXECUTED", "USER_CREATED"]
WORDS = ["disk", "full", "login", "failed", "script", "policy", "backup", "agent", "restart", "update", "service",
         "timeout", "user", "admin", "network"]


def pinot_events(count: int, now_ms: int, seed: int = 1) -> Iterator[dict[str, Any]]:
    """`count` events over the last 30 days, spread over the bench tenants (the first one gets half)."""
    rng = random.Random(seed)
    span = 30 * 86_400_000
    for n in range(count):
        tenant = TENANTS[0] if n % 2 == 0 else TENANTS[1 + n % 4]
        ms = now_ms - rng.randrange(span)
        device = rng.randrange(DEVICES_PER_TENANT)
        org = device % 7
        yield {
            "tenantId": tenant, "toolEventId": f"b{n:08d}", "eventTimestamp": ms,
            "ingestDay": dt.datetime.fromtimestamp(ms / 1000, tz=dt.UTC).strftime("%Y-%m-%d"),
            "toolType": ("FLEET", "MESHCENTRAL", "TACTICAL", "RMM")[n % 4], "eventType": TYPES[rng.randrange(8)],
            "severity": rng.choices(("INFO", "WARNING", "ERROR", "CRITICAL"), (70, 20, 8, 2))[0],
            "userId": None, "deviceId": f"{tenant}-dev-{device}", "hostname": f"HOST-{device}",
            "organizationId": f"org-{org}", "organizationName": f"Organization {org}",
            "summary": " ".join(rng.sample(WORDS, 4)), "agentId": f"agent-{device}", "sourceEventType": "bench",
            "sourceTable": "events", "operation": "c", "message": None, "details": {"result": {"n": n}},
            "visible": True, "schemaVersion": 1, "discriminator": None,
        }


def load_timeline(session: Any, keyspace: str, rows: int, now: dt.datetime, devices: int = 1000,
                  months: int = 12, in_flight: int = 48) -> float:
    """`rows` device_timeline rows (devices x months partitions, newest month first). Returns seconds."""
    from cassandra.query import BatchStatement, BatchType

    insert = session.prepare(cql.insert(keyspace, "device_timeline"))
    per_partition = rows // (devices * months)
    gate = threading.BoundedSemaphore(in_flight)
    errors: list[BaseException] = []
    start = time.perf_counter()
    month_starts = []
    year, month = now.year, now.month
    for _ in range(months):
        month_starts.append(dt.datetime(year, month, 1, tzinfo=dt.UTC))
        year, month = (year - 1, 12) if month == 1 else (year, month - 1)

    def release(_: Any) -> None:
        gate.release()

    def failed(exc: BaseException) -> None:
        errors.append(exc)
        gate.release()

    n = 0
    for d in range(devices):
        tenant = TENANTS[d % len(TENANTS)]
        device = f"{tenant}-dev-{d}"
        for first in month_starts:
            label = first.strftime("%Y-%m")
            batch = BatchStatement(batch_type=BatchType.UNLOGGED)
            for i in range(per_partition):
                ts = first + dt.timedelta(minutes=7 * i + (d % 7))
                event = {"tenantId": tenant, "toolEventId": f"t{n:08d}", "deviceId": device, "hostname": f"H{d}",
                         "ingestDay": ts.strftime("%Y-%m-%d"), "toolType": "FLEET", "eventType": "LOGIN",
                         "severity": "INFO", "summary": "timeline bench", "operation": "c"}
                batch.add(insert, [*cql.row_values(event, lambda _, t=ts: t, lambda v: v), label, 0])
                n += 1
                if len(batch) == 50 or i == per_partition - 1:
                    gate.acquire()
                    if errors:
                        raise errors[0]
                    session.execute_async(batch, timeout=60).add_callbacks(release, failed)
                    batch = BatchStatement(batch_type=BatchType.UNLOGGED)
    for _ in range(in_flight):
        gate.acquire()
    if errors:
        raise errors[0]
    return time.perf_counter() - start
