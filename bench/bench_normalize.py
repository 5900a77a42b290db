"""Normalization throughput on one core: bytes in, serialized unified event out.

Generates a realistic mix of records in-process (every source, deterministic seed), then times
`normalize` + `orjson.dumps(event)` against a baseline of plain `orjson.loads` + `orjson.dumps`
of the same bytes, in the same run. Reports events/s and the ratio. Target: >= 100k events/s.

    .venv/bin/python bench/bench_normalize.py [--count 100000] [--rounds 5] [--seed 7] [--json out.json]
"""

from __future__ import annotations

import argparse
import gc
import random
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson

from pipelines.normalize import normalize
from pipelines.records import Mapped, RawRecord
from pipelines.settings import PipelineSettings
from pipelines.taxonomy import tool_taxonomy

TS = 1763630043412
SCHEMA_STUB = {"type": "struct", "name": "Envelope", "optional": False, "fields": []}
MESH_TYPES = [t for t in tool_taxonomy("MESHCENTRAL").source_types if "." in t]
FLEET_TYPES = [t for t in tool_taxonomy("FLEET").source_types if not t.startswith(("policy_membership", "execute_"))]
AUDIT_TYPES = [
    t for t in tool_taxonomy("TACTICAL").source_types if not t.startswith(("task_result", "cmd_run", "script_run"))
]


def _iso(rng: random.Random) -> str:
    day, hour, minute, micros = rng.randint(1, 28), rng.randint(0, 23), rng.randint(0, 59), rng.randint(0, 999999)
    return f"2026-11-{day:02d}T{hour:02d}:{minute:02d}:03.{micros:06d}Z"


def _envelope(after: Any, table: str, connector: str, rng: random.Random, wrap: bool) -> dict[str, Any]:
    key = "collection" if connector == "mongodb" else "table"
    payload = {
        "before": None,
        "after": after,
        "source": {
            "version": "3.2.7.Final",
            "connector": connector,
            "name": connector,
            "ts_ms": TS,
            "snapshot": "false",
            "db": "db",
            key: table,
        },
        "op": rng.choice("ccccccccur"),
        "ts_ms": TS + rng.randint(0, 10_000),
    }
    return {"schema": SCHEMA_STUB, "payload": payload} if wrap else payload


def fleet_activity(i: int, rng: random.Random) -> tuple[str, dict[str, str], Any]:
    kind = rng.choice(FLEET_TYPES)
    details = {"host_id": rng.randint(1, 5000), "host_display_name": f"WS-{i % 997}", "script_name": "restart.ps1"}
    if "policy" in kind:
        details = {"policy_id": rng.randint(1, 50), "policy_name": "Firewall enabled"}
    after = {
        "id": i,
        "created_at": _iso(rng),
        "user_id": 7,
        "user_name": "Ana Silva",
        "user_email": "ana@msp.example",
        "activity_type": kind,
        "streamed": 0,
        "fleet_initiated": 0,
        "details": orjson.dumps(details).decode(),
        "hostId": rng.randint(1, 5000) if rng.random() < 0.6 else None,
    }
    return (
        "fleet.activities.events",
        {"message-type": "FLEET_MDM_EVENT"},
        _envelope(after, "activities", "mariadb", rng, True),
    )


def fleet_query(i: int, rng: random.Random) -> tuple[str, dict[str, str], Any]:
    after = {
        "id": i,
        "query_id": 17,
        "host_id": rng.randint(1, 5000),
        "osquery_version": "5.12.1",
        "error": None,
        "last_fetched": _iso(rng),
        "data": '[{"name": "sshd", "pid": "811"}, {"name": "cron", "pid": "90"}]',
    }
    return (
        "fleet.query_results.events",
        {"message-type": "FLEET_MDM_QUERY_RESULT_EVENT"},
        _envelope(after, "query_results", "mariadb", rng, True),
    )


def fleet_policy(i: int, rng: random.Random) -> tuple[str, dict[str, str], Any]:
    after = {
        "policy_id": rng.randint(1, 50),
        "host_id": i,
        "passes": rng.choice([True, False, None]),
        "created_at": _iso(rng),
        "updated_at": _iso(rng),
        "automation_iteration": None,
        "team_id": 2,
    }
    return "fleet.policy_membership.events", {}, _envelope(after, "policy_membership", "mariadb", rng, True)


def mesh(i: int, rng: random.Random) -> tuple[str, dict[str, str], Any]:
    etype, action = rng.choice(MESH_TYPES).split(".")
    doc = {
        "_id": {"$oid": f"{i:024x}"},
        "etype": etype,
        "action": action,
        "userid": "user//admin",
        "username": "admin",
        "domain": "",
        "msg": "Account login",
        "msgid": 107,
        "ids": ["user//admin"],
        "nodeid": f"node//{i % 3000}",
        "time": {"$date": TS + i},
    }
    return (
        "meshcentral.mongodb.events",
        {"message-type": "MESHCENTRAL_EVENT"},
        _envelope(orjson.dumps(doc).decode(), "events", "mongodb", rng, False),
    )


def audit(i: int, rng: random.Random) -> tuple[str, dict[str, str], Any]:
    object_type, action = rng.choice(AUDIT_TYPES).split(".")
    after = {
        "id": i,
        "username": "tech1",
        "agentid": "SbLpZqxWvNRSDhRwBbGkcVtgUmjQmaxdMKqyLrMW",
        "entry_time": _iso(rng),
        "action": action,
        "object_type": object_type,
        "before_value": None,
        "after_value": '{"script": "Clear-TempFiles", "timeout": 90}',
        "message": "tech1 ran script on WS-ACCT-07",
        "debug_info": None,
        "ip_address": "10.0.4.18",
    }
    return "tactical-rmm.postgres.events", {}, _envelope(after, "logs_auditlog", "postgresql", rng, False)


