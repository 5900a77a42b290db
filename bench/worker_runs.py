"""Pieces of the worker benchmark: inputs for each stage, timed drains, the Kafka baselines, latency.

Every rate is taken between the first and the last change of a worker counter, so start-up, group
join and table recovery are not in it; every baseline runs in the same process and run.
"""

from __future__ import annotations

import os
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
from confluent_kafka import Consumer, Producer

from pipelines.enrich import EnrichSettings, Lookups, enrich, storage_form
from pipelines.normalize import normalize
from pipelines.records import Mapped, RawRecord
from pipelines.settings import PipelineSettings
from tests.integration.topologies.harness import Pipeline

TENANT = "oss"
ORG = {"organizationId": "org-1", "name": "Org One", "tenantId": TENANT}
MACHINE = {"machineId": "m-8f2c41", "hostname": "SRV-01", "organizationId": "org-1", "tenantId": TENANT}


def record_key(record: RawRecord) -> bytes | None:
    """Fleet rows keyed by activity id, as the connector's ExtractField$Key does (the join needs it)."""
    if not record.topic.startswith("fleet.") or record.value is None:
        return None
    try:
        value = orjson.loads(record.value)
    except orjson.JSONDecodeError:
        return None
    body = value.get("payload", value) if isinstance(value, dict) else {}
    row = body.get("after") if isinstance(body, dict) else None
    if not isinstance(row, dict):
        return None
    ident = row.get("activity_id") if "host_activities" in record.topic else row.get("id")
    return None if ident is None else str(ident).encode()


def produce(p: Pipeline, rows: list[tuple[str, bytes | None, bytes | None, dict[str, str]]]) -> None:
    for i, (topic, key, value, headers) in enumerate(rows):
        p.producer.produce(topic, key=key, value=value, headers=list(headers.items()))
        if i % 10_000 == 0:
            p.producer.poll(0)
    p.flush()


def raw_rows(p: Pipeline, records: list[RawRecord]) -> list[tuple[str, bytes | None, bytes | None, dict[str, str]]]:
    prefix = p.settings.topics.prefix
    return [(prefix + r.topic, record_key(r), r.value, dict(r.headers)) for r in records]  # type: ignore[misc]


def unified_events(p: Pipeline, records: list[RawRecord]) -> list[dict[str, Any]]:
    out = []
    for r in records:
        result = normalize(r, p.settings.pipeline)
        if isinstance(result, Mapped):
            out.append(result.event)
    return out


def connections_for(records: list[RawRecord]) -> list[dict[str, Any]]:
    """One tool connection per agent the records name, all on the bench machine."""
    agents = set()
    for r in records:
        result = normalize(r, PipelineSettings())
        if isinstance(result, Mapped) and result.event.get("agentId") is not None:
            agents.add((str(result.event["toolType"]), str(result.event["agentId"])))
    return [{"machineId": MACHINE["machineId"], "toolType": tool, "agentToolId": agent, "tenantId": TENANT}
            for tool, agent in sorted(agents)]


