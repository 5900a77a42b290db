"""Worker benchmark on the real stack: throughput of one worker process on the generated mix, and
end-to-end latency to Cassandra and to Pinot, each against a baseline measured in the same run.

- Throughput baseline: a plain confluent-kafka consume -> produce pass-through of the same records
  (no parsing), the cost of just moving them through Kafka on this machine.
- Latency baseline: Kafka produce -> consume round trip of the same number of records.

Run: .venv/bin/python -m bench.bench_worker [--count 30000] [--latency-events 300]
(the stack must be up: `openframe-stream stack up`).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import threading
import time
import uuid
from pathlib import Path

import orjson
from confluent_kafka import Consumer, Producer

from bench.bench_normalize import generate
from pipelines.normalize import normalize
from pipelines.records import Mapped
from tests.integration.topologies.harness import Pipeline, new_pipeline
from topologies.provision import ensure_topics


def produce_all(p: Pipeline, records: list) -> None:
    prefix = p.settings.topics.prefix
    for i, r in enumerate(records):
        p.producer.produce(prefix + r.topic, value=r.value, headers=list(r.headers.items()))
        if i % 10_000 == 0:
            p.producer.poll(0)
    p.flush()


def passthrough_baseline(p: Pipeline, topics: list[str], count: int) -> float:
    """Seconds to consume `count` records and produce each once more: Kafka's own cost here."""
    bootstrap = p.settings.kafka.bootstrap_servers
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": f"bench-{uuid.uuid4().hex[:6]}",
                         "auto.offset.reset": "earliest", "enable.auto.commit": False})
    producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 5, "enable.idempotence": True})
    sink = p.settings.topics.prefix + "bench.passthrough"
    consumer.subscribe(topics)
    seen = 0
    start = None
    while seen < count:
        batch = consumer.consume(1000, 1.0)
        for message in batch:
            if message.error():
                continue
            start = start or time.perf_counter()
            producer.produce(sink, key=message.key(), value=message.value() or b"")
            seen += 1
        producer.poll(0)
    producer.flush()
    consumer.commit(asynchronous=False)
    consumer.close()
    return time.perf_counter() - (start or time.perf_counter())


def kafka_round_trip(p: Pipeline, n: int) -> list[float]:
    bootstrap = p.settings.kafka.bootstrap_servers
    topic = p.settings.topics.prefix + "bench.rtt"
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": f"rtt-{uuid.uuid4().hex[:6]}",
                         "auto.offset.reset": "latest"})
    consumer.subscribe([topic])
    producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 0})
    producer.produce(topic, value=b"warm")
    producer.flush()
    while consumer.poll(0.5) is None:  # joined and positioned
        producer.produce(topic, value=b"warm")
        producer.flush()
    out = []
    for _ in range(n):
        sent = time.perf_counter()
        producer.produce(topic, value=b"x")
        producer.flush()
        while True:
            message = consumer.poll(5)
            if message is not None and message.value() == b"x":
                out.append(time.perf_counter() - sent)
                break
        time.sleep(0.01)
    consumer.close()
    return out