def history(i: int, rng: random.Random) -> tuple[str, dict[str, str], Any]:
    done = rng.random() < 0.5
    after = {
        "id": i,
        "time": _iso(rng),
        "type": "script_run",
        "command": None,
        "username": "tech1",
        "results": None,
        "agent_id": 42,
        "script_id": 15,
        "script_results": '{"stdout": "ok", "stderr": "", "retcode": 0, "execution_time": 1.25}' if done else None,
    }
    return (
        "tactical-rmm.postgres.events",
        {"message-type": "TACTICAL_RMM_AGENT_HISTORY_EVENT"},
        _envelope(after, "agents_agenthistory", "postgresql", rng, False),
    )


def task(i: int, rng: random.Random) -> tuple[str, dict[str, str], Any]:
    after = {
        "id": i,
        "agent_id": 42,
        "task_id": 8,
        "retcode": 0,
        "stdout": "All good",
        "stderr": None,
        "execution_time": "1.5000",
        "last_run": _iso(rng),
        "status": rng.choice(["passing", "failing", "pending"]),
        "sync_status": "synced",
        "run_status": None,
    }
    return (
        "tactical-rmm.postgres.events",
        {"message-type": "TACTICAL_RMM_TASK_RESULT_EVENT"},
        _envelope(after, "autotasks_taskresult", "postgresql", rng, False),
    )


def agent(i: int, rng: random.Random) -> tuple[str, dict[str, str], Any]:
    script = rng.random() < 0.5
    row = {
        "tenantId": "oss",
        "machineId": f"m-{i % 3000}",
        "executionId": f"x-{i}",
        "scriptId": "s-1" if script else None,
        "scheduleId": None,
        "stdout": "Removed 412 files",
        "stderr": "",
        "exitCode": rng.choice([0, 0, 0, 1]),
        "executionTimeMs": rng.randint(10, 90000),
        "timedOut": rng.random() < 0.02,
        "error": None,
        "eventTimestamp": TS + i,
    }
    value = {"op": "c", "ts_ms": TS, "after": row} if rng.random() < 0.5 else row
    return "logs.events", {"message-type": "SCRIPT_EXECUTED" if script else "COMMAND_EXECUTED"}, value


def noise(i: int, rng: random.Random) -> tuple[str, dict[str, str], Any]:
    """Deletes, tombstones and bad records: they happen, so they are in the mix."""
    pick = rng.random()
    if pick < 0.4:
        return "fleet.activities.events", {}, {"before": {"id": i}, "after": None, "op": "d", "ts_ms": TS}
    if pick < 0.7:
        return "fleet.activities.events", {}, None
    return "meshcentral.mongodb.events", {}, {"op": "c", "ts_ms": TS, "after": '{"_id": {"$oid": "6'}


MIX: list[tuple[Callable[[int, random.Random], tuple[str, dict[str, str], Any]], float]] = [
    (fleet_activity, 0.30),
    (mesh, 0.25),
    (audit, 0.13),
    (agent, 0.12),
    (history, 0.05),
    (task, 0.05),
    (fleet_query, 0.04),
    (fleet_policy, 0.04),
    (noise, 0.02),
]


def generate(count: int, seed: int) -> list[RawRecord]:
    rng = random.Random(seed)
    makers, weights = zip(*MIX, strict=True)
    records = []
    for i in range(count):
        topic, headers, value = rng.choices(makers, weights)[0](i, rng)
        raw = None if value is None else orjson.dumps(value)
        records.append(RawRecord(topic, headers, None, raw))
    return records


def baseline(records: list[RawRecord]) -> None:
    loads, dumps = orjson.loads, orjson.dumps
    for record in records:
        if record.value is not None:
            dumps(loads(record.value))  # type: ignore[arg-type]


def pipeline(records: list[RawRecord], settings: PipelineSettings) -> None:
    dumps = orjson.dumps
    for record in records:
        out = normalize(record, settings)
        if type(out) is Mapped:
            dumps(out.event)


def best_of(rounds: int, run: Callable[[], None]) -> float:
    best = float("inf")
    for _ in range(rounds):
        gc.collect()
        start = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args()

    settings = PipelineSettings()
    records = generate(args.count, args.seed)
    outcomes = Counter(type(normalize(r, settings)).__name__ for r in records)
    size = sum(len(r.value) for r in records if isinstance(r.value, bytes)) / len(records)
    gc.freeze()  # the generated records are long-lived; keep them out of every collection

    base = best_of(args.rounds, lambda: baseline(records))
    norm = best_of(args.rounds, lambda: pipeline(records, settings))
    figures = {
        "records": len(records),
        "mean_value_bytes": round(size),
        "outcomes": dict(outcomes),
        "baseline_events_per_s": round(len(records) / base),
        "normalize_events_per_s": round(len(records) / norm),
        "normalize_over_baseline_time": round(norm / base, 2),
        "target_events_per_s": 100_000,
    }
    print(f"records: {len(records)} (mean value {size:.0f} B), outcomes: {dict(outcomes)}")
    print(f"baseline  orjson loads+dumps : {figures['baseline_events_per_s']:>10,} events/s")
    print(f"normalize + orjson dumps     : {figures['normalize_events_per_s']:>10,} events/s (one core)")
    print(
        f"ratio: normalize takes {norm / base:.2f}x the baseline time; target 100,000 events/s: "
        f"{'met' if len(records) / norm >= 100_000 else 'NOT met'}"
    )
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_bytes(orjson.dumps(figures, option=orjson.OPT_INDENT_2))


if __name__ == "__main__":
    main()