def enriched_events(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    lookups = Lookups(connection=lambda _k: None, machine={MACHINE["machineId"]: MACHINE}.get,
                      organization={ORG["organizationId"]: ORG}.get)
    out = []
    for event in events:
        result = enrich(event, lookups, EnrichSettings(), TENANT)
        if hasattr(result, "event"):
            out.append(storage_form(result.event))
    return out


def drain_rate(p: Pipeline, counted: Callable[[], float], expected: int, timeout: float = 900,
               cpu: CpuShares | None = None) -> float:
    """Items per second between the first and the last change of `counted`, once it reaches `expected`.
    With `cpu`, its interval starts at the first change and stops at the end."""
    deadline = time.monotonic() + timeout
    first_at, first = None, 0.0
    last_at, last = None, 0.0
    while True:
        value = counted()
        now = time.perf_counter()
        if value > 0 and first_at is None:
            first_at, first = now, value
            if cpu is not None:
                cpu.start()
        if value != last:
            last_at, last = now, value
        if value >= expected:
            break
        if time.monotonic() > deadline:
            raise SystemExit(f"the worker did not get through {expected} (at {value}) in {timeout:.0f}s")
        time.sleep(0.02)
    assert first_at is not None and last_at is not None
    return (last - first) / (last_at - first_at) if last_at > first_at else float("nan")


class CpuShares:
    """CPU seconds each process used between `start()` and `stop()`: the worker (and its children)
    and every stack server, to show which one bounds a run on a shared machine."""

    def __init__(self, p: Pipeline, worker_pid: int) -> None:
        run_dir = p.settings.stack.run_dir
        self.pids = {"worker": [worker_pid, *_children(worker_pid)], "bench": [os.getpid()]}
        for pid_file in sorted((run_dir / "pids").glob("*.pid")):
            text = pid_file.read_text().strip()
            if text.isdigit():
                self.pids[pid_file.stem] = [int(text)]
        self.started: dict[str, float] = {}
        self.wall = 0.0

    def _now(self) -> dict[str, float]:
        now = {name: sum(_cpu_seconds(pid) for pid in pids) for name, pids in self.pids.items()}
        now["machine"], now["iowait"] = _machine_seconds()
        return now

    def start(self) -> None:
        self.started, self.wall = self._now(), time.perf_counter()

    def stop(self) -> dict[str, float]:
        """Cores used per process over the interval (1.0 = one core busy all the time)."""
        wall = time.perf_counter() - self.wall
        ended = self._now()
        used = {name: (ended[name] - self.started[name]) / wall for name in ended}
        # "other": whatever else ran on the machine meanwhile (it makes a run noisy; compare runs by it).
        used["other"] = used["machine"] - sum(v for k, v in used.items() if k not in ("machine", "iowait"))
        return {name: round(cores, 2) for name, cores in used.items() if cores > 0.01}


def _children(pid: int) -> list[int]:
    out: list[int] = []
    for path in Path(f"/proc/{pid}/task").glob("*/children"):
        out.extend(int(c) for c in path.read_text().split())
    return out


def _machine_seconds() -> tuple[float, float]:
    """CPU seconds all cores spent busy, and waiting for I/O, since boot (/proc/stat)."""
    fields = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    tick = os.sysconf("SC_CLK_TCK")
    return (sum(fields[:8]) - fields[3] - fields[4]) / tick, fields[4] / tick


def _cpu_seconds(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def rss_mib(pid: int) -> float:
    """Resident memory of a process and its children (a supervisor's workers), in MiB."""
    total = 0
    for status in [Path(f"/proc/{pid}/status"), *Path(f"/proc/{pid}/task").glob("*/children")]:
        if status.name == "children":
            for child in status.read_text().split():
                total += _rss_kib(Path(f"/proc/{child}/status"))
        else:
            total += _rss_kib(status)
    return total / 1024


def _rss_kib(status: Path) -> int:
    try:
        for line in status.read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def passthrough_rate(p: Pipeline, topics: list[str], count: int) -> float:
    """Records per second of a plain confluent-kafka consume -> produce of the same records."""
    bootstrap = p.settings.kafka.bootstrap_servers
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": f"bench-{uuid.uuid4().hex[:6]}",
                         "auto.offset.reset": "earliest", "enable.auto.commit": False})
    producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 5, "enable.idempotence": True})
    sink = p.settings.topics.prefix + "bench.passthrough"
    consumer.subscribe(topics)
    seen, start = 0, None
    while seen < count:
        for message in consumer.consume(1000, 1.0):
            if message.error():
                continue
            start = start or time.perf_counter()
            producer.produce(sink, key=message.key(), value=message.value() or b"")
            seen += 1
        producer.poll(0)
    producer.flush()
    consumer.commit(asynchronous=False)
    consumer.close()
    return count / (time.perf_counter() - (start or time.perf_counter()))