def latencies(p: Pipeline, n: int) -> tuple[list[float], list[float]]:
    """Send agent results at ~50/s stamped now; time until each is in Cassandra and in Pinot."""
    sent: dict[str, float] = {}
    cass: dict[str, float] = {}
    pinot: dict[str, float] = {}
    done = threading.Event()
    ks, table = p.settings.cassandra.keyspace, p.settings.pinot_sink.table

    def poll() -> None:
        session = p.session()
        lookup = session.prepare(f"SELECT tool_event_id FROM {ks}.events_by_id WHERE tenant_id = 'oss' "
                                 "AND tool_event_id = ?")
        while not done.is_set() or len(cass) < len(sent) or len(pinot) < len(sent):
            pending_c = [i for i in list(sent) if i not in cass]
            futures = [(i, session.execute_async(lookup, [i])) for i in pending_c[:200]]
            now = time.perf_counter()
            for i, f in futures:
                if f.result().one() is not None:
                    cass[i] = now
            pending_p = [i for i in list(sent) if i not in pinot][:200]
            if pending_p:
                ids = ", ".join(f"'{i}'" for i in pending_p)
                rows = p.pinot(f"SELECT toolEventId FROM {table} WHERE toolEventId IN ({ids}) LIMIT 1000")
                now = time.perf_counter()
                for (i,) in rows:
                    pinot.setdefault(i, now)
            if done.is_set() and time.perf_counter() - last_send[0] > 120:
                break
            time.sleep(0.01)

    last_send = [time.perf_counter()]
    poller = threading.Thread(target=poll, daemon=True)
    poller.start()
    prefix = p.settings.topics.prefix
    for _ in range(n):
        value = {"tenantId": "oss", "machineId": "m-8f2c41", "executionId": f"lat-{uuid.uuid4().hex}",
                 "scriptId": "s1", "stdout": "ok", "stderr": "", "exitCode": 0, "executionTimeMs": 5,
                 "timedOut": False, "error": None, "eventTimestamp": int(time.time() * 1000)}
        result = normalize(_record("logs.events", value), p.settings.pipeline)
        assert isinstance(result, Mapped)
        p.producer.produce(prefix + "logs.events", value=orjson.dumps(value),
                           headers=[("message-type", "SCRIPT_EXECUTED")])
        p.producer.flush()
        sent[result.event["toolEventId"]] = time.perf_counter()
        last_send[0] = sent[result.event["toolEventId"]]
        time.sleep(0.02)
    done.set()
    poller.join(timeout=180)
    return ([cass[i] - sent[i] for i in sent if i in cass], [pinot[i] - sent[i] for i in sent if i in pinot])


def _record(topic: str, value: dict) -> object:
    from pipelines.records import RawRecord

    return RawRecord(topic, {"message-type": "SCRIPT_EXECUTED"}, None, orjson.dumps(value))


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=30_000)
    parser.add_argument("--latency-events", type=int, default=300)
    args = parser.parse_args()
    p = new_pipeline(Path(tempfile.mkdtemp(prefix="bench-worker-")))
    p.env["OFS_FLEET_JOIN__JOIN_WAIT_SECONDS"] = "0.2"
    ensure_topics(p.settings.kafka.bootstrap_servers, p.topics, 1)
    p.seed_reference(
        organizations=[{"organizationId": "org-1", "name": "Org One", "tenantId": "oss"}],
        machines=[{"machineId": "m-8f2c41", "hostname": "SRV-01", "organizationId": "org-1", "tenantId": "oss"}],
        connections=[],
    )
    records = generate(args.count, seed=7)
    mapped = sum(isinstance(normalize(r, p.settings.pipeline), Mapped) for r in records)
    try:
        produce_all(p, records)
        raw_topics = sorted({p.settings.topics.prefix + r.topic for r in records})
        base_seconds = passthrough_baseline(p, raw_topics, len(records))
        p.start()
        wait = time.perf_counter()
        while p.metric("openframe_records_in_total") == 0:
            time.sleep(0.05)
        started = time.perf_counter()
        while p.metric("openframe_records_out_total", stage="sink") < mapped:
            time.sleep(0.05)
            if time.perf_counter() - wait > 900:
                raise SystemExit("worker did not drain the backlog within 15 minutes")
        seconds = time.perf_counter() - started
        worker_rate, base_rate = mapped / seconds, len(records) / base_seconds
        print(f"records: {len(records)} ({mapped} map to events)")
        print(f"baseline  kafka pass-through   : {base_rate:10,.0f} records/s")
        print(f"worker    raw -> Cassandra      : {worker_rate:10,.0f} events/s (one process, all stages)")
        print(f"ratio: worker / pass-through = {worker_rate / base_rate:.3f}")
        rtt = kafka_round_trip(p, args.latency_events)
        cass, pinot = latencies(p, args.latency_events)
        for name, values in (("kafka round trip (baseline)", rtt), ("end-to-end to Cassandra", cass),
                             ("end-to-end to Pinot", pinot)):
            print(f"{name:28}: p50 {pct(values, 0.5) * 1000:7.1f} ms  p99 {pct(values, 0.99) * 1000:7.1f} ms"
                  f"  (n={len(values)}, mean {statistics.fmean(values) * 1000 if values else float('nan'):.1f} ms)")
        print(f"ratio p50: Cassandra / kafka = {pct(cass, 0.5) / pct(rtt, 0.5):.1f}, "
              f"Pinot / kafka = {pct(pinot, 0.5) / pct(rtt, 0.5):.1f}")
    finally:
        p.cleanup()


if __name__ == "__main__":
    main()