def kafka_round_trip(p: Pipeline, n: int) -> list[float]:
    """Seconds from produce to consume of one record at a time, on this broker."""
    bootstrap = p.settings.kafka.bootstrap_servers
    topic = p.settings.topics.prefix + "bench.rtt"
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": f"rtt-{uuid.uuid4().hex[:6]}",
                         "auto.offset.reset": "latest"})
    consumer.subscribe([topic])
    producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 0})

    def warmed() -> bool:  # joined, assigned and positioned: a warm-up record came back
        producer.produce(topic, value=b"warm")
        producer.flush()
        message = consumer.poll(0.5)
        return message is not None and message.error() is None

    deadline = time.monotonic() + 60
    while not warmed():
        if time.monotonic() > deadline:
            raise SystemExit("the round-trip consumer never received a record")
    out = []
    for _ in range(n):
        sent = time.perf_counter()
        producer.produce(topic, value=b"x")
        producer.flush()
        give_up = time.monotonic() + 10  # a lost sample must not hang the run
        while time.monotonic() < give_up:
            message = consumer.poll(1)
            if message is not None and message.error() is None and message.value() == b"x":
                out.append(time.perf_counter() - sent)
                break
        time.sleep(0.01)
    consumer.close()
    return out


def steady_latency(p: Pipeline, rate: float, seconds: float, samples: int) -> tuple[list[float], list[float]]:
    """Agent results at `rate`/s for `seconds`, stamped when sent. Returns seconds from send to
    Cassandra (the row's server write time) and to Pinot (polled) for `samples` of them."""
    total = int(rate * seconds)
    every = max(1, total // samples)
    sent: dict[str, int] = {}  # sampled toolEventId -> send time, epoch ms
    prefix = p.settings.topics.prefix
    template = {"tenantId": TENANT, "machineId": MACHINE["machineId"], "scriptId": "s1", "stdout": "ok",
                "stderr": "", "exitCode": 0, "executionTimeMs": 5, "timedOut": False, "error": None}
    pinot_seen: dict[str, float] = {}
    done = threading.Event()
    poller = threading.Thread(target=_poll_pinot, args=(p, sent, pinot_seen, done), daemon=True)
    poller.start()
    started = time.perf_counter()
    for i in range(total):
        due = started + i / rate
        pause = due - time.perf_counter()
        if pause > 0:
            time.sleep(pause)
        now_ms = int(time.time() * 1000)
        value = dict(template, executionId=f"lat-{uuid.uuid4().hex}", eventTimestamp=now_ms)
        if i % every == 0:
            result = normalize(RawRecord("logs.events", {"message-type": "SCRIPT_EXECUTED"}, None,
                                         orjson.dumps(value)), p.settings.pipeline)
            assert isinstance(result, Mapped)
            sent[result.event["toolEventId"]] = now_ms
        p.producer.produce(prefix + "logs.events", key=MACHINE["machineId"], value=orjson.dumps(value),
                           headers=[("message-type", "SCRIPT_EXECUTED")])
        p.producer.poll(0)
    p.flush()
    cassandra = _cassandra_write_latency(p, sent)
    deadline = time.monotonic() + 120
    while len(pinot_seen) < len(sent) and time.monotonic() < deadline:
        time.sleep(0.05)
    done.set()
    poller.join(timeout=10)
    return cassandra, [pinot_seen[i] - sent[i] / 1000 for i in sent if i in pinot_seen]


def _cassandra_write_latency(p: Pipeline, sent: dict[str, int]) -> list[float]:
    """WRITETIME of each sampled row (set by the server, same clock) minus its send time."""
    session = p.session()
    ks = p.settings.cassandra.keyspace
    query = session.prepare(f"SELECT WRITETIME(tool_type) FROM {ks}.events_by_id "
                            "WHERE tenant_id = ? AND tool_event_id = ?")
    out: dict[str, float] = {}
    deadline = time.monotonic() + 120
    while len(out) < len(sent) and time.monotonic() < deadline:
        for event_id in [i for i in sent if i not in out]:
            row = session.execute(query, [TENANT, event_id]).one()
            if row is not None:
                out[event_id] = row[0] / 1e6 - sent[event_id] / 1000
        time.sleep(0.1)
    return list(out.values())


def _poll_pinot(p: Pipeline, sent: dict[str, int], seen: dict[str, float], done: threading.Event) -> None:
    table = p.settings.pinot_sink.table
    while not done.is_set():
        waiting = [i for i in list(sent) if i not in seen][:200]
        if waiting:
            ids = ", ".join(f"'{i}'" for i in waiting)
            rows = p.pinot(f"SELECT toolEventId FROM {table} WHERE toolEventId IN ({ids}) LIMIT 1000")
            now = time.time()
            for (event_id,) in rows:
                seen.setdefault(event_id, now)
        time.sleep(0.02)
